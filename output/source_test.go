package output

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/internal/heapsample"
	"github.com/enrollbatch/enrollbatch/results"
)

// generated returns the i-th of a run's generated results: mostly created
// rows with a full payload, ids and extras, and now and then a failed,
// invalid or existing one.
func generated(i int) *results.Result {
	r := &results.Result{
		Row: i + 2, DisplayName: "Profile " + strconv.Itoa(i), Description: "Kiosk tablets, floor " + strconv.Itoa(i%9),
		Status: results.Created, Action: results.ActCreate,
		ID:        fmt.Sprintf("6f1c0c1e-%04x-4c59-9d5e-%012x", i%0xffff, i),
		RequestID: fmt.Sprintf("0a1b2c3d-%04x-4e5f-8a9b-%012x", i%0xffff, i*7), ClientRequestID: fmt.Sprintf("c-%08d", i),
		HTTPStatus: 201, Attempts: 1, TokenExpiration: later, QRCodeContent: testPayload(i),
		Extras: []string{"Leeds", "A. Nowak " + strconv.Itoa(i%13)},
	}
	switch i % 50 {
	case 7:
		r.Status, r.HTTPStatus, r.ErrorCode, r.ErrorMessage = results.Failed, 400, "BadRequest", "Property roleScopeTagIds is invalid"
		r.ErrorRaw, r.QRCodeContent, r.ID = `{"Message": "Property roleScopeTagIds is invalid"}`, "", ""
	case 19:
		r.Status, r.HTTPStatus, r.ErrorCode, r.ErrorMessage = results.Invalid, 0, "invalid", "row "+strconv.Itoa(i+2)+": displayName is empty"
		r.QRCodeContent, r.ID, r.Extras[0] = "", "", "=HYPERLINK(1)"
	case 31:
		r.Status, r.Notes = results.Exists, []string{"kept the code printed before"}
	}
	return r
}

// generatedSource yields n generated results, making each as it is asked
// for; each range calls at(i) first with the index of the result it is
// about to make.
func generatedSource(n int, at func(i int)) results.Source {
	return func(yield func(*results.Result, error) bool) {
		for i := range n {
			if at != nil {
				at(i)
			}
			if !yield(generated(i), nil) {
				return
			}
		}
	}
}

// zipEntries reads every entry of a zip file.
func zipEntries(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func TestWritersFromSourceMatchSlices(t *testing.T) {
	var gen []results.Result
	for i := range 300 {
		gen = append(gen, *generated(i))
	}
	dry := sampleRun()
	dry.DryRun, dry.Delimiter = true, ';'
	for _, tc := range []struct {
		name string
		run  results.Run
		rs   []results.Result
	}{
		{"sample", sampleRun(), sampleResults()},
		{"none", sampleRun(), nil},
		{"generated", results.Run{ExtraHeaders: []string{"Site", "Technician"}}, gen},
		{"generated dry run", dry, gen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The source hands out copies, so that nothing it yields is
			// the slice's own result.
			src := func(yield func(*results.Result, error) bool) {
				for _, r := range tc.rs {
					if !yield(&r, nil) {
						return
					}
				}
			}
			for _, w := range []struct {
				ext       string
				fromSlice func(string, results.Run, []results.Result) error
				fromSrc   func(string, results.Run, results.Source) error
			}{
				{".xlsx", WriteWorkbook, WriteWorkbookFrom},
				{".csv", WriteCSV, WriteCSVFrom},
			} {
				a, b := filepath.Join(dir, "slice"+w.ext), filepath.Join(dir, "source"+w.ext)
				if err := w.fromSlice(a, tc.run, tc.rs); err != nil {
					t.Fatal(err)
				}
				if err := w.fromSrc(b, tc.run, src); err != nil {
					t.Fatal(err)
				}
				if w.ext == ".csv" {
					da, _ := os.ReadFile(a)
					db, _ := os.ReadFile(b)
					if !bytes.Equal(da, db) {
						t.Errorf("results.csv from a source differs from the one from a slice")
					}
					continue
				}
				ea, eb := zipEntries(t, a), zipEntries(t, b)
				if len(ea) != len(eb) {
					t.Errorf("%d parts from a slice, %d from a source", len(ea), len(eb))
				}
				for name, da := range ea {
					if !bytes.Equal(da, eb[name]) {
						t.Errorf("%s differs between the slice and the source", name)
					}
				}
			}
		})
	}
}

