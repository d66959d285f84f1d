package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/results"
)

// The tests of names in a sheet: scope tags in roleScopeTagIds and the
// enrollment-time device group in deviceGroup, with the built binary
// against the simulator.

// leedsTenant is a tenant with the names the sheets below use; ids are
// given by seed (the same names, other ids, make another tenant).
func leedsTenant(tagBase int, idDigit string) sim.Tenant {
	gid := func(d string) string {
		return strings.Repeat(d, 8) + "-" + strings.Repeat(d, 4) + "-4" + strings.Repeat(d, 3) + "-8" + strings.Repeat(d, 3) + "-" + strings.Repeat(d, 12)
	}
	pc := []sim.Owner{sim.IntuneProvisioningClient()}
	tag := func(n int, name string) sim.ScopeTag {
		return sim.ScopeTag{ID: strconv.Itoa(tagBase + n), DisplayName: name}
	}
	return sim.Tenant{
		ScopeTags: []sim.ScopeTag{tag(1, "Leeds"), tag(2, "Leeds DC"), tag(3, "Kraków")},
		Groups: []sim.Group{
			{ID: gid(idDigit), DisplayName: "Leeds Scanners", SecurityEnabled: true, Owners: pc},
			{ID: gid(string(rune(idDigit[0] + 1))), DisplayName: "Leeds Tills", SecurityEnabled: true, Owners: pc},
			{DisplayName: "All Zebras", SecurityEnabled: true, GroupTypes: []string{"DynamicMembership"}, Owners: pc},
			{DisplayName: "Leeds Team", MailEnabled: true, GroupTypes: []string{"Unified"}, Owners: pc},
			{DisplayName: "Unowned Kiosks", SecurityEnabled: true, Owners: []sim.Owner{{Type: sim.OwnerUser, UserPrincipalName: "tom@contoso.example"}}},
			{DisplayName: "Twin", SecurityEnabled: true, Owners: pc},
			{DisplayName: "TWIN", SecurityEnabled: true, Owners: pc},
		},
	}
}

// namesSim serves a simulator holding t.
func namesSim(t *testing.T, o sim.Options, tenant sim.Tenant) (*sim.Server, string) {
	t.Helper()
	o.OmitImage = true
	s, url := simServer(t, o)
	s.SeedTenant(tenant)
	return s, url
}

func writeSheet(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var namesEnv = []string{"GRAPH_ACCESS_TOKEN=t"}

func resultsByName(rs []results.Result) map[string]results.Result {
	m := map[string]results.Result{}
	for _, r := range rs {
		m[r.DisplayName] = r
	}
	return m
}

func groupNamed(s *sim.Server, name string) sim.Group {
	for _, g := range s.Groups() {
		if g.DisplayName == name {
			return g
		}
	}
	return sim.Group{}
}

func TestRunScopeTagNamesAndDeviceGroups(t *testing.T) {
	t.Parallel()
	s, url := namesSim(t, sim.Options{}, leedsTenant(10, "1"))
	scanners := groupNamed(s, "Leeds Scanners")
	sheet := writeSheet(t, "names.csv", "displayName,enrollmentMode,roleScopeTagIds,deviceGroup,Site\n"+
		"Leeds 1,,\"Leeds DC, 0\",Leeds Scanners,Leeds\n"+
		"Leeds 2,corporateOwnedFullyManaged,\"11; kraków\",leeds scanners,Leeds\n"+
		"Leeds 3,,0,,Leeds\n")
	out := t.TempDir()
	code, _, stderr := run(t, namesEnv, "run", "--input", sheet, "--graph-url", url, "--out", out, "--rate", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rs := resultsByName(readResults(t, filepath.Join(out, "results.xlsx")))
	tags := map[string][]string{}
	for _, p := range s.Profiles() {
		tags[p.DisplayName] = p.RoleScopeTagIDs
		groups, _ := s.DeviceGroups(p.ID)
		want := []string{scanners.ID}
		if p.DisplayName == "Leeds 3" {
			want = nil
		}
		if !slices.Equal(groups, want) {
			t.Errorf("%s: device groups %q, want %q", p.DisplayName, groups, want)
		}
	}
	if !slices.Equal(tags["Leeds 1"], []string{"12", "0"}) || !slices.Equal(tags["Leeds 2"], []string{"11", "13"}) {
		t.Errorf("tags posted %q", tags)
	}
	notes := strings.Join(rs["Leeds 1"].Notes, "\n")
	for _, w := range []string{`roleScopeTagIds: "Leeds DC" is 12 (sent as ids)`, `deviceGroup: set to "Leeds Scanners" (id ` + scanners.ID + `)`} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes of Leeds 1 lack %q:\n%s", w, notes)
		}
	}
	if st := s.Stats(); st.ScopeTagReads != 1 || st.GroupLists != 1 || st.OwnerLists != 1 {
		t.Errorf("lookups: %d tag reads, %d group lists, %d owner lists", st.ScopeTagReads, st.GroupLists, st.OwnerLists)
	}
	// The QR sheet holds every code: the groups were set.
	if rs["Leeds 1"].QRCodeContent == "" || rs["Leeds 2"].Status != results.Created {
		t.Errorf("results %+v", rs)
	}
}

