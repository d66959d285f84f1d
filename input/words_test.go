package input

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

// TestGermanExcelDates reads the dates German Excel writes into a CSV
// file: each is the day it names, at midnight UTC as 2027-12-31 is; a time
// given with it is read in UTC, as a workbook's date cells are, with a
// note; a day that does not exist and a two-digit year are refused.
func TestGermanExcelDates(t *testing.T) {
	const path = "testdata/excel-de-dates.csv"
	f, err := Read(path, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	noZone := func(text, rfc, example string) []string {
		return []string{"tokenExpirationDateTime: \"" + text + "\" has no time zone, so it was read as UTC, " + rfc +
			", as a date and time in a workbook is; for a time in another zone write it with its offset, e.g. " + example}
	}
	notDate := func(line, text string) string {
		return path + ": row " + line + ", tokenExpirationDateTime: \"" + text + "\" is not a date (use 2026-12-31, 31.12.2026 or 2026-12-31T08:00:00+01:00)"
	}
	want := []struct {
		line     int
		expires  time.Time
		notes    []string
		problems []string
	}{
		{2, time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC), nil, nil},
		{3, time.Date(2027, 2, 1, 23, 59, 59, 0, time.UTC), nil, nil},
		{4, time.Date(2027, 2, 1, 18, 0, 0, 0, time.UTC), noZone("01.02.2027 18:00", "2027-02-01T18:00:00Z", "2027-02-01T18:00:00+01:00"), nil},
		{5, time.Date(2027, 12, 31, 18, 0, 30, 0, time.UTC), noZone("31.12.2027 18:00:30", "2027-12-31T18:00:30Z", "2027-12-31T18:00:30+01:00"), nil},
		{6, time.Time{}, nil, []string{notDate("6", "29.02.2027")}},
		{7, time.Time{}, nil, []string{notDate("7", "1.2.27")}},
		{8, time.Date(2027, 1, 15, 23, 59, 59, 0, time.UTC), nil, nil},
		{9, time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC), nil, []string{path + ": row 9, tokenExpirationDateTime: 2026-11-30 is in the past; give a later date, or leave it empty for the default lifetime"}},
	}
	if len(f.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(f.Rows), len(want))
	}
	for i, w := range want {
		r := f.Rows[i]
		var problems []string
		for _, p := range r.Problems {
			problems = append(problems, p.Error())
		}
		if r.Line != w.line || !r.TokenExpiration.Equal(w.expires) || !reflect.DeepEqual(r.Notes, w.notes) || !reflect.DeepEqual(problems, w.problems) {
			t.Errorf("row %d: expires %v notes %q problems %q\nwant row %d: %v %q %q", r.Line, r.TokenExpiration, r.Notes, problems, w.line, w.expires, w.notes, w.problems)
		}
		if sent, ok := r.Body["tokenExpirationDateTime"]; !w.expires.IsZero() && sent != w.expires.Format(time.RFC3339) || w.expires.IsZero() && ok {
			t.Errorf("row %d: sends %v", r.Line, sent)
		}
	}
	if f.Rows[0].DisplayName != "Kasse Nord" || f.Rows[0].Description != "Kühlregal" {
		t.Errorf("first row %q %q", f.Rows[0].DisplayName, f.Rows[0].Description)
	}
}

