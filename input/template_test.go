package input

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/xuri/excelize/v2"
)

func TestWriteTemplate(t *testing.T) {
	props := TemplateProperties()
	var wantHeaders []string
	for _, p := range props {
		if !p.Input {
			t.Errorf("template offers %s", p.Name)
		}
		wantHeaders = append(wantHeaders, p.Name)
	}
	wantHeaders = append(wantHeaders, "Site", "Technician")

	for _, name := range []string{"profiles.xlsx", "profiles.csv"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := WriteTemplate(path); err != nil {
				t.Fatal(err)
			}
			f, err := Read(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Headers, wantHeaders) {
				t.Errorf("headers %q, want %q", f.Headers, wantHeaders)
			}
			if len(f.Warnings) != 0 {
				t.Errorf("warnings: %q", f.Warnings)
			}
			if len(f.Rows) != 1 || !f.Rows[0].Valid() {
				t.Fatalf("want one valid row, got %+v", f.Rows)
			}
			r := f.Rows[0]
			for _, p := range props {
				if p.Example == "" {
					if _, ok := r.Body[p.Name]; ok && p.Name != "configureWifi" { // sent false: no Wi-Fi values
						t.Errorf("%s has no example but is in the body", p.Name)
					}
					continue
				}
				if _, ok := r.Body[p.Name]; !ok {
					t.Errorf("example %s=%q missing from the body", p.Name, p.Example)
				}
			}
			if r.TokenExpiration.IsZero() || !reflect.DeepEqual(r.Extras, []string{"Leeds DC", "J. Patel"}) {
				t.Errorf("expiry %v extras %q", r.TokenExpiration, r.Extras)
			}
			if name == "profiles.xlsx" {
				checkXLSXTemplate(t, path, props)
			}
		})
	}
	if err := WriteTemplate(filepath.Join(t.TempDir(), "profiles.ods")); err == nil || !strings.Contains(err.Error(), "use .csv or .xlsx") {
		t.Errorf("unknown extension: %v", err)
	}
}

// checkXLSXTemplate checks the notes, drop-downs and date formats.
func checkXLSXTemplate(t *testing.T, path string, props []profile.Property) {
	wb, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if got := wb.GetSheetList(); !reflect.DeepEqual(got, []string{TemplateSheet}) {
		t.Errorf("sheets %q", got)
	}
	comments, err := wb.GetComments(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	for _, c := range comments {
		text := c.Text
		for _, r := range c.Paragraph {
			text += r.Text
		}
		notes[c.Cell] = text
	}
	for i, p := range props {
		if note := notes[columnLetters(i)+"1"]; !strings.Contains(note, p.Help) {
			t.Errorf("note on %s1 (%s) = %q, want the help text", columnLetters(i), p.Name, note)
		}
	}
	for i := len(props); i < len(props)+2; i++ {
		if !strings.Contains(notes[columnLetters(i)+"1"], "not sent") {
			t.Errorf("extra column %s has no note", columnLetters(i))
		}
	}

	dvs, err := wb.GetDataValidations(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{} // column -> list formula
	for _, dv := range dvs {
		col := strings.TrimRight(strings.SplitN(dv.Sqref, ":", 2)[0], "0123456789")
		lists[col] = dv.Formula1
	}
	for i, p := range props {
		col := columnLetters(i)
		var want []string
		switch p.Kind {
		case profile.Enum:
			want = p.Values
		case profile.Bool:
			want = []string{"true", "false"}
		default:
			if f, ok := lists[col]; ok {
				t.Errorf("%s (%s) has a drop-down %s", col, p.Name, f)
			}
			continue
		}
		f := lists[col]
		for _, v := range want {
			if !strings.Contains(f, v) {
				t.Errorf("drop-down on %s (%s) = %q lacks %q", col, p.Name, f, v)
			}
		}
	}

	pkg, err := openPackage(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pkg.close()
	for i, p := range props {
		if p.Kind != profile.DateTime {
			continue
		}
		ref := columnLetters(i) + "2"
		styleOf := func(ref string) int {
			idx, err := wb.GetCellStyle(TemplateSheet, ref)
			if err != nil {
				t.Fatal(err)
			}
			return idx
		}
		if !pkg.isDate(styleOf(ref)) {
			t.Errorf("%s (%s) is not formatted as a date", ref, p.Name)
		}
		if !pkg.isDate(styleOf(columnLetters(i) + "50")) {
			t.Errorf("column %s (%s) is not formatted as a date below the example", columnLetters(i), p.Name)
		}
	}
}

func TestCSVTemplateHasBOM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	if err := WriteTemplate(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "\ufeffdisplayName,description,") {
		t.Errorf("template starts %q", string(data[:min(len(data), 40)]))
	}
}

// TestSamples reads the committed samples: the README's first command
// runs on them, so they must have no problems.
func TestSamples(t *testing.T) {
	var names [2][]string
	for i, path := range []string{"../samples/profiles.csv", "../samples/profiles.xlsx"} {
		f, err := Read(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p := f.Problems(); len(p) != 0 || len(f.Warnings) != 0 {
			t.Errorf("%s: problems %v warnings %q", path, p, f.Warnings)
		}
		if n := len(f.Rows); n < 12 || n > 16 {
			t.Errorf("%s: %d rows, want 12 to 16", path, n)
		}
		if !reflect.DeepEqual(f.ExtraHeaders, []string{"Site", "Technician"}) {
			t.Errorf("%s: extra headers %q", path, f.ExtraHeaders)
		}
		sites := map[string]bool{}
		for _, r := range f.Rows {
			names[i] = append(names[i], r.DisplayName)
			sites[r.Extras[0]] = true
			if r.TokenExpiration.Year() != 2027 {
				t.Errorf("%s row %d: expiry %v", path, r.Line, r.TokenExpiration)
			}
		}
		for _, s := range []string{"Kraków", "Brno", "İzmir"} {
			if !sites[s] {
				t.Errorf("%s: no site %s", path, s)
			}
		}
	}
	if !reflect.DeepEqual(names[0], names[1]) {
		t.Errorf("the CSV and XLSX samples differ:\n%q\n%q", names[0], names[1])
	}

	// The XLSX sample's expiry dates are real date cells.
	wb, err := excelize.OpenFile("../samples/profiles.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	pkg, err := openPackage("../samples/profiles.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer pkg.close()
	sheet := wb.GetSheetList()[0]
	typ, err := wb.GetCellType(sheet, "C2")
	style, serr := wb.GetCellStyle(sheet, "C2")
	if err != nil || serr != nil || (typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset) || !pkg.isDate(style) {
		t.Errorf("C2 is not a date cell: type %v, err %v", typ, err)
	}
}
