package qrsheet

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"

	"github.com/enrollbatch/enrollbatch/qr"
)

// requireTools skips the test when the PDF tools are missing, or fails it when
// ENROLLBATCH_REQUIRE_TOOLS=1 (as in CI), where these tests must run.
func requireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "pdftotext", "pdfimages", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not found: apt-get install poppler-utils zbar-tools", tool)
			if os.Getenv("ENROLLBATCH_REQUIRE_TOOLS") == "1" {
				t.Fatal(msg + " (required because ENROLLBATCH_REQUIRE_TOOLS=1)")
			}
			t.Skip(msg)
		}
	}
}

// decoded holds what each decoder found on one rendered page.
type decoded struct {
	zbar, zxing []string
}

// decodePDF renders every page at 100 dpi and decodes it with zbarimg (the
// whole page) and with gozxing's multi reader (each label's cell, as a phone
// sees one label: the multi reader pairs finder patterns of neighbouring codes
// on a full page of aligned codes and then misses some), pages in parallel.
func decodePDF(t *testing.T, path string, opts Options) []decoded {
	t.Helper()
	lay, err := newLayout(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(renderDPI), "-png", path, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("pdftoppm wrote no pages (%v)", err)
	}
	slices.Sort(pages) // page numbers are zero-padded to the same width
	res := make([]decoded, len(pages))
	errs := make([]error, len(pages))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i].zbar, errs[i] = zbarDecode(p)
			if errs[i] != nil {
				return
			}
			res[i].zxing, errs[i] = zxingDecode(p, lay)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return res
}

// renderDPI is the resolution pages are rendered at for decoding.
const renderDPI = 100

func zbarDecode(png string) ([]string, error) {
	// -Sbinary would keep raw bytes but joins the symbols without a separator;
	// the contents here are ASCII, which zbar passes through unchanged.
	cmd := exec.Command("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 4 {
		return nil, nil // no symbol found
	}
	if err != nil {
		return nil, fmt.Errorf("zbarimg %s: %v: %s", png, err, stderr.String())
	}
	// Contents never hold a line break here; each symbol ends with one.
	return strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' }), nil
}

func zxingDecode(path string, lay layout) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	px := func(mm float64) int { return int(math.Round(mm / 25.4 * renderDPI)) }
	var texts []string
	for row := 0; row < lay.grid.rows; row++ {
		for col := 0; col < lay.grid.cols; col++ {
			x, y := marginMM+float64(col)*lay.cellW, lay.gridTop+float64(row)*lay.cellH
			cell := image.Rect(px(x), px(y), px(x+lay.cellW), px(y+lay.cellH))
			sub := img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(cell)
			bmp, err := gozxing.NewBinaryBitmapFromImage(sub)
			if err != nil {
				return nil, err
			}
			hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}
			rs, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints)
			if _, ok := err.(gozxing.NotFoundException); ok {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("gozxing %s: %w", path, err)
			}
			for _, r := range rs {
				texts = append(texts, r.GetText())
			}
		}
	}
	return texts, nil
}

// pdftotext extracts the text of the document.
func pdftotext(path string) (string, error) {
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		return "", fmt.Errorf("pdftotext: %v", err)
	}
	return string(out), nil
}