// TestAdminCenterWords reads a workbook filled in with the admin center's
// names: each is read as the value it stands for, with a note saying so;
// a value in another case is read silently, as before; typos get a
// suggestion, and WPA3 none.
func TestAdminCenterWords(t *testing.T) {
	const path = "testdata/admin-center-words.xlsx"
	f, err := Read(path, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	readAs := func(prop, word, value string) string { return prop + ": \"" + word + "\" was read as " + value }
	modes := strings.Join(profile.EnrollmentModes, ", ")
	want := []struct {
		line     int
		body     map[string]any
		notes    []string
		problems []string
	}{
		{2, map[string]any{"enrollmentMode": profile.ModeDedicated, "enrollmentTokenType": "default"},
			[]string{readAs("enrollmentMode", "Corporate-owned dedicated devices", profile.ModeDedicated)}, nil},
		{3, map[string]any{"enrollmentMode": profile.ModeDedicated, "enrollmentTokenType": profile.TokenSharedMode},
			[]string{
				readAs("enrollmentMode", "dedicated", profile.ModeDedicated),
				readAs("enrollmentTokenType", "Corporate-owned dedicated device with Microsoft Entra ID shared mode", profile.TokenSharedMode),
			}, nil},
		{4, map[string]any{"enrollmentMode": profile.ModeFullyManaged, "enrollmentTokenType": profile.TokenStaging},
			[]string{
				readAs("enrollmentMode", "Corporate-owned, fully managed user devices", profile.ModeFullyManaged),
				readAs("enrollmentTokenType", "Corporate-owned, fully managed, via staging", profile.TokenStaging),
			}, nil},
		{5, map[string]any{"enrollmentMode": profile.ModeWorkProfile, "enrollmentTokenType": profile.TokenStaging},
			[]string{
				readAs("enrollmentMode", "Corporate-owned devices with work profile", profile.ModeWorkProfile),
				readAs("enrollmentTokenType", "Device staging", profile.TokenStaging),
			}, nil},
		{6, map[string]any{"enrollmentMode": profile.ModeAOSPUserless, "configureWifi": true, "wifiSsid": "Lager", "wifiPassword": "geheim-123", "wifiSecurityType": "wpa"},
			[]string{
				readAs("enrollmentMode", "Corporate-owned AOSP userless", profile.ModeAOSPUserless),
				readAs("wifiSecurityType", "WPA2-PSK", "wpa"),
			}, nil},
		{7, map[string]any{"enrollmentMode": profile.ModeAOSPAssociated, "configureWifi": true, "wifiSsid": "Büro", "wifiPassword": "geheim-456", "wifiSecurityType": "wpa"},
			[]string{
				readAs("enrollmentMode", "corporate owned AOSP user-associated", profile.ModeAOSPAssociated),
				readAs("wifiSecurityType", "WPA2", "wpa"),
			}, nil},
		{8, map[string]any{"enrollmentMode": profile.ModeFullyManaged, "enrollmentTokenType": "default"},
			[]string{
				readAs("enrollmentMode", "CORPORATE_OWNED_FULLY_MANAGED", profile.ModeFullyManaged),
				readAs("enrollmentTokenType", "corporate-owned, fully managed (default)", "default"),
			}, nil},
		{9, map[string]any{}, nil, []string{
			path + `: row 9, enrollmentMode: "Corporate-owned dedicated devise" is not one of ` + modes + "; did you mean corporateOwnedDedicatedDevice?",
			path + `: row 9, enrollmentTokenType: "Defualt" is not one of default, corporateOwnedDedicatedDeviceWithAzureADSharedMode, deviceStaging; did you mean default?`,
		}},
		{10, map[string]any{"enrollmentMode": profile.ModeAOSPUserless, "configureWifi": true, "wifiSsid": "Lager", "wifiPassword": "geheim-789"}, nil, []string{
			path + `: row 10, wifiSecurityType: "WPA3" is not one of none, wpa, wep`,
		}},
	}
	if len(f.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(f.Rows), len(want))
	}
	for i, w := range want {
		r := f.Rows[i]
		w.body["displayName"] = "Kasse " + itoa(i+1)
		if _, ok := w.body["configureWifi"]; !ok {
			w.body["configureWifi"] = false
		}
		var problems []string
		for _, p := range r.Problems {
			problems = append(problems, p.Error())
		}
		if r.Line != w.line || !reflect.DeepEqual(r.Body, w.body) || !reflect.DeepEqual(problems, w.problems) {
			t.Errorf("row %d: body %v problems %q\nwant row %d: %v %q", r.Line, r.Body, problems, w.line, w.body, w.problems)
		}
		// The notes the words give come first; the rules may add others.
		if len(r.Notes) < len(w.notes) || !reflect.DeepEqual(r.Notes[:len(w.notes)], w.notes) {
			t.Errorf("row %d: notes\n%q\nwant them to start with\n%q", r.Line, r.Notes, w.notes)
		}
	}
}

