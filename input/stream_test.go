package input

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// nextAll reads the rows r has left.
func nextAll(t *testing.T, r *Reader) []Row {
	t.Helper()
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

// readAll reads every row of path with a Reader.
func readAll(t *testing.T, path string, opts Options) (*File, []Row) {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	}()
	rows := nextAll(t, r)
	if r.File().Rows != nil {
		t.Errorf("Reader.File().Rows holds %d rows; it must stay nil", len(r.File().Rows))
	}
	return r.File(), rows
}

// streamCases returns the files the Reader is compared with Read on: every
// file in testdata and samples, every sheet of the workbooks, and generated
// files with the checks that look back at earlier rows or at the clock.
func streamCases(t *testing.T) []struct {
	path  string
	sheet string
} {
	t.Helper()
	type tc = struct {
		path  string
		sheet string
	}
	var cases []tc
	for _, pattern := range []string{"testdata/*", "../samples/*.csv", "../samples/*.xlsx"} { // the samples besides sheets are the simulator's
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if fi, err := os.Stat(p); err != nil || fi.IsDir() || refusedWhole[filepath.Base(p)] {
				continue
			}
			cases = append(cases, tc{path: p})
		}
	}
	cases = append(cases, tc{"testdata/friendly.xlsx", "Spare"}, tc{"testdata/friendly.xlsx", "rollout"})

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, content := range map[string]string{
		// Repeated names (case and spaces ignored), a second and third
		// Teams profile, and expiries in the past and beyond the limits.
		"lookback.csv": "displayName,enrollmentMode,isTeamsDeviceProfile,tokenExpirationDateTime,Site\n" +
			"Rooms A,corporateOwnedAOSPUserAssociatedDevice,true,2026-11-30,Leeds\n" +
			"rooms a ,corporateOwnedAOSPUserAssociatedDevice,yes,2027-01-01,York\n" +
			"\n" +
			"Rooms B,corporateOwnedAOSPUserAssociatedDevice,true,2092-12-02,Hull\n" +
			"Kiosk,corporateOwnedAOSPUserlessDevice,,2027-03-02,\n" +
			"ROOMS B,,,2020-01-01T00:00:00Z,\n",
		// A "sep=" line, a bare quote (an inch mark), ragged rows and a
		// stray value.
		"ragged.csv":      "sep=;\r\ndisplayName;description\r\nA;27\" monitor\r\nB;ok;x\r\nC\r\n;;\r\nD;d;;;\r\n",
		"header-only.csv": "displayName,description\n",
	} {
		cases = append(cases, tc{path: write(name, content)})
	}
	cases = append(cases, tc{path: writeLargeCSV(t, 3000)}, tc{path: writeLargeXLSX(t, 3000)})

	// A workbook with a hidden first sheet, formulas without saved values
	// and a stray value right of the headers.
	wb := excelize.NewFile()
	wb.SetSheetName("Sheet1", "Old")
	wb.SetSheetRow("Old", "A1", &[]any{"displayName"})
	wb.SetSheetRow("Old", "A2", &[]any{"Retired"})
	if _, err := wb.NewSheet("Profiles"); err != nil {
		t.Fatal(err)
	}
	wb.SetSheetRow("Profiles", "A1", &[]any{"displayName", "description", "Site"})
	wb.SetSheetRow("Profiles", "A2", &[]any{nil, "Handheld", "Leeds"})
	wb.SetCellFormula("Profiles", "A2", `CONCAT("Site ",C2)`)
	wb.SetSheetRow("Profiles", "A3", &[]any{"York scanners", nil, nil, nil, "stray"})
	wb.SetSheetRow("Profiles", "A5", &[]any{"york SCANNERS", true, 42})
	wb.SetActiveSheet(1) // excelize does not hide the active sheet
	if err := wb.SetSheetVisible("Old", false); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, tc{path: saveWorkbook(t, wb, "hidden.xlsx")})
	return cases
}

// refusedWhole names the files under testdata that Open refuses without
// a sheet name: a workbook with several visible sheets.
var refusedWhole = map[string]bool{"friendly.xlsx": true}

