package qr

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/enrollbatch/enrollbatch/internal/testpayload"
)

// zxingDecode reads a rendered code with gozxing's QR reader and returns the
// bytes of its byte segments and the text decoded as UTF-8.
func zxingDecode(t *testing.T, img image.Image) ([]byte, string) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE:  true,
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("gozxing cannot read the code: %v", err)
	}
	segs, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte)
	return bytes.Join(segs, nil), res.GetText()
}

// grid returns the modules of c as bytes, row by row, 1 for dark.
func grid(c *Code) []byte {
	g := make([]byte, c.Size()*c.Size())
	for y := 0; y < c.Size(); y++ {
		for x := 0; x < c.Size(); x++ {
			if c.Black(x, y) {
				g[y*c.Size()+x] = 1
			}
		}
	}
	return g
}

func TestEncodeProvisioningPayloads(t *testing.T) {
	tests := []struct {
		name    string
		content string
		minVer  int
		maxVer  int
	}{
		{"short url", "https://example.com/enroll", 1, 4},
		{"utf-8 name", "Zażółć gęślą jaźń — Ελληνικά", 1, 6},
		{"provisioning json", testpayload.WithToken(strings.Repeat("ABCDEFGHJK", 6)[:60]), 18, 24},
		{"provisioning json other token", testpayload.WithToken("QWERTYUIOPASDFGHJKLZ"), 18, 24},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Encode(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "provisioning json" && (len(tc.content) < 550 || len(tc.content) > 700) {
				t.Fatalf("test payload is %d bytes, want about 600", len(tc.content))
			}
			if v := c.Version(); v < tc.minVer || v > tc.maxVer {
				t.Errorf("version %d, want %d-%d", v, tc.minVer, tc.maxVer)
			}
			if c.Size() != 17+4*c.Version() {
				t.Errorf("size %d is not a symbol size without quiet zone (version %d)", c.Size(), c.Version())
			}
			if level, _ := readFormat(t, c); level != M {
				t.Errorf("format information says level %v, want M", level)
			}
			// Finder patterns sit in the corners, so the symbol starts at (0,0).
			for _, p := range [][2]int{{0, 0}, {c.Size() - 7, 0}, {0, c.Size() - 7}} {
				if !c.Black(p[0], p[1]) || !c.Black(p[0]+6, p[1]+6) || c.Black(p[0]+1, p[1]+1) || !c.Black(p[0]+3, p[1]+3) {
					t.Errorf("no finder pattern at %v", p)
				}
			}
			raw, text := zxingDecode(t, c.Image(4))
			if string(raw) != tc.content || text != tc.content {
				t.Errorf("decoded %q (text %q), want %q", raw, text, tc.content)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		content string
		level   Level
	}{
		{"empty", "", M},
		{"over M", strings.Repeat("x", 2332), M},
		{"far over M", strings.Repeat("x", 3000), M},
		{"over L", strings.Repeat("x", 2954), L},
		{"over Q", strings.Repeat("x", 1664), Q},
		{"over H", strings.Repeat("x", 1274), H},
		{"unknown level", "hello", H + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := EncodeLevel(tc.content, tc.level); err == nil {
				t.Fatalf("encoded as version %d, want an error", c.Version())
			}
		})
	}
	if _, err := Encode(strings.Repeat("x", 2332)); err == nil {
		t.Error("Encode took 2332 bytes; level M holds at most 2331")
	}
}

// payload builds a test content of exactly n bytes of one kind.
func payload(rng *rand.Rand, kind string, n int) string {
	var b strings.Builder
	switch kind {
	case "json":
		for b.Len() < n {
			fmt.Fprintf(&b, `{"k%d":"%x","on":%v},`, rng.IntN(1000), rng.Uint64(), rng.IntN(2) == 1)
		}
	case "utf-8":
		runes := []rune("aZ09 {}\":,żółćΣλ€中文漢字😀🔐é")
		for b.Len() < n {
			r := runes[rng.IntN(len(runes))]
			if b.Len()+utf8.RuneLen(r) > n {
				r = 'x'
			}
			b.WriteRune(r)
		}
	case "binary":
		for b.Len() < n {
			b.WriteByte(byte(rng.IntN(256)))
		}
	}
	return b.String()[:n]
}

func TestRoundTripThroughDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(18004, 2015))
	lengths := []int{1, 2, 9, 14, 17, 26, 42, 64, 95, 134, 180, 240, 310, 390, 480, 580, 690, 810, 940, 1070, 1200, 1260}
	kinds := []string{"json", "utf-8", "binary"}
	versions := map[int]bool{}
	for i, n := range lengths {
		for _, level := range []Level{L, M, Q, H} {
			kind := kinds[(i+int(level))%len(kinds)]
			content := payload(rng, kind, n)
			t.Run(fmt.Sprintf("%d bytes %s %v", n, kind, level), func(t *testing.T) {
				c, err := EncodeLevel(content, level)
				if err != nil {
					t.Fatal(err)
				}
				versions[c.Version()] = true
				if c.Version() > 1 && len(content) <= capacity(c.Version()-1, level) {
					t.Errorf("version %d, but %d fits in version %d", c.Version(), len(content), c.Version()-1)
				}
				if got, _ := readFormat(t, c); got != level {
					t.Errorf("format information says level %v, want %v", got, level)
				}
				raw, text := zxingDecode(t, c.Image(4))
				if string(raw) != content {
					t.Fatalf("decoded bytes differ:\n got %q\nwant %q", raw, content)
				}
				if utf8.ValidString(content) && text != content {
					t.Errorf("decoded text %q, want %q", text, content)
				}
			})
		}
	}
	if len(versions) < 30 || !versions[1] || !versions[40] {
		t.Errorf("the payloads cover %d versions; want 1 to 40 well spread", len(versions))
	}
}

func TestVersionChoiceAtCapacityBoundaries(t *testing.T) {
	// Byte capacities published in ISO/IEC 18004 table 7.
	published := []struct {
		version int
		level   Level
		bytes   int
	}{
		{1, L, 17}, {1, M, 14}, {1, Q, 11}, {1, H, 7},
		{10, M, 213}, {20, M, 666}, {5, Q, 60},
		{40, L, 2953}, {40, M, 2331}, {40, Q, 1663}, {40, H, 1273},
	}
	for _, p := range published {
		if got := capacity(p.version, p.level); got != p.bytes {
			t.Errorf("version %d-%v holds %d bytes, want %d", p.version, p.level, got, p.bytes)
		}
	}
	for _, level := range []Level{L, M, Q, H} {
		for _, v := range []int{1, 6, 9, 10, 20, 33, 39} {
			for extra, want := range []int{v, v + 1} {
				n := capacity(v, level) + extra
				c, err := EncodeLevel(strings.Repeat("é", n)[:n], level)
				if err != nil {
					t.Fatal(err)
				}
				if c.Version() != want {
					t.Errorf("%d bytes at %v: version %d, want %d", n, level, c.Version(), want)
				}
			}
		}
	}
}

func ExampleEncode() {
	c, err := Encode("hello")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Version(), c.Size())
	// Output: 1 21
}

// benchPayload is a provisioning payload of about 700 bytes (version 21-M).
var benchPayload = testpayload.WithToken(strings.Repeat("ABCDEFGHJK", 6))

func BenchmarkEncode(b *testing.B) {
	content := benchPayload
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(content); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPNG(b *testing.B) {
	c, err := Encode(benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PNG(4); err != nil {
			b.Fatal(err)
		}
	}
}
