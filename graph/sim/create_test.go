package sim_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

var (
	guidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tokenRE = regexp.MustCompile(`^([0-9]{20}|[0-9]{8})$`)
)

func TestCreate(t *testing.T) {
	tests := []struct {
		file        string
		maxContent  int    // longest qrCodeContent expected
		wantInQR    string // a provisioning key the content must carry
		wantExpires bool   // the body sets tokenExpirationDateTime
	}{
		{"full.json", 700, "PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED", true},
		{"minimal.json", 700, "PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM", false},
		{"wifi.json", 900, "PROVISIONING_WIFI_SSID", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e := start(t, sim.Options{})
			body := readFile(t, filepath.Join("testdata", "create", tt.file))
			var sent map[string]any
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatal(err)
			}
			r := e.do(http.MethodPost, e.coll, "", body)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.header.Get("request-id") == "" || r.header.Get("client-request-id") != "c0ffee00-0000-4000-8000-000000000000" {
				t.Errorf("request-id %q, client-request-id %q", r.header.Get("request-id"), r.header.Get("client-request-id"))
			}
			m := r.json(t)
			var p profile.Profile
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatalf("201 does not decode into profile.Profile: %v", err)
			}
			now := e.clock.Now()
			if !guidRE.MatchString(p.ID) {
				t.Errorf("id %q is not a GUID", p.ID)
			}
			if !p.CreatedDateTime.Equal(now) || !p.LastModifiedDateTime.Equal(now) || !p.TokenCreationDateTime.Equal(now) {
				t.Errorf("timestamps %v %v %v, want the clock's %v", p.CreatedDateTime, p.LastModifiedDateTime, p.TokenCreationDateTime, now)
			}
			wantExp := now.Add(90 * 24 * time.Hour)
			if tt.wantExpires {
				wantExp, _ = time.Parse(time.RFC3339, sent["tokenExpirationDateTime"].(string))
			}
			if !p.TokenExpirationDateTime.Equal(wantExp) {
				t.Errorf("tokenExpirationDateTime %v, want %v", p.TokenExpirationDateTime, wantExp)
			}
			if !tokenRE.MatchString(p.TokenValue) {
				t.Errorf("tokenValue %q is not a token of the documented shape", p.TokenValue)
			}
			for k, v := range sent {
				if k == "@odata.type" || k == "wifiPassword" {
					continue
				}
				if !reflect.DeepEqual(m[k], v) && k != "tokenExpirationDateTime" {
					t.Errorf("%s: sent %v, returned %v", k, v, m[k])
				}
			}
			if m["wifiPassword"] != nil {
				t.Errorf("wifiPassword returned: %v", m["wifiPassword"])
			}
			c := p.QRCodeContent
			if len(c) < 500 || len(c) > tt.maxContent {
				t.Errorf("qrCodeContent is %d bytes, want 500 to %d", len(c), tt.maxContent)
			}
			if token(t, c) != p.TokenValue {
				t.Errorf("qrCodeContent token %q, tokenValue %q", token(t, c), p.TokenValue)
			}
			for _, k := range []string{tt.wantInQR, "com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver", "https://play.google.com/managed/downloadManagingApp?identifier=setup"} {
				if !strings.Contains(c, k) {
					t.Errorf("qrCodeContent lacks %s: %s", k, c)
				}
			}
			if got := decodeQR(t, image(t, m)); got != c {
				t.Errorf("qrCodeImage decodes to %q, want the qrCodeContent %q", got, c)
			}
			if loc := r.header.Get("Location"); loc != e.coll+"/"+p.ID {
				t.Errorf("Location %q", loc)
			}
			if !reflect.DeepEqual(e.sim.LastBody(), sent) {
				t.Errorf("LastBody %v, sent %v", e.sim.LastBody(), sent)
			}
			ps := e.sim.Profiles()
			if len(ps) != 1 || ps[0].ID != p.ID || ps[0].QRCodeContent != c {
				t.Errorf("Profiles() = %+v, want the created profile", ps)
			}
			if st := e.sim.Stats(); st.Created != 1 || st.Creates != 1 || st.Posts != 1 || st.Status[201] != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestCreateInvalid(t *testing.T) {
	tests := []struct {
		file    string
		status  int
		mention string // what the message must name
		wrapped bool   // Intune's JSON document inside error.message
	}{
		{"unknown-property.json", 400, "colour", false},
		{"int-as-string.json", 400, "Edm.Int32", false},
		{"int-fraction.json", 400, "Edm.Int32", false},
		{"string-as-array.json", 400, "StartArray", false},
		{"bool-as-string.json", 400, "Edm.Boolean", false},
		{"bad-date.json", 400, "Edm.DateTimeOffset", false},
		{"bad-guid.json", 400, "Edm.Guid", false},
		{"list-as-string.json", 400, "roleScopeTagIds", false},
		{"list-with-null.json", 400, "roleScopeTagIds", false},
		{"bad-enum.json", 400, "wpa3", false},
		{"read-only-id.json", 400, "'id' is read-only", true},
		{"read-only-created.json", 400, "'createdDateTime' is read-only", true},
		{"read-only-modified.json", 400, "'lastModifiedDateTime' is read-only", true},
		{"missing-display-name.json", 400, "displayName", true},
		{"blank-display-name.json", 400, "displayName", true},
		{"wrong-odata-type.json", 400, "iosLobApp", false},
		{"array-body.json", 400, "StartObject", false},
		{"truncated.json", 400, "Invalid JSON", false},
		{"empty.json", 400, "Empty Payload", false},
	}
	e := start(t, sim.Options{})
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := e.do(http.MethodPost, e.coll, "", readFile(t, filepath.Join("testdata", "invalid", tt.file)))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			code, msg := r.graphError(t)
			if code != "BadRequest" {
				t.Errorf("code %q", code)
			}
			if tt.wrapped {
				var inner map[string]any
				if err := json.Unmarshal([]byte(msg), &inner); err != nil {
					t.Fatalf("message is not Intune's JSON document: %v: %s", err, msg)
				}
				if inner["_version"] != float64(3) || !strings.HasPrefix(inner["Message"].(string), "An error has occurred - Operation ID") {
					t.Errorf("wrapped message %v", inner)
				}
			}
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("message %q does not name %q", msg, tt.mention)
			}
		})
	}
	if ps := e.sim.Profiles(); len(ps) != 0 {
		t.Errorf("invalid bodies created %d profiles", len(ps))
	}
	if st := e.sim.Stats(); st.Status[400] != len(tests) || st.Created != 0 {
		t.Errorf("stats %+v, want %d answers 400 and nothing created", st, len(tests))
	}
}

func TestCreateBodyTooLarge(t *testing.T) {
	e := start(t, sim.Options{})
	big := `{"displayName":"A","description":"` + strings.Repeat("x", sim.MaxBody) + `"}`
	r := e.post(big)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", r.status)
	}
	r.graphError(t)
}

func TestDuplicateNamesAreCreated(t *testing.T) {
	e := start(t, sim.Options{OmitImage: true})
	e.sim.Seed("Front Desk")
	names := []string{"Front Desk", "front desk ", "Back Office"}
	for _, n := range names {
		b, _ := json.Marshal(map[string]string{"displayName": n})
		if r := e.post(string(b)); r.status != http.StatusCreated {
			t.Fatalf("%q: status %d", n, r.status)
		}
	}
	st := e.sim.Stats()
	if st.Created != len(names) || st.Duplicates != 2 {
		t.Errorf("Created %d, Duplicates %d; want %d and 2", st.Created, st.Duplicates, len(names))
	}
	if got := e.sim.Named("FRONT DESK"); len(got) != 3 {
		t.Errorf("Named found %d profiles, want 3", len(got))
	}
	if got := len(e.sim.Profiles()); got != len(names)+1 {
		t.Errorf("tenant holds %d profiles, want %d", got, len(names)+1)
	}
}