func TestRunUnknownScopeTag(t *testing.T) {
	t.Parallel()
	s, url := namesSim(t, sim.Options{}, leedsTenant(10, "1"))
	sheet := writeSheet(t, "tags.csv", "displayName,roleScopeTagIds\nGood,Leeds\nTypo,\"0, Leds DC\"\n")
	out := t.TempDir()
	code, _, stderr := run(t, namesEnv, "run", "--input", sheet, "--graph-url", url, "--out", out, "--rate", "0")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rs := resultsByName(readResults(t, filepath.Join(out, "results.xlsx")))
	if r := rs["Typo"]; r.Status != results.Invalid ||
		!strings.Contains(r.ErrorMessage, `roleScopeTagIds: scope tag "Leds DC" does not exist in the tenant; did you mean "Leeds DC" (id 12)?`) {
		t.Errorf("typo row: %s %q", r.Status, r.ErrorMessage)
	}
	if rs["Good"].Status != results.Created || len(s.Profiles()) != 1 {
		t.Errorf("good row %s, %d profiles", rs["Good"].Status, len(s.Profiles()))
	}

	// With --strict, nothing is posted.
	s2, url2 := namesSim(t, sim.Options{}, leedsTenant(10, "1"))
	code, _, stderr = run(t, namesEnv, "run", "--input", sheet, "--graph-url", url2, "--out", t.TempDir(), "--rate", "0", "--strict")
	if code != 1 || s2.Stats().Posts != 0 {
		t.Errorf("strict: exit %d, %d posts: %s", code, s2.Stats().Posts, stderr)
	}
}

