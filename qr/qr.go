// Package qr encodes enrollment payloads as QR codes (ISO/IEC 18004): byte
// mode, error correction M by default, the smallest version that holds the
// content, the mask with the lowest penalty. The module matrix is kept as a
// compact bitset so that thousands of codes encoded ahead of printing stay
// small in memory.
package qr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// QuietZone is the number of light modules required around a code.
const QuietZone = 4

// Code is an encoded QR symbol without its quiet zone.
type Code struct {
	size int
	bits []uint64
}

// Encode encodes content (its bytes as given, normally UTF-8, in byte mode)
// at error correction level M.
func Encode(content string) (*Code, error) {
	return encode(content, M, -1)
}

// EncodeLevel encodes content like Encode, at the given error correction
// level.
func EncodeLevel(content string, level Level) (*Code, error) {
	if level > H {
		return nil, fmt.Errorf("encode qr code: unknown error correction level %d", level)
	}
	return encode(content, level, -1)
}

// scratch holds the working buffers of one encoding.
type scratch struct {
	data, ecc, codewords []byte
	plain, cur, best     []byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// grow returns b resized to n bytes, reusing its array when it can. The
// contents are not cleared.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// encode encodes content at level with the given mask, or with the mask of
// the lowest penalty when mask is -1.
func encode(content string, level Level, mask int) (*Code, error) {
	if content == "" {
		return nil, errors.New("encode qr code: the content is empty; give the text to encode")
	}
	version := 0
	for v := 1; v <= 40; v++ {
		if len(content) <= capacity(v, level) {
			version = v
			break
		}
	}
	if version == 0 {
		return nil, fmt.Errorf("encode qr code: the content is %d bytes, more than the %d a QR code holds at level %v; shorten it",
			len(content), capacity(40, level), level)
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)

	// Data codewords: mode 0100 (byte), count, the bytes, a 4-bit
	// terminator, then the pad codewords 11101100 and 00010001 in turn. The
	// header is 12 or 20 bits long, so the content and the terminator sit
	// 4 bits off the codeword boundaries and end on one.
	nd := dataCodewords(version, level)
	s.data = grow(s.data, nd)
	d := s.data
	i := 0
	if countBits(version) == 8 {
		d[0] = 0x40 | byte(len(content)>>4)
		i = 1
	} else {
		d[0] = 0x40 | byte(len(content)>>12)
		d[1] = byte(len(content) >> 4)
		i = 2
	}
	carry := byte(len(content)) << 4
	for k := 0; k < len(content); k++ {
		c := content[k]
		d[i] = carry | c>>4
		carry = c << 4
		i++
	}
	d[i] = carry // the low half is the terminator
	i++
	for pad := byte(0xec); i < nd; i, pad = i+1, pad^(0xec^0x11) {
		d[i] = pad
	}

	// Error correction per block, then the blocks interleaved codeword by
	// codeword: data first, error correction after. The first blocks are
	// one data codeword shorter than the last ones when the codewords do
	// not divide evenly.
	total := totalCodewords(version)
	blocks := int(blockCount[level][version])
	eccLen := int(eccPerBlock[level][version])
	shortBlocks := blocks - total%blocks
	shortData := total/blocks - eccLen
	s.ecc = grow(s.ecc, blocks*eccLen)
	s.codewords = grow(s.codewords, total)
	out := s.codewords
	for b, off := 0, 0; b < blocks; b++ {
		n := shortData
		if b >= shortBlocks {
			n++
		}
		rsECC(d[off:off+n], s.ecc[b*eccLen:(b+1)*eccLen])
		for k := 0; k < n; k++ {
			at := k*blocks + b
			if k == shortData { // the extra codeword of a long block
				at = shortData*blocks + b - shortBlocks
			}
			out[at] = d[off+k]
		}
		off += n
	}
	for b := 0; b < blocks; b++ {
		for k := 0; k < eccLen; k++ {
			out[nd+k*blocks+b] = s.ecc[b*eccLen+k]
		}
	}

	// Place the codewords, most significant bit first, on the function
	// patterns; the remainder bits stay light.
	l := layoutFor(version)
	n := l.n
	s.plain = grow(s.plain, n*n)
	copy(s.plain, l.base)
	for k, at := range l.order[:8*total] {
		s.plain[at] = out[k>>3] >> (7 - k&7) & 1
	}

	// Mask, and keep the mask of the lowest penalty.
	s.cur = grow(s.cur, n*n)
	s.best = grow(s.best, n*n)
	first, last := 0, 7
	if mask >= 0 {
		first, last = mask, mask
	}
	bestScore := -1
	for m := first; m <= last; m++ {
		applyMask(s.cur, s.plain, l.masks[m])
		f := formatBits(level, m)
		for b, at := range l.format {
			bit := byte(f >> b & 1)
			s.cur[at[0]] = bit
			s.cur[at[1]] = bit
		}
		if first == last {
			s.best, s.cur = s.cur, s.best
			break
		}
		n1, n2, n3, n4 := penalty(s.cur, n)
		if score := n1 + n2 + n3 + n4; bestScore < 0 || score < bestScore {
			bestScore = score
			s.best, s.cur = s.cur, s.best
		}
	}

	c := &Code{size: n, bits: make([]uint64, (n*n+63)/64)}
	for i, b := range s.best {
		c.bits[i>>6] |= uint64(b) << (i & 63)
	}
	return c, nil
}

// applyMask sets dst to src XOR mask, eight modules at a time.
func applyMask(dst, src, mask []byte) {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^binary.LittleEndian.Uint64(mask[i:]))
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] ^ mask[i]
	}
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
