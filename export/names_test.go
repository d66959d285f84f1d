package export

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

func simClient(t *testing.T, o sim.Options) (*sim.Server, *graph.Client) {
	t.Helper()
	o.OmitImage = true
	s := sim.New(o)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	p := ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})
	return s, &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: p, MaxRetries: 2}
}

func owned(id, name string) sim.Group {
	return sim.Group{ID: id, DisplayName: name, SecurityEnabled: true, Owners: []sim.Owner{sim.IntuneProvisioningClient()}}
}

func TestExportWritesNames(t *testing.T) {
	s, c := simClient(t, sim.Options{})
	s.SeedTenant(sim.Tenant{
		ScopeTags: []sim.ScopeTag{{ID: "14", DisplayName: "Leeds"}, {ID: "15", DisplayName: "Twin"}, {ID: "16", DisplayName: "twin"},
			{ID: "17", DisplayName: "2024"}, {ID: "18", DisplayName: "North, East"}},
		Groups: []sim.Group{owned("11111111-1111-4111-8111-111111111111", "Leeds Scanners"),
			owned("22222222-2222-4222-8222-222222222222", "Dock"), owned("33333333-3333-4333-8333-333333333333", "DOCK"),
			owned("44444444-4444-4444-8444-444444444444", "None")},
	})
	ps := s.SeedProfiles(
		profile.Profile{DisplayName: "A", RoleScopeTagIDs: []string{"0", "14"}},
		profile.Profile{DisplayName: "B", RoleScopeTagIDs: []string{"15", "17", "18", "99"}},
		profile.Profile{DisplayName: "C"},
		profile.Profile{DisplayName: "D", EnrollmentMode: profile.ModeFullyManaged},
		profile.Profile{DisplayName: "E", EnrollmentMode: profile.ModeAOSPUserless},
		profile.Profile{DisplayName: "F", EnrollmentMode: profile.ModeWorkProfile, EnrollmentTokenType: profile.TokenStaging},
	)
	ctx := context.Background()
	for pid, gid := range map[string]string{ps[0].ID: "11111111-1111-4111-8111-111111111111", ps[1].ID: "22222222-2222-4222-8222-222222222222",
		ps[3].ID: "44444444-4444-4444-8444-444444444444"} {
		if err := c.SetDeviceGroup(ctx, pid, gid); err != nil {
			t.Fatal(err)
		}
	}
	before := s.Stats()
	var warnings []string
	n, err := FetchNames(ctx, c, ps, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	// One tag listing; a read-back for each profile whose mode has a group.
	if st.ScopeTagReads-before.ScopeTagReads != 1 || st.RetrieveTargets-before.RetrieveTargets != 4 {
		t.Errorf("%d tag reads, %d read-backs", st.ScopeTagReads-before.ScopeTagReads, st.RetrieveTargets-before.RetrieveTargets)
	}
	want := map[string][2]any{
		"A": {"0, Leeds", "Leeds Scanners"},
		"B": {"15, 17, 18, 99", "22222222-2222-4222-8222-222222222222"},
		"C": {"0", nil}, // the service puts Default on a profile created without tags
		"D": {"0", "44444444-4444-4444-8444-444444444444"},
		"E": {"0", nil},
		"F": {"0", nil},
	}
	for _, p := range ps {
		w := want[p.DisplayName]
		if got := n.cell(p, "roleScopeTagIds"); got != w[0] {
			t.Errorf("%s roleScopeTagIds %#v, want %#v", p.DisplayName, got, w[0])
		}
		if got := n.cell(p, input.DeviceGroupColumn); got != w[1] {
			t.Errorf("%s deviceGroup %#v, want %#v", p.DisplayName, got, w[1])
		}
	}
	all := strings.Join(warnings, "\n")
	for _, w := range []string{
		`scope tag "Twin" (id 15) is written as its id, since 2 scope tags of this tenant have its name`,
		`scope tag "2024" (id 17) is written as its id, since its name is a number`,
		`scope tag "North, East" (id 18) is written as its id, since its name holds a separator`,
		`scope tag id 99 (profile "B") is not among the tenant's scope tags`,
		`device group "Dock" (id 22222222-2222-4222-8222-222222222222) is written as its id, since 2 groups have its name`,
		`device group "None" (id 44444444-4444-4444-8444-444444444444) is written as its id, since its name reads as none`,
	} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
		}
	}

	// The file holds them, and the reader takes it.
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := WriteNamed(path, Format{}, ps, n); err != nil {
		t.Fatal(err)
	}
	f, err := input.Read(path, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows[0].DeviceGroup != "Leeds Scanners" || !slices.Equal(f.Rows[0].Body["roleScopeTagIds"].([]string), []string{"0", "Leeds"}) {
		t.Errorf("row A read back: %q %v", f.Rows[0].DeviceGroup, f.Rows[0].Body)
	}
	if h := Headers(); h[len(h)-2] != input.DeviceGroupColumn || h[len(h)-1] != IDColumn {
		t.Errorf("headers %q", h)
	}
}

