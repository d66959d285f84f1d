package qrsheet

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/enrollbatch/enrollbatch/qr"
	"github.com/enrollbatch/enrollbatch/typeset"
)

// requireOCR skips the test when tesseract or one of its languages is
// missing, or fails it when ENROLLBATCH_REQUIRE_TOOLS=1 (as in CI).
func requireOCR(t *testing.T, langs ...string) {
	t.Helper()
	requireTools(t)
	fail := func(msg string) {
		if os.Getenv("ENROLLBATCH_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg + " (required because ENROLLBATCH_REQUIRE_TOOLS=1)")
		}
		t.Skip(msg)
	}
	out, err := exec.Command("tesseract", "--list-langs").CombinedOutput()
	if err != nil {
		fail("tesseract not found: apt-get install tesseract-ocr tesseract-ocr-jpn tesseract-ocr-chi-sim tesseract-ocr-kor tesseract-ocr-vie tesseract-ocr-ara tesseract-ocr-ell fonts-noto-cjk")
	}
	have := strings.Fields(string(out))
	for _, l := range langs {
		if !slices.Contains(have, l) {
			fail("tesseract has no " + l + " data: apt-get install tesseract-ocr-" + strings.ReplaceAll(l, "_", "-"))
		}
	}
}

// renderPages renders every page of a PDF at dpi and returns the PNG paths.
func renderPages(t *testing.T, path string, dpi int) []string {
	t.Helper()
	pages, err := render(path, t.TempDir(), dpi)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// render is renderPages for a background job, into dir.
func render(path, dir string, dpi int) ([]string, error) {
	out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-png", path, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	slices.Sort(pages)
	if len(pages) == 0 {
		return nil, errors.New("pdftoppm wrote no pages")
	}
	return pages, nil
}

// decodeFiles decodes every code of every page of the PDFs at paths with
// zbarimg, rendered at dpi into dir.
func decodeFiles(dir string, dpi int, paths ...string) ([]string, error) {
	var got []string
	for i, path := range paths {
		pageDir := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(pageDir, 0o700); err != nil {
			return nil, err
		}
		pages, err := render(path, pageDir, dpi)
		if err != nil {
			return nil, err
		}
		for _, p := range pages {
			codes, err := zbarDecode(p)
			if err != nil {
				return nil, err
			}
			got = append(got, codes...)
		}
	}
	return got, nil
}

// bidiControls are the marks pdftotext puts around right-to-left text.
func stripBidi(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
}

// similarity is the share of want's characters (spaces ignored) that got
// holds in order: 1 - edit distance / length.
func similarity(got, want string) float64 {
	a, b := []rune(squash(got)), []rune(squash(want))
	if len(b) == 0 {
		return 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	best := len(b)
	// Edit distance of want against the best-matching substring of got.
	for i := 1; i <= len(a); i++ {
		cur[0] = 0
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		best = min(best, cur[len(b)])
		prev, cur = cur, prev
	}
	return 1 - float64(best)/float64(len(b))
}

// scriptNames are captions in the scripts people name sites in, with the
// tesseract language that reads them back.
var scriptNames = []struct {
	lang, name string
}{
	{"jpn", "東京都品川区 倉庫 スキャナー"},
	{"chi_sim", "北京市朝阳区 仓库 扫描仪"},
	{"kor", "서울 강남구 창고 스캐너"},
	{"vie", "Hà Nội Kho Hàng Số Một"},
	{"ara", "مستودع الرياض الرئيسي"},
	{"ell", "Αθήνα Κεντρική Αποθήκη"},
}

// TestCaptionsInEveryScript prints labels named in Japanese, Chinese,
// Korean, Vietnamese, Arabic and Greek, then checks each caption three ways:
// the text layer (pdftotext), the printed page read back by OCR (tesseract
// on a 300 dpi rendering of the caption), and every code decoded.
func TestCaptionsInEveryScript(t *testing.T) {
	t.Parallel()
	langs := make([]string, len(scriptNames))
	for i, s := range scriptNames {
		langs[i] = s.lang
	}
	requireOCR(t, langs...)
	var labels []Label
	for i, s := range scriptNames {
		labels = append(labels, Label{Row: i + 2, DisplayName: s.name, Expires: later, Content: testPayload(i)})
	}
	opts := Options{LabelsPerPage: 1, Date: testNow, Now: testNow}
	for i := range labels {
		notes, err := LabelNotes(&labels[i], opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) > 0 {
			t.Fatalf("%s: notes %q: install fonts-noto-cjk for the CJK captions", labels[i].DisplayName, notes)
		}
	}
	path := filepath.Join(t.TempDir(), "qr-codes.pdf")
	if err := WritePDF(path, labels, opts); err != nil {
		t.Fatal(err)
	}
	// The four readings of the sheet run at once; each tool uses one core.
	textJob := inBackground(t, func() (string, error) { return pdftotext(path) })
	wordsJob := inBackground(t, func() (bboxDoc, error) { return pdfWords(path) })
	pagesDir, codesDir := t.TempDir(), t.TempDir()
	pagesJob := inBackground(t, func() ([]string, error) { return render(path, pagesDir, 300) })
	codesJob := inBackground(t, func() ([]string, error) { return decodeFiles(codesDir, 150, path) })
	// The text layer, words and the spaces between them.
	text := strings.Join(strings.Fields(stripBidi(textJob())), " ")
	for _, s := range scriptNames {
		if !strings.Contains(text, s.name) {
			t.Errorf("pdftotext lacks %q", s.name)
		}
	}
	// The printed page: OCR of the caption under the code.
	lay, _ := newLayout(opts)
	if n := checkCutLines(t, wordsJob(), lay); n < len(labels)*4 {
		t.Errorf("%d words in the labels, want the captions' words", n)
	}
	pages := pagesJob()
	if len(pages) != len(labels) {
		t.Fatalf("%d pages, want %d", len(pages), len(labels))
	}
	for i, s := range scriptNames {
		t.Run(s.lang, func(t *testing.T) {
			f, err := os.Open(pages[i])
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			px := func(mm float64) int { return int(math.Round(mm / 25.4 * 300)) }
			n := qr.QuietZone*2 + 0
			c, _ := qr.Encode(labels[i].Content)
			n += c.Size()
			box := moduleMM(lay.box, lay.codeLimit(), c.Size()) * float64(n)
			top := snap(lay.gridTop) + snap(padMM) + box
			// The name's line only: bold, 1.15 times the caption size.
			line := lay.basePt * 1.15 * typeset.LineGap * ptToMM
			crop := image.Rect(px(marginMM), px(top), px(marginMM+lay.cellW), px(top+line))
			sub := img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(crop)
			var buf bytes.Buffer
			if err := png.Encode(&buf, sub); err != nil {
				t.Fatal(err)
			}
			cropPath := filepath.Join(t.TempDir(), "caption.png")
			if err := os.WriteFile(cropPath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("tesseract", cropPath, "-", "-l", s.lang, "--psm", "7").Output()
			if err != nil {
				t.Fatalf("tesseract: %v", err)
			}
			got := strings.TrimSpace(string(out))
			if sim := similarity(got, s.name); sim < 0.8 {
				t.Errorf("OCR read %q for %q (%.0f%% alike)", got, s.name, 100*sim)
			} else {
				t.Logf("OCR read %q (%.0f%% alike)", got, 100*sim)
			}
		})
	}
	got := codesJob()
	want := make([]string, len(labels))
	for i := range labels {
		want[i] = labels[i].Content
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("decoded %d codes, want the %d printed", len(got), len(want))
	}
}

// bboxDoc is the XHTML that pdftotext -bbox writes.
type bboxDoc struct {
	Pages []struct {
		Words []struct {
			XMin float64 `xml:"xMin,attr"`
			YMin float64 `xml:"yMin,attr"`
			XMax float64 `xml:"xMax,attr"`
			YMax float64 `xml:"yMax,attr"`
			Text string  `xml:",chardata"`
		} `xml:"word"`
	} `xml:"body>doc>page"`
}

// pdfWords reads the words of a PDF's text layer and where they are, with
// pdftotext -bbox.
func pdfWords(path string) (bboxDoc, error) {
	var doc bboxDoc
	out, err := exec.Command("pdftotext", "-bbox", path, "-").Output()
	if err != nil {
		return doc, fmt.Errorf("pdftotext -bbox: %v", err)
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		return doc, fmt.Errorf("read pdftotext -bbox: %v", err)
	}
	return doc, nil
}

// count counts s in the words of the text layer: the same characters
// pdftotext prints without -bbox, so one run of pdftotext serves both.
func (doc bboxDoc) count(s string) int {
	n := 0
	for _, page := range doc.Pages {
		for _, w := range page.Words {
			n += strings.Count(w.Text, s)
		}
	}
	return n
}

// checkCutLines fails when a word of the grid area crosses a cut line of
// its page's layout: every word must lie inside one cell.
func checkCutLines(t *testing.T, doc bboxDoc, lay layout) (words int) {
	t.Helper()
	pt := func(mm float64) float64 { return mm * mmToPt }
	top, bottom := lay.gridTop, lay.gridTop+float64(lay.grid.rows)*lay.cellH
	for p, page := range doc.Pages {
		for _, w := range page.Words {
			if w.YMax < pt(top) || w.YMin > pt(bottom) {
				continue // header and footer
			}
			words++
			col := math.Floor((w.XMin - pt(marginMM)) / pt(lay.cellW))
			row := math.Floor((w.YMin - pt(top)) / pt(lay.cellH))
			x0, y0 := pt(marginMM+col*lay.cellW), pt(top+row*lay.cellH)
			if w.XMin < x0-0.5 || w.XMax > x0+pt(lay.cellW)+0.5 || w.YMin < y0-0.5 || w.YMax > y0+pt(lay.cellH)+0.5 {
				t.Errorf("page %d: word %q at (%.1f–%.1f, %.1f–%.1f) pt crosses the cut lines of cell (%v, %v)",
					p+1, w.Text, w.XMin, w.XMax, w.YMin, w.YMax, col, row)
			}
		}
	}
	return words
}

// TestLongTextStaysInsideLabels prints captions at their limits: a
// 1,024-character description, a 20,000-character and a 5 MB extra column,
// an unbroken 300-character name. Every word stays inside its label, long
// text ends in an ellipsis, and the codes still decode.
func TestLongTextStaysInsideLabels(t *testing.T) {
	t.Parallel()
	requireTools(t)
	words := strings.Repeat("receiving dock handheld scanners ", 40)
	huge := strings.Repeat("x", 5<<20)
	labels := []Label{
		{DisplayName: "Leeds description", Description: words[:1024], Content: testPayload(1), Expires: later},
		{DisplayName: "Leeds notes", Content: testPayload(2), Expires: later, Fields: [][2]string{{"Notes", strings.Repeat("lorem ipsum ", 20000/12)}}},
		{DisplayName: strings.Repeat("W", 300), Content: testPayload(3), Expires: later},
		{DisplayName: "Leeds five megabytes", Content: testPayload(4), Expires: later, Fields: [][2]string{{"Blob", huge}, {"Site", "Leeds"}}},
	}
	for _, tc := range []struct{ per, ellipses int }{{6, 3}, {1, 2}} {
		per := tc.per
		t.Run(fmt.Sprintf("%d per page", per), func(t *testing.T) {
			t.Parallel()
			opts := Options{LabelsPerPage: per, Date: testNow, Now: testNow}
			path := filepath.Join(t.TempDir(), "qr-codes.pdf")
			start := time.Now()
			if err := WritePDF(path, labels, opts); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the sheet took %v", took)
			}
			codesDir := t.TempDir()
			codesJob := inBackground(t, func() ([]string, error) { return decodeFiles(codesDir, 150, path) })
			words, err := pdfWords(path)
			if err != nil {
				t.Fatal(err)
			}
			lay, _ := newLayout(opts)
			if n := checkCutLines(t, words, lay); n < 20 {
				t.Errorf("only %d words in the labels", n)
			}
			if n := words.count("…"); n < tc.ellipses {
				t.Errorf("%d ellipses, want one per shortened caption at least", n)
			}
			got := codesJob()
			if len(got) != len(labels) {
				t.Errorf("decoded %d codes, want %d", len(got), len(labels))
			}
		})
	}
}

// TestLargePayloadsMoveToLargerCells: codes that do not fit a 6-per-page
// label at the smallest module that scans go on pages of larger labels, in
// their place in the order, with a note; at that module size (0.508 mm) a
// version 40 code decodes from a 150 dpi rendering.
func TestLargePayloadsMoveToLargerCells(t *testing.T) {
	t.Parallel()
	requireTools(t)
	rng := rand.New(rand.NewPCG(33, 40))
	big := func(n int) string { return payload(rng, n) }
	labels := []Label{
		{Row: 2, DisplayName: "small 1", Content: testPayload(1), Expires: later},
		{Row: 3, DisplayName: "version 33", Content: big(1370), Expires: later},
		{Row: 4, DisplayName: "small 2", Content: testPayload(2), Expires: later},
		{Row: 5, DisplayName: "version 40", Content: big(2331), Expires: later},
	}
	opts := Options{LabelsPerPage: 6, Date: testNow, Now: testNow}
	var moved []int
	for _, lb := range labels {
		notes, err := LabelNotes(&lb, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) > 0 {
			moved = append(moved, lb.Row)
			if !strings.Contains(notes[0], "printed on a page of") || !strings.Contains(notes[0], "0.508 mm") {
				t.Errorf("note %q", notes[0])
			}
		}
	}
	if !slices.Equal(moved, []int{3, 5}) {
		t.Errorf("rows %v moved to larger labels, want [3 5]", moved)
	}
	path := filepath.Join(t.TempDir(), "qr-codes.pdf")
	w, files := writeLabels(t, path, opts, labels)
	if notes := w.Notes(); len(notes[3]) != 1 || len(notes[5]) != 1 || len(notes[2]) != 0 {
		t.Errorf("writer notes %v", notes)
	}
	// Order kept: small 1 | v33 | small 2 | v40, each change of layout a page.
	pages := renderPages(t, files[0], 150)
	if len(pages) != 4 {
		t.Fatalf("%d pages, want 4 (a page per change of label size, in order)", len(pages))
	}
	for i, p := range pages {
		got, err := zbarDecode(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != labels[i].Content {
			t.Errorf("page %d decodes %d codes, want %s's", i+1, len(got), labels[i].DisplayName)
		}
	}
	// The version 40 code is drawn at the minimum module size.
	lays, _ := layouts(opts)
	c, _ := qr.Encode(labels[3].Content)
	to := chooseLayout(lays, 6, c.Size())
	if m := moduleMM(to.box, to.codeLimit(), c.Size()); math.Abs(m-MinModuleMM) > 1e-9 {
		t.Errorf("version 40 drawn with %.3f mm modules; the test wants the minimum, %.3f mm", m, MinModuleMM)
	}
	for _, per := range []int{4, 2, 1} {
		if !lays[per].fits(c.Size()) && per <= to.per {
			t.Errorf("%d per page does not hold version 40", per)
		}
	}
}

// payload returns n bytes of JSON-like provisioning content.
func payload(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte(`{"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"token":"`)
	for len(b) < n-3 {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return string(append(b, `"}}`...))[:n]
}

// TestSheetInParts writes a sheet longer than MaxPages in numbered parts,
// each numbered from page 1, removes an earlier single file, and every code
// decodes once across the parts.
func TestSheetInParts(t *testing.T) {
	t.Parallel()
	requireTools(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "qr-codes.pdf")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	labels := makeLabels(27, siteName, later) // 5 pages of 6
	opts := Options{Date: testNow, Now: testNow, MaxPages: 2, Workers: 2}
	_, files := writeLabels(t, path, opts, labels)
	want := []string{"qr-codes-part-01-of-03.pdf", "qr-codes-part-02-of-03.pdf", "qr-codes-part-03-of-03.pdf"}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the earlier single sheet is still there (%v)", err)
	}
	// Every part's text and codes at once; each tool uses one core.
	textJobs := make([]func() string, len(files))
	codeJobs := make([]func() []string, len(files))
	for i, f := range files {
		textJobs[i] = inBackground(t, func() (string, error) { return pdftotext(f) })
		codesDir := t.TempDir()
		codeJobs[i] = inBackground(t, func() ([]string, error) { return decodeFiles(codesDir, 100, f) })
	}
	for i := range files {
		text := squash(textJobs[i]())
		pages := 2
		if i == 2 {
			pages = 1
		}
		for p := 1; p <= pages; p++ {
			if !strings.Contains(text, squash(fmt.Sprintf("Page %d of %d", p, pages))) {
				t.Errorf("%s lacks \"Page %d of %d\"", names[i], p, pages)
			}
		}
		if !strings.Contains(text, squash(fmt.Sprintf("part %d", i+1))) {
			t.Errorf("%s's header does not say part %d", names[i], i+1)
		}
	}
	var got []string
	for _, job := range codeJobs {
		got = append(got, job()...)
	}
	var wantCodes []string
	for _, lb := range labels {
		wantCodes = append(wantCodes, lb.Content)
	}
	slices.Sort(got)
	slices.Sort(wantCodes)
	if !slices.Equal(got, wantCodes) {
		t.Errorf("decoded %d codes across the parts, want the %d labels once each", len(got), len(wantCodes))
	}
	// A shorter sheet into the same place is one file again, and the
	// parts are gone.
	if err := WritePDF(path, labels[:3], opts); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	if len(left) != 1 || filepath.Base(left[0]) != "qr-codes.pdf" {
		t.Errorf("files left %v, want qr-codes.pdf only", left)
	}
}

// writeLabels writes labels through a Writer at path and returns it,
// closed, with the files it wrote.
func writeLabels(t *testing.T, path string, opts Options, labels []Label) (*Writer, []string) {
	t.Helper()
	w, err := NewWriter(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, lb := range labels {
		if err := w.Add(lb); err != nil {
			t.Fatal(err)
		}
	}
	files, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return w, files
}
