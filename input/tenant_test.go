package input

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const tenantsCSV = "displayName,tenant,isTeamsDeviceProfile,enrollmentMode\r\n" +
	"Till 1,Contoso.onmicrosoft.com,,\r\n" +
	"Till 1,fabrikam.onmicrosoft.com,,\r\n" + // the same name in another tenant
	"Till 1,contoso.onmicrosoft.com,,\r\n" + // again in the first one
	"Panel,contoso.onmicrosoft.com,true,corporateOwnedAOSPUserlessDevice\r\n" +
	"Panel,fabrikam.onmicrosoft.com,true,corporateOwnedAOSPUserlessDevice\r\n" +
	"Panel 2,fabrikam.onmicrosoft.com,true,corporateOwnedAOSPUserlessDevice\r\n" +
	"Till 2,,,\r\n" +
	"Till 3,contoso,,\r\n" +
	"Till 4,72F988BF-86F1-41AF-91AB-2D7CD011DB47,,\r\n"

// A tenant column sends rows to tenants: names and the one Teams profile
// are counted per tenant, and a cell that names no tenant makes the row
// invalid, naming the column.
func TestTenantColumn(t *testing.T) {
	f := readString(t, tenantsCSV)
	if !f.HasTenants() {
		t.Fatal("HasTenants() = false for a file with a tenant column")
	}
	if len(f.ExtraHeaders) != 0 {
		t.Errorf("the tenant column became an extra column: %q", f.ExtraHeaders)
	}
	type want struct {
		line    int
		tenant  string
		problem string
	}
	for i, w := range []want{
		{2, "contoso.onmicrosoft.com", ""},
		{3, "fabrikam.onmicrosoft.com", ""},
		{4, "contoso.onmicrosoft.com", `displayName: "Till 1" is already used in row 2; names must be unique in a tenant`},
		{5, "contoso.onmicrosoft.com", ""},
		{6, "fabrikam.onmicrosoft.com", ""},
		{7, "fabrikam.onmicrosoft.com", "isTeamsDeviceProfile: is already on in row 6"},
		{8, "", "tenant: is empty"},
		{9, "", `tenant: "contoso" is neither a tenant id`},
		{10, "72f988bf-86f1-41af-91ab-2d7cd011db47", ""},
	} {
		r := f.Rows[i]
		if r.Line != w.line || r.Tenant != w.tenant {
			t.Errorf("row %d: line %d tenant %q; want line %d tenant %q", i, r.Line, r.Tenant, w.line, w.tenant)
		}
		if _, sent := r.Body["tenant"]; sent {
			t.Errorf("line %d: the tenant is in the body", r.Line)
		}
		var got []string
		for _, p := range r.Problems {
			got = append(got, p.Error())
		}
		switch {
		case w.problem == "" && len(got) > 0:
			t.Errorf("line %d: problems %q; want none", r.Line, got)
		case w.problem != "" && !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, w.problem) }):
			t.Errorf("line %d: problems %q; want one containing %q", r.Line, got, w.problem)
		}
		for _, p := range r.Problems {
			if p.Column == "tenant" && (p.File == "" || p.Row != r.Line) {
				t.Errorf("line %d: the problem %q does not name the file and row", r.Line, p.Error())
			}
		}
	}
}

// Options.Tenant reads one tenant's rows with the file's line numbers, and
// the checks against earlier rows still see every row.
func TestReadOneTenant(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(p, []byte(tenantsCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(p, Options{Tenant: "fabrikam.onmicrosoft.com", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines []int
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, row.Line)
		if row.Line == 7 && row.Valid() {
			t.Error("line 7 (a second Teams profile in fabrikam) is valid when read alone")
		}
	}
	if !slices.Equal(lines, []int{3, 6, 7}) {
		t.Errorf("fabrikam's rows are lines %v; want [3 6 7]", lines)
	}
}

// A date without a time means the token is valid through that day, until
// 23:59:59 UTC, however the date is written; a time given is kept; the
// last day a mode allows ends at the limit, with a note.
func TestDateAloneMeansThroughThatDay(t *testing.T) {
	f := readString(t, "displayName,tokenExpirationDateTime,enrollmentMode\r\n"+
		"A,2027-05-31,\r\n"+
		"B,31.05.2027,\r\n"+
		"C,2027-05-31T00:00:00Z,\r\n"+
		"D,31.05.2027 18:00,\r\n"+
		"E,2027-03-01,corporateOwnedAOSPUserlessDevice\r\n"+ // the 90th day from testNow
		"F,2026-12-01,\r\n") // today: valid through today
	end := time.Date(2027, 5, 31, 23, 59, 59, 0, time.UTC)
	for i, want := range []time.Time{end, end, time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 31, 18, 0, 0, 0, time.UTC),
		time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)} {
		r := f.Rows[i]
		if !r.TokenExpiration.Equal(want) || r.Body["tokenExpirationDateTime"] != want.Format(time.RFC3339Nano) || !r.Valid() {
			t.Errorf("row %d: expires %v, sends %v, problems %v; want %v", r.Line, r.TokenExpiration, r.Body["tokenExpirationDateTime"], r.Problems, want)
		}
	}
	if notes := f.Rows[4].Notes; len(notes) != 1 || !strings.Contains(notes[0], "2027-03-01 is the last day") {
		t.Errorf("the last day allowed: notes %q", notes)
	}
}