// Profiles with only the Default tag need no listing of the tags.
func TestExportDefaultTagNeedsNoListing(t *testing.T) {
	s, c := simClient(t, sim.Options{Granted: []string{"DeviceManagementConfiguration.Read.All"}})
	ps := s.SeedProfiles(profile.Profile{DisplayName: "A", RoleScopeTagIDs: []string{"0"}, EnrollmentMode: profile.ModeAOSPUserless})
	n, err := FetchNames(context.Background(), c, ps, func(string) {})
	if err != nil || n.cell(ps[0], "roleScopeTagIds") != "0" || s.Stats().ScopeTagReads != 0 {
		t.Errorf("%v %#v, %d reads", err, n.cell(ps[0], "roleScopeTagIds"), s.Stats().ScopeTagReads)
	}
}

// Tags that cannot be read stop the export (an id is another tenant's
// other tag); groups that cannot be read are written as ids (no other
// tenant has them), with a warning naming the permission.
func TestExportPermissions(t *testing.T) {
	ctx := context.Background()
	s, c := simClient(t, sim.Options{Granted: []string{graph.PermissionGroups}})
	ps := s.SeedProfiles(profile.Profile{DisplayName: "A", RoleScopeTagIDs: []string{"14"}, EnrollmentMode: profile.ModeAOSPUserless})
	_, err := FetchNames(ctx, c, ps, func(string) {})
	if !graph.IsAuth(err) || !strings.Contains(err.Error(), graph.PermissionScopeTags) {
		t.Errorf("tags: %v", err)
	}

	s, c = simClient(t, sim.Options{Groups: []sim.Group{owned("11111111-1111-4111-8111-111111111111", "Leeds Scanners")},
		Granted: []string{"DeviceManagementConfiguration.ReadWrite.All"}})
	ps = s.SeedProfiles(profile.Profile{DisplayName: "A"})
	if err := c.SetDeviceGroup(ctx, ps[0].ID, "11111111-1111-4111-8111-111111111111"); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	n, err := FetchNames(ctx, c, ps, func(w string) { warnings = append(warnings, w) })
	if err != nil || n.cell(ps[0], input.DeviceGroupColumn) != "11111111-1111-4111-8111-111111111111" {
		t.Fatalf("groups: %v %#v", err, n.cell(ps[0], input.DeviceGroupColumn))
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], graph.PermissionGroups) {
		t.Errorf("warnings %q", warnings)
	}
}

// The device group actions have been reported to answer 500 to app-only
// tokens: after a few, the export stops asking and says so once.
func TestExportStopsReadingGroupsAfterRepeated500s(t *testing.T) {
	s, c := simClient(t, sim.Options{})
	var ps []profile.Profile
	for i := range 20 {
		ps = append(ps, profile.Profile{DisplayName: string(rune('A' + i))})
	}
	ps = s.SeedProfiles(ps...)
	s.Inject(sim.Fault{Op: sim.OpRetrieveDeviceGroup, Status: 500, Count: -1})
	var warnings []string
	n, err := FetchNames(context.Background(), c, ps, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	if n.cell(ps[0], input.DeviceGroupColumn) != nil {
		t.Errorf("a group was written")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "profiles \"A\", \"B\"") || !strings.Contains(warnings[0], "and 15 more") ||
		!strings.Contains(warnings[0], "--auth device-code") {
		t.Errorf("warnings %q", warnings)
	}
	// Each tried read-back is retried by the client (MaxRetries 2): far
	// fewer than 20 profiles' worth were sent.
	if got := s.Stats().RetrieveTargets; got > (give500Up+actionConcurrency)*3 {
		t.Errorf("%d read-backs sent", got)
	}
}
