package qr

import "sync"

// GF(256) with the QR field polynomial x^8+x^4+x^3+x^2+1 (0x11d), generator 2.
var (
	// gfExp[i] is 2^i. It is long enough that gfExp[a+b] needs no reduction
	// for two logarithms, and entries from logZero on are 0, so that a zero
	// factor, given the logarithm logZero, multiplies to 0 without a branch.
	gfExp [2*logZero + 1]byte
	// gfLog[x] is the logarithm of x, for x from 1 to 255.
	gfLog [256]uint16
)

// logZero stands for the logarithm of 0 in gfExp lookups.
const logZero = 512

func init() {
	x := 1
	for i := 0; i < 255; i++ {
		gfExp[i] = byte(x)
		gfLog[x] = uint16(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11d
		}
	}
	for i := 255; i < 510; i++ {
		gfExp[i] = gfExp[i-255]
	}
	gfLog[0] = logZero
}

// gfMul multiplies two field elements.
func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[gfLog[a]+gfLog[b]]
}

// generators caches the generator polynomials by degree (the number of
// error correction codewords per block, at most 30).
var generators [31]struct {
	once sync.Once
	logs []uint16
}

// generator returns the Reed-Solomon generator polynomial of a degree,
// (x-2^0)(x-2^1)...(x-2^(degree-1)), as the logarithms of its coefficients
// from x^(degree-1) down to x^0 (the leading coefficient is 1).
func generator(degree int) []uint16 {
	g := &generators[degree]
	g.once.Do(func() {
		poly := []byte{1} // highest power first
		for i := 0; i < degree; i++ {
			root := gfExp[i]
			next := make([]byte, len(poly)+1)
			for j, c := range poly {
				next[j] ^= c
				next[j+1] ^= gfMul(c, root)
			}
			poly = next
		}
		g.logs = make([]uint16, degree)
		for i, c := range poly[1:] {
			g.logs[i] = gfLog[c]
		}
	})
	return g.logs
}

// rsECC writes into ecc the error correction codewords of data: the
// remainder of data(x)·x^len(ecc) divided by the generator of that degree.
func rsECC(data, ecc []byte) {
	gen := generator(len(ecc))
	clear(ecc)
	last := len(ecc) - 1
	for _, d := range data {
		f := gfLog[d^ecc[0]]
		copy(ecc, ecc[1:])
		ecc[last] = 0
		for i, g := range gen {
			ecc[i] ^= gfExp[g+f]
		}
	}
}
