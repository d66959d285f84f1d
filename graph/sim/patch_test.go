package sim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

func TestPatchChangesOnlyWhatItSends(t *testing.T) {
	e := start(t, sim.Options{})
	seeded := e.sim.SeedProfiles(profile.Profile{
		DisplayName: "Leeds Scanners", Description: "old", RoleScopeTagIDs: []string{"0", "7"},
		EnrollmentMode: "corporateOwnedAOSPUserlessDevice", ConfigureWifi: true, WifiSsid: "LEEDS", WifiSecurityType: "wpa",
	})[0]
	e.clock.Advance(1000e9)
	r := e.do(http.MethodPatch, e.coll+"/"+seeded.ID, "", []byte(`{"@odata.type":"#microsoft.graph.androidDeviceOwnerEnrollmentProfile","description":"new","wifiSsid":"LEEDS-2","wifiPassword":"s3cret"}`))
	if r.status != http.StatusOK {
		t.Fatalf("PATCH answered %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["description"] != "new" || m["wifiSsid"] != "LEEDS-2" || m["displayName"] != "Leeds Scanners" {
		t.Errorf("200 body does not carry the updated profile: %v", m)
	}
	if m["wifiPassword"] != nil {
		t.Errorf("the answer carries wifiPassword %v; it is write-only", m["wifiPassword"])
	}
	got, _ := e.sim.Profile(seeded.ID)
	if got.Description != "new" || got.WifiSsid != "LEEDS-2" || got.WifiSecurityType != "wpa" ||
		strings.Join(got.RoleScopeTagIDs, ",") != "0,7" || got.TokenValue != seeded.TokenValue {
		t.Errorf("stored profile after PATCH: %+v", got)
	}
	if !got.LastModifiedDateTime.After(seeded.LastModifiedDateTime) {
		t.Errorf("lastModifiedDateTime not moved: %v", got.LastModifiedDateTime)
	}
	if pw, _ := e.sim.WifiPassword(seeded.ID); pw != "s3cret" {
		t.Errorf("stored password %q", pw)
	}
	if !strings.Contains(got.QRCodeContent, `"LEEDS-2"`) || !strings.Contains(got.QRCodeContent, `"s3cret"`) {
		t.Errorf("QR content does not follow the new Wi-Fi settings: %s", got.QRCodeContent)
	}
	ps := e.sim.Patches()
	if len(ps) != 1 || ps[0].ID != seeded.ID || ps[0].Body["description"] != "new" {
		t.Errorf("Patches() = %+v", ps)
	}
	if st := e.sim.Stats(); st.Patches != 1 {
		t.Errorf("Stats.Patches = %d", st.Patches)
	}
}

func TestPatchRenameIsFoundByTheNewName(t *testing.T) {
	e := start(t, sim.Options{})
	p := e.sim.Seed("Old Name")[0]
	if r := e.do(http.MethodPatch, e.coll+"/"+p.ID, "", []byte(`{"displayName":"New Name"}`)); r.status != 200 {
		t.Fatalf("rename answered %d: %s", r.status, r.body)
	}
	if n := len(e.sim.Named("new name")); n != 1 {
		t.Errorf("%d profiles named New Name", n)
	}
	body := e.get(e.coll + "?$filter=" + "displayName%20eq%20'New%20Name'").json(t)
	if v := body["value"].([]any); len(v) != 1 {
		t.Errorf("filter by the new name found %d", len(v))
	}
	body = e.get(e.coll + "?$filter=" + "displayName%20eq%20'Old%20Name'").json(t)
	if v := body["value"].([]any); len(v) != 0 {
		t.Errorf("filter by the old name found %d", len(v))
	}
}

func TestPatchRefusals(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"read-only id", `{"id":"x"}`, 400, "read-only"},
		{"read-only createdDateTime", `{"createdDateTime":"2020-01-01T00:00:00Z"}`, 400, "read-only"},
		{"service-set count of the wrong type", `{"enrolledDeviceCount":"three"}`, 400, "Edm.Int32"},
		{"unknown property", `{"colour":"red"}`, 400, "does not exist"},
		{"wrong type", `{"wifiHidden":"yes"}`, 400, "Edm.Boolean"},
		{"bad enum", `{"wifiSecurityType":"wpa3"}`, 400, "was not found"},
		{"empty name", `{"displayName":"  "}`, 400, "displayName"},
		{"not an object", `[1]`, 400, "StartObject"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, sim.Options{})
			p := e.sim.Seed("Dock")[0]
			r := e.do(http.MethodPatch, e.coll+"/"+p.ID, "", []byte(tc.body))
			if r.status != tc.status {
				t.Fatalf("answered %d, want %d: %s", r.status, tc.status, r.body)
			}
			if _, msg := r.graphError(t); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q lacks %q", msg, tc.msg)
			}
			if got, _ := e.sim.Profile(p.ID); got.DisplayName != "Dock" || !got.LastModifiedDateTime.Equal(p.LastModifiedDateTime) {
				t.Errorf("a refused PATCH changed the profile: %+v", got)
			}
		})
	}
	e := start(t, sim.Options{})
	if r := e.do(http.MethodPatch, e.coll+"/00000000-0000-4000-8000-000000000000", "", []byte(`{"description":"x"}`)); r.status != 404 {
		t.Errorf("PATCH of an unknown id answered %d", r.status)
	}
}

func TestDeleteAndEnrolledDeviceCount(t *testing.T) {
	e := start(t, sim.Options{})
	p := e.sim.Seed("Till 1")[0]
	if !e.sim.SetEnrolledDeviceCount(p.ID, 12) {
		t.Fatal("SetEnrolledDeviceCount found no profile")
	}
	if m := e.get(e.coll + "/" + p.ID).json(t); m["enrolledDeviceCount"] != float64(12) {
		t.Errorf("enrolledDeviceCount %v, want 12", m["enrolledDeviceCount"])
	}
	if r := e.do(http.MethodDelete, e.coll+"/"+p.ID, "", nil); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE answered %d %q, want 204 without a body", r.status, r.body)
	}
	if r := e.do(http.MethodDelete, e.coll+"/"+p.ID, "", nil); r.status != http.StatusNotFound {
		t.Errorf("second DELETE answered %d, want 404", r.status)
	}
	if e.sim.SetEnrolledDeviceCount(p.ID, 1) {
		t.Error("SetEnrolledDeviceCount accepted a deleted profile")
	}
}

// TestPatchIgnoresServiceSet checks that the service-set properties the
// documented update example sends are accepted and left as the service
// has them.
func TestPatchIgnoresServiceSet(t *testing.T) {
	for _, body := range []string{`{"tokenValue":"ABC"}`, `{"enrolledDeviceCount":3}`, `{"qrCodeContent":"x"}`, `{"enrollmentTokenUsageCount":9}`, `{"tokenCreationDateTime":"2020-01-01T00:00:00Z"}`} {
		t.Run(body, func(t *testing.T) {
			e := start(t, sim.Options{})
			p := e.sim.Seed("Dock")[0]
			r := e.do(http.MethodPatch, e.coll+"/"+p.ID, "", []byte(body))
			if r.status != http.StatusOK {
				t.Fatalf("answered %d, want 200: %s", r.status, r.body)
			}
			got, _ := e.sim.Profile(p.ID)
			if got.TokenValue != p.TokenValue || got.EnrolledDeviceCount != 0 || got.EnrollmentTokenUsageCnt != 0 || !got.TokenCreationDateTime.Equal(p.TokenCreationDateTime) {
				t.Errorf("the service's values changed: %+v", got)
			}
		})
	}
}
