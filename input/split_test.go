package input

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// tenantsWorkbook is a workbook with a tenant column and cells of every
// kind a tenant's rows can hold: dates, numbers, booleans, a formula with
// its saved value and one without.
func tenantsWorkbook(t *testing.T) string {
	wb := excelize.NewFile()
	date, err := wb.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	wb.SetSheetRow("Sheet1", "A1", &[]any{"displayName", "tenant", "tokenExpirationDateTime", "description", "isTeamsDeviceProfile", "enrollmentMode", "Site"})
	rows := [][]any{
		{"Till 1", "contoso.onmicrosoft.com", time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC), 42, nil, nil, "Leeds"},
		{"Till 1", "fabrikam.onmicrosoft.com", time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), nil, nil, nil, 12.5},
		{"Till 1", "CONTOSO.onmicrosoft.com", nil, nil, nil, nil, nil},
		{"Panel", "fabrikam.onmicrosoft.com", nil, nil, true, "corporateOwnedAOSPUserlessDevice", nil},
		{"Panel 2", "fabrikam.onmicrosoft.com", nil, nil, true, "corporateOwnedAOSPUserlessDevice", nil},
		{"Orphan", "contoso", nil, nil, nil, nil, nil},
		{"Till 2", "contoso.onmicrosoft.com", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), nil, nil, nil, nil},
	}
	for i, r := range rows {
		ref, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := wb.SetSheetRow("Sheet1", ref, &r); err != nil {
			t.Fatal(err)
		}
		if r[2] != nil {
			cell, _ := excelize.CoordinatesToCellName(3, i+2)
			wb.SetCellStyle("Sheet1", cell, cell, date)
		}
	}
	// A formula with a saved value, and one without (as a program that
	// does not calculate writes it).
	wb.SetCellFormula("Sheet1", "G4", `CONCAT("Site ","York")`)
	wb.SetCellValue("Sheet1", "G4", "Site York")
	wb.SetCellFormula("Sheet1", "D6", `UPPER("kiosk")`)
	// A blank row between, which neither reading keeps.
	wb.SetSheetRow("Sheet1", "A10", &[]any{"Till 3", "contoso.onmicrosoft.com"})
	return saveWorkbook(t, wb, "fleet.xlsx")
}

// Each tenant's rows read from a Split are the rows a Reader of the file
// for that tenant gives, problems, notes, dates and line numbers included,
// in CSV and in XLSX; tenants not asked for are not kept; the spool is
// private and leaves nothing behind.
func TestSplitReadsAsTheFile(t *testing.T) {
	csvPath := filepath.Join(t.TempDir(), "fleet.csv")
	if err := os.WriteFile(csvPath, []byte(tenantsCSV+"Till 5,contoso.onmicrosoft.com,,,one too many\r\n\r\n\"Till 6\",fabrikam.onmicrosoft.com,,\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return testNow }
	for _, tt := range []struct {
		name, path string
		tenants    []string
		want       map[string]int // rows per tenant
	}{
		{"csv", csvPath, []string{"contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
			map[string]int{"contoso.onmicrosoft.com": 4, "fabrikam.onmicrosoft.com": 4, "72f988bf-86f1-41af-91ab-2d7cd011db47": 1}},
		{"xlsx", tenantsWorkbook(t), []string{"contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com"},
			map[string]int{"contoso.onmicrosoft.com": 4, "fabrikam.onmicrosoft.com": 3}},
		{"one tenant of two", csvPath, []string{"fabrikam.onmicrosoft.com"},
			map[string]int{"contoso.onmicrosoft.com": 0, "fabrikam.onmicrosoft.com": 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// What a run killed at once left: removed.
			if err := os.WriteFile(filepath.Join(dir, ".enrollbatch-rows-123"), []byte("stale"), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := SplitTenants(tt.path, Options{}, tt.tenants, dir)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := s.spool.Stat(); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("spool mode %v (%v), want 0600", st.Mode().Perm(), err)
			}
			for ten, n := range tt.want {
				if s.Rows(ten) != n {
					t.Errorf("%s: %d rows put aside, want %d", ten, s.Rows(ten), n)
				}
				if n == 0 {
					continue
				}
				_, want := readAll(t, tt.path, Options{Tenant: ten, Now: now})
				sr := s.Open(ten, Options{Now: now})
				got := nextAll(t, sr)
				sr.Close()
				if len(want) != n {
					t.Fatalf("%s: the file has %d rows of the tenant, the test expects %d", ten, len(want), n)
				}
				if !reflect.DeepEqual(got, want) {
					for i := range want {
						if i < len(got) && !reflect.DeepEqual(got[i], want[i]) {
							t.Errorf("%s row %d:\n got %+v\nwant %+v", ten, i, got[i], want[i])
						}
					}
					t.Fatalf("%s: %d rows from the split, %d from the file", ten, len(got), len(want))
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left in the folder after Close: %v", left)
			}
			if _, err := s.Open(tt.tenants[0], Options{}).Next(); err == nil {
				t.Error("a reader of a closed split read a row")
			}
		})
	}
}

// A file without a tenant column cannot be split.
func TestSplitNeedsTheTenantColumn(t *testing.T) {
	p := filepath.Join(t.TempDir(), "one.csv")
	os.WriteFile(p, []byte("displayName\r\nTill 1\r\n"), 0o600)
	if _, err := SplitTenants(p, Options{}, []string{"contoso.onmicrosoft.com"}, t.TempDir()); err == nil {
		t.Fatal("split a file without a tenant column")
	}
}

// A damaged row in the spool is an error, never a row read wrong.
func TestSpoolRowRoundTrip(t *testing.T) {
	rr := rawRow{line: 7, cells: []cell{
		{text: "Till 1"},
		{text: "2027-05-31", typ: dateCell, num: 46538, date: time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC)},
		{text: "", unsaved: true},
		{text: "#REF!", typ: errorCell},
	}, problems: []Problem{{File: "fleet.csv", Row: 7, Column: "tenant", Message: "is empty", ForNew: true}}}
	b := appendRawRow(nil, rr)
	got, err := readRawRow(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rr) {
		t.Fatalf("read back %+v\nwant %+v", got, rr)
	}
	for n := range len(b) {
		if _, err := readRawRow(b[:n]); err == nil {
			t.Fatalf("a row cut to %d of %d bytes read without error", n, len(b))
		}
	}
}
