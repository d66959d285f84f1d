package qr

import (
	"encoding/binary"
	"math/bits"
)

// penalty scores a masked symbol (n×n modules, row-major, 1 dark and 0
// light, n at most 177) with the four rules of ISO/IEC 18004 section 7.8.3;
// the mask with the lowest total is used.
//
//   - n1: each run of 5 or more same-colour modules in a row or column scores
//     3, plus 1 for each module beyond 5;
//   - n2: each 2×2 block of one colour scores 3 (overlapping blocks count
//     separately);
//   - n3: each 1:1:3:1:1 dark-light-dark-light-dark pattern with 4 light
//     modules before or after it, in a row or column, scores 40; only
//     modules inside the symbol count;
//   - n4: 10 for each full 5% the dark share deviates from 50%.
//
// Rules n1 and n3 are read off one table lookup per module and line
// direction: see lineScore.
func penalty(g []byte, n int) (n1, n2, n3, n4 int) {
	var cols [177]uint16 // the line state of every column
	for x := range n {
		cols[x] = 1 // empty
	}
	acc, dark := 0, 0
	for y := 0; y < n; y++ {
		row := g[y*n : y*n+n]
		rowState := uint16(1)
		if y < 11 {
			for x, b := range row {
				rowState = step(rowState, b)
				cols[x] = step(cols[x], b)
				acc += int(lineScore[rowState]) + int(lineScore[cols[x]])
			}
		} else {
			for x, b := range row {
				rowState = step(rowState, b)
				c := (cols[x]<<1|uint16(b))&0x7ff | 0x800
				cols[x] = c
				acc += int(lineScore[rowState]) + int(lineScore[c])
			}
		}
		// Dark modules and 2×2 blocks, eight at a time: the sum of the four
		// modules of a block is 0 or 4 exactly when its low two bits are 0.
		x := 0
		for ; x+8 <= n; x += 8 {
			dark += bits.OnesCount64(binary.LittleEndian.Uint64(row[x:]))
		}
		for ; x < n; x++ {
			dark += int(row[x])
		}
		if y+1 == n {
			break
		}
		next := g[(y+1)*n : (y+1)*n+n]
		x = 0
		for ; x+9 <= n; x += 8 {
			s := binary.LittleEndian.Uint64(row[x:]) + binary.LittleEndian.Uint64(row[x+1:]) +
				binary.LittleEndian.Uint64(next[x:]) + binary.LittleEndian.Uint64(next[x+1:])
			s = (s | s>>1) & 0x0101010101010101
			n2 += 8 - bits.OnesCount64(s)
		}
		for ; x+1 < n; x++ {
			if s := row[x] + row[x+1] + next[x] + next[x+1]; s&3 == 0 {
				n2++
			}
		}
	}
	n1 = acc & (1<<20 - 1)
	n3 = acc >> 20 * 40
	total := n * n
	n4 = abs(dark*20-total*10) / total * 10
	return n1, 3 * n2, n3, n4
}

// step adds module b to a line state. A state holds the last modules of a
// line, the latest in bit 0, below a marker bit that tells how many there
// are; from 11 modules on the marker stays at bit 11 and the oldest module
// drops out.
func step(s uint16, b byte) uint16 {
	s = s<<1 | uint16(b)
	if s >= 1<<12 {
		s = s&0x7ff | 0x800
	}
	return s
}

// lineScore[s] is what the module just added to line state s adds to rules
// n1 and n3: for n1, 1 for each 5-module window of one colour ending at it,
// plus 2 when that window starts a run (a run of k ≥ 5 then totals
// k-4+2 = 3+(k-5)); for n3, 1<<20 when the last 11 modules are 0000 1011101
// or 1011101 0000.
var lineScore [1 << 12]uint32

func init() {
	for s := 1; s < 1<<12; s++ {
		length := bits.Len(uint(s)) - 1
		if length < 5 {
			continue
		}
		last := s & 1
		five := s & 0x1f
		if five == 0 || five == 0x1f {
			lineScore[s] = 1
			if length == 5 || s>>5&1 != last {
				lineScore[s] += 2
			}
		}
		if length == 11 && (s&0x7ff == finderLikeBefore || s&0x7ff == finderLikeAfter) {
			lineScore[s] += 1 << 20
		}
	}
}

// finderLike are the 11-module windows rule n3 looks for, first module in
// the most significant bit: 0000 1011101 and 1011101 0000.
const (
	finderLikeBefore = 0b00001011101
	finderLikeAfter  = 0b10111010000
)
