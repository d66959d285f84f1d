package qr

import "sync"

// layout is what every symbol of one version shares: the function patterns,
// where the data bits go and which modules each mask flips. Layouts are
// built once per version and then only read.
type layout struct {
	n int
	// base holds the function patterns (1 dark, 0 light) with the version
	// information and the dark module; format information modules are 0.
	base []byte
	// order lists the data module indices (y*n+x) in placement order.
	order []uint16
	// masks[m] is 1 at every data module mask m flips, 0 elsewhere.
	masks [8][]byte
	// format[i] holds the two module indices of format bit i (bit 0 the
	// least significant).
	format [15][2]uint16
}

var layouts [41]struct {
	once sync.Once
	l    *layout
}

// layoutFor returns the shared layout of a version.
func layoutFor(version int) *layout {
	e := &layouts[version]
	e.once.Do(func() { e.l = newLayout(version) })
	return e.l
}

func newLayout(version int) *layout {
	n := symbolSize(version)
	l := &layout{n: n, base: make([]byte, n*n)}
	fn := make([]bool, n*n) // function modules
	set := func(x, y int, dark bool) {
		i := y*n + x
		fn[i] = true
		if dark {
			l.base[i] = 1
		} else {
			l.base[i] = 0
		}
	}

	// Finder patterns with their light separators.
	for _, c := range [][2]int{{3, 3}, {n - 4, 3}, {3, n - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= n || y >= n {
					continue
				}
				d := max(abs(dx), abs(dy)) // ring: 0 to 1 dark, 2 light, 3 dark, 4 separator
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	// Timing patterns.
	for i := 8; i < n-8; i++ {
		set(i, 6, i%2 == 0)
		set(6, i, i%2 == 0)
	}
	// Alignment patterns, except where they would cover a finder.
	centers := alignmentCenters(version)
	for i, cy := range centers {
		for j, cx := range centers {
			last := len(centers) - 1
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	// Format information areas (filled per mask) and the dark module.
	for i := 0; i < 15; i++ {
		var a, b [2]int // x, y of the two copies
		switch {
		case i < 6:
			a = [2]int{8, i}
		case i < 8:
			a = [2]int{8, i + 1} // skip the timing row
		case i == 8:
			a = [2]int{7, 8}
		default:
			a = [2]int{14 - i, 8}
		}
		if i < 8 {
			b = [2]int{n - 1 - i, 8}
		} else {
			b = [2]int{8, n - 15 + i}
		}
		set(a[0], a[1], false)
		set(b[0], b[1], false)
		l.format[i] = [2]uint16{uint16(a[1]*n + a[0]), uint16(b[1]*n + b[0])}
	}
	set(8, n-8, true)
	// Version information.
	if version >= 7 {
		bits := versionBits(version)
		for i := 0; i < 18; i++ {
			dark := bits>>i&1 == 1
			a, b := n-11+i%3, i/3
			set(a, b, dark)
			set(b, a, dark)
		}
	}

	// Data modules: two-module-wide columns from the right edge, bottom to
	// top, then top to bottom, and so on, stepping over the vertical timing
	// pattern.
	l.order = make([]uint16, 0, rawModules(version))
	up := true
	for x := n - 1; x > 0; x -= 2 {
		if x == 6 {
			x--
		}
		for k := 0; k < n; k++ {
			y := k
			if up {
				y = n - 1 - k
			}
			for _, cx := range [2]int{x, x - 1} {
				if i := y*n + cx; !fn[i] {
					l.order = append(l.order, uint16(i))
				}
			}
		}
		up = !up
	}

	for m := range l.masks {
		mask := make([]byte, n*n)
		for _, i := range l.order {
			y, x := int(i)/n, int(i)%n
			if maskFlips(m, y, x) {
				mask[i] = 1
			}
		}
		l.masks[m] = mask
	}
	return l
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// maskFlips reports whether data mask m (ISO/IEC 18004 table 10) inverts the
// module in row i, column j.
func maskFlips(m, i, j int) bool {
	switch m {
	case 0:
		return (i+j)%2 == 0
	case 1:
		return i%2 == 0
	case 2:
		return j%3 == 0
	case 3:
		return (i+j)%3 == 0
	case 4:
		return (i/2+j/3)%2 == 0
	case 5:
		return i*j%2+i*j%3 == 0
	case 6:
		return (i*j%2+i*j%3)%2 == 0
	default:
		return ((i+j)%2+i*j%3)%2 == 0
	}
}

// bchRemainder returns the remainder of value·x^degree(poly) divided by
// poly over GF(2).
func bchRemainder(value, poly int) int {
	deg := 0
	for p := poly; p > 1; p >>= 1 {
		deg++
	}
	r := value << deg
	for bit := 31; bit >= deg; bit-- {
		if r>>bit&1 == 1 {
			r ^= poly << (bit - deg)
		}
	}
	return r
}

// formatBits is the 15-bit format information of a level and mask: BCH(15,5)
// with generator x^10+x^8+x^5+x^4+x^2+x+1, XORed with 101010000010010.
func formatBits(level Level, mask int) int {
	data := level.indicator()<<3 | mask
	return (data<<10 | bchRemainder(data, 0x537)) ^ 0x5412
}

// versionBits is the 18-bit version information: BCH(18,6) with generator
// x^12+x^11+x^10+x^9+x^8+x^5+x^2+1.
func versionBits(version int) int {
	return version<<12 | bchRemainder(version, 0x1f25)
}
