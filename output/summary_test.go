package output

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/results"
)

// The summary of a run over tenants reads back as written, is a secret
// (mode 0600), counts as a file enrollbatch wrote, and never replaces one
// it did not.
func TestSummaryRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := []TenantSummary{
		{Tenant: "contoso.onmicrosoft.com", State: TenantDone, Rows: 3, Counts: map[results.Status]int{results.Created: 2, results.Invalid: 1},
			Requests: 9, Results: "contoso.onmicrosoft.com/results.xlsx", Sheet: "contoso.onmicrosoft.com/qr-codes.pdf"},
		{Tenant: "northwind.onmicrosoft.com", State: TenantFailed, Rows: 1, Counts: map[results.Status]int{results.Failed: 1},
			Throttled: 2, Results: "northwind.onmicrosoft.com/results.xlsx", Message: "not sent: tenant northwind.onmicrosoft.com refused the sign-in"},
	}
	if err := WriteSummary(dir, want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SummaryFile)
	got, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n got %+v\nwant %+v", got, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 || !Written(path) {
		t.Errorf("mode %v, written by enrollbatch %v", fi.Mode().Perm(), Written(path))
	}
	if c := want[0].CountsText(); c != "2 created, 1 invalid" {
		t.Errorf("CountsText = %q", c)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, SummaryFile), []byte("someone's"), 0o600)
	if err := WriteSummary(other, want); err == nil || !strings.Contains(err.Error(), "did not write it") {
		t.Errorf("WriteSummary over a file it did not write: %v", err)
	}
}
