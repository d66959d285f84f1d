package output

import (
	"archive/zip"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// sheetData returns the rows of a workbook's first sheet as written: the
// text between <sheetData> and </sheetData>.
func sheetData(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != resultsPart {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := bytes.Cut(data, []byte("<sheetData>"))
		rows, _, ok := bytes.Cut(rest, []byte("</sheetData>"))
		if !ok {
			t.Fatalf("%s has no sheet data", f.Name)
		}
		return rows
	}
	t.Fatalf("no %s in %s", resultsPart, path)
	return nil
}

// TestSheetRowsWriteWhatExcelizeWrites writes the same cells with
// excelize's stream writer and with sheetRows and compares the XML.
func TestSheetRowsWriteWhatExcelizeWrites(t *testing.T) {
	texts := []string{
		"", "plain", " leading space", "trailing space ", "\ttab first", "line\nbreak\n", "crlf\r\nline",
		`quotes " and ' & <tags>`, "_x0041_ escape", "_x005F_x0041_", "_x005F_", "_x005F_zz", "_xD800_ surrogate",
		"_x00zz_ not hex", "invalid \xff byte", "control \x01\x1f", "emoji 😀 and ünïcødé", "\uFFFD literal", "\uFFFE\uFFFF",
		strings.Repeat("😀", 20000), strings.Repeat("a", excelize.TotalCellChars+5), strings.Repeat("é", 20000),
	}
	dates := []time.Time{
		later, time.Date(1900, 2, 28, 6, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 3, 31, 8, 15, 30, 0, time.FixedZone("", -5*3600)),
	}
	nums := []int{0, -5, 7, 1048576}
	const style = 3
	dir := t.TempDir()

	// excelize's stream writer, one row per value.
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	row := 0
	add := func(vals ...interface{}) {
		row++
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := sw.SetRow(cell, vals); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range texts {
		add(s, nil, excelize.Cell{StyleID: style, Value: s})
	}
	for _, d := range dates {
		add(excelize.Cell{StyleID: style, Value: d}, nil, nil)
	}
	for _, n := range nums {
		add(nil, n, nil)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "excelize.xlsx")
	if err := f.SaveAs(want); err != nil {
		t.Fatal(err)
	}

	// sheetRows, the same cells.
	x, err := newSheetRows(3)
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	n := 0
	next := func() {
		n++
		if err := x.start(n); err != nil {
			t.Fatal(err)
		}
	}
	end := func() {
		if err := x.end(); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range texts {
		next()
		x.text(0, 0, s)
		x.text(2, style, s)
		end()
	}
	for _, d := range dates {
		next()
		x.date(0, style, d)
		end()
	}
	for _, v := range nums {
		next()
		x.num(1, v)
		end()
	}
	if err := x.finish(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := x.copyTo(&got); err != nil {
		t.Fatal(err)
	}

	wantRows := bytes.SplitAfter(sheetData(t, want), []byte("</row>"))
	gotRows := bytes.SplitAfter(got.Bytes(), []byte("</row>"))
	if len(gotRows) != len(wantRows) {
		t.Fatalf("%d rows, excelize wrote %d", len(gotRows), len(wantRows))
	}
	for i := range wantRows {
		if !bytes.Equal(gotRows[i], wantRows[i]) {
			g, w := string(gotRows[i]), string(wantRows[i])
			t.Errorf("row %d:\n got %.300q\nwant %.300q", i+1, g, w)
		}
	}
}

func TestSheetRowsRefusesTooManyRows(t *testing.T) {
	x, err := newSheetRows(1)
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	for _, tc := range []struct {
		row int
		ok  bool
	}{{1, true}, {excelize.TotalRows, true}, {excelize.TotalRows + 1, false}} {
		err := x.start(tc.row)
		if (err == nil) != tc.ok {
			t.Errorf("row %d: err %v, want ok=%v", tc.row, err, tc.ok)
		}
	}
}

// TestSpliceZipNeedsThePart checks that a workbook whose sheet part is not
// where the rows are expected fails instead of losing them.
func TestSpliceZipNeedsThePart(t *testing.T) {
	x, err := newSheetRows(1)
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	var buf bytes.Buffer
	z := &spliceZip{Writer: fastZip(&buf), part: "xl/worksheets/sheet9.xml", rows: x}
	if w, err := z.Create(resultsPart); err != nil {
		t.Fatal(err)
	} else if _, err := io.WriteString(w, "<worksheet><sheetData></sheetData></worksheet>"); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err == nil || !strings.Contains(err.Error(), "sheet9.xml") {
		t.Errorf("err %v, want one naming the missing part", err)
	}
}
