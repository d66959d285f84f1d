package profile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeCarriesOn(t *testing.T) {
	tests := []struct {
		name       string
		json       string
		want       Profile
		unreadable []string // prefixes of Unreadable entries
		known      bool
	}{
		{"documented", `{"id":"a","displayName":"D","enrollmentMode":"corporateOwnedAOSPUserlessDevice","enrollmentTokenType":"default","enrolledDeviceCount":3,"configureWifi":true,"roleScopeTagIds":["0"]}`,
			Profile{ID: "a", DisplayName: "D", EnrollmentMode: "corporateOwnedAOSPUserlessDevice", EnrollmentTokenType: "default", EnrolledDeviceCount: 3, ConfigureWifi: true, RoleScopeTagIDs: []string{"0"}}, nil, true},
		{"mode as a number", `{"id":"a","enrollmentMode":5}`, Profile{ID: "a", EnrollmentMode: "5"}, nil, false},
		{"mode by its number as text", `{"id":"a","enrollmentMode":"5"}`, Profile{ID: "a", EnrollmentMode: "5"}, nil, false},
		{"future mode", `{"id":"a","enrollmentMode":"corporateOwnedFutureDevice"}`, Profile{ID: "a", EnrollmentMode: "corporateOwnedFutureDevice"}, nil, false},
		{"future token type", `{"id":"a","enrollmentTokenType":"futureTokenType"}`, Profile{ID: "a", EnrollmentTokenType: "futureTokenType"}, nil, false},
		{"nulls", `{"id":"a","displayName":null,"tokenExpirationDateTime":null,"qrCodeImage":null,"configureWifi":null}`, Profile{ID: "a"}, nil, true},
		{"timestamp without offset", `{"id":"a","tokenExpirationDateTime":"2027-03-31T08:00:00.5"}`,
			Profile{ID: "a", TokenExpirationDateTime: time.Date(2027, 3, 31, 8, 0, 0, 5e8, time.UTC)}, nil, true},
		{"wrong types", `{"id":"a","displayName":"D","enrolledDeviceCount":"many","wifiHidden":"yes","tokenExpirationDateTime":"soon","roleScopeTagIds":"0","qrCodeImage":{"type":"image/png","value":"%%%"}}`,
			Profile{ID: "a", DisplayName: "D"}, []string{"enrolledDeviceCount", "qrCodeImage", "roleScopeTagIds", "tokenExpirationDateTime", "wifiHidden"}, true},
		{"unknown members", `{"id":"a","@odata.type":"#x","wifiPassword":"secret","newProperty":{"x":1}}`, Profile{ID: "a"}, nil, true},
		{"wrapped in value", `{"value":{"id":"a","displayName":"D"}}`, Profile{ID: "a", DisplayName: "D"}, nil, true},
		{"image", `{"id":"a","qrCodeImage":{"@odata.type":"microsoft.graph.mimeContent","type":"image/png","value":"dmFsdWU="}}`,
			Profile{ID: "a", QRCodeImage: &MimeContent{Type: "image/png", Value: []byte("value")}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Profile
			if err := json.Unmarshal([]byte(tt.json), &p); err != nil {
				t.Fatal(err)
			}
			got := p.Unreadable
			p.Unreadable = nil
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("got %+v\nwant %+v", p, tt.want)
			}
			if len(got) != len(tt.unreadable) {
				t.Fatalf("unreadable %q, want %q", got, tt.unreadable)
			}
			for _, prefix := range tt.unreadable {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, prefix+": ")
				}
				if !found {
					t.Errorf("unreadable %q lacks %s", got, prefix)
				}
			}
			if known, why := p.Known(); known != tt.known || known == (why != "") {
				t.Errorf("Known() = %v, %q; want %v", known, why, tt.known)
			}
		})
	}
	var p Profile
	if err := json.Unmarshal([]byte(`[1,2]`), &p); err == nil {
		t.Error("an array decoded as a profile")
	}
}

func TestTokenLimits(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		mode   string
		latest time.Time
		source string
	}{
		{"", time.Date(2091, 12, 1, 12, 0, 0, 0, time.UTC), PageDedicated},
		{ModeDedicated, time.Date(2091, 12, 1, 12, 0, 0, 0, time.UTC), PageDedicated},
		{ModeFullyManaged, time.Date(2091, 12, 1, 12, 0, 0, 0, time.UTC), PageFullyManaged},
		{ModeWorkProfile, time.Date(2091, 12, 1, 12, 0, 0, 0, time.UTC), PageWorkProfile},
		{ModeAOSPAssociated, time.Date(2091, 12, 1, 12, 0, 0, 0, time.UTC), PageAOSPAssociate},
		{ModeAOSPUserless, time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), PageAOSPUserless},
		{"5", time.Date(2091, 12, 1, 12, 0, 0, 0, time.UTC), PageDedicated},
	}
	for _, tt := range tests {
		l := TokenLimitFor(tt.mode)
		if !l.Latest(now).Equal(tt.latest) || l.Source != tt.source {
			t.Errorf("%q: latest %v from %s, want %v from %s", tt.mode, l.Latest(now), l.Source, tt.latest, tt.source)
		}
		if got, want := MaxTokenValidity(tt.mode, now), tt.latest.Sub(now); got != want || got/time.Second > 1<<31-1 {
			t.Errorf("%q: max validity %v, want %v within Int32 seconds", tt.mode, got, want)
		}
	}
}

// FuzzDecode checks that any JSON object decodes without failing, and
// that re-encoding a decoded profile and decoding it again gives the same
// profile.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","enrollmentMode":5,"tokenExpirationDateTime":"2027-03-31T08:00:00.5"}`,
		`{"value":{"id":"a","qrCodeImage":{"type":"image/png","value":"dmFsdWU="}}}`,
		`{"enrolledDeviceCount":1e40,"roleScopeTagIds":[1,null],"wifiHidden":"yes"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		isObject := json.Unmarshal(data, &m) == nil && m != nil
		var p Profile
		err := json.Unmarshal(data, &p)
		if isObject && err != nil {
			t.Fatalf("an object failed to decode: %v", err)
		}
		if err != nil {
			return
		}
		p.Unreadable = nil
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q Profile
		if err := json.Unmarshal(again, &q); err != nil || len(q.Unreadable) > 0 {
			t.Fatalf("re-decode: %v %q", err, q.Unreadable)
		}
		if !q.TokenExpirationDateTime.Equal(p.TokenExpirationDateTime) || q.ID != p.ID || q.EnrollmentMode != p.EnrollmentMode {
			t.Fatalf("round trip changed the profile: %+v -> %+v", p, q)
		}
	})
}
