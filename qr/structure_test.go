package qr

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/enrollbatch/enrollbatch/internal/testpayload"
)

// zxLevels maps our levels to the decoder's.
var zxLevels = map[Level]decoder.ErrorCorrectionLevel{
	L: decoder.ErrorCorrectionLevel_L, M: decoder.ErrorCorrectionLevel_M,
	Q: decoder.ErrorCorrectionLevel_Q, H: decoder.ErrorCorrectionLevel_H,
}

func TestTablesMatchDecoder(t *testing.T) {
	for v := 1; v <= 40; v++ {
		zv, err := decoder.Version_GetVersionForNumber(v)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := totalCodewords(v), zv.GetTotalCodewords(); got != want {
			t.Errorf("version %d: %d codewords, decoder says %d", v, got, want)
		}
		if got, want := fmt.Sprint(alignmentCenters(v)), fmt.Sprint(zv.GetAlignmentPatternCenters()); got != want && v > 1 {
			t.Errorf("version %d: alignment centres %s, decoder says %s", v, got, want)
		}
		for level, zl := range zxLevels {
			eb := zv.GetECBlocksForLevel(zl)
			if int(eccPerBlock[level][v]) != eb.GetECCodewordsPerBlock() || int(blockCount[level][v]) != eb.GetNumBlocks() {
				t.Errorf("version %d-%v: %d blocks of %d ecc codewords, decoder says %d of %d", v, level,
					blockCount[level][v], eccPerBlock[level][v], eb.GetNumBlocks(), eb.GetECCodewordsPerBlock())
			}
		}
		// Every module is a function module or a data module, once.
		l := layoutFor(v)
		if len(l.order) != rawModules(v) {
			t.Errorf("version %d: %d data modules placed, want %d", v, len(l.order), rawModules(v))
		}
		seen := make([]bool, l.n*l.n)
		for _, i := range l.order {
			if seen[i] {
				t.Fatalf("version %d: module %d placed twice", v, i)
			}
			seen[i] = true
		}
	}
}

func TestReedSolomon(t *testing.T) {
	hex := func(s string) []byte {
		var b []byte
		for _, f := range strings.Fields(s) {
			var x byte
			fmt.Sscanf(f, "%X", &x)
			b = append(b, x)
		}
		return b
	}
	tests := []struct{ name, data, ecc string }{
		// ISO/IEC 18004 annex I: "01234567", version 1-M.
		{"iso 01234567", "10 20 0C 56 61 80 EC 11 EC 11 EC 11 EC 11 EC 11", "A5 24 D4 C1 ED 36 C7 87 2C 55"},
		// "HELLO WORLD" in alphanumeric mode, version 1-M.
		{"hello world", "20 5B 0B 78 D1 72 DC 4D 43 40 EC 11 EC 11 EC 11", "C4 23 27 77 EB D7 E7 E2 5D 17"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := hex(tc.ecc)
			got := make([]byte, len(want))
			rsECC(hex(tc.data), got)
			if !bytes.Equal(got, want) {
				t.Errorf("ecc % X, want % X", got, want)
			}
		})
	}
	// For every degree the tables use, data followed by its ecc is a
	// codeword: the polynomial vanishes at the generator's roots 2^0..2^(d-1).
	rng := rand.New(rand.NewPCG(1, 2))
	for degree := 7; degree <= 30; degree++ {
		msg := make([]byte, 20+degree)
		for i := range msg[:20] {
			msg[i] = byte(rng.IntN(256))
		}
		rsECC(msg[:20], msg[20:])
		for r := 0; r < degree; r++ {
			var acc byte
			for _, c := range msg { // Horner, highest power first
				acc = gfMul(acc, gfExp[r]) ^ c
			}
			if acc != 0 {
				t.Errorf("degree %d: codeword is %d at 2^%d, want 0", degree, acc, r)
			}
		}
	}
}

