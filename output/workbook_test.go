package output

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/results"
)

func sampleRun() results.Run {
	return results.Run{
		Command: "run", Input: "samples/profiles.xlsx", Sheet: "Profiles",
		Start: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 28, 8, 3, 12, 0, time.UTC),
		GraphURL: "https://graph.microsoft.com/beta", Concurrency: 4, Rate: 4, Requests: 31, Throttled: 2,
		Paused: 3500 * time.Millisecond, Interrupted: true, Aborted: "403 from the service: grant DeviceManagementConfiguration.ReadWrite.All",
		ExtraHeaders: []string{"Site", "Technician", "status"},
	}
}

func sampleResults() []results.Result {
	exp := time.Date(2027, 3, 31, 8, 15, 30, 0, time.UTC)
	return []results.Result{
		{Row: 2, DisplayName: "Leeds kiosks", Description: "Kiosk tablets", Status: results.Created, ID: "6f1c0c1e-1111-4c59-9d5e-0a0a0a0a0a01",
			HTTPStatus: 201, Attempts: 1, RequestID: "req-1", ClientRequestID: "c-1", TokenExpiration: exp,
			QRCodeContent: testPayload(1), Extras: []string{"Leeds", "A. Nowak", "x"}},
		{Row: 3, DisplayName: "Αθήνα αποθήκη", Status: results.Exists, ID: "6f1c0c1e-2222-4c59-9d5e-0a0a0a0a0a02", Extras: []string{"Athens", "", ""}},
		{Row: 5, DisplayName: "Bad date", Status: results.Invalid, ErrorCode: "invalid",
			ErrorMessage: `row 5, tokenExpirationDateTime: "31.12.2026" is not a date (use 2026-12-31 or 2026-12-31T08:00:00+01:00)`,
			Extras:       []string{"Łódź"}},
		{Row: 6, DisplayName: "Refused", Status: results.Failed, HTTPStatus: 400, Attempts: 1, ErrorCode: "BadRequest",
			ErrorMessage: "Property roleScopeTagIds is invalid", ErrorRaw: `{"_version": 3, "Message": "Property roleScopeTagIds is invalid"}`,
			RequestID: "req-4", ClientRequestID: "c-4", Extras: []string{"York", "B. Smith", ""}},
		{Row: 7, DisplayName: "Later", Status: results.NotAttempted, Extras: []string{"Hull", "C, D", "=1+1"}},
		{Row: 8, DisplayName: "Renewed one", Status: results.Renewed, HTTPStatus: 200, Attempts: 2, TokenExpiration: exp.Add(time.Hour),
			QRCodeContent: testPayload(2), Extras: []string{"Leeds", "line\nbreak", ""}},
		{Row: 9, DisplayName: "Dry", Status: results.Planned, Extras: []string{"", "", ""}},
	}
}

// comparable drops what the workbook does not carry (images, encoded codes).
func comparable(rs []results.Result) []results.Result {
	out := make([]results.Result, len(rs))
	for i, r := range rs {
		r.QRCodeImage, r.QR = nil, nil
		for len(r.Extras) < 3 {
			r.Extras = append(r.Extras, "")
		}
		out[i] = r
	}
	return out
}

func TestWorkbookRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.xlsx")
	run, rs := sampleRun(), sampleResults()
	if err := WriteWorkbook(path, run, rs); err != nil {
		t.Fatal(err)
	}
	gotRun, got, err := ReadWorkbook(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := comparable(rs); !reflect.DeepEqual(got, want) {
		for i := range want {
			if i < len(got) && !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("read %d results, wrote %d", len(got), len(want))
	}
	if !reflect.DeepEqual(gotRun, run) {
		t.Errorf("run:\n got %+v\nwant %+v", gotRun, run)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestWorkbookLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.xlsx")
	run, rs := sampleRun(), sampleResults()
	if err := WriteWorkbook(path, run, rs); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{ResultsSheet, SummarySheet}) {
		t.Errorf("sheets %v", got)
	}
	rows, err := f.GetRows(ResultsSheet)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := append(append([]string(nil), Columns...), run.ExtraHeaders...)
	if !reflect.DeepEqual(rows[0], wantHeader) {
		t.Errorf("header %v\nwant %v", rows[0], wantHeader)
	}
	// The expiry is a real date cell shown as a date.
	if v, _ := f.GetCellValue(ResultsSheet, "J2"); v != "2027-03-31 08:15:30" {
		t.Errorf("J2 shows %q, want 2027-03-31 08:15:30", v)
	}
	if typ, _ := f.GetCellType(ResultsSheet, "J2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("J2 is a text cell, want a date")
	}
	// Header bold, status cells coloured by status.
	style := func(cell string) *excelize.Style {
		id, err := f.GetCellStyle(ResultsSheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := style("A1"); s.Font == nil || !s.Font.Bold {
		t.Error("header is not bold")
	}
	for i, r := range rs {
		s := style(fmt.Sprintf("C%d", i+2))
		if len(s.Fill.Color) == 0 || !strings.EqualFold(s.Fill.Color[0], statusColours[r.Status][0]) {
			t.Errorf("status %s filled %v, want %s", r.Status, s.Fill.Color, statusColours[r.Status][0])
		}
	}
	panes, err := f.GetPanes(ResultsSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v (%v), want the header row frozen", panes, err)
	}
	if w, _ := f.GetColWidth(ResultsSheet, "H"); w < 40 {
		t.Errorf("errorMessage column %v wide, want a readable width", w)
	}
	xml := sheetXML(t, path, "xl/worksheets/sheet1.xml")
	if !strings.Contains(strings.ReplaceAll(xml, "$", ""), `<autoFilter ref="A1:T8"`) {
		t.Error("no autofilter over the results")
	}
	sum, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(sum)
	for _, want := range []string{"[created 1]", "[failed 1]", "[total 7]", "[graph URL https://graph.microsoft.com/beta]",
		"[429 responses 2]", "[paused by Retry-After 3.5s]", "[interrupted yes]", "[5 Bad date invalid row 5, tokenExpirationDateTime",
		"[6 Refused failed Property roleScopeTagIds is invalid]", "[7 Later not_attempted]"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %s", want)
		}
	}
	if strings.Contains(text, "Leeds kiosks") {
		t.Error("summary lists a created row as a problem")
	}
}

// sheetXML returns one part of the workbook's zip package.
func sheetXML(t *testing.T, path, part string) string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name == part {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("no %s in %s", part, path)
	return ""
}

func TestWorkbookManyRows(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large workbook")
	}
	const n = 20000
	rs := make([]results.Result, n)
	for i := range rs {
		rs[i] = results.Result{Row: i + 2, DisplayName: fmt.Sprintf("Profile %d", i), Status: results.Created,
			TokenExpiration: later, QRCodeContent: testPayload(i % 50), Extras: []string{"Leeds"}}
	}
	path := filepath.Join(t.TempDir(), "results.xlsx")
	if err := WriteWorkbook(path, results.Run{ExtraHeaders: []string{"Site"}}, rs); err != nil {
		t.Fatal(err)
	}
	_, got, err := ReadWorkbook(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || got[n-1].DisplayName != rs[n-1].DisplayName || !got[n-1].TokenExpiration.Equal(later) {
		t.Fatalf("read %d rows back, last %+v", len(got), got[len(got)-1])
	}
}

func TestReadWorkbookErrors(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.xlsx")
	f := excelize.NewFile()
	if err := f.SetSheetRow("Sheet1", "A1", &[]string{"name", "value"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(other); err != nil {
		t.Fatal(err)
	}
	noStatus := filepath.Join(dir, "nostatus.xlsx")
	g := excelize.NewFile()
	if err := g.SetSheetName("Sheet1", ResultsSheet); err != nil {
		t.Fatal(err)
	}
	if err := g.SetSheetRow(ResultsSheet, "A1", &[]string{"row", "displayName"}); err != nil {
		t.Fatal(err)
	}
	if err := g.SaveAs(noStatus); err != nil {
		t.Fatal(err)
	}
	badDate := filepath.Join(dir, "baddate.xlsx")
	h := excelize.NewFile()
	if err := h.SetSheetName("Sheet1", ResultsSheet); err != nil {
		t.Fatal(err)
	}
	_ = h.SetSheetRow(ResultsSheet, "A1", &[]string{"row", "displayName", "status", "tokenExpirationDateTime"})
	_ = h.SetSheetRow(ResultsSheet, "A2", &[]string{"2", "x", "created", "31.12.2026"})
	if err := h.SaveAs(badDate); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.xlsx"), "nope.xlsx"},
		{"no results sheet", other, "no Results sheet"},
		{"no status column", noStatus, `no "status" column`},
		{"bad date", badDate, "is not a date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadWorkbook(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	run, rs := sampleRun(), sampleResults()
	if err := WriteCSV(path, run, rs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(string(data), "\ufeff")
	if !ok {
		t.Errorf("results.csv does not start with a UTF-8 byte order mark: % x", data[:min(len(data), 8)])
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := append(append([]string(nil), Columns...), run.ExtraHeaders...)
	if !reflect.DeepEqual(recs[0], wantHeader) {
		t.Errorf("header %v\nwant %v", recs[0], wantHeader)
	}
	if len(recs) != len(rs)+1 {
		t.Fatalf("%d lines, want %d", len(recs), len(rs)+1)
	}
	idx := func(name string) int {
		for i, h := range wantHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	for i, r := range rs {
		rec := recs[i+1]
		checks := map[string]string{
			"row": fmt.Sprint(r.Row), "displayName": r.DisplayName, "status": string(r.Status),
			"errorMessage": r.ErrorMessage, "errorRaw": r.ErrorRaw, "qrCodeContent": r.QRCodeContent,
		}
		if !r.TokenExpiration.IsZero() {
			checks["tokenExpirationDateTime"] = r.TokenExpiration.Format(time.RFC3339)
		}
		for col, want := range checks {
			if got := rec[idx(col)]; got != want {
				t.Errorf("line %d, %s = %q, want %q", i+2, col, got, want)
			}
		}
		for j := range run.ExtraHeaders {
			want := ""
			if j < len(r.Extras) {
				want = r.Extras[j]
			}
			want, _ = defuse(want) // "=1+1" is written as "'=1+1"
			if got := rec[len(Columns)+j]; got != want {
				t.Errorf("line %d, extra %s = %q, want %q", i+2, run.ExtraHeaders[j], got, want)
			}
		}
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// TestReadWorkbookRefusesABomb checks that a results workbook is opened
// with the same unzip limit as an input workbook: a small file whose sheet
// claims to unpack to 2 GiB is refused at once.
func TestReadWorkbookRefusesABomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	body := []byte("<worksheet/>")
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "xl/worksheets/sheet1.xml", Method: zip.Store,
		CRC32: crc32.ChecksumIEEE(body), CompressedSize64: uint64(len(body)), UncompressedSize64: 2 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "results.xlsx")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadWorkbook(path)
	if !errors.Is(err, input.ErrUnzipLimit) || !strings.Contains(err.Error(), "results.xlsx") {
		t.Fatalf("err %v, want the unzip limit, naming the file", err)
	}
}

// manyResults returns n created results with realistic payloads.
func manyResults(n int) []results.Result {
	rs := make([]results.Result, n)
	for i := range rs {
		rs[i] = results.Result{Row: i + 2, DisplayName: fmt.Sprintf("Profile %d", i), Status: results.Created,
			TokenExpiration: later, QRCodeContent: testPayload(i % 50), Extras: []string{"Leeds"}}
	}
	return rs
}

func TestWorkbookOpensOnResults(t *testing.T) {
	// Sizes on both sides of the stream writer's 16 MiB memory limit,
	// below which the sheet used to be parsed back to select the tab.
	for _, n := range []int{3, 10000} {
		path := filepath.Join(t.TempDir(), "results.xlsx")
		if err := WriteWorkbook(path, results.Run{ExtraHeaders: []string{"Site"}}, manyResults(n)); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.GetActiveSheetIndex(); got != 0 {
			t.Errorf("%d rows: active sheet %d, want 0 (%s)", n, got, ResultsSheet)
		}
		f.Close()
	}
}

// BenchmarkWriteWorkbook writes results workbooks of several sizes, of
// plain created rows and of full rows (ids, request ids, two extras, some
// failed and invalid rows); the time per row must not jump below 10,500
// rows (go test -run '^$' -bench WriteWorkbook -benchtime 3x ./output).
func BenchmarkWriteWorkbook(b *testing.B) {
	for _, kind := range []string{"plain", "full"} {
		for _, n := range []int{1000, 10000, 11000, 100000} {
			rs := manyResults(n)
			run := results.Run{ExtraHeaders: []string{"Site"}}
			if kind == "full" {
				for i := range rs {
					rs[i] = *generated(i)
				}
				run.ExtraHeaders = []string{"Site", "Technician"}
			}
			path := filepath.Join(b.TempDir(), "results.xlsx")
			b.Run(fmt.Sprintf("%s/rows=%d", kind, n), func(b *testing.B) {
				for b.Loop() {
					if err := WriteWorkbook(path, run, rs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/row")
			})
		}
	}
}

// Workbooks written at once, as the tenants of one run write theirs, share
// fastZip's pooled compressors: each must read back as its own.
func TestWorkbooksWrittenAtOnceReadBack(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	var g errgroup.Group
	for i := range n {
		g.Go(func() error {
			rs := manyResults(5 + 37*i)
			rs[0].DisplayName = fmt.Sprintf("Workbook %d", i)
			return WriteWorkbook(filepath.Join(dir, fmt.Sprintf("results-%d.xlsx", i)), results.Run{ExtraHeaders: []string{"Site"}}, rs)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		_, got, err := ReadWorkbook(filepath.Join(dir, fmt.Sprintf("results-%d.xlsx", i)))
		if err != nil {
			t.Fatalf("workbook %d: %v", i, err)
		}
		if len(got) != 5+37*i || got[0].DisplayName != fmt.Sprintf("Workbook %d", i) {
			t.Errorf("workbook %d: %d rows, first %q", i, len(got), got[0].DisplayName)
		}
	}
}

func TestPooledCompressorClosesOnce(t *testing.T) {
	var buf bytes.Buffer
	zw := fastZip(&buf)
	w, err := zw.Create("a.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, strings.Repeat("<row/>", 100))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	if string(b) != strings.Repeat("<row/>", 100) {
		t.Fatalf("read back %q", b)
	}
	p := &pooledFlate{}
	if err := p.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := p.Write([]byte("x")); err == nil {
		t.Error("a closed compressor took a write")
	}
}