// TestReaderMatchesRead checks that Open and Next give the rows and the
// file metadata that Read gives, for every file the tests have.
func TestReaderMatchesRead(t *testing.T) {
	for _, tc := range streamCases(t) {
		t.Run(filepath.Base(tc.path)+"/"+tc.sheet, func(t *testing.T) {
			opts := Options{Sheet: tc.sheet, Now: func() time.Time { return testNow }}
			want, err := Read(tc.path, opts)
			if err != nil {
				t.Fatal(err)
			}
			meta, rows := readAll(t, tc.path, opts)
			wantMeta := *want
			wantMeta.Rows = nil
			if !reflect.DeepEqual(*meta, wantMeta) {
				t.Errorf("file\n got %+v\nwant %+v", *meta, wantMeta)
			}
			if len(rows) != len(want.Rows) {
				t.Fatalf("%d rows, Read has %d", len(rows), len(want.Rows))
			}
			for i := range rows {
				if !reflect.DeepEqual(rows[i], want.Rows[i]) {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, rows[i], want.Rows[i])
				}
			}
		})
	}
}

// TestReaderLookBack checks, row by row, the problems that need earlier
// rows or the clock: each is on the row Next returns, when it returns it.
func TestReaderLookBack(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.csv")
	content := "displayName,enrollmentMode,isTeamsDeviceProfile,tokenExpirationDateTime\n" +
		"Rooms A,corporateOwnedAOSPUserAssociatedDevice,true,2026-11-30\n" +
		"rooms a ,corporateOwnedAOSPUserAssociatedDevice,yes,\n" +
		"Kiosk,corporateOwnedAOSPUserlessDevice,,2027-03-02\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{p + ": row 2, tokenExpirationDateTime: 2026-11-30 is in the past; give a later date, or leave it empty for the default lifetime"},
		{
			p + `: row 3, displayName: "rooms a" is already used in row 2; names must be unique in the file (case is ignored)`,
			p + ": row 3, isTeamsDeviceProfile: is already on in row 2; one profile per tenant may be for Teams devices (Intune docs, android-aosp-corporate-owned-user-associated-enroll)",
		},
		{p + ": row 4, tokenExpirationDateTime: 2027-03-02 is more than 90 days away; corporateOwnedAOSPUserlessDevice tokens last at most 90 days (Intune docs, android-aosp-corporate-owned-userless-enroll), so give 2027-03-01 or earlier"},
	}
	r, err := Open(p, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, w := range want {
		row, err := r.Next()
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		var got []string
		for _, p := range row.Problems {
			got = append(got, p.Error())
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("line %d: problems\n got %q\nwant %q", row.Line, got, w)
		}
		if i == 0 && !OnlyForNew(row.Problems) {
			t.Errorf("line %d: a past expiry must matter only for new profiles", row.Line)
		}
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last row: %v, want io.EOF", err)
		}
	}
}

// TestReadTwice checks that two Readers of one file give the same rows, as
// a run that checks the file and then sends it needs.
func TestReadTwice(t *testing.T) {
	for _, path := range []string{writeLargeCSV(t, 2500), writeLargeXLSX(t, 2500), "testdata/friendly.xlsx"} {
		t.Run(filepath.Ext(path), func(t *testing.T) {
			opts := Options{Now: func() time.Time { return largeNow }}
			if filepath.Base(path) == "friendly.xlsx" {
				opts.Sheet = "Rollout"
			}
			meta1, first := readAll(t, path, opts)
			meta2, second := readAll(t, path, opts)
			if !reflect.DeepEqual(meta1, meta2) {
				t.Errorf("file metadata differs:\n%+v\n%+v", meta1, meta2)
			}
			if len(first) == 0 || !reflect.DeepEqual(first, second) {
				t.Errorf("the passes differ: %d rows, then %d", len(first), len(second))
			}
		})
	}
}

// TestOpenErrorsMatchRead checks that Open refuses unusable files with the
// error Read gives.
func TestOpenErrorsMatchRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ path, sheet string }{
		{path: filepath.Join(dir, "nope.csv")},
		{path: write("profiles.json", "displayName\nA\n")},
		{path: write("profiles.xls", "x")},
		{path: write("empty.csv", "")},
		{path: write("nodn.csv", "name;description\nA;B\n")},
		{path: write("fake.xlsx", "displayName\nA\n")},
		{path: "testdata/friendly.xlsx", sheet: "Nope"},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			_, rerr := Read(tc.path, Options{Sheet: tc.sheet})
			r, oerr := Open(tc.path, Options{Sheet: tc.sheet})
			if rerr == nil || oerr == nil || rerr.Error() != oerr.Error() {
				t.Errorf("Open: %v (reader %v)\nRead: %v", oerr, r, rerr)
			}
			if errors.Is(oerr, ErrNoDisplayName) != errors.Is(rerr, ErrNoDisplayName) {
				t.Errorf("errors.Is(ErrNoDisplayName) differs")
			}
		})
	}
}

