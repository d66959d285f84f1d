package qrsheet

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/internal/heapsample"
	"github.com/enrollbatch/enrollbatch/results"
)

// oldSheetPath writes the QR sheet of rs the way the run did before
// FromResults: every label built, then WriteSheets, and a stale sheet
// removed when nothing was printable.
func oldSheetPath(path string, rs []results.Result, extra, cols []string, splitBy string, opts Options, clean bool) (Outcome, error) {
	labels, skipped, err := LabelsFromResults(rs, extra, cols, opts.Now)
	if err != nil {
		return Outcome{}, err
	}
	byRow := map[int]*results.Result{}
	for i := range rs {
		byRow[rs[i].Row] = &rs[i]
	}
	var groups []string
	if splitBy != "" {
		if groups, err = ColumnValues(labels, byRow, extra, splitBy); err != nil {
			return Outcome{Skipped: skipped}, err
		}
	}
	files, notes, err := WriteSheets(path, labels, groups, splitBy, opts, clean)
	if errors.Is(err, ErrNoLabels) {
		if rerr := Remove(path); rerr != nil {
			return Outcome{Skipped: skipped, Notes: notes}, rerr
		}
		return Outcome{Skipped: skipped, Notes: notes}, err
	}
	return Outcome{Files: files, Labels: len(labels), Skipped: skipped, Notes: notes}, err
}

// sheetResults is a run's results for the sheet tests: printable rows at
// two sites, one with a payload too large for a small label (a note), one
// without an input row (a reprint, its note under 0), and rows that are
// not printed for each reason.
func sheetResults() []results.Result {
	rng := rand.New(rand.NewPCG(33, 40))
	past := testNow.Add(-time.Hour)
	return []results.Result{
		{Row: 2, DisplayName: "Leeds 1", Status: results.Created, QRCodeContent: testPayload(1), TokenExpiration: later, Extras: []string{"Leeds", "A. Nowak"}},
		{Row: 3, DisplayName: "York big", Status: results.Renewed, QRCodeContent: payload(rng, 1370), TokenExpiration: later, Extras: []string{"York", ""}},
		{Row: 4, DisplayName: "Failed", Status: results.Failed, Extras: []string{"Leeds", ""}},
		{Row: 5, DisplayName: "No code", Status: results.Created, Extras: []string{"York", ""}},
		{Row: 6, DisplayName: "Expired", Status: results.Exists, QRCodeContent: testPayload(6), TokenExpiration: past, Extras: []string{"Leeds", ""}},
		{Row: 7, DisplayName: "Leeds 2", Status: results.Exists, QRCodeContent: testPayload(7), TokenExpiration: later, Extras: []string{"Leeds", "B. Smith"}, Replaces: true},
		{Row: 8, DisplayName: "No site", Status: results.Updated, QRCodeContent: testPayload(8), TokenExpiration: later, Extras: []string{"", ""}},
		{Row: 0, DisplayName: "Reprint big", Status: results.Exists, QRCodeContent: payload(rng, 1370), TokenExpiration: later, Extras: []string{"York", ""}},
	}
}