// failingSource yields good results and then, in the range numbered fail
// (from 1), an error after after results.
func failingSource(fail, after int, cause error) results.Source {
	ranges := 0
	return func(yield func(*results.Result, error) bool) {
		ranges++
		for i := range 20 {
			if ranges == fail && i == after {
				yield(nil, cause)
				return
			}
			if !yield(generated(i), nil) {
				return
			}
		}
	}
}

func TestWritersFailOnSourceError(t *testing.T) {
	cause := errors.New("spool: unexpected end of record")
	for _, tc := range []struct {
		name        string
		fail, after int
	}{
		{"first result", 1, 0},
		{"mid rows", 1, 7},
		{"summary pass", 2, 12},
	} {
		for _, w := range []struct {
			name  string
			write func(string, results.Run, results.Source) error
		}{
			{"results.xlsx", WriteWorkbookFrom},
			{"results.csv", WriteCSVFrom},
		} {
			t.Run(tc.name+"/"+w.name, func(t *testing.T) {
				if w.name == "results.csv" && tc.fail > 1 {
					t.Skip("results.csv ranges over the source once")
				}
				dir := t.TempDir()
				path := filepath.Join(dir, w.name)
				old := []byte("the results of the run before")
				if err := os.WriteFile(path, old, 0o600); err != nil {
					t.Fatal(err)
				}
				err := w.write(path, results.Run{ExtraHeaders: []string{"Site", "Technician"}}, failingSource(tc.fail, tc.after, cause))
				if !errors.Is(err, cause) {
					t.Fatalf("err %v, want the source's error", err)
				}
				if want := fmt.Sprintf("read result %d", tc.after+1); !bytes.Contains([]byte(err.Error()), []byte(want)) {
					t.Errorf("err %q does not say %q", err, want)
				}
				got, _ := os.ReadFile(path)
				if !bytes.Equal(got, old) {
					t.Errorf("%s was replaced after the error: %d bytes", w.name, len(got))
				}
				left, _ := filepath.Glob(filepath.Join(dir, "*"))
				if len(left) != 1 {
					t.Errorf("files left in the folder: %v", left)
				}
			})
		}
	}
}

func TestWritersFromSourceKeepMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 rows")
	}
	const n, every, slack = 100000, 10000, 32 << 20
	run := results.Run{ExtraHeaders: []string{"Site", "Technician"}, Start: time.Now()}
	for _, w := range []struct {
		name  string
		write func(string, results.Run, results.Source) error
	}{
		{"results.xlsx", WriteWorkbookFrom},
		{"results.csv", WriteCSVFrom},
	} {
		t.Run(w.name, func(t *testing.T) {
			var h heapsample.Sampler
			var base uint64
			src := generatedSource(n, func(i int) {
				switch {
				case i == every && base == 0:
					base = h.Sample()
				case i > 0 && i%every == 0:
					h.Sample()
				}
			})
			path := filepath.Join(t.TempDir(), w.name)
			if err := w.write(path, run, src); err != nil {
				t.Fatal(err)
			}
			if h.Samples < n/every-1 {
				t.Fatalf("%d samples taken, want at least %d", h.Samples, n/every-1)
			}
			t.Logf("%s: HeapInuse %.1f MiB at %d rows, at most %.1f MiB in %d samples",
				w.name, float64(base)/(1<<20), every, float64(h.Peak)/(1<<20), h.Samples)
			if h.Peak > base+slack {
				t.Errorf("HeapInuse grew from %.1f MiB at %d rows to %.1f MiB: results are being held",
					float64(base)/(1<<20), every, float64(h.Peak)/(1<<20))
			}
			if w.name == "results.xlsx" {
				checkRowCount(t, path, n)
			}
		})
	}
}

// checkRowCount reads the workbook's sheets back row by row and checks
// that the Results sheet has n rows under its header and that the Summary
// counts n.
func checkRowCount(t *testing.T, path string, n int) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.Rows(ResultsSheet)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for rows.Next() {
		got++
	}
	rows.Close()
	if got != n+1 {
		t.Errorf("Results sheet has %d rows, want %d and the header", got, n)
	}
	summary, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range summary {
		if len(row) == 2 && row[0] == "total" && row[1] != strconv.Itoa(n) {
			t.Errorf("Summary total %s, want %d", row[1], n)
		}
	}
}
