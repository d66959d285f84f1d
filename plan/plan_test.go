package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

func tenant() profile.Profile {
	return profile.Profile{
		ID: "id-1", DisplayName: "Leeds Scanners", Description: "Zebra TC52",
		TokenExpirationDateTime: time.Date(2027, 3, 31, 0, 0, 0, 123456700, time.UTC),
		RoleScopeTagIDs:         []string{"0", "12"},
		AccountID:               "8E1B5D2A-0000-4000-8000-00000000000A",
		EnrollmentMode:          "corporateOwnedAOSPUserlessDevice", EnrollmentTokenType: "default",
		EnrollmentTokenUsageCnt: 50, ConfigureWifi: true, WifiSsid: "LEEDS", WifiSecurityType: "wpa",
		DeviceNameTemplate: "SCAN-{{SERIAL}}",
		// Never compared: the service sets them.
		TokenValue: "TOKEN", EnrolledDeviceCount: 4, QRCodeContent: "{}",
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name    string
		body    map[string]any
		opts    Options
		changes []string
		payload bool
	}{
		{"nothing given", map[string]any{}, Options{}, nil, false},
		{"all equal", map[string]any{
			"displayName": "Leeds Scanners", "description": "Zebra TC52",
			"tokenExpirationDateTime": "2027-03-31T01:00:00+01:00", "roleScopeTagIds": []string{"12", "0", "12"},
			"accountId": "8e1b5d2a-0000-4000-8000-00000000000a", "enrollmentMode": "corporateOwnedAOSPUserlessDevice",
			"enrollmentTokenType": "default", "configureWifi": true,
			"wifiSsid": "LEEDS", "wifiSecurityType": "wpa", "wifiHidden": false, "isTeamsDeviceProfile": false,
			"deviceNameTemplate": "SCAN-{{SERIAL}}",
		}, Options{}, nil, false},
		{"strings after trimming", map[string]any{"description": " Zebra TC52  "}, Options{}, nil, false},
		{"description", map[string]any{"description": "Zebra TC58"}, Options{},
			[]string{"description: Zebra TC52 → Zebra TC58"}, false},
		{"name case", map[string]any{"displayName": "LEEDS Scanners"}, Options{},
			[]string{"displayName: Leeds Scanners → LEEDS Scanners"}, false},
		{"date instant differs", map[string]any{"tokenExpirationDateTime": "2027-04-30T00:00:00Z"}, Options{},
			[]string{"tokenExpirationDateTime: 2027-03-31T00:00:00Z → 2027-04-30T00:00:00Z"}, false},
		{"list as a set", map[string]any{"roleScopeTagIds": []string{"0", "13"}}, Options{},
			[]string{"roleScopeTagIds: 0, 12 → 0, 13"}, false},
		{"bool", map[string]any{"wifiHidden": true}, Options{},
			[]string{"wifiHidden: false → true"}, true},
		{"ssid with password", map[string]any{"wifiSsid": "LEEDS-2", "wifiPassword": "hunter22"}, Options{},
			[]string{"wifiSsid: LEEDS → LEEDS-2", "wifiPassword: (changed)"}, true},
		{"password alone is not sent", map[string]any{"wifiSsid": "LEEDS", "wifiPassword": "hunter22"}, Options{}, nil, false},
		{"password alone with UpdateSecrets", map[string]any{"wifiSsid": "LEEDS", "wifiPassword": "hunter22"}, Options{UpdateSecrets: true},
			[]string{"wifiPassword: (changed)"}, true},
		{"template only", map[string]any{"deviceNameTemplate": "TILL-{{SERIAL}}"}, Options{},
			[]string{"deviceNameTemplate: SCAN-{{SERIAL}} → TILL-{{SERIAL}}"}, false},
		{"mode changes the payload", map[string]any{"enrollmentMode": "corporateOwnedDedicatedDevice"}, Options{},
			[]string{"enrollmentMode: corporateOwnedAOSPUserlessDevice → corporateOwnedDedicatedDevice"}, true},
		{"empty tenant value", map[string]any{"wifiHidden": true, "isTeamsDeviceProfile": true}, Options{},
			[]string{"isTeamsDeviceProfile: false → true", "wifiHidden: false → true"}, true},
		{"service-set properties are never compared", map[string]any{"tokenValue": "OTHER", "enrolledDeviceCount": int32(9), "enrollmentTokenUsageCount": int32(60), "qrCodeContent": "x", "tokenCreationDateTime": "2020-01-01T00:00:00Z"}, Options{}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(tc.body, tenant(), tc.opts)
			if got := d.Strings(); !slices.Equal(got, tc.changes) {
				t.Errorf("changes %q, want %q", got, tc.changes)
			}
			if d.Payload != tc.payload {
				t.Errorf("payload %v, want %v", d.Payload, tc.payload)
			}
			if d.Empty() != (len(tc.changes) == 0) {
				t.Errorf("Empty() = %v", d.Empty())
			}
			// The PATCH body holds exactly the changed properties, as given.
			if len(d.Patch) != len(d.Changes) {
				t.Errorf("patch %v for changes %v", d.Patch, d.Strings())
			}
			for _, c := range d.Changes {
				if _, ok := d.Patch[c.Property]; !ok {
					t.Errorf("patch lacks %s", c.Property)
				}
				if p, _ := profile.Lookup(c.Property); !p.Writable {
					t.Errorf("%s is not writable", c.Property)
				}
			}
			for _, s := range d.Strings() {
				if strings.Contains(s, "hunter22") {
					t.Errorf("a change shows the password: %s", s)
				}
			}
		})
	}
}

func TestSelectNamesEveryComparedProperty(t *testing.T) {
	sel := Select()
	for _, p := range profile.Writable() {
		if !p.Secret && !slices.Contains(sel, p.Name) {
			t.Errorf("Select lacks %s", p.Name)
		}
	}
	if slices.Contains(sel, "wifiPassword") || !slices.Contains(sel, "id") {
		t.Errorf("Select() = %v", sel)
	}
}

// A row's date alone ("through that day") matches an expiry at any moment
// of that day, such as the midnight an earlier version sent for it, so a
// rerun does not renew a token for it; another day differs.
func TestThroughDayMatchesTheDay(t *testing.T) {
	day := func(h, m, s int) time.Time { return time.Date(2027, 5, 31, h, m, s, 0, time.UTC) }
	for _, tc := range []struct {
		tenant time.Time
		row    string
		equal  bool
	}{
		{day(0, 0, 0), "2027-05-31T23:59:59Z", true},
		{day(14, 32, 0), "2027-05-31T23:59:59Z", true},
		{day(23, 59, 59), "2027-05-31T23:59:59Z", true},
		{day(0, 0, 0).AddDate(0, 0, 1), "2027-05-31T23:59:59Z", false},
		{day(0, 0, 0), "2027-05-31T18:00:00Z", false}, // a time given is a moment
	} {
		if got := equal(profile.DateTime, tc.tenant, tc.row); got != tc.equal {
			t.Errorf("tenant %v, row %s: equal %v; want %v", tc.tenant, tc.row, got, tc.equal)
		}
	}
}
