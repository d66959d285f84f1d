package input

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fuzzRead writes data to a file with the extension and reads it; any
// outcome but a panic is fine, and a read file must be consistent and
// read the same row by row.
func fuzzRead(t *testing.T, dir, ext string, data []byte) {
	tmp, err := os.CreateTemp(dir, "in-*"+ext)
	if err != nil {
		t.Fatal(err)
	}
	path := tmp.Name()
	defer os.Remove(path)
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Now: func() time.Time { return testNow }}
	f, err := Read(path, opts)
	if err != nil {
		return
	}
	if ext == ".csv" {
		sameAsWholeText(t, path, data, f)
	}
	// A second pass, row by row, gives the same rows.
	r, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Read worked, Open failed: %v", err)
	}
	for i := 0; ; i++ {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i != len(f.Rows) {
				t.Fatalf("Next gave %d rows, Read %d", i, len(f.Rows))
			}
			break
		}
		if err != nil {
			t.Fatalf("Read worked, Next failed: %v", err)
		}
		if i >= len(f.Rows) || !reflect.DeepEqual(row, f.Rows[i]) {
			t.Fatalf("row %d differs from Read's", i)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Columns["displayName"]; !ok {
		t.Fatal("read a file without a displayName column")
	}
	last := 0
	for _, r := range f.Rows {
		if r.Line <= last {
			t.Fatalf("row lines out of order: %d after %d", r.Line, last)
		}
		last = r.Line
		if len(r.Extras) != len(f.ExtraHeaders) {
			t.Fatalf("row %d has %d extras for %d extra headers", r.Line, len(r.Extras), len(f.ExtraHeaders))
		}
		for _, p := range r.Problems {
			_ = p.Error()
		}
	}
}

func seedFiles(f *testing.F, pattern string) {
	paths, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzReadCSV(f *testing.F) {
	seedFiles(f, "testdata/*.csv")
	seedFiles(f, "../samples/*.csv")
	for _, s := range []string{
		"",
		"\ufeff",
		"\xff\xfe",
		"\xfe\xff\x00d",
		"sep=;",
		"sep=;\n",
		"displayName",
		"displayName\n\n\n",
		"\"displayName\nA",
		"displayName,\"unterminated\nA,B",
		"displayName;x\nA;\"b\"\"c\";d;e\n",
		"displayName\tenrollmentTokenUsageCount\nA\t99999999999999999999999\n",
		"displayName,deviceNameTemplate\nA,{{{{}}}}{{RAND:}}\n",
		"displayName,tokenExpirationDateTime\nA,0000-00-00\nB,9999-12-31T23:59:59+23:59\n",
		"displayName,roleScopeTagIds\nA,\"\r\n;\r\n\"\n",
		"display name,display_name\nA,B\n",
		"displayName\r\r\nA\r\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir() // one folder: a t.TempDir per input slows fuzzing to a crawl
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, dir, ".csv", data) })
}

func FuzzReadXLSX(f *testing.F) {
	seedFiles(f, "testdata/*.xlsx")
	seedFiles(f, "../samples/*.xlsx")
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("displayName\nA\n"))
	// A zip that looks like a workbook but holds broken XML.
	for _, parts := range []map[string]string{
		{"[Content_Types].xml": "<Types", "xl/workbook.xml": "<workbook><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
		{"xl/workbook.xml": "<workbook/>", "xl/worksheets/sheet1.xml": "<worksheet><sheetData><row r=\"0\"><c r=\"ZZZZZ0\" t=\"s\"><v>-1</v></c></row></sheetData></worksheet>"},
	} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, body := range parts {
			w, err := zw.Create(name)
			if err != nil {
				f.Fatal(err)
			}
			if _, err := w.Write([]byte(body)); err != nil {
				f.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, dir, ".xlsx", data) })
}