// inBackground runs f while the test goes on, for the PDF tools, which
// each use one core and spend most of their time reading the file: a test
// that needs the text and the rendered pages of a sheet asks for both at
// once. The returned function waits for f and fails the test on its error.
// The test's cleanup waits for f too, so no tool outlives the test's
// temporary folders (create them before calling inBackground).
func inBackground[T any](t testing.TB, f func() (T, error)) func() T {
	t.Helper()
	var (
		v    T
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		v, err = f()
	}()
	t.Cleanup(func() { <-done })
	return func() T {
		t.Helper()
		<-done
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// squash removes all white space, so wrapped text compares with its source.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

func makeLabels(n int, name func(i int) string, expires time.Time) []Label {
	ls := make([]Label, n)
	for i := range ls {
		ls[i] = Label{
			DisplayName: name(i),
			Description: fmt.Sprintf("Shared tablets, batch %d", i),
			Expires:     expires,
			Content:     testPayload(i),
			Fields:      [][2]string{{"Site", fmt.Sprintf("Leeds %d", i%5)}, {"Technician", "A. Nowak"}},
		}
	}
	return ls
}

func siteName(i int) string { return fmt.Sprintf("Site %03d kiosk", i) }

var (
	testNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	later   = time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC)
)

func TestWritePDFDecodes(t *testing.T) {
	t.Parallel()
	requireTools(t)
	longName := func(i int) string {
		return fmt.Sprintf("Warehouse %d north wing receiving dock handheld scanners for the night shift team "+
			"AVeryLongUnbrokenIdentifierWithoutAnySpacesThatMustWrapSomewhere%d", i, i)
	}
	mixed := func(i int) string {
		return []string{"Łódź – magazyn główny", "Αθήνα κεντρική αποθήκη", "Praha – Žižkov sklad", "İstanbul şube ağ", "Москва склад"}[i%5] + fmt.Sprintf(" %d", i)
	}
	tests := []struct {
		name   string
		n      int
		paper  string
		per    int
		labelN func(int) string
	}{
		{"one label a4", 1, "a4", 0, siteName},
		{"seven labels letter", 7, "letter", 6, siteName},
		{"sixty labels a4", 60, "", 6, mixed},
		{"one per page letter", 3, "letter", 1, siteName},
		{"two per page a4", 3, "a4", 2, longName},
		{"four per page letter long names", 5, "letter", 4, longName},
		{"six per page a4 long names", 6, "a4", 6, longName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			labels := makeLabels(tc.n, tc.labelN, later)
			path := filepath.Join(t.TempDir(), "qr-codes.pdf")
			opts := Options{Paper: tc.paper, LabelsPerPage: tc.per, Date: testNow, Now: testNow}
			if err := WritePDF(path, labels, opts); err != nil {
				t.Fatal(err)
			}
			per := tc.per
			if per == 0 {
				per = 6
			}
			textJob := inBackground(t, func() (string, error) { return pdftotext(path) })
			pages := decodePDF(t, path, opts)
			if want := (tc.n + per - 1) / per; len(pages) != want {
				t.Fatalf("%d pages, want %d", len(pages), want)
			}
			for p, d := range pages {
				var want []string
				for i := p * per; i < min(tc.n, (p+1)*per); i++ {
					want = append(want, labels[i].Content)
				}
				slices.Sort(want)
				for name, got := range map[string][]string{"zbarimg": d.zbar, "gozxing": d.zxing} {
					got = slices.Clone(got)
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Errorf("page %d, %s: decoded %d codes, want %d (the page's labels, exactly)", p+1, name, len(got), len(want))
					}
				}
			}
			text := squash(textJob())
			for _, lb := range labels {
				if !strings.Contains(text, squash(lb.DisplayName)) {
					t.Errorf("text lacks display name %q", lb.DisplayName)
				}
			}
			for _, s := range []string{"Token valid until 2027-03-31", "Site: Leeds 0", SecurityNote, DefaultTitle, "2026-11-28",
				fmt.Sprintf("Page %d of %d", len(pages), len(pages))} {
				if !strings.Contains(text, squash(s)) {
					t.Errorf("text lacks %q", s)
				}
			}
			if strings.Contains(text, "EXPIRES") {
				t.Error("a token valid for months is marked as expiring")
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
		})
	}
}

func TestWritePDFExpiryAndImages(t *testing.T) {
	t.Parallel()
	requireTools(t)
	// A QR image as the service sends it in qrCodeImage (256 pixels, so its
	// modules are 2 or 3 pixels wide), and the content it carries.
	img, err := os.ReadFile("testdata/service-qr-image.png")
	if err != nil {
		t.Fatal(err)
	}
	imgContent, err := os.ReadFile("testdata/service-qr-image.txt")
	if err != nil {
		t.Fatal(err)
	}
	labels := []Label{
		{DisplayName: "Expired yesterday", Expires: testNow.Add(-24 * time.Hour), Content: testPayload(100)},
		{DisplayName: "Expires in three days", Expires: testNow.Add(3*24*time.Hour + time.Hour), Content: testPayload(101)},
		{DisplayName: "Image only", Expires: later, Image: img},
		{DisplayName: "Expiry unknown", Content: testPayload(102)},
		{DisplayName: "Expires now", Expires: testNow, Content: testPayload(103)},
	}
	path := filepath.Join(t.TempDir(), "qr-codes.pdf")
	opts := Options{Now: testNow}
	if err := WritePDF(path, labels, opts); err != nil {
		t.Fatal(err)
	}
	textJob := inBackground(t, func() (string, error) { return pdftotext(path) })
	pages := decodePDF(t, path, opts)
	if len(pages) != 1 {
		t.Fatalf("%d pages, want 1", len(pages))
	}
	want := []string{testPayload(101), string(imgContent), testPayload(102)}
	slices.Sort(want)
	for name, got := range map[string][]string{"zbarimg": pages[0].zbar, "gozxing": pages[0].zxing} {
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s decoded %d codes, want the 3 live labels (expired ones never print)", name, len(got))
		}
	}
	text := squash(textJob())
	for _, s := range []string{"Expires in three days", ExpiresIn(3*24*time.Hour + time.Hour), "Image only", "Token expiry unknown"} {
		if !strings.Contains(text, squash(s)) {
			t.Errorf("text lacks %q", s)
		}
	}
	for _, s := range []string{"Expired yesterday", "Expires now"} {
		if strings.Contains(text, squash(s)) {
			t.Errorf("expired label %q printed", s)
		}
	}
}

