package input

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The tests in this file check that a file is never read shorter than it
// is, nor with a name decoded wrongly: a row that silently goes missing
// looks, to run --prune, like a profile to delete.

// TestQuotingKeepsEveryRecord reads a file with every kind of quoting
// Excel writes, and the bare inch marks scripts leave, and checks that it
// yields one row per record, counted without a CSV reader: each record's
// first line starts with its name.
func TestQuotingKeepsEveryRecord(t *testing.T) {
	const path = "testdata/quoting.csv"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for _, line := range strings.Split(string(bytes.TrimPrefix(data, utf8BOM)), "\r\n") {
		if strings.HasPrefix(line, "Kasse ") || strings.HasPrefix(line, `"Kasse `) {
			records++
		}
	}
	f, err := Read(path, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != records {
		t.Fatalf("read %d rows from %d records", len(f.Rows), records)
	}
	row := func(line int, name, desc, site string) wantRow {
		body := map[string]any{"displayName": name}
		if desc != "" {
			body["description"] = desc
		}
		return wantRow{line: line, name: name, body: body, extras: []string{site}}
	}
	checkRows(t, f, []wantRow{
		row(2, "Kasse 01", "Zwei Zeilen:\nEingang und Café", "Nord"),
		row(4, "Kasse 02", `27" Monitor, Halter`, "Nord"),
		row(5, "Kasse 03", `27" monitor`, "Süd"),
		row(6, "Kasse 04", `"zitiert"`, "Süd"),
		row(7, "Kasse 05", "", "Ost"),
		row(9, `Kasse 06 "Mitte"`, "a", "West"),
		row(10, "Kasse 07", "Drei\nZeilen\n\"hier\"", "West"),
		row(13, "Kasse 08", `5' 11" Regal`, "West"),
		row(14, "Kasse 09", "Komma, Semikolon; Tab", "Nord"),
		row(15, "Kasse 10", `endet mit "`, "Nord"),
		row(16, "Kasse 11", "", "Nord"),
	})
}

// TestBareQuoteIsText checks the choice for a quote inside a field that
// does not start with one: it is read as the character it is, as Excel
// reads it (27" monitor), with every delimiter; and spaces after a closing
// quote are allowed.
func TestBareQuoteIsText(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string // displayName, description of the one row
	}{
		{"comma", "displayName,description\nKasse 3,27\" monitor\n", []string{"Kasse 3", `27" monitor`}},
		{"field start", "displayName,description\nKasse 3,27\"\n", []string{"Kasse 3", `27"`}},
		{"in the name", "displayName,description\n27\" Kiosk \"Nord\",x\n", []string{`27" Kiosk "Nord"`, "x"}},
		{"semicolon", "displayName;description\r\nKasse 3;5' 11\" Regal\r\n", []string{"Kasse 3", `5' 11" Regal`}},
		{"tab", "displayName\tdescription\nKasse 3\t27\" monitor\n", []string{"Kasse 3", `27" monitor`}},
		{"space after closing quote", "displayName,description\n\"Kasse 3\"  ,\"b\" \n", []string{"Kasse 3", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readString(t, tt.content)
			if len(f.Rows) != 1 {
				t.Fatalf("%d rows, want 1", len(f.Rows))
			}
			r := f.Rows[0]
			if got := []string{r.DisplayName, r.Description}; !reflect.DeepEqual(got, tt.want) || !r.Valid() {
				t.Errorf("got %q %v, want %q", got, r.Problems, tt.want)
			}
		})
	}
}

