package input

import (
	"reflect"
	"strings"
	"testing"
)

// TestDocumentedRules checks the rules that come from Microsoft's pages,
// one row each, against the clock testNow (2026-12-01).
func TestDocumentedRules(t *testing.T) {
	const header = "displayName,enrollmentMode,enrollmentTokenType,tokenExpirationDateTime,deviceNameTemplate,isTeamsDeviceProfile,configureWifi,wifiSsid,wifiPassword,wifiSecurityType\n"
	tests := []struct {
		name    string
		row     string         // the fields after displayName
		problem string         // part of the one problem expected; "" for a valid row
		column  string         // the problem's column
		body    map[string]any // properties the body must hold (a subset)
		note    string         // part of a note expected
	}{
		{name: "staging fully managed", row: "corporateOwnedFullyManaged,deviceStaging,,,,,,,"},
		{name: "staging work profile", row: "corporateOwnedWorkProfile,deviceStaging,2090-01-01,,,,,,"},
		{name: "staging dedicated", row: "corporateOwnedDedicatedDevice,deviceStaging,,,,,,,",
			column: "enrollmentTokenType", problem: "deviceStaging is only for enrollmentMode corporateOwnedFullyManaged and corporateOwnedWorkProfile, not corporateOwnedDedicatedDevice"},
		{name: "staging AOSP", row: "corporateOwnedAOSPUserlessDevice,deviceStaging,,,,,,,",
			column: "enrollmentTokenType", problem: "not corporateOwnedAOSPUserlessDevice"},
		{name: "shared mode dedicated", row: "corporateOwnedDedicatedDevice,corporateOwnedDedicatedDeviceWithAzureADSharedMode,,,,,,,"},
		{name: "shared mode empty mode", row: ",corporateOwnedDedicatedDeviceWithAzureADSharedMode,,,,,,,"},
		{name: "shared mode AOSP", row: "corporateOwnedAOSPUserAssociatedDevice,corporateOwnedDedicatedDeviceWithAzureADSharedMode,,,,,,,",
			column: "enrollmentTokenType", problem: "is only for enrollmentMode corporateOwnedDedicatedDevice, not corporateOwnedAOSPUserAssociatedDevice"},
		{name: "shared mode work profile", row: "corporateOwnedWorkProfile,corporateOwnedDedicatedDeviceWithAzureADSharedMode,,,,,,,",
			column: "enrollmentTokenType", problem: "not corporateOwnedWorkProfile"},

		{name: "rand lower", row: ",,,SHOP-{{rand:4}},,,,,", body: map[string]any{"deviceNameTemplate": "SHOP-{{rand:4}}"}},
		{name: "rand upper", row: ",,,SHOP-{{RAND:9}},,,,,"},
		{name: "rand ten", row: ",,,SHOP-{{RAND:10}},,,,,", column: "deviceNameTemplate", problem: "must be 1 to 9"},
		{name: "enrolled spelling", row: "corporateOwnedAOSPUserlessDevice,,,A-{{ENROLLEDDATETIME}},,,,,",
			note: "{{ENROLLEDDATETIME}} is spelled so only on Intune docs, android-aosp-corporate-owned-userless-enroll"},
		{name: "user token on userless", row: "corporateOwnedAOSPUserlessDevice,,,A-{{USERNAME}},,,,,", note: "{{USERNAME}} stays empty on AOSP userless devices"},
		{name: "underscore", row: ",,,Store52_{{SERIAL}},,,,,", note: "other than letters, numbers and hyphens (_)"},

		{name: "userless 89 days", row: "corporateOwnedAOSPUserlessDevice,,2027-02-28,,,,,,"},
		{name: "userless 91 days", row: "corporateOwnedAOSPUserlessDevice,,2027-03-02,,,,,,", column: "tokenExpirationDateTime",
			problem: "is more than 90 days away; corporateOwnedAOSPUserlessDevice tokens last at most 90 days (Intune docs, android-aosp-corporate-owned-userless-enroll), so give 2027-03-01 or earlier"},
		{name: "dedicated 64 years", row: ",,2090-11-30,,,,,,"},
		{name: "dedicated 66 years", row: "corporateOwnedDedicatedDevice,,2092-12-02,,,,,,", column: "tokenExpirationDateTime",
			problem: "tokens last at most 65 years (Intune docs, android-kiosk-enroll), so give 2091-12-01 or earlier"},
		{name: "user-associated 66 years", row: "corporateOwnedAOSPUserAssociatedDevice,,2092-12-02,,,,,,", column: "tokenExpirationDateTime",
			problem: "65 years (Intune docs, android-aosp-corporate-owned-user-associated-enroll)"},
		{name: "past", row: ",,2026-11-30T23:00:00Z,,,,,,", column: "tokenExpirationDateTime", problem: "2026-11-30T23:00:00Z is in the past"},
		{name: "fully managed default token expiry", row: "corporateOwnedFullyManaged,,2027-06-30,,,,,,",
			note: "the admin center sets an expiry only on deviceStaging tokens (Intune docs, android-fully-managed-enroll)"},

		{name: "teams on dedicated", row: ",,,,true,,,,", column: "isTeamsDeviceProfile", problem: "is only for AOSP profiles"},

		{name: "wifi on a dedicated device", row: ",,,,,,Shop,,", body: map[string]any{"configureWifi": true}, note: "the Intune pages offer Wi-Fi settings only for AOSP profiles"},
		{name: "no wifi", row: "corporateOwnedAOSPUserlessDevice,,,,,,,,", body: map[string]any{"configureWifi": false}},
		{name: "ssid only", row: "corporateOwnedAOSPUserlessDevice,,,,,,Shop,,", body: map[string]any{"configureWifi": true, "wifiSsid": "Shop"}},
		{name: "explicit true", row: "corporateOwnedAOSPUserlessDevice,,,,,true,Shop,pw,wpa", body: map[string]any{"configureWifi": true}},
		{name: "password without ssid", row: "corporateOwnedAOSPUserlessDevice,,,,,,,pw,", column: "wifiSsid", problem: "is empty, but the row has wifiPassword"},
		{name: "wpa without key", row: "corporateOwnedAOSPUserlessDevice,,,,,,Shop,,wpa", column: "wifiPassword", problem: "is required when wifiSecurityType is wpa"},
		{name: "open network", row: "corporateOwnedAOSPUserlessDevice,,,,,,Shop,,none"},
	}
	var b strings.Builder
	b.WriteString(header)
	for i, tt := range tests {
		b.WriteString("Row " + string(rune('A'+i)) + "," + tt.row + "\n")
	}
	f := readString(t, b.String())
	if len(f.Rows) != len(tests) {
		t.Fatalf("got %d rows, want %d", len(f.Rows), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.Rows[i]
			switch {
			case tt.problem == "" && len(r.Problems) > 0:
				t.Errorf("valid row has problems: %v", r.Problems)
			case tt.problem != "" && (len(r.Problems) != 1 || r.Problems[0].Column != tt.column || !strings.Contains(r.Problems[0].Message, tt.problem)):
				t.Errorf("problems %v, want one on %s containing %q", r.Problems, tt.column, tt.problem)
			}
			for k, v := range tt.body {
				if !reflect.DeepEqual(r.Body[k], v) {
					t.Errorf("body %s = %#v, want %#v", k, r.Body[k], v)
				}
			}
			// No row here types configureWifi false: a false is filled in,
			// and left out of what is compared with an existing profile.
			_, inBody := r.Body["configureWifi"]
			_, given := r.Given()["configureWifi"]
			if r.WifiOff != (r.Body["configureWifi"] == false) || given != (inBody && !r.WifiOff) {
				t.Errorf("WifiOff %v with configureWifi %v; Given() has it: %v", r.WifiOff, r.Body["configureWifi"], given)
			}
			found := tt.note == ""
			for _, n := range r.Notes {
				found = found || strings.Contains(n, tt.note)
			}
			if !found || tt.note == "" && len(r.Notes) > 0 {
				t.Errorf("notes %q, want one containing %q", r.Notes, tt.note)
			}
		})
	}
}