// TestWritePDFImageFallback places an image that cannot be traced back to a
// module grid (here: a mark in its margin) as an image.
func TestWritePDFImageFallback(t *testing.T) {
	t.Parallel()
	requireTools(t)
	data := renderQR(t, testPayload(950), -4)
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(src.Bounds())
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	img.SetGray(1, 1, color.Gray{}) // a speck in the quiet zone
	if _, err := traceQR(img); err == nil {
		t.Fatal("the speckled image was traced; the test needs one that is not")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "qr-codes.pdf")
	labels := []Label{
		{DisplayName: "Image", Expires: later, Image: buf.Bytes()},
		{DisplayName: "Vector", Expires: later, Content: testPayload(951)},
	}
	if err := WritePDF(path, labels, Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	textJob := inBackground(t, func() (string, error) { return pdftotext(path) })
	out, err := exec.Command("pdfimages", "-list", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	// Two header lines, then one line per image.
	if n := len(strings.Split(strings.TrimSpace(string(out)), "\n")) - 2; n != 1 {
		t.Errorf("%d images in the sheet, want 1:\n%s", n, out)
	}
	if !strings.Contains(squash(textJob()), "Image") {
		t.Error("the image label's caption is missing")
	}
}

func TestWritePDFNothingToPrint(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		labels []Label
	}{
		{"no labels", nil},
		{"all expired", []Label{{DisplayName: "old", Expires: testNow.Add(-time.Minute), Content: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".pdf")
			if err := WritePDF(path, tc.labels, Options{Now: testNow}); !errors.Is(err, ErrNoLabels) {
				t.Fatalf("err %v, want ErrNoLabels", err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("a file was left: %v", err)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWritePDFRejectsBadOptions(t *testing.T) {
	lb := []Label{{DisplayName: "a", Content: "a"}}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"paper", Options{Paper: "a5"}, "use a4 or letter"},
		{"labels per page", Options{LabelsPerPage: 3}, "use 1, 2, 4 or 6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := WritePDF(filepath.Join(t.TempDir(), "x.pdf"), lb, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
	bad := []Label{{DisplayName: "empty"}}
	if err := WritePDF(filepath.Join(t.TempDir(), "x.pdf"), bad, Options{}); err == nil {
		t.Fatal("a label with neither content nor image was accepted")
	}
}

// TestDrawCodeOnePath checks that a code is filled as a single path of
// rectangles that together cover exactly the dark modules.
func TestDrawCodeOnePath(t *testing.T) {
	for _, content := range []string{"hello", testPayload(7)} {
		c, err := qr.Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		r := &renderer{k: mmToPt}
		ops := string(r.codeOps(c, 20, 20, 60))
		if n := strings.Count(ops, "\nf\n"); n != 1 {
			t.Fatalf("%d fill operators, want 1", n)
		}
		n := c.Size()
		cover := make([]int, n*n)
		rects := 0
		for _, line := range strings.Split(ops, "\n") {
			var x, y, w, h int
			if _, err := fmt.Sscanf(line, "%d %d %d %d re", &x, &y, &w, &h); err != nil {
				continue
			}
			rects++
			for yy := y; yy < y+h; yy++ {
				for xx := x; xx < x+w; xx++ {
					cover[yy*n+xx]++
				}
			}
		}
		dark := 0
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				want := 0
				if c.Black(x, y) {
					want = 1
					dark++
				}
				if cover[y*n+x] != want {
					t.Fatalf("module (%d,%d) covered %d times, want %d", x, y, cover[y*n+x], want)
				}
			}
		}
		if rects >= dark {
			t.Errorf("%d rectangles for %d dark modules: runs are not merged", rects, dark)
		}
		t.Logf("version %d: %d dark modules in %d rectangles, %d bytes", c.Version(), dark, rects, len(ops))
	}
}

func TestExpiresIn(t *testing.T) {
	tests := []struct {
		left time.Duration
		want string
	}{
		{time.Hour, "EXPIRES WITHIN 24 HOURS"},
		{24*time.Hour - time.Second, "EXPIRES WITHIN 24 HOURS"},
		{25 * time.Hour, "EXPIRES IN 1 DAY"},
		{50 * time.Hour, "EXPIRES IN 2 DAYS"},
		{7*24*time.Hour - time.Minute, "EXPIRES IN 6 DAYS"},
	}
	for _, tc := range tests {
		if got := ExpiresIn(tc.left); got != tc.want {
			t.Errorf("ExpiresIn(%v) = %q, want %q", tc.left, got, tc.want)
		}
	}
}

func BenchmarkWritePDF(b *testing.B) {
	labels := makeLabels(200, siteName, later)
	for i := range labels {
		c, err := qr.Encode(labels[i].Content)
		if err != nil {
			b.Fatal(err)
		}
		labels[i].Code = c
	}
	path := filepath.Join(b.TempDir(), "qr-codes.pdf")
	b.ReportAllocs()
	for b.Loop() {
		if err := WritePDF(path, labels, Options{Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}