func TestFormatAndVersionBits(t *testing.T) {
	// Published values (ISO/IEC 18004 annex C and D).
	if got := formatBits(M, 0); got != 0b101010000010010 {
		t.Errorf("format M/0 %015b, want 101010000010010", got)
	}
	if got := formatBits(L, 0); got != 0b111011111000100 {
		t.Errorf("format L/0 %015b, want 111011111000100", got)
	}
	for v, want := range map[int]int{7: 0x07C94, 8: 0x085BC, 40: 0x28C69} {
		if got := versionBits(v); got != want {
			t.Errorf("version %d information %05X, want %05X", v, got, want)
		}
	}
	for level, zl := range zxLevels {
		for m := 0; m < 8; m++ {
			f := uint(formatBits(level, m))
			info := decoder.FormatInformation_DecodeFormatInformation(f, f)
			if info == nil || info.GetErrorCorrectionLevel() != zl || int(info.GetDataMask()) != m {
				t.Errorf("format %v/%d %015b does not decode back", level, m, f)
			}
		}
	}
	for v := 7; v <= 40; v++ {
		zv, err := decoder.Version_decodeVersionInformation(versionBits(v))
		if err != nil || zv.GetVersionNumber() != v {
			t.Errorf("version %d information %018b does not decode back", v, versionBits(v))
		}
	}
}

// readFormat reads the two copies of the format information of a symbol,
// checks they agree, are an exact format code and, from version 7, that the
// version information is there; it returns the level and mask.
func readFormat(t *testing.T, c *Code) (Level, int) {
	t.Helper()
	n := c.Size()
	// Bit i of each copy, least significant first (ISO/IEC 18004 figure 25).
	first := [15][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8}, {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}}
	var f1, f2 int
	for i, p := range first {
		if c.Black(p[0], p[1]) {
			f1 |= 1 << i
		}
		x, y := n-1-i, 8
		if i >= 8 {
			x, y = 8, n-15+i
		}
		if c.Black(x, y) {
			f2 |= 1 << i
		}
	}
	if !c.Black(8, n-8) {
		t.Error("the dark module is light")
	}
	if f1 != f2 {
		t.Fatalf("format copies differ: %015b and %015b", f1, f2)
	}
	info := decoder.FormatInformation_DecodeFormatInformation(uint(f1), uint(f2))
	if info == nil {
		t.Fatalf("format %015b is not a format code", f1)
	}
	var level Level
	for l, zl := range zxLevels {
		if zl == info.GetErrorCorrectionLevel() {
			level = l
		}
	}
	mask := int(info.GetDataMask())
	if formatBits(level, mask) != f1 {
		t.Fatalf("format %015b has errors", f1)
	}
	if v := c.Version(); v >= 7 {
		var a, b int
		for i := 0; i < 18; i++ {
			if c.Black(n-11+i%3, i/3) {
				a |= 1 << i
			}
			if c.Black(i/3, n-11+i%3) {
				b |= 1 << i
			}
		}
		zv, err := decoder.Version_decodeVersionInformation(a)
		if a != b || err != nil || zv.GetVersionNumber() != v {
			t.Errorf("version information %018b / %018b, want version %d", a, b, v)
		}
	}
	return level, mask
}

func TestChosenMaskHasLowestPenalty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		content string
		level   Level
	}{
		{"hello", M},
		{testpayload.WithToken("QWERTYUIOPASDFGHJKLZ"), M},
		{payload(rng, "binary", 300), L},
		{payload(rng, "utf-8", 100), Q},
		{payload(rng, "json", 800), H},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d bytes %v", len(tc.content), tc.level), func(t *testing.T) {
			c, err := EncodeLevel(tc.content, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			level, mask := readFormat(t, c)
			if level != tc.level {
				t.Errorf("level %v, want %v", level, tc.level)
			}
			best, bestScore := -1, 0
			for m := 0; m < 8; m++ {
				forced, err := encode(tc.content, tc.level, m)
				if err != nil {
					t.Fatal(err)
				}
				if _, got := readFormat(t, forced); got != m {
					t.Fatalf("mask %d was asked for, format says %d", m, got)
				}
				n1, n2, n3, n4 := penalty(grid(forced), forced.Size())
				if score := n1 + n2 + n3 + n4; best < 0 || score < bestScore {
					best, bestScore = m, score
				}
				if m == mask && !bytes.Equal(grid(forced), grid(c)) {
					t.Errorf("the symbol differs from the one with mask %d forced", m)
				}
			}
			if mask != best {
				t.Errorf("mask %d chosen, mask %d has the lowest penalty %d", mask, best, bestScore)
			}
		})
	}
}

