package qrsheet

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
)

// modules is a QR symbol without its quiet zone, as drawn on the sheet.
type modules interface {
	Size() int
	Black(x, y int) bool
}

// bitGrid is a symbol read back from an image.
type bitGrid struct {
	n    int
	dark []bool
}

func (g *bitGrid) Size() int { return g.n }

func (g *bitGrid) Black(x, y int) bool {
	return x >= 0 && y >= 0 && x < g.n && y < g.n && g.dark[y*g.n+x]
}

// traceQR reads the module grid of a clean, axis-aligned QR image such as the
// service's qrCodeImage, so that it can be drawn as sharp vector shapes like
// an encoded code. It fails on anything that does not look like one symbol
// with square modules of a whole number of pixels' worth; the caller then
// places the image itself.
func traceQR(img image.Image) (*bitGrid, error) {
	b := img.Bounds()
	dark := func(x, y int) bool {
		return color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 128
	}
	// Bounding box of the dark pixels: the symbol without its quiet zone.
	minX, minY, maxX, maxY := b.Max.X, b.Max.Y, b.Min.X-1, b.Min.Y-1
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(x, y) {
				minX, minY = min(minX, x), min(minY, y)
				maxX, maxY = max(maxX, x), max(maxY, y)
			}
		}
	}
	w, h := maxX-minX+1, maxY-minY+1
	if w <= 0 || w != h {
		return nil, errors.New("no square symbol in the image")
	}
	// The top-left finder pattern's top edge is 7 modules of dark.
	run := 0
	for x := minX; x <= maxX && dark(x, minY); x++ {
		run++
	}
	if float64(run)/7 < 1 {
		return nil, errors.New("modules smaller than a pixel")
	}
	// The image may be scaled by a fraction, so modules vary by a pixel:
	// try the QR sizes near the estimate and keep the one whose finder and
	// timing patterns are where they belong.
	est := float64(w) * 7 / float64(run)
	for _, d := range []int{0, 4, -4, 8, -8} {
		n := 17 + 4*int(math.Round((est-17)/4)) + d
		if n < 21 || n > 177 {
			continue
		}
		g := sample(dark, minX, minY, w, n)
		if g.patternsOK() {
			return g, nil
		}
	}
	return nil, errors.New("no QR module grid fits the image")
}

// sample reads an n x n module grid from the w-pixel square at (x0, y0).
func sample(dark func(x, y int) bool, x0, y0, w, n int) *bitGrid {
	px := float64(w) / float64(n)
	g := &bitGrid{n: n, dark: make([]bool, n*n)}
	for my := 0; my < n; my++ {
		for mx := 0; mx < n; mx++ {
			g.dark[my*n+mx] = dark(x0+int((float64(mx)+0.5)*px), y0+int((float64(my)+0.5)*px))
		}
	}
	return g
}

// patternsOK checks the three finder patterns and both timing patterns.
func (g *bitGrid) patternsOK() bool {
	n := g.n
	for _, c := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
		for i := 0; i < 7; i++ {
			for j := 0; j < 7; j++ {
				ring := i == 0 || j == 0 || i == 6 || j == 6
				core := i >= 2 && i <= 4 && j >= 2 && j <= 4
				if g.Black(c[0]+i, c[1]+j) != (ring || core) {
					return false
				}
			}
		}
	}
	for i := 8; i < n-8; i++ {
		if g.Black(i, 6) != (i%2 == 0) || g.Black(6, i) != (i%2 == 0) {
			return false
		}
	}
	return true
}

// upscalePNG enlarges img by whole pixels (nearest neighbour) to at least
// about 1200 pixels across and returns it as a grey PNG, so that viewers and
// printers have no room to blur the edges when they scale it.
func upscalePNG(img image.Image) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	f := max(1, 1200/max(w, h))
	dst := image.NewGray(image.Rect(0, 0, w*f, h*f))
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			y := color.GrayModel.Convert(img.At(b.Min.X+px, b.Min.Y+py)).(color.Gray).Y
			for dy := 0; dy < f; dy++ {
				row := dst.Pix[(py*f+dy)*dst.Stride:]
				for dx := 0; dx < f; dx++ {
					row[px*f+dx] = y
				}
			}
		}
	}
	var enc bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&enc, dst); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}
