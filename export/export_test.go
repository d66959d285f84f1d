package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
)

func TestCell(t *testing.T) {
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	dedicated := profile.Profile{ID: "id-1", DisplayName: "Tills", EnrollmentMode: "corporateOwnedDedicatedDevice",
		RoleScopeTagIDs: []string{"0", "14"}, TokenExpirationDateTime: exp, WifiSsid: "LEFTOVER"}
	aosp := profile.Profile{DisplayName: "Yard", EnrollmentMode: "corporateOwnedAOSPUserlessDevice", ConfigureWifi: true, WifiSsid: "YARD", WifiSecurityType: "wpa"}
	cases := []struct {
		p    profile.Profile
		name string
		want any
	}{
		{dedicated, "roleScopeTagIds", "0, 14"},
		{dedicated, "tokenExpirationDateTime", exp.UTC()},
		{dedicated, "wifiSsid", nil}, // configureWifi false: the reader refuses Wi-Fi settings
		{dedicated, "configureWifi", false},
		{dedicated, "description", nil},
		{dedicated, IDColumn, "id-1"},
		{aosp, "wifiSsid", "YARD"},
		{aosp, "wifiHidden", false},
		{aosp, "wifiPassword", nil},
	}
	for _, tc := range cases {
		if got := cell(tc.p, tc.name); got != tc.want {
			t.Errorf("%s %s: %#v, want %#v", tc.p.DisplayName, tc.name, got, tc.want)
		}
	}
}

func TestWriteRefusesOtherExtensionsAndWritesPrivately(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "x.pdf"), "", nil); err == nil || !strings.Contains(err.Error(), ".xlsx or .csv") {
		t.Errorf("Write .pdf: %v", err)
	}
	p := filepath.Join(dir, "x.xlsx")
	ps := []profile.Profile{{ID: "i", DisplayName: "Dock", TokenExpirationDateTime: time.Date(2027, 3, 31, 18, 0, 0, 0, time.UTC)}}
	if err := Write(p, "Site 12", ps); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	f, err := input.Read(p, input.Options{Sheet: "Site 12"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 1 || !f.Rows[0].TokenExpiration.Equal(ps[0].TokenExpirationDateTime) {
		t.Errorf("read back %+v", f.Rows)
	}
}