// TestTeamsOncePerFile checks that a second Teams profile in a file is
// invalid and names the first.
func TestTeamsOncePerFile(t *testing.T) {
	f := readString(t, "displayName,enrollmentMode,isTeamsDeviceProfile\n"+
		"Rooms A,corporateOwnedAOSPUserAssociatedDevice,true\n"+
		"Rooms B,corporateOwnedAOSPUserAssociatedDevice,false\n"+
		"Rooms C,corporateOwnedAOSPUserAssociatedDevice,yes\n")
	var got []string
	for _, p := range f.Problems() {
		got = append(got, p.Error())
	}
	want := []string{f.Path + ": row 4, isTeamsDeviceProfile: is already on in row 2; one profile per tenant may be for Teams devices (Intune docs, android-aosp-corporate-owned-user-associated-enroll)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems\n got %q\nwant %q", got, want)
	}
}

// TestNamesThatLie checks that names with control characters are refused,
// that names with invisible format characters (zero-width, direction
// controls) are read exactly as given with a note naming each character
// and its position, as the tenant can hold such a name and export writes
// it, and that other scripts pass without either.
func TestNamesThatLie(t *testing.T) {
	const kept = "; the name is kept exactly as given, as the tenant holds it, but it is not the same name as one that looks the same without it"
	const direction = ", and a direction control can make the printed label read differently from the name"
	tests := []struct {
		name, problem, note string
	}{
		{"İzmir Depo", "", ""},
		{"مستودع الرياض", "", ""},
		{"東京 倉庫", "", ""},
		{"Tab\there", "holds the control character U+0009", ""},
		{"Esc\x1b[2J", "holds the control character U+001B", ""},
		{"Bell\x07", "U+0007", ""},
		{"C1\u0085next", "U+0085", ""},
		{"Zero\u200Bwidth\tand tab", "holds the control character U+0009", ""},
		{"Scan\u202Egnp.exe", "", "displayName: holds the invisible character U+202E at position 5" + kept + direction},
		{"Embed\u202Atext", "", "displayName: holds the invisible character U+202A at position 6" + kept + direction},
		{"Isolate\u2066text\u2069", "", "displayName: holds the invisible characters U+2066 at position 8 and U+2069 at position 13" + kept + direction},
		{"Zero\u200Bwidth", "", "displayName: holds the invisible character U+200B at position 5" + kept},
		{"Joiner\u200Dx", "", "displayName: holds the invisible character U+200D at position 7" + kept},
		{"Word\u2060joiner", "", "displayName: holds the invisible character U+2060 at position 5" + kept},
		{"B\uFEFFOM", "", "displayName: holds the invisible character U+FEFF at position 2" + kept},
		{"Zwei\u200B\u200BLeer", "", "displayName: holds the invisible characters U+200B at position 5 and U+200B at position 6" + kept},
	}
	var b strings.Builder
	b.WriteString("displayName\n")
	for _, tt := range tests {
		b.WriteString("\"" + tt.name + "\"\n")
	}
	f := readString(t, b.String())
	if len(f.Rows) != len(tests) {
		t.Fatalf("got %d rows, want %d", len(f.Rows), len(tests))
	}
	for i, tt := range tests {
		r := f.Rows[i]
		if tt.problem == "" {
			if len(r.Problems) > 0 {
				t.Errorf("%q: %v", tt.name, r.Problems)
			}
			if r.DisplayName != tt.name || r.Body["displayName"] != tt.name {
				t.Errorf("%q: read as %q (body %q); want it exactly as given", tt.name, r.DisplayName, r.Body["displayName"])
			}
			var want []string
			if tt.note != "" {
				want = []string{tt.note}
			}
			if !reflect.DeepEqual(r.Notes, want) {
				t.Errorf("%q: notes\n got %q\nwant %q", tt.name, r.Notes, want)
			}
			continue
		}
		if len(r.Problems) != 1 || r.Problems[0].Column != "displayName" || !strings.Contains(r.Problems[0].Message, tt.problem) {
			t.Errorf("%q: problems %v, want one on displayName containing %q", tt.name, r.Problems, tt.problem)
		}
	}
}

// TestNULInName checks a NUL byte, which CSV carries as it is.
func TestNULInName(t *testing.T) {
	f := readString(t, "displayName\nA\x00B\n")
	if len(f.Rows) != 1 || len(f.Rows[0].Problems) != 1 || !strings.Contains(f.Rows[0].Problems[0].Message, "NUL") {
		t.Fatalf("rows %+v, want one problem naming NUL", f.Rows)
	}
}