// pdfFiles reads the PDF files of a folder by name.
func pdfFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestSheetFromResultsMatchesLabelsPath(t *testing.T) {
	extra := []string{"Site", "Technician"}
	notPrintable := sheetResults()[2:5]
	for _, tc := range []struct {
		name    string
		rs      []results.Result
		cols    []string
		splitBy string
		clean   bool
		opts    Options
		notes   bool // rows 3 and 0 get notes
		held    bool // more values than maxGroupPasses: the labels are held
	}{
		{name: "one sheet", rs: sheetResults(), cols: []string{"site", "technician", "row"}, notes: true},
		{name: "one sheet in parts", rs: sheetResults(), cols: []string{"Site"}, opts: Options{MaxPages: 1, LabelsPerPage: 2}},
		{name: "split by site", rs: sheetResults(), cols: []string{"Technician"}, splitBy: "site", notes: true},
		{name: "split by site, clean", rs: sheetResults(), splitBy: "Site", clean: true},
		{name: "split by site, labels held", rs: sheetResults(), cols: []string{"Technician"}, splitBy: "site", notes: true, held: true},
		{name: "split by row, labels held, clean", rs: sheetResults(), splitBy: "row", clean: true, held: true},
		{name: "one sheet, clean", rs: sheetResults(), clean: true, notes: true},
		{name: "nothing printable", rs: notPrintable},
		{name: "nothing printable, split", rs: notPrintable, splitBy: "Site", clean: true},
		{name: "no results", splitBy: "Site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The cases that lower maxGroupPasses run first, one at a
			// time; the others then run in parallel with it restored.
			if !tc.held {
				t.Parallel()
			}
			opts := tc.opts
			opts.Date, opts.Now, opts.Workers = testNow, testNow, 2
			var outs [2]Outcome
			var errs [2]error
			var dirs [2]string
			for i := range dirs {
				dirs[i] = t.TempDir()
				path := filepath.Join(dirs[i], "qr-codes.pdf")
				// Sheets of an earlier run: one single sheet, one a site
				// that is gone; clean removes the second, and the first is
				// replaced or, with nothing printable, removed.
				for _, old := range []string{"qr-codes.pdf", "qr-codes-Hull.pdf"} {
					if err := os.WriteFile(filepath.Join(dirs[i], old), []byte("old"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				rs := slices.Clone(tc.rs)
				if i == 0 {
					outs[i], errs[i] = oldSheetPath(path, rs, extra, tc.cols, tc.splitBy, opts, tc.clean)
				} else {
					if tc.held {
						defer func(n int) { maxGroupPasses = n }(maxGroupPasses)
						maxGroupPasses = 1
					}
					outs[i], errs[i] = FromResults(path, results.FromSlice(rs), extra, tc.cols, tc.splitBy, opts, tc.clean)
				}
				for j, f := range outs[i].Files {
					outs[i].Files[j] = filepath.Base(f)
				}
			}
			if !errors.Is(errs[1], errs[0]) && errs[0] != errs[1] {
				t.Fatalf("error %v, the labels path gave %v", errs[1], errs[0])
			}
			for i := range outs {
				if len(outs[i].Notes) == 0 {
					outs[i].Notes = nil
				}
			}
			if !reflect.DeepEqual(outs[1], outs[0]) {
				t.Errorf("outcome\n%+v\nthe labels path gave\n%+v", outs[1], outs[0])
			}
			old, got := pdfFiles(t, dirs[0]), pdfFiles(t, dirs[1])
			if len(got) != len(old) {
				t.Errorf("files %v, the labels path left %v", keys(got), keys(old))
			}
			for name, b := range old {
				if !sameLines(got[name], b) {
					t.Errorf("%s differs from the labels path's (%d bytes, want %d)", name, len(got[name]), len(b))
				}
			}
			if tc.notes && (len(outs[0].Notes[3]) == 0 || len(outs[0].Notes[0]) == 0) {
				t.Error("no label had a note: the case does not test notes")
			}
		})
	}
}

// pdfStream finds a PDF's streams; pdfRef its object numbers; pdfXref the
// lines of its cross-reference table.
var (
	pdfStream = regexp.MustCompile(`(?s)stream\r?\n(.*?)endstream`)
	pdfRef    = regexp.MustCompile(`\b\d+ 0 (obj|R)\b`)
	pdfXref   = regexp.MustCompile(`(?m)^\d{10} \d{5} [nf] ?\r?$`)
)

// sameLines reports whether two PDFs have the same lines, in any order,
// once their streams are inflated and their object numbers and offsets
// dropped: the PDF library writes the glyph forms and some dictionaries
// in map order, so two writings of the same sheet number their objects
// differently.
func sameLines(a, b []byte) bool {
	norm := func(d []byte) [][]byte {
		d = pdfStream.ReplaceAllFunc(d, func(m []byte) []byte {
			body := pdfStream.FindSubmatch(m)[1]
			zr, err := zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				return m
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				return m
			}
			return append(append([]byte("stream\n"), plain...), "\nendstream"...)
		})
		d = pdfRef.ReplaceAll(d, []byte("N 0 $1"))
		d = pdfXref.ReplaceAll(d, nil)
		lines := bytes.Split(d, []byte("\n"))
		slices.SortFunc(lines, bytes.Compare)
		return lines
	}
	return slices.EqualFunc(norm(a), norm(b), bytes.Equal)
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestSheetFromResultsErrors(t *testing.T) {
	extra := []string{"Site"}
	cause := errors.New("spool: bad record")
	failing := func(yield func(*results.Result, error) bool) {
		for i, r := range sheetResults() {
			if i == 3 {
				yield(nil, cause)
				return
			}
			if !yield(&r, nil) {
				return
			}
		}
	}
	// failingLater fails only in its second range, the first value's sheet.
	ranges := 0
	failingLater := func(yield func(*results.Result, error) bool) {
		ranges++
		for i, r := range sheetResults() {
			if i == 3 && ranges == 2 {
				yield(nil, cause)
				return
			}
			if !yield(&r, nil) {
				return
			}
		}
	}
	for _, tc := range []struct {
		name          string
		src           results.Source
		cols          []string
		splitBy, want string
	}{
		{name: "source fails", src: failing, want: "read result 4"},
		{name: "source fails in a value's range, split", src: failingLater, splitBy: "Site", want: "read result 4"},
		{name: "source fails, split", src: failing, splitBy: "Site", want: "read result 4"},
		{name: "unknown label column", src: results.FromSlice(sheetResults()), cols: []string{"floor"}, want: `label column "floor"`},
		{name: "unknown split column", src: results.FromSlice(sheetResults()), splitBy: "floor", want: `split-by column "floor"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "qr-codes.pdf")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := FromResults(path, tc.src, extra, tc.cols, tc.splitBy, Options{Date: testNow, Now: testNow}, true)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("err %v, want one saying %s", err, tc.want)
			}
			if tc.want == "read result 4" && !errors.Is(err, cause) {
				t.Errorf("err %v does not wrap the source's error", err)
			}
			if len(out.Files) != 0 {
				t.Errorf("files %v after an error", out.Files)
			}
			if b, _ := os.ReadFile(path); string(b) != "old" {
				t.Errorf("the earlier sheet was replaced after an error")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 1 {
				t.Errorf("files left: %v", left)
			}
		})
	}
}

func TestSheetFromResultsKeepsMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("prints 62,000 labels")
	}
	const every, slack, overBase = 1000, 16 << 20, 24 << 20
	sites := []string{"Leeds", "York", "Hull", "Bath"}
	perPart := DefaultMaxPages * 6
	parts := func(n int) int { return (n + perPart - 1) / perPart }
	for _, tc := range []struct {
		name    string
		n       int
		splitBy string
		files   int
	}{
		{"one sheet", 50000, "", parts(50000)},
		// Each site's sheet from a range of its own: five ranges.
		{"split by site", 12000, "Site", len(sites) * parts(12000/len(sites))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each result carries 4 KB that the label does not: holding
			// the results would hold 48 MB or more.
			unprinted := strings.Repeat("x", 4090)
			var h heapsample.Sampler
			ranges := 0
			src := func(yield func(*results.Result, error) bool) {
				ranges++
				for i := range tc.n {
					// With splitBy the first range only finds the values
					// and prints nothing: the samples come from the others.
					if i > 0 && i%every == 0 && (tc.splitBy == "" || ranges > 1) {
						h.Sample()
					}
					// Short contents (small codes) keep the test quick;
					// every result is printable and has its fields filled.
					r := &results.Result{Row: i + 2, DisplayName: "Profile " + strconv.Itoa(i), Description: "Kiosk tablets",
						Status: results.Created, ID: fmt.Sprintf("6f1c0c1e-%012x", i), TokenExpiration: later,
						QRCodeContent: fmt.Sprintf(`{"t":"%08d"}`, i), Extras: []string{sites[i%len(sites)], "A. Nowak"},
						ErrorRaw: unprinted + strconv.Itoa(i)}
					if !yield(r, nil) {
						return
					}
				}
			}
			var before heapsample.Sampler
			base := before.Sample()
			start := time.Now()
			out, err := FromResults(filepath.Join(t.TempDir(), "qr-codes.pdf"), src, []string{"Site", "Technician"},
				[]string{"Technician"}, tc.splitBy, Options{Date: testNow, Now: testNow}, false)
			if err != nil {
				t.Fatal(err)
			}
			if out.Labels != tc.n || len(out.Files) != tc.files {
				t.Errorf("%d labels in %d files, want %d in %d", out.Labels, len(out.Files), tc.n, tc.files)
			}
			// The heap rises and falls with the part being filled and the
			// one being written in the background, so the test compares
			// the low points of the first and last thirds of the run, and
			// the last with the heap before the call: held results would
			// raise it by 48 MB or more. (The peak, logged, depends on how
			// far the background write has got.)
			third := len(h.All) / 3
			low := func(s []uint64) uint64 { return slices.Min(s) }
			first, last := low(h.All[:third]), low(h.All[len(h.All)-third:])
			mib := func(v uint64) float64 { return float64(v) / (1 << 20) }
			t.Logf("%d labels in %d files in %s: HeapInuse %.1f MiB before, low %.1f MiB in the first third, %.1f MiB in the last, peak %.1f MiB in %d samples",
				out.Labels, len(out.Files), time.Since(start).Round(time.Millisecond), mib(base), mib(first), mib(last), mib(h.Peak), h.Samples)
			if last > first+slack {
				t.Errorf("HeapInuse low point rose from %.1f MiB to %.1f MiB: labels or results are being held", mib(first), mib(last))
			}
			if last > base+overBase {
				t.Errorf("HeapInuse low point %.1f MiB, %.1f MiB before the call: results are being held", mib(last), mib(base))
			}
		})
	}
}