// linePenalty scores rules n1 and n3 along one line with the line states
// and lineScore that penalty uses.
func linePenalty(g []byte, start, stride, n int) (n1, n3 int) {
	acc, s := 0, uint16(1)
	for k, i := 0, start; k < n; k, i = k+1, i+stride {
		s = step(s, g[i])
		acc += int(lineScore[s])
	}
	return acc & (1<<20 - 1), acc >> 20 * 40
}

// moduleBits turns "0110" into []byte{0,1,1,0}, skipping spaces.
func moduleBits(s string) []byte {
	var b []byte
	for _, r := range s {
		if r != ' ' {
			b = append(b, byte(r-'0'))
		}
	}
	return b
}

func TestLinePenalty(t *testing.T) {
	tests := []struct {
		line   string
		n1, n3 int
	}{
		{"01010", 0, 0},
		{"11110", 0, 0},
		{"11111", 3, 0},
		{"0111110", 3, 0},
		{"1111111", 5, 0},
		{"00000 1 00000", 6, 0},
		{"0000 1011101", 0, 40},
		{"1011101 0000", 0, 40},
		{"0000 1011101 0000", 0, 80},
		{"00000 1011101 0", 3, 40},
		{"1011101", 0, 0},
		{"000 1011101 000", 0, 0},
		{"0000 1011100", 0, 0},
	}
	for _, tc := range tests {
		b := moduleBits(tc.line)
		n1, n3 := linePenalty(b, 0, 1, len(b))
		if n1 != tc.n1 || n3 != tc.n3 {
			t.Errorf("%q: n1 %d n3 %d, want %d and %d", tc.line, n1, n3, tc.n1, tc.n3)
		}
	}
}

func TestPenaltyGrids(t *testing.T) {
	tests := []struct {
		name           string
		rows           []string
		n1, n2, n3, n4 int
	}{
		{"stripes: five 5-runs, 60% dark", []string{"11111", "00000", "11111", "00000", "11111"}, 15, 0, 0, 20},
		{"columns count too", []string{"10101", "10101", "10101", "10101", "10101"}, 15, 0, 0, 20},
		{"all dark 3×3: four 2×2 blocks", []string{"111", "111", "111"}, 0, 12, 0, 100},
		{"one light 2×2 block, 44% dark", []string{"001", "001", "110"}, 0, 3, 0, 10},
		{"checkerboard", []string{"0101", "1010", "0101", "1010"}, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		var g []byte
		for _, r := range tc.rows {
			g = append(g, moduleBits(r)...)
		}
		n1, n2, n3, n4 := penalty(g, len(tc.rows))
		if n1 != tc.n1 || n2 != tc.n2 || n3 != tc.n3 || n4 != tc.n4 {
			t.Errorf("%s: %d %d %d %d, want %d %d %d %d", tc.name, n1, n2, n3, n4, tc.n1, tc.n2, tc.n3, tc.n4)
		}
	}
	// Dark share: 10 points per full 5% away from half.
	for dark, want := range map[int]int{50: 0, 46: 0, 45: 10, 41: 10, 40: 20, 55: 10, 60: 20, 64: 20, 65: 30, 0: 100, 100: 100} {
		g := make([]byte, 100)
		for _, i := range rand.New(rand.NewPCG(uint64(dark), 0)).Perm(100)[:dark] {
			g[i] = 1
		}
		if _, _, _, n4 := penalty(g, 10); n4 != want {
			t.Errorf("%d%% dark: n4 %d, want %d", dark, n4, want)
		}
	}
}

// naivePenalty scores a grid the slow, obvious way, as a reference.
func naivePenalty(g []byte, n int) int {
	var lines []string
	for y := 0; y < n; y++ {
		var row, col strings.Builder
		for x := 0; x < n; x++ {
			row.WriteByte('0' + g[y*n+x])
			col.WriteByte('0' + g[x*n+y])
		}
		lines = append(lines, row.String(), col.String())
	}
	score := 0
	for _, s := range lines {
		for i := 0; i < len(s); {
			j := i
			for j < len(s) && s[j] == s[i] {
				j++
			}
			if j-i >= 5 {
				score += 3 + j - i - 5
			}
			i = j
		}
		for i := 0; i+11 <= len(s); i++ {
			if w := s[i : i+11]; w == "00001011101" || w == "10111010000" {
				score += 40
			}
		}
	}
	dark := 0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dark += int(g[y*n+x])
			if x+1 < n && y+1 < n {
				s := g[y*n+x] + g[y*n+x+1] + g[(y+1)*n+x] + g[(y+1)*n+x+1]
				if s == 0 || s == 4 {
					score += 3
				}
			}
		}
	}
	pct := float64(dark) * 100 / float64(n*n)
	return score + int(math.Floor(math.Abs(pct-50)/5+1e-9))*10
}

func TestPenaltyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 40; k++ {
		n := 11 + rng.IntN(40)
		g := make([]byte, n*n)
		bias := rng.IntN(5) // sparse to dense, for runs and blocks
		for i := range g {
			if rng.IntN(6) < 1+bias {
				g[i] = 1
			}
		}
		n1, n2, n3, n4 := penalty(g, n)
		if got, want := n1+n2+n3+n4, naivePenalty(g, n); got != want {
			t.Errorf("grid %d (%d×%d): penalty %d, reference %d", k, n, n, got, want)
		}
	}
}

func TestImageAndPNG(t *testing.T) {
	c, err := Encode(testpayload.WithToken("QWERTYUIOPASDFGHJKLZ"))
	if err != nil {
		t.Fatal(err)
	}
	for _, scale := range []int{1, 3, 0} {
		t.Run(fmt.Sprintf("scale %d", scale), func(t *testing.T) {
			img := c.Image(scale)
			s := max(scale, 1)
			side := (c.Size() + 2*QuietZone) * s
			if b := img.Bounds(); b.Dx() != side || b.Dy() != side || b.Min.X != 0 || b.Min.Y != 0 {
				t.Fatalf("bounds %v, want %d×%d from 0,0", b, side, side)
			}
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					want := c.Black(x/s-QuietZone, y/s-QuietZone)
					if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray); (g.Y == 0) != want || (g.Y != 0 && g.Y != 0xff) {
						t.Fatalf("pixel (%d,%d) is %v, want black=%v", x, y, g, want)
					}
				}
			}
			data, err := c.PNG(scale)
			if err != nil {
				t.Fatal(err)
			}
			if depth := data[24]; depth != 1 {
				t.Errorf("PNG bit depth %d, want 1", depth)
			}
			dec, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					if a, b := color.GrayModel.Convert(dec.At(x, y)), color.GrayModel.Convert(img.At(x, y)); a != b {
						t.Fatalf("PNG pixel (%d,%d) %v, image %v", x, y, a, b)
					}
				}
			}
		})
	}
}

// requireTool skips the test when a command line tool is missing, or fails
// it when ENROLLBATCH_REQUIRE_TOOLS=1.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("ENROLLBATCH_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (ENROLLBATCH_REQUIRE_TOOLS=1): install it (Debian: zbar-tools)", name)
		}
		t.Skipf("%s not installed", name)
	}
}

func TestZbarimgReadsCodes(t *testing.T) {
	requireTool(t, "zbarimg")
	sample, err := os.ReadFile(filepath.Join("testdata", "provisioning.json"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		name    string
		content string
		level   Level
	}{
		{"provisioning sample", strings.TrimSpace(string(sample)), M},
		{"utf-8", payload(rng, "utf-8", 200), H},
		{"binary", payload(rng, "binary", 1000), L},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := EncodeLevel(tc.content, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			data, err := c.PNG(3)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".png")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary", path).Output()
			if err != nil {
				t.Fatalf("zbarimg: %v", err)
			}
			if string(out) != tc.content {
				t.Errorf("zbarimg read %q, want %q", out, tc.content)
			}
		})
	}
}