// writeZip writes a zip of the given parts.
func writeZip(t *testing.T, path string, parts map[string]string) {
	t.Helper()
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(fh)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedSheetStopsTheReader checks a workbook whose XML breaks after
// some good rows: Next gives those rows, then the error Read gives, and
// the same error on every later call.
func TestDamagedSheetStopsTheReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.xlsx")
	writeZip(t, path, map[string]string{
		"xl/workbook.xml":            `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": `<worksheet><sheetData>` +
			`<row r="1"><c t="inlineStr"><is><t>displayName</t></is></c></row>` +
			`<row r="2"><c t="inlineStr"><is><t>Good</t></is></c></row>` +
			`<row r="3"><c t="inlineStr"><is><t>Broken</t></is></row>`,
	})
	_, rerr := Read(path, Options{})
	if rerr == nil || !strings.HasPrefix(rerr.Error(), "read "+path+": sheet \"S\": ") {
		t.Fatalf("Read: %v, want an error naming the file and sheet", rerr)
	}
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	row, err := r.Next()
	if err != nil || row.DisplayName != "Good" || row.Line != 2 {
		t.Fatalf("first row %+v, %v", row, err)
	}
	for range 2 {
		if _, err := r.Next(); err == nil || err.Error() != rerr.Error() {
			t.Fatalf("Next: %v, want %v", err, rerr)
		}
	}
}

// TestNextAfterClose checks that a closed Reader says so and that Close may
// be called twice.
func TestNextAfterClose(t *testing.T) {
	for _, path := range []string{"testdata/tab.csv", "testdata/friendly.xlsx"} {
		r, err := Open(path, Options{Sheet: map[string]string{"friendly.xlsx": "Rollout"}[filepath.Base(path)]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", path, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: second Close: %v", path, err)
		}
		if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Next after Close: %v, want an error naming the file", path, err)
		}
	}
}

// openCount counts this process's open descriptors of path, from
// /proc/self/fd; ok is false where there is no such folder.
func openCount(t *testing.T, path string) (n int, ok bool) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == abs {
			n++
		}
	}
	return n, true
}

// TestCloseReleasesTheFile checks that a workbook stays open while its
// rows are read and is let go by Close, before the last row too.
func TestCloseReleasesTheFile(t *testing.T) {
	path := "testdata/friendly.xlsx"
	if _, ok := openCount(t, path); !ok {
		t.Skip("no /proc/self/fd to count open files with")
	}
	r, err := Open(path, Options{Sheet: "Rollout"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if n, _ := openCount(t, path); n != 1 {
		t.Errorf("%d descriptors of the workbook open while reading, want 1", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := openCount(t, path); n != 0 {
		t.Errorf("%d descriptors of the workbook open after Close, want 0", n)
	}
}

// TestReaderMemoryIsFlat reads 100,000 rows keeping nothing and checks
// that the heap in use at the end is within 16 MiB of the heap at row
// 10,000: only the map of names seen may grow.
func TestReaderMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 100,000-row files")
	}
	const n, at = 100000, 10000
	for _, format := range []string{"csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			path := writeLargeCSV(t, n)
			if format == "xlsx" {
				path = writeLargeXLSX(t, n)
			}
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapInuse
			}
			r, err := Open(path, Options{Now: func() time.Time { return largeNow }})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var early uint64
			count, problems := 0, 0
			for {
				row, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				count++
				problems += len(row.Problems)
				if count == at {
					early = heap()
				}
			}
			late := heap()
			if count != n {
				t.Fatalf("%d rows, want %d", count, n)
			}
			if want := n/1000 + n/500; problems != want {
				t.Errorf("%d problems, want %d (the repeated names and unknown modes)", problems, want)
			}
			growth := int64(late) - int64(early)
			t.Logf("heap in use: %.1f MiB at row %d, %.1f MiB at row %d (%+.1f MiB)",
				float64(early)/(1<<20), at, float64(late)/(1<<20), n, float64(growth)/(1<<20))
			if growth >= 16<<20 {
				t.Errorf("the heap grew by %.1f MiB from row %d to row %d; want less than 16 MiB", float64(growth)/(1<<20), at, n)
			}
		})
	}
}
