package qrsheet

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/enrollbatch/enrollbatch/qr"
)

// renderQR renders content as a QR PNG like a service would: size is the
// image side in pixels, scaled from the modules nearest-neighbour so that
// they differ by a pixel, or when negative the pixels per module.
func renderQR(t *testing.T, content string, size int) []byte {
	t.Helper()
	c, err := qr.Encode(content)
	if err != nil {
		t.Fatal(err)
	}
	if size < 0 {
		data, err := c.PNG(-size)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	src := c.Image(1)
	side := src.Bounds().Dx()
	img := image.NewGray(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Set(x, y, src.At(x*side/size, y*side/size))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTraceQR(t *testing.T) {
	tests := []struct {
		name    string
		content string
		size    int // image side in pixels; negative: pixels per module
	}{
		{"payload 256 px", testPayload(1), 256},
		{"payload 4 px per module", testPayload(2), -4},
		{"short 1 px per module", "hello", -1},
		{"short 300 px", "https://example.com", 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := renderQR(t, tc.content, tc.size)
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			g, err := traceQR(img)
			if err != nil {
				t.Fatal(err)
			}
			want, err := qr.Encode(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			if g.Size() != want.Size() {
				t.Fatalf("traced %d modules, want %d", g.Size(), want.Size())
			}
			for y := 0; y < want.Size(); y++ {
				for x := 0; x < want.Size(); x++ {
					if g.Black(x, y) != want.Black(x, y) {
						t.Fatalf("module (%d,%d) differs", x, y)
					}
				}
			}
		})
	}
}

func TestTraceQRRejectsOtherImages(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 50, 50))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	bar := image.NewGray(image.Rect(0, 0, 60, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 60; x++ {
			if x%3 == 0 {
				bar.SetGray(x, y, color.Gray{})
			} else {
				bar.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	for name, img := range map[string]image.Image{"blank": blank, "stripes": bar} {
		if _, err := traceQR(img); err == nil {
			t.Errorf("%s: traced as a QR code", name)
		}
	}
}