// TestEveryEnumWord reads every word of enumWords, and every value written
// with other punctuation, as its value with a note; checks that no key
// stands for two values; and that typos get the right suggestion.
func TestEveryEnumWord(t *testing.T) {
	for _, p := range profile.Properties {
		if p.Kind != profile.Enum {
			continue
		}
		seen := map[string]string{}
		check := func(s, v string) {
			for _, k := range []string{wordKey(s), letterKey(s)} {
				if prev, ok := seen[k]; ok && prev != v {
					t.Errorf("%s: %q stands for both %s and %s", p.Name, s, prev, v)
				}
				seen[k] = v
			}
		}
		for _, v := range p.Values {
			check(v, v)
		}
		for _, w := range enumWords[p.Name] {
			if !slices.Contains(p.Values, w.value) {
				t.Errorf("%s: %q stands for %q, which is not a value", p.Name, w.word, w.value)
			}
			check(w.word, w.value)
		}
		var words []enumWord
		words = append(words, enumWords[p.Name]...)
		for _, v := range p.Values {
			// As a script that splits camel case writes it: "corporate owned dedicated device".
			var b strings.Builder
			for i, r := range v {
				if i > 0 && r >= 'A' && r <= 'Z' {
					b.WriteByte(' ')
				}
				b.WriteRune(r)
			}
			if spaced := b.String(); spaced != v {
				words = append(words, enumWord{spaced, v})
			}
		}
		for _, w := range words {
			v, msg, note := convertEnum(p, w.word)
			wantNote := "\"" + w.word + "\" was read as " + w.value
			if strings.EqualFold(w.word, w.value) {
				wantNote = ""
			}
			if v != w.value || msg != "" || note != wantNote {
				t.Errorf("%s %q: %v %q %q, want %s with note %q", p.Name, w.word, v, msg, note, w.value, wantNote)
			}
		}
	}
	for _, tt := range []struct {
		prop, text, want string // want "" for no suggestion
	}{
		{"enrollmentMode", "corporateOwnedDedicatedDevise", profile.ModeDedicated},
		{"enrollmentMode", "corporateOwnedDedicatdDevice", profile.ModeDedicated},
		{"enrollmentMode", "corporatOwnedFulyManaged", profile.ModeFullyManaged},
		{"enrollmentMode", "Corporate-owned, userles devices", profile.ModeAOSPUserless},
		{"enrollmentMode", "dedicted", profile.ModeDedicated},
		{"enrollmentMode", "work profile", ""},
		{"enrollmentMode", "kiosk", ""},
		{"enrollmentTokenType", "defualt", "default"},
		{"enrollmentTokenType", "device stageing", profile.TokenStaging},
		{"enrollmentTokenType", "shared", ""},
		{"wifiSecurityType", "wpq", "wpa"},
		{"wifiSecurityType", "wap", ""}, // as near wep as wpa
		{"wifiSecurityType", "WPA3", ""},
		{"wifiSecurityType", "WPA3-SAE", ""},
		{"wifiSecurityType", "nome", "none"},
		{"wifiSecurityType", strings.Repeat("x", 5000), ""},
	} {
		p, _ := profile.Lookup(tt.prop)
		v, msg, _ := convertEnum(p, tt.text)
		suggestion := ""
		if i := strings.Index(msg, "; did you mean "); i >= 0 {
			suggestion = strings.TrimSuffix(msg[i+len("; did you mean "):], "?")
		}
		if v != nil || !strings.Contains(msg, "is not one of "+strings.Join(p.Values, ", ")) || suggestion != tt.want {
			t.Errorf("%s %.20q: %v %q, want the values and the suggestion %q", tt.prop, tt.text, v, msg, tt.want)
		}
	}
}
