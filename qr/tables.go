package qr

import "fmt"

// Level is an error correction level: the share of codewords a reader can
// restore when a printed code is damaged.
type Level uint8

// The four error correction levels, from the most data to the most
// redundancy.
const (
	L Level = iota // about 7% of codewords recoverable
	M              // about 15%; the level Encode uses
	Q              // about 25%
	H              // about 30%
)

// String returns the level's letter.
func (l Level) String() string {
	if l > H {
		return fmt.Sprintf("Level(%d)", uint8(l))
	}
	return "LMQH"[l : l+1]
}

// indicator is the two-bit level code of the format information
// (ISO/IEC 18004 table 12): L 01, M 00, Q 11, H 10.
func (l Level) indicator() int { return [...]int{1, 0, 3, 2}[l] }

// eccPerBlock is the number of error correction codewords in each block,
// by level and version (ISO/IEC 18004 table 9). Index 0 is unused.
var eccPerBlock = [4][41]uint8{
	L: {0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	M: {0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28},
	Q: {0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	H: {0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
}

// blockCount is the number of error correction blocks, by level and version
// (ISO/IEC 18004 table 9). Index 0 is unused.
var blockCount = [4][41]uint8{
	L: {0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25},
	M: {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49},
	Q: {0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68},
	H: {0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81},
}

// symbolSize is the width in modules of a version's symbol.
func symbolSize(version int) int { return 17 + 4*version }

// alignmentCenters returns the row and column coordinates of the alignment
// pattern centres of a version (ISO/IEC 18004 annex E): the first at 6, the
// last 7 from the far edge, the ones between evenly spaced by an even step,
// the leftover going to the first gap.
func alignmentCenters(version int) []int {
	if version < 2 {
		return nil
	}
	count := version/7 + 2
	last := symbolSize(version) - 7
	step := 26 // version 32 is the one exception to the rule below
	if version != 32 {
		span := last - 6
		step = (span + count - 2) / (count - 1) // rounded up
		step += step & 1                        // to even
	}
	centers := make([]int, count)
	centers[0] = 6
	for i := count - 1; i > 0; i-- {
		centers[i] = last - (count-1-i)*step
	}
	return centers
}

// rawModules is the number of modules of a version left for codewords once
// the function patterns and the format and version information are placed.
func rawModules(version int) int {
	n := symbolSize(version)
	m := n*n - 3*64 - 2*(n-16) - 31 // finders with separators, timing, format with dark module
	if version >= 2 {
		a := version/7 + 2
		m -= (a*a - 3) * 25  // alignment patterns, bar the three under finders
		m += 2 * (a - 2) * 5 // the ones on the timing lines overlap them
	}
	if version >= 7 {
		m -= 2 * 18 // version information
	}
	return m
}

// totalCodewords is the number of codewords, data and error correction, of
// a version.
func totalCodewords(version int) int { return rawModules(version) / 8 }

// dataCodewords is the number of data codewords of a version at a level.
func dataCodewords(version int, level Level) int {
	return totalCodewords(version) - int(eccPerBlock[level][version])*int(blockCount[level][version])
}

// countBits is the width of the byte mode character count indicator.
func countBits(version int) int {
	if version < 10 {
		return 8
	}
	return 16
}

// capacity is the number of bytes a version holds in byte mode at a level.
func capacity(version int, level Level) int {
	return (dataCodewords(version, level)*8 - 4 - countBits(version)) / 8
}