func TestRunBadDeviceGroups(t *testing.T) {
	t.Parallel()
	s, url := namesSim(t, sim.Options{}, leedsTenant(10, "1"))
	sheet := writeSheet(t, "groups.csv", "displayName,enrollmentMode,enrollmentTokenType,deviceGroup\n"+
		"Missing,,,Leeds Scaners\n"+
		"Dynamic,,,All Zebras\n"+
		"Not security,,,Leeds Team\n"+
		"No owner,,,Unowned Kiosks\n"+
		"Two,,,twin\n"+
		"AOSP,corporateOwnedAOSPUserlessDevice,,Leeds Scanners\n"+
		"Staging,corporateOwnedWorkProfile,deviceStaging,Leeds Scanners\n")
	out := t.TempDir()
	code, _, stderr := run(t, namesEnv, "run", "--input", sheet, "--graph-url", url, "--out", out, "--rate", "0")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := map[string]string{
		"Missing":      `deviceGroup: device group "Leeds Scaners": no group of this name in Entra ID`,
		"Dynamic":      `its membership is dynamic: enrollment-time grouping needs assigned (static) membership`,
		"Not security": `it is not a security group`,
		"No owner":     `the Intune Provisioning Client is not an owner of it: in Entra admin center, Groups > Unowned Kiosks > Owners > Add owners`,
		"Two":          `2 groups have this name`,
		"AOSP":         `not corporateOwnedAOSPUserlessDevice: leave deviceGroup empty for this row`,
		"Staging":      `not available with the device staging token`,
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if len(rs) != len(want) {
		t.Fatalf("%d results", len(rs))
	}
	for _, r := range rs {
		if r.Status != results.Invalid || !strings.Contains(r.ErrorMessage, want[r.DisplayName]) {
			t.Errorf("%s: %s %q, want invalid with %q", r.DisplayName, r.Status, r.ErrorMessage, want[r.DisplayName])
		}
	}
	if st := s.Stats(); st.Posts != 0 {
		t.Errorf("%d posts", st.Posts)
	}
	// validate sees the rule that needs no tenant.
	code, stdout, _ := run(t, nil, "validate", "--input", sheet)
	if code != 1 || !strings.Contains(stdout, "row 7, deviceGroup:") || !strings.Contains(stdout, "row 8, deviceGroup:") || strings.Contains(stdout, "row 2,") {
		t.Errorf("validate exit %d:\n%s", code, stdout)
	}
}

func TestRunUpdatesAndClearsDeviceGroups(t *testing.T) {
	t.Parallel()
	s, url := namesSim(t, sim.Options{}, leedsTenant(10, "1"))
	scanners, tills := groupNamed(s, "Leeds Scanners"), groupNamed(s, "Leeds Tills")
	first := writeSheet(t, "first.csv", "displayName,deviceGroup\nMoved,Leeds Tills\nCleared,Leeds Tills\nKept,Leeds Tills\n")
	if code, _, stderr := run(t, namesEnv, "run", "--input", first, "--graph-url", url, "--out", t.TempDir(), "--rate", "0"); code != 0 {
		t.Fatalf("first run exit %d: %s", code, stderr)
	}
	edited := writeSheet(t, "edited.csv", "displayName,deviceGroup\nMoved,Leeds Scanners\nCleared,none\nKept,\n")

	// The plan reads the groups back and says what would change.
	out := t.TempDir()
	code, _, stderr := run(t, namesEnv, "run", "--input", edited, "--graph-url", url, "--out", out, "--rate", "0", "--on-exists", "update", "--dry-run")
	if code != 0 || !strings.Contains(stderr, "plan: 0 to create, 2 to update, 1 unchanged") {
		t.Fatalf("plan exit %d: %s", code, stderr)
	}
	plan := resultsByName(readResults(t, filepath.Join(out, "plan.xlsx")))
	if c := plan["Moved"].Changes; !slices.Equal(c, []string{"deviceGroup: Leeds Tills → Leeds Scanners"}) {
		t.Errorf("plan of Moved: %q", c)
	}
	if c := plan["Cleared"].Changes; !slices.Equal(c, []string{"deviceGroup: Leeds Tills → (empty)"}) {
		t.Errorf("plan of Cleared: %q", c)
	}
	if st := s.Stats(); st.SetTargets != 3 || st.ClearTargets != 0 {
		t.Errorf("the plan changed groups: %d sets, %d clears", st.SetTargets, st.ClearTargets)
	}

	// The run applies it.
	out = t.TempDir()
	code, _, stderr = run(t, namesEnv, "run", "--input", edited, "--graph-url", url, "--out", out, "--rate", "0", "--on-exists", "update")
	if code != 0 {
		t.Fatalf("update exit %d: %s", code, stderr)
	}
	rs := resultsByName(readResults(t, filepath.Join(out, "results.xlsx")))
	want := map[string]struct {
		status results.Status
		groups []string
	}{"Moved": {results.Updated, []string{scanners.ID}}, "Cleared": {results.Updated, nil}, "Kept": {results.Exists, []string{tills.ID}}}
	for name, w := range want {
		r := rs[name]
		groups, _ := s.DeviceGroups(r.ID)
		if r.Status != w.status || !slices.Equal(groups, w.groups) {
			t.Errorf("%s: %s, groups %q; want %s, %q (%s)", name, r.Status, groups, w.status, w.groups, r.ErrorMessage)
		}
	}
}

// An export names scope tags and device groups, so that it runs in
// another tenant where the same names stand for other ids.
func TestExportRunsInAnotherTenant(t *testing.T) {
	t.Parallel()
	src, srcURL := namesSim(t, sim.Options{}, leedsTenant(10, "1"))
	dst, dstURL := namesSim(t, sim.Options{}, leedsTenant(50, "5"))
	sheet := writeSheet(t, "src.csv", "displayName,enrollmentMode,roleScopeTagIds,deviceGroup\n"+
		"Site 1 Scanners,,\"Leeds DC, 0\",Leeds Scanners\n"+
		"Site 1 Tills,corporateOwnedWorkProfile,Kraków,Leeds Tills\n"+
		"Site 1 Yard,corporateOwnedAOSPUserlessDevice,Leeds,\n")
	if code, _, stderr := run(t, namesEnv, "run", "--input", sheet, "--graph-url", srcURL, "--out", t.TempDir(), "--rate", "0"); code != 0 {
		t.Fatalf("source run exit %d: %s", code, stderr)
	}
	exported := filepath.Join(t.TempDir(), "export.xlsx")
	code, _, stderr := run(t, namesEnv, "export", "--graph-url", srcURL, "--out", exported)
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	f, err := input.Read(exported, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string][2]string{}
	for _, r := range f.Rows {
		tags, _ := r.Body["roleScopeTagIds"].([]string)
		cells[r.DisplayName] = [2]string{strings.Join(tags, ", "), r.DeviceGroup}
	}
	wantCells := map[string][2]string{
		"Site 1 Scanners": {"Leeds DC, 0", "Leeds Scanners"},
		"Site 1 Tills":    {"Kraków", "Leeds Tills"},
		"Site 1 Yard":     {"Leeds", ""},
	}
	for name, w := range wantCells {
		if cells[name] != w {
			t.Errorf("exported %s: %q, want %q", name, cells[name], w)
		}
	}

	// In the other tenant the names stand for other ids.
	code, _, stderr = run(t, namesEnv, "run", "--input", exported, "--graph-url", dstURL, "--out", t.TempDir(), "--rate", "0")
	if code != 0 {
		t.Fatalf("run in the other tenant exit %d: %s", code, stderr)
	}
	wantTags := map[string][]string{"Site 1 Scanners": {"52", "0"}, "Site 1 Tills": {"53"}, "Site 1 Yard": {"51"}}
	wantGroups := map[string][]string{"Site 1 Scanners": {groupNamed(dst, "Leeds Scanners").ID}, "Site 1 Tills": {groupNamed(dst, "Leeds Tills").ID}}
	ps := dst.Profiles()
	if len(ps) != 3 {
		t.Fatalf("%d profiles in the other tenant", len(ps))
	}
	for _, p := range ps {
		groups, _ := dst.DeviceGroups(p.ID)
		if !slices.Equal(p.RoleScopeTagIDs, wantTags[p.DisplayName]) || !slices.Equal(groups, wantGroups[p.DisplayName]) {
			t.Errorf("%s: tags %q groups %q; want %q %q", p.DisplayName, p.RoleScopeTagIDs, groups, wantTags[p.DisplayName], wantGroups[p.DisplayName])
		}
	}

	// Back in the source tenant, it changes nothing.
	before := src.Stats()
	code, _, stderr = run(t, namesEnv, "run", "--input", exported, "--graph-url", srcURL, "--out", t.TempDir(), "--rate", "0", "--on-exists", "update")
	after := src.Stats()
	if code != 0 || after.Creates != before.Creates || after.Patches != before.Patches || after.SetTargets != before.SetTargets {
		t.Errorf("rerun in the source tenant: exit %d, %d creates, %d patches, %d sets: %s", code,
			after.Creates-before.Creates, after.Patches-before.Patches, after.SetTargets-before.SetTargets, stderr)
	}
}

func TestNamesPermissions(t *testing.T) {
	t.Parallel()
	granted := []string{"DeviceManagementConfiguration.ReadWrite.All"}
	_, url := namesSim(t, sim.Options{Granted: granted}, leedsTenant(10, "1"))
	sheet := writeSheet(t, "groups.csv", "displayName,deviceGroup\nA,Leeds Scanners\n")
	code, _, stderr := run(t, namesEnv, "run", "--input", sheet, "--graph-url", url, "--out", t.TempDir(), "--rate", "0")
	if code != 3 || !strings.Contains(stderr, graph.PermissionGroups) {
		t.Errorf("run exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, namesEnv, "doctor", "--graph-url", url, "--input", sheet)
	if code != 3 || !strings.Contains(stdout, "groups") || !strings.Contains(stdout+stderr, "grant the app registration "+graph.PermissionGroups) {
		t.Errorf("doctor exit %d:\n%s\n%s", code, stdout, stderr)
	}
	// A sheet without names needs nothing more.
	plain := writeSheet(t, "plain.csv", "displayName,roleScopeTagIds\nA,0\n")
	if code, stdout, stderr := run(t, namesEnv, "doctor", "--graph-url", url, "--input", plain); code != 0 {
		t.Errorf("doctor, plain sheet: exit %d:\n%s\n%s", code, stdout, stderr)
	}
}
