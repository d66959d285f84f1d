package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"
)

// palette is white (index 0) and black (index 1).
var palette = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}}

// Image renders the code black on white with the QuietZone around it, each
// module scale×scale pixels (a scale below 1 counts as 1). The image is
// paletted with two colours, so it encodes as a 1-bit PNG.
func (c *Code) Image(scale int) image.Image {
	scale = max(scale, 1)
	side := (c.size + 2*QuietZone) * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), palette)
	for y := 0; y < c.size; y++ {
		top := (y + QuietZone) * scale
		row := img.Pix[top*img.Stride : top*img.Stride+side]
		for x := 0; x < c.size; x++ {
			if c.Black(x, y) {
				px := row[(x+QuietZone)*scale : (x+QuietZone+1)*scale]
				for i := range px {
					px[i] = 1
				}
			}
		}
		for k := 1; k < scale; k++ {
			copy(img.Pix[(top+k)*img.Stride:], row)
		}
	}
	return img
}

// PNG renders Image(scale) as a PNG file's bytes.
func (c *Code) PNG(scale int) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngBuffers}
	if err := enc.Encode(&b, c.Image(scale)); err != nil {
		return nil, fmt.Errorf("write qr code png: %w", err)
	}
	return b.Bytes(), nil
}

// pngBuffers lets successive PNG calls reuse the encoder's buffers.
var pngBuffers = &bufferPool{}

// bufferPool is a png.EncoderBufferPool on a sync.Pool.
type bufferPool struct{ pool sync.Pool }

// Get returns a pooled buffer or nil, which has the encoder make one.
func (p *bufferPool) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

// Put returns a buffer to the pool.
func (p *bufferPool) Put(b *png.EncoderBuffer) { p.pool.Put(b) }
