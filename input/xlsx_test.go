package input

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// writeODS writes a minimal OpenDocument spreadsheet the way LibreOffice
// lays one out: an uncompressed mimetype member first.
func writeODS(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
	w, _ = zw.Create("content.xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestOtherSpreadsheetFormatsAreRefused(t *testing.T) {
	dir := t.TempDir()
	// The first bytes of every Excel 97-2003 file: the OLE2 signature.
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ods := filepath.Join(dir, "profiles.ods")
	writeODS(t, ods)
	renamedODS := filepath.Join(dir, "renamed-ods.xlsx")
	writeODS(t, renamedODS)
	tests := []struct {
		name, path, want string
	}{
		{".xls", write("profiles.xls", ole), "save it as .xlsx"},
		{".xls renamed to .xlsx", write("renamed-xls.xlsx", ole), "Excel 97-2003"},
		{".ods", ods, "save it as .xlsx"},
		{".ods renamed to .xlsx", renamedODS, "OpenDocument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.path, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Base(tt.path)) {
				t.Fatalf("err %v, want a refusal naming the file and saying %q", err, tt.want)
			}
		})
	}
}

// saveWorkbook saves wb to a file in a temporary folder.
func saveWorkbook(t *testing.T, wb *excelize.File, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := wb.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	wb.Close()
	return p
}

func TestHiddenFirstSheetIsSkipped(t *testing.T) {
	wb := excelize.NewFile()
	wb.SetSheetName("Sheet1", "Old list")
	wb.SetSheetRow("Old list", "A1", &[]any{"displayName"})
	wb.SetSheetRow("Old list", "A2", &[]any{"Retired scanners"})
	if _, err := wb.NewSheet("Profiles"); err != nil {
		t.Fatal(err)
	}
	wb.SetSheetRow("Profiles", "A1", &[]any{"displayName", "Site"})
	wb.SetSheetRow("Profiles", "A2", &[]any{"Leeds scanners", "Leeds"})
	wb.SetActiveSheet(1)
	if err := wb.SetSheetVisible("Old list", false); err != nil {
		t.Fatal(err)
	}
	p := saveWorkbook(t, wb, "hidden.xlsx")

	f, err := Read(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Sheet != "Profiles" || len(f.Rows) != 1 || f.Rows[0].DisplayName != "Leeds scanners" {
		t.Fatalf("read sheet %q rows %+v, want the first visible sheet Profiles", f.Sheet, f.Rows)
	}
	if want := []string{`skipped hidden sheet "Old list" (name it with --sheet to read it)`}; !reflect.DeepEqual(f.Warnings, want) {
		t.Errorf("warnings %q, want %q", f.Warnings, want)
	}
	// Named, the hidden sheet is read.
	f, err = Read(p, Options{Sheet: "Old list"})
	if err != nil || f.Rows[0].DisplayName != "Retired scanners" {
		t.Fatalf("--sheet of the hidden sheet: %v %+v", err, f)
	}
}

func TestFormulaWithoutSavedValue(t *testing.T) {
	// excelize writes formulas without calculating them, as scripts and
	// report generators do: the cells have <f> and no <v>.
	wb := excelize.NewFile()
	wb.SetSheetRow("Sheet1", "A1", &[]any{"displayName", "description", "Site"})
	wb.SetSheetRow("Sheet1", "A2", &[]any{nil, "Handheld", "Leeds"})
	wb.SetCellFormula("Sheet1", "A2", `CONCAT("Site ",C2)`)
	wb.SetSheetRow("Sheet1", "A3", &[]any{"York scanners", nil, nil})
	wb.SetCellFormula("Sheet1", "C3", `UPPER("york")`)
	wb.SetSheetRow("Sheet1", "A4", &[]any{"Hull scanners", "Saved", "Hull"})
	p := saveWorkbook(t, wb, "formulas.xlsx")

	f, err := Read(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(f.Rows))
	}
	want := []string{
		"row 2, displayName: " + unsavedFormula,
		"row 3, Site: " + unsavedFormula,
		"",
	}
	for i, w := range want {
		got := ""
		if ps := f.Rows[i].Problems; len(ps) > 0 {
			got = ps[0].Error()
		}
		if w == "" && got != "" || w != "" && !strings.HasSuffix(got, w) {
			t.Errorf("row %d: problem %q, want %q", f.Rows[i].Line, got, w)
		}
		for _, p := range f.Rows[i].Problems {
			if strings.Contains(p.Message, "is empty") {
				t.Errorf("row %d: %q; a formula cell is not empty", f.Rows[i].Line, p.Message)
			}
		}
	}
}

func TestWideWorkbookIsReadRowByRow(t *testing.T) {
	// 5,000 rows, each with a stray value in the last column (XFD): the
	// reader must report every row without building 16,384-cell rows for
	// the whole sheet at once.
	wb := excelize.NewFile()
	sw, err := wb.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"displayName", "tokenExpirationDateTime"})
	vals := make([]any, 16384)
	for i := 2; i <= 5001; i++ {
		vals[0], vals[1], vals[16383] = fmt.Sprintf("Site %d", i), "2027-01-31", "x"
		if err := sw.SetRow(fmt.Sprintf("A%d", i), vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := saveWorkbook(t, wb, "wide.xlsx")

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f, err := Read(p, Options{Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("read in %v; %d MiB allocated in all", time.Since(start), (after.TotalAlloc-before.TotalAlloc)>>20)
	if len(f.Rows) != 5000 {
		t.Fatalf("%d rows, want 5000", len(f.Rows))
	}
	for _, r := range f.Rows {
		if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Message, "column XFD, which has no header") {
			t.Fatalf("row %d: %v, want the stray value in XFD", r.Line, r.Problems)
		}
	}
}

func TestFormatNumberAsShown(t *testing.T) {
	tests := []struct {
		v    float64
		st   cellStyle
		want string
	}{
		{42, cellStyle{}, "42"},
		{0.1 + 0.2, cellStyle{}, "0.3"},
		{1234567.5, cellStyle{}, "1234567.5"},
		{42, cellStyle{format: "0000"}, "0042"},
		{123456, cellStyle{format: "0000"}, "123456"},
		{0.25, cellStyle{format: "0%"}, "25%"},
		{0.125, cellStyle{format: "0.0%"}, "12.5%"},
		{46387, cellStyle{date: true, format: "dd.mm.yyyy"}, "2026-12-31"},
		{46387.5, cellStyle{date: true}, "2026-12-31 12:00:00"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v, tt.st, false); got != tt.want {
			t.Errorf("formatNumber(%v, %+v) = %q, want %q", tt.v, tt.st, got, tt.want)
		}
	}
}
