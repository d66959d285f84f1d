// Package qr encodes enrollment payloads as QR codes: byte mode, error
// correction M, the module matrix kept as a compact bitset so that thousands
// of codes encoded ahead of printing stay small in memory.
package qr

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QuietZone is the number of light modules required around a code.
const QuietZone = 4

// Code is an encoded QR symbol without its quiet zone.
type Code struct {
	size int
	bits []uint64
}

// Encode encodes content (UTF-8, byte mode) at error correction level M.
func Encode(content string) (*Code, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm)
	c := &Code{size: n, bits: make([]uint64, (n*n+63)/64)}
	for y, row := range bm {
		for x, black := range row {
			if black {
				i := y*n + x
				c.bits[i/64] |= 1 << (i % 64)
			}
		}
	}
	return c, nil
}

// Size is the width of the symbol in modules, quiet zone excluded.
func (c *Code) Size() int { return c.size }

// Version is the QR version (1 to 40) of the symbol.
func (c *Code) Version() int { return (c.size - 17) / 4 }

// Black reports whether the module at column x, row y is dark. Coordinates
// outside the symbol are light.
func (c *Code) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= c.size || y >= c.size {
		return false
	}
	i := y*c.size + x
	return c.bits[i/64]&(1<<(i%64)) != 0
}