// TestUnreadableRecordStopsTheReader checks that a record whose quotes
// leave its end in doubt is an error, from Read and from Next, that names
// the file and the line the record starts in and says what to do; the
// rows before it come first, and no row after it.
func TestUnreadableRecordStopsTheReader(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		before     []string // the names Next gives before the error
		want       string   // the error after "read PATH: "
	}{
		{
			name: "quote never closed", path: "testdata/refused/unclosed-quote.csv", before: []string{"Kasse 1"},
			want: `line 3: a quote opened in line 3 at column 9, in field 2 (description), is never closed, so every line after it would be read into that one value: close it, or double it as "" inside a quoted field`,
		},
		{
			name: "quote closed by a later cell's", path: "testdata/refused/late-closed-quote.csv", before: []string{"Kasse 1"},
			want: `line 3: a quote opened in line 3 at column 9, in field 2 (description), is closed only in line 5 at column 9, by a quote followed by more text instead of a comma or the line end, so the lines between would be read into that one value: close the quote in line 3, or double it as "" inside a quoted field`,
		},
		{
			name: "text after the closing quote", path: write("after.csv", "displayName;description\r\nA;\"open \"quote\" here\"\r\nB;ok\r\n"),
			want: `line 2: field 2 (description) starts with a quote, and the quote that closes it at column 9 is followed by more text instead of a semicolon or the line end: inside a quoted field write a quote as "", or remove the quotes around the field`,
		},
		{
			name: "after a sep line and blank lines", path: write("sep.csv", "sep=,\ndisplayName,description\nA,a\n\n\nB,\"b\nC,c\n"), before: []string{"A"},
			want: `line 6: a quote opened in line 6 at column 3, in field 2 (description), is never closed, so every line after it would be read into that one value: close it, or double it as "" inside a quoted field`,
		},
		{
			name: "in the last line", path: write("last.csv", "displayName,description\nA,a\nB,\"b"), before: []string{"A"},
			want: `line 3: a quote opened in line 3 at column 3, in field 2 (description), is never closed, so every line after it would be read into that one value: close it, or double it as "" inside a quoted field`,
		},
		{
			name: "in the header row", path: write("header.csv", "displayName,\"notes\nA,a\n"),
			want: `header row: line 1: a quote opened in line 1 at column 13, in field 2, is never closed, so every line after it would be read into that one value: close it, or double it as "" inside a quoted field`,
		},
		{
			name: "Windows-1252", path: write("ansi.csv", "displayName;description\r\nM\xfcller;\"27 Zoll\r\nB;b\r\n"),
			want: `line 2: a quote opened in line 2 at column 8, in field 2 (description), is never closed, so every line after it would be read into that one value: close it, or double it as "" inside a quoted field`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := "read " + tt.path + ": " + tt.want
			if _, err := Read(tt.path, Options{}); err == nil || err.Error() != want {
				t.Fatalf("Read: %v\nwant %s", err, want)
			}
			r, err := Open(tt.path, Options{})
			if err != nil {
				if strings.HasPrefix(tt.want, "header row") && err.Error() == want {
					return
				}
				t.Fatal(err)
			}
			defer r.Close()
			var names []string
			for {
				row, err := r.Next()
				if err == nil {
					names = append(names, row.DisplayName)
					continue
				}
				if errors.Is(err, io.EOF) || err.Error() != want {
					t.Fatalf("Next after %q: %v\nwant %s", names, err, want)
				}
				break
			}
			if !reflect.DeepEqual(names, tt.before) {
				t.Errorf("rows before the error %q, want %q", names, tt.before)
			}
			if _, err := r.Next(); err == nil || err.Error() != want {
				t.Errorf("Next again: %v", err)
			}
		})
	}
}

// TestMixedEncodingIsRefused checks that a UTF-8 file with a byte that is
// not UTF-8 is refused, naming the line, column and byte, instead of
// being read whole as Windows-1252 ("Café" as "CafÃ©"), whichever comes
// first and however far apart they are; a file with no UTF-8 character
// is still read as Windows-1252.
func TestMixedEncodingIsRefused(t *testing.T) {
	const what = `byte 0x80 is not UTF-8, but the file is UTF-8 (line %d has a character written in UTF-8), so it cannot be read safely in any one encoding; it may have been pieced together from files saved in different encodings. Correct the character there in a text editor and save the file as UTF-8, or save the list again from its workbook: in Excel, use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)" and run again`
	var far strings.Builder
	far.WriteString("displayName,description\nCafé Nord,x\n")
	for i := range 20000 {
		far.WriteString("Kasse " + itoa(i) + ",Lager\n")
	}
	far.WriteString("Kasse X,5 \x80\n")
	tests := []struct {
		name, path string
		want       string
	}{
		{"pasted euro sign", "testdata/refused/mixed-encoding.csv", "line 3, column 17 (byte 17 of the line): " + strings.Replace(what, "%d", "2", 1)},
		{"stray byte first", writeTemp(t, "first.csv", []byte("displayName,description\nKasse 1,5 \x80\nCafé,x\n")), "line 2, column 11 (byte 11 of the line): " + strings.Replace(what, "%d", "3", 1)},
		{"far apart", writeTemp(t, "far.csv", []byte(far.String())), "line 20003, column 11 (byte 11 of the line): " + strings.Replace(what, "%d", "2", 1)},
		{"column counts characters", writeTemp(t, "col.csv", []byte("displayName;description\nKüche Süd;5 \x80\n")), "line 2, column 13 (byte 15 of the line): " + strings.Replace(what, "%d", "2", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Read(tt.path, Options{})
			if want := "read " + tt.path + ": " + tt.want; err == nil || err.Error() != want {
				if err == nil {
					for _, r := range f.Rows {
						t.Logf("row %d %q", r.Line, r.DisplayName)
					}
				}
				t.Fatalf("error %v\nwant %s", err, want)
			}
		})
	}
	// Windows-1252 alone still reads, with its warning.
	f, err := Read("testdata/excel-de-ansi.csv", Options{})
	if err != nil || f.Rows[0].DisplayName != "Lager Süd – Scanner" || len(f.Warnings) != 1 {
		t.Fatalf("Windows-1252 file: %v %+v", err, f)
	}
}

