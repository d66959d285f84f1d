package cli

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/results"
)

// TestGermanExcelCSVEndToEnd runs the job on a file saved by a German
// Excel as "CSV (Trennzeichen-getrennt)" (Windows-1252, semicolons, WAHR and
// FALSCH, a formula-like name) and reads the bytes of results.csv: UTF-8
// with a byte order mark, semicolons, umlauts intact, formulas defused,
// while the profiles and results.xlsx keep the names as given.
func TestGermanExcelCSVEndToEnd(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, nil, "run", "--simulate", "--input", "input/testdata/excel-de-ansi.csv", "--out", out, "--rate", "0", "--results-csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: input/testdata/excel-de-ansi.csv: the file is not UTF-8, so it was read as Windows-1252") {
		t.Errorf("stderr does not name the encoding:\n%s", stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const header = "\xEF\xBB\xBFrow;displayName;status;id;httpStatus;attempts;errorCode;errorMessage;requestId;tokenExpirationDateTime;qrCodeContent;description;errorRaw;clientRequestId;changes;notes;enrollmentMode;Site;Technician\n"
	if !bytes.HasPrefix(data, []byte(header)) {
		t.Fatalf("results.csv starts\n%q\nwant\n%q", data[:min(len(data), len(header)+20)], header)
	}
	for _, want := range []string{
		"2;Lager Süd – Scanner;created;",
		";Größe M, Preis 5 €;",
		";München Süd;Jürgen Weiß\n",
		`"Empfang; Straße 1"`,
		";Köln;Zoë Dupré\n",
		`4;"'=HYPERLINK(""http://example.com/x"";""Klick"")";created;`,
		";'-Formel im Namen;",
		";Düsseldorf;'@Ärger\n",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("results.csv lacks %q:\n%s", want, data)
		}
	}
	r := csv.NewReader(bytes.NewReader(data[3:]))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d lines, want a header and 3 rows", len(recs))
	}
	if notes := recs[3][15]; !strings.Contains(notes, "a ' was put before displayName, description, Technician") {
		t.Errorf("row 4's notes %q do not say what was changed", notes)
	}

	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	names := map[string]results.Status{}
	for _, r := range rs {
		names[r.DisplayName] = r.Status
	}
	for _, n := range []string{"Lager Süd – Scanner", "Büro Köln Kiosk", `=HYPERLINK("http://example.com/x";"Klick")`} {
		if names[n] != results.Created {
			t.Errorf("results.xlsx: %q is %q, want created (all: %v)", n, names[n], names)
		}
	}
}
