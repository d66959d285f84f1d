package batch

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// seedTenant puts three AOSP profiles with Wi-Fi in the tenant.
func seedTenant(s *sim.Server) map[string]profile.Profile {
	ps := s.SeedProfiles(
		profile.Profile{DisplayName: "Dock 1", Description: "north", RoleScopeTagIDs: []string{"0", "5"},
			EnrollmentMode: "corporateOwnedAOSPUserlessDevice", ConfigureWifi: true, WifiSsid: "DOCK", WifiSecurityType: "wpa"},
		profile.Profile{DisplayName: "Dock 2", Description: "south", EnrollmentMode: "corporateOwnedAOSPUserlessDevice",
			ConfigureWifi: true, WifiSsid: "DOCK", WifiSecurityType: "wpa"},
		profile.Profile{DisplayName: "Dock 3", Description: "east"},
	)
	m := map[string]profile.Profile{}
	for _, p := range ps {
		m[p.DisplayName] = p
	}
	return m
}

func row(line int, body map[string]any) input.Row {
	name := body["displayName"].(string)
	desc, _ := body["description"].(string)
	return input.Row{Line: line, DisplayName: name, Description: desc, Body: body}
}

// editedSheet: Dock 1 gets a new description and scope tags (no payload
// change), Dock 2 a new SSID and password (payload change), Dock 3 is as in
// the tenant, Dock 4 is new.
func editedSheet() []input.Row {
	return []input.Row{
		row(2, map[string]any{"displayName": "Dock 1", "description": "north gate", "roleScopeTagIds": []string{"5", "0", "9"},
			"enrollmentMode": "corporateOwnedAOSPUserlessDevice", "configureWifi": true, "wifiSsid": "DOCK", "wifiSecurityType": "wpa", "wifiPassword": "pw-same"}),
		row(3, map[string]any{"displayName": "Dock 2", "description": "south", "configureWifi": true, "wifiSsid": "DOCK-5G", "wifiPassword": "pw-new"}),
		row(4, map[string]any{"displayName": "Dock 3", "description": " east "}),
		row(5, map[string]any{"displayName": "Dock 4"}),
	}
}

func TestUpdatePatchesExactlyTheChangedProperties(t *testing.T) {
	s, job := setup(t, sim.Options{})
	before := seedTenant(s)
	job.OnExists = Update
	rs, err := job.Run(context.Background(), editedSheet())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status  results.Status
		changes []string
	}{
		{results.Updated, []string{"description: north → north gate", "roleScopeTagIds: 0, 5 → 5, 0, 9"}},
		{results.Updated, []string{"wifiSsid: DOCK → DOCK-5G", "wifiPassword: (changed)", StaleNote}},
		{results.Exists, nil},
		{results.Created, nil},
	}
	for i, w := range want {
		if rs[i].Status != w.status || !slices.Equal(rs[i].Changes, w.changes) {
			t.Errorf("%s: %s %q, want %s %q (%s)", rs[i].DisplayName, rs[i].Status, rs[i].Changes, w.status, w.changes, rs[i].ErrorMessage)
		}
	}
	patches := s.Patches()
	if len(patches) != 2 {
		t.Fatalf("%d PATCHes, want 2: %+v", len(patches), patches)
	}
	bodies := map[string]map[string]any{}
	for _, p := range patches {
		bodies[p.ID] = p.Body
	}
	keys := func(m map[string]any) []string {
		var k []string
		for n := range m {
			if n != "@odata.type" {
				k = append(k, n)
			}
		}
		slices.Sort(k)
		return k
	}
	if got := keys(bodies[before["Dock 1"].ID]); !slices.Equal(got, []string{"description", "roleScopeTagIds"}) {
		t.Errorf("Dock 1 PATCH sent %v", got)
	}
	if got := keys(bodies[before["Dock 2"].ID]); !slices.Equal(got, []string{"wifiPassword", "wifiSsid"}) {
		t.Errorf("Dock 2 PATCH sent %v", got)
	}
	if pw, _ := s.WifiPassword(before["Dock 1"].ID); pw != "" {
		t.Errorf("Dock 1's password was sent although no Wi-Fi setting changed")
	}
	// The payload change: content read back, marked as replacing, and it
	// carries the new network.
	d2 := rs[1]
	p2, _ := s.Profile(d2.ID)
	if !d2.Replaces || d2.QRCodeContent != p2.QRCodeContent || !strings.Contains(d2.QRCodeContent, "DOCK-5G") || !d2.Printable() {
		t.Errorf("Dock 2: replaces %v, content %q", d2.Replaces, d2.QRCodeContent)
	}
	if rs[0].Replaces || rs[0].QRCodeContent != "" {
		t.Errorf("Dock 1 has no payload change but replaces=%v content=%q", rs[0].Replaces, rs[0].QRCodeContent)
	}
	if p1, _ := s.Profile(before["Dock 1"].ID); p1.Description != "north gate" || p1.TokenValue != before["Dock 1"].TokenValue {
		t.Errorf("Dock 1 in the tenant: %+v", p1)
	}
	if s.Stats().Creates != 1 {
		t.Errorf("%d creates, want 1", s.Stats().Creates)
	}
	if got := results.PlanOf(rs).Done(); got != "1 created, 2 updated, 1 unchanged, 0 invalid" {
		t.Errorf("done: %q", got)
	}

	// The same sheet again: nothing left to change, except the password
	// that is only sent with UpdateSecrets.
	rs, err = job.Run(context.Background(), editedSheet())
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Exists] != 4 || len(s.Patches()) != 2 {
		t.Errorf("second run: %v, %d PATCHes in all", c, len(s.Patches()))
	}
	job.UpdateSecrets = true
	rs, _ = job.Run(context.Background(), editedSheet())
	if rs[0].Status != results.Updated || !slices.Equal(rs[0].Changes, []string{"wifiPassword: (changed)", StaleNote}) {
		t.Errorf("with UpdateSecrets: %s %q", rs[0].Status, rs[0].Changes)
	}
	if pw, _ := s.WifiPassword(before["Dock 1"].ID); pw != "pw-same" {
		t.Errorf("UpdateSecrets did not send Dock 1's password")
	}
}