// TestSeveralVisibleSheetsAreRefused checks that a workbook with more than
// one visible sheet is read only with a sheet named, and that the error
// lists the visible sheets (not the hidden one) and says what to pass.
func TestSeveralVisibleSheetsAreRefused(t *testing.T) {
	const path = "testdata/refused/two-sheets.xlsx"
	want := "read " + path + `: the workbook has 2 visible sheets, "Nord" and "Sued", and only one can be read; pass --sheet NAME to say which (e.g. --sheet Nord)`
	if _, err := Read(path, Options{}); err == nil || err.Error() != want {
		t.Fatalf("Read: %v\nwant %s", err, want)
	}
	if _, err := Open(path, Options{}); err == nil || err.Error() != want {
		t.Fatalf("Open: %v\nwant %s", err, want)
	}
	for sheet, names := range map[string][]string{
		"Nord": {"Kasse Nord 1", "Kasse Nord 2"},
		"sued": {"Kasse Süd 1"},
		"Alt":  {"Kasse Alt"},
	} {
		f, err := Read(path, Options{Sheet: sheet})
		if err != nil {
			t.Fatalf("--sheet %s: %v", sheet, err)
		}
		var got []string
		for _, r := range f.Rows {
			got = append(got, r.DisplayName)
		}
		if !reflect.DeepEqual(got, names) || len(f.Warnings) != 0 {
			t.Errorf("--sheet %s: rows %q warnings %q, want %q", sheet, got, f.Warnings, names)
		}
	}
}

