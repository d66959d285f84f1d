package output

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/results"
)

func TestCarryOver(t *testing.T) {
	soon := testNow.Add(-time.Hour) // expired by testNow
	earlier := []results.Result{
		{DisplayName: "Created", Status: results.Created, ID: "1", QRCodeContent: "c1", TokenExpiration: later},
		{DisplayName: "Renewed", Status: results.Renewed, ID: "2", QRCodeContent: "c2", TokenExpiration: later},
		{DisplayName: "Carried", Status: results.Exists, ID: "3", QRCodeContent: "c3", TokenExpiration: later, Notes: []string{CarriedNote}},
		{DisplayName: "Plain exists", Status: results.Exists, ID: "4", QRCodeContent: "c4", TokenExpiration: later},
		{DisplayName: "Expired", Status: results.Created, ID: "5", QRCodeContent: "c5", TokenExpiration: soon},
		{DisplayName: "Recreated", Status: results.Created, ID: "6", QRCodeContent: "c6", TokenExpiration: later},
		{DisplayName: "Wifi", Status: results.Created, ID: "7", QRCodeContent: `{"android.app.extra.PROVISIONING_WIFI_PASSWORD":"` + results.RedactedMark + `"}`},
		{DisplayName: "Printed now", Status: results.Created, ID: "8", QRCodeContent: "c8", TokenExpiration: later},
		{DisplayName: "Failed", Status: results.Failed, QRCodeContent: "c9"},
		{DisplayName: "Revoked", Status: results.Created, ID: "10", QRCodeContent: "c10", TokenExpiration: later},
		{DisplayName: "Replaced", Status: results.Created, ID: "11", QRCodeContent: "c11", TokenExpiration: later},
	}
	rs := []results.Result{
		{Row: 2, DisplayName: "created ", Status: results.Exists, ID: "1", TokenExpiration: later}, // names compare as the tenant does
		{Row: 3, DisplayName: "Renewed", Status: results.Exists},
		{Row: 4, DisplayName: "Carried", Status: results.Exists, ID: "3", TokenExpiration: later},
		{Row: 5, DisplayName: "Plain exists", Status: results.Exists, ID: "4"},
		{Row: 6, DisplayName: "Expired", Status: results.Exists, ID: "5"},
		{Row: 7, DisplayName: "Recreated", Status: results.Exists, ID: "other"},
		{Row: 8, DisplayName: "Wifi", Status: results.Exists, ID: "7"},
		{Row: 9, DisplayName: "Printed now", Status: results.Renewed, ID: "8", QRCodeContent: "new"},
		{Row: 10, DisplayName: "Failed", Status: results.Exists},
		// The tenant's expiry (from the run's listing): revoked, replaced.
		{Row: 11, DisplayName: "Revoked", Status: results.Exists, ID: "10"},
		{Row: 12, DisplayName: "Replaced", Status: results.Exists, ID: "11", TokenExpiration: later.Add(time.Hour)},
	}
	if n := CarryOver(earlier, rs, testNow); n != 3 {
		t.Errorf("carried %d, want 3", n)
	}
	want := map[int]string{2: "c1", 3: "c2", 4: "c3", 9: "new"}
	for _, r := range rs {
		if r.QRCodeContent != want[r.Row] {
			t.Errorf("row %d (%s): content %q, want %q", r.Row, r.DisplayName, r.QRCodeContent, want[r.Row])
		}
		carried := slices.Contains(r.Notes, CarriedNote)
		if carried != (want[r.Row] != "" && r.Row != 9) {
			t.Errorf("row %d: notes %q", r.Row, r.Notes)
		}
		if carried && (r.Status != results.Exists || !r.Printable() || r.TokenExpiration != later) {
			t.Errorf("row %d: status %s, printable %v, expiry %v", r.Row, r.Status, r.Printable(), r.TokenExpiration)
		}
	}
	for _, r := range []results.Result{rs[4], rs[6], rs[len(rs)-2], rs[len(rs)-1]} {
		if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], StaleCarryNote) {
			t.Errorf("row %d: notes %q, want why the earlier code is not printed", r.Row, r.Notes)
		}
	}
	if rs[1].ID != "2" {
		t.Errorf("row 3: id %q, want the earlier run's", rs[1].ID)
	}
}