func TestDryRunIsAPlan(t *testing.T) {
	s, job := setup(t, sim.Options{})
	seedTenant(s)
	job.OnExists, job.DryRun = Update, true
	rs, err := job.Run(context.Background(), append(editedSheet(), input.Row{Line: 6, Problems: []input.Problem{{Message: "bad"}}}))
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Patches != 0 || st.Posts != 0 || st.Deletes != 0 {
		t.Fatalf("a dry run changed the tenant: %+v", st)
	}
	wantStatus := []results.Status{results.Planned, results.Planned, results.Exists, results.Planned, results.Invalid}
	for i, w := range wantStatus {
		if rs[i].Status != w {
			t.Errorf("row %d: %s, want %s", rs[i].Row, rs[i].Status, w)
		}
	}
	if len(rs[0].Changes) != 2 || len(rs[1].Changes) != 3 || len(rs[3].Changes) != 0 {
		t.Errorf("plan changes: %q / %q / %q", rs[0].Changes, rs[1].Changes, rs[3].Changes)
	}
	if got := results.PlanOf(rs).String(); got != "1 to create, 2 to update, 1 unchanged, 1 invalid" {
		t.Errorf("plan: %q", got)
	}
}

func TestSkipNotesDifferences(t *testing.T) {
	s, job := setup(t, sim.Options{})
	seedTenant(s)
	rs, err := job.Run(context.Background(), editedSheet()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Exists || len(rs[0].Changes) != 0 || len(rs[0].Notes) != 1 || !strings.Contains(rs[0].Notes[0], "--on-exists update") {
		t.Errorf("skip: %s changes %q notes %q", rs[0].Status, rs[0].Changes, rs[0].Notes)
	}
	if len(s.Patches()) != 0 {
		t.Error("skip patched")
	}
}

func TestUpdateFailuresAndRetries(t *testing.T) {
	cases := []struct {
		name    string
		faults  []sim.Fault
		status  results.Status
		code    string
		patches int
	}{
		{"refused", []sim.Fault{{Op: sim.OpPatch, Status: 400, Code: "BadRequest", Message: "Property 'x' is invalid."}}, results.Failed, "BadRequest", 1},
		{"throttled then done", []sim.Fault{{Op: sim.OpPatch, Status: 429, RetryAfter: "0.01"}}, results.Updated, "", 2},
		{"503 and 504 then done", []sim.Fault{{Op: sim.OpPatch, Status: 503}, {Op: sim.OpPatch, Status: 504}}, results.Updated, "", 3},
		{"lost answer then done", []sim.Fault{{Op: sim.OpPatch, Drop: true}}, results.Updated, "", 2},
		{"always unavailable", []sim.Fault{{Op: sim.OpPatch, Status: 503, Count: -1}}, results.Failed, "ServiceUnavailable", 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, job := setup(t, sim.Options{})
			seedTenant(s)
			job.OnExists = Update
			s.Inject(tc.faults...)
			rs, err := job.Run(context.Background(), editedSheet()[:1])
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.Status != tc.status || r.ErrorCode != tc.code {
				t.Errorf("%s %q %q, want %s %q", r.Status, r.ErrorCode, r.ErrorMessage, tc.status, tc.code)
			}
			if tc.status == results.Failed && (r.RequestID == "" || r.HTTPStatus == 0 || r.ErrorMessage == "") {
				t.Errorf("failed update lacks the service's facts: %+v", r)
			}
			if n := s.Stats().Patches; n != tc.patches {
				t.Errorf("%d PATCHes, want %d", n, tc.patches)
			}
		})
	}
}

func TestUpdateThenRenew(t *testing.T) {
	s, job := setup(t, sim.Options{})
	p := s.SeedProfiles(profile.Profile{DisplayName: "Dock 9", Description: "old",
		TokenExpirationDateTime: time.Now().Add(48 * time.Hour)})[0]
	job.OnExists, job.RenewWithin = Update, 7*24*time.Hour
	rs, err := job.Run(context.Background(), []input.Row{row(2, map[string]any{"displayName": "Dock 9", "description": "new"})})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	got, _ := s.Profile(p.ID)
	if r.Status != results.Updated || got.Description != "new" || got.TokenValue == p.TokenValue || !r.Replaces ||
		r.QRCodeContent != got.QRCodeContent || !r.TokenExpiration.After(p.TokenExpirationDateTime) {
		t.Errorf("update then renew: %s replaces=%v notes=%q, tenant %+v", r.Status, r.Replaces, r.Notes, got)
	}
	if st := s.Stats(); st.Patches != 1 || st.CreateTokens != 1 {
		t.Errorf("%d patches, %d createToken", st.Patches, st.CreateTokens)
	}
}