// TestHiddenSheetsWarning checks the warning for hidden sheets left out of
// a workbook with one visible sheet.
func TestHiddenSheetsWarning(t *testing.T) {
	f, err := Read("testdata/hidden-sheets.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`skipped 2 hidden sheets: "Alt 2025", "Vorlage" (name one with --sheet to read it)`}
	if f.Sheet != "Liste" || len(f.Rows) != 1 || !reflect.DeepEqual(f.Warnings, want) {
		t.Errorf("sheet %q, %d rows, warnings %q; want Liste, 1 row, %q", f.Sheet, len(f.Rows), f.Warnings, want)
	}
}

// checkNameKnown checks the promise Row.NameUnknown makes: a row has an
// empty DisplayName exactly when its name is unknown, and then a problem
// on displayName.
func checkNameKnown(t *testing.T, rows []Row) {
	t.Helper()
	for _, r := range rows {
		onName := false
		for _, p := range r.Problems {
			onName = onName || p.Column == "displayName"
		}
		if r.NameUnknown() != (r.DisplayName == "") || r.NameUnknown() && !onName {
			t.Errorf("row %d: NameUnknown %v, DisplayName %q, problems %v", r.Line, r.NameUnknown(), r.DisplayName, r.Problems)
		}
	}
}

// TestUnreadableNames reads names that cannot be read, from a workbook a
// script wrote without calculating it and from CSV, and checks that each
// such row says why on displayName and is NameUnknown.
func TestUnreadableNames(t *testing.T) {
	const path = "testdata/script-formulas.xlsx"
	f, err := Read(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	formula := path + ": row %d, displayName: the cell holds a formula with no saved value: open the file in Excel and save it, so that the values are computed"
	at := func(format string, line int) string { return strings.Replace(format, "%d", itoa(line), 1) }
	want := []struct {
		line     int
		name     string
		problems []string
	}{
		{2, "", []string{at(formula, 2)}},
		{3, "", []string{at(formula, 3)}},
		{4, "", []string{at(formula, 4)}},
		{5, "", []string{at(formula, 5)}},
		{6, "", []string{path + `: row 6, displayName: the cell holds the spreadsheet error "#NAME?"; fix the formula or type the value`}},
		{7, "Kasse Lager", []string{path + ": row 7, description: the cell holds a formula with no saved value: open the file in Excel and save it, so that the values are computed"}},
		{8, "", []string{
			path + ": row 8: has a value in column E, which has no header; add a header or clear the cell",
			path + ": row 8, displayName: is empty; every profile needs a name",
		}},
		{9, "Kasse Büro", nil},
	}
	if len(f.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(f.Rows), len(want))
	}
	for i, w := range want {
		r := f.Rows[i]
		var got []string
		for _, p := range r.Problems {
			got = append(got, p.Error())
		}
		if r.Line != w.line || r.DisplayName != w.name || !reflect.DeepEqual(got, w.problems) {
			t.Errorf("row %d %q: problems\n%q\nwant row %d %q\n%q", r.Line, r.DisplayName, got, w.line, w.name, w.problems)
		}
		if r.NameUnknown() != (w.name == "") {
			t.Errorf("row %d: NameUnknown %v", r.Line, r.NameUnknown())
		}
	}
	checkNameKnown(t, f.Rows)

	csvFile := readString(t, "displayName,description\n"+
		"   ,only spaces\n"+
		",empty\n"+
		"\"Two\nlines\",x\n"+
		"Kasse\x07,bell\n"+
		"Kasse 1,ok\n")
	if len(csvFile.Rows) != 5 {
		t.Fatalf("%d CSV rows, want 5", len(csvFile.Rows))
	}
	for i, r := range csvFile.Rows {
		if r.NameUnknown() != (i < 4) {
			t.Errorf("CSV row %d %q: NameUnknown %v", r.Line, r.DisplayName, r.NameUnknown())
		}
	}
	checkNameKnown(t, csvFile.Rows)
}

// TestEveryFileKeepsTheNamePromise checks Row.NameUnknown's promise on
// every readable file the tests have.
func TestEveryFileKeepsTheNamePromise(t *testing.T) {
	for _, tc := range streamCases(t) {
		f, err := Read(tc.path, Options{Sheet: tc.sheet, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		checkNameKnown(t, f.Rows)
	}
}

// TestInvisibleCharactersInNames reads names with invisible format
// characters, written as export writes them, back exactly, each with a
// note naming the character and its position.
func TestInvisibleCharactersInNames(t *testing.T) {
	const kept = "; the name is kept exactly as given, as the tenant holds it, but it is not the same name as one that looks the same without it"
	notes := [][]string{
		{"displayName: holds the invisible character U+200B at position 6" + kept},
		{"displayName: holds the invisible character U+200E at position 1" + kept + ", and a direction control can make the printed label read differently from the name"},
		nil,
	}
	for _, path := range []string{"testdata/invisible-names.csv", "testdata/invisible-names.xlsx"} {
		t.Run(filepath.Ext(path), func(t *testing.T) {
			f, err := Read(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Rows) != len(invisibleNames) {
				t.Fatalf("%d rows, want %d", len(f.Rows), len(invisibleNames))
			}
			for i, r := range f.Rows {
				if r.DisplayName != invisibleNames[i] || r.Body["displayName"] != invisibleNames[i] || !r.Valid() {
					t.Errorf("row %d: %q %v, want %q exactly and no problem", r.Line, r.DisplayName, r.Problems, invisibleNames[i])
				}
				if !reflect.DeepEqual(r.Notes, notes[i]) {
					t.Errorf("row %d: notes\n%q\nwant\n%q", r.Line, r.Notes, notes[i])
				}
			}
		})
	}
}
