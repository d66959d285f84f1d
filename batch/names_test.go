package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// namesTenant is a tenant with scope tags and groups of every kind a
// deviceGroup cell can meet.
var namesTenant = sim.Tenant{
	ScopeTags: []sim.ScopeTag{{ID: "14", DisplayName: "Leeds"}, {ID: "40", DisplayName: "Leeds DC"}, {ID: "21", DisplayName: "Kraków"}},
	Groups: []sim.Group{
		{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "Leeds Scanners", SecurityEnabled: true,
			Owners: []sim.Owner{sim.IntuneProvisioningClient(), {Type: sim.OwnerUser, UserPrincipalName: "tom@contoso.example"}}},
		{ID: "22222222-2222-4222-8222-222222222222", DisplayName: "Leeds Tills", SecurityEnabled: true,
			Owners: []sim.Owner{sim.IntuneProvisioningClient()}},
		{ID: "33333333-3333-4333-8333-333333333333", DisplayName: "All Zebras", SecurityEnabled: true,
			GroupTypes: []string{"DynamicMembership"}, MembershipRule: `(device.deviceManufacturer -eq "Zebra")`,
			Owners: []sim.Owner{sim.IntuneProvisioningClient()}},
		{ID: "44444444-4444-4444-8444-444444444444", DisplayName: "Leeds Team", MailEnabled: true, GroupTypes: []string{"Unified"},
			Owners: []sim.Owner{sim.IntuneProvisioningClient()}},
		{ID: "55555555-5555-4555-8555-555555555555", DisplayName: "Unowned Kiosks", SecurityEnabled: true,
			Owners: []sim.Owner{{Type: sim.OwnerUser, UserPrincipalName: "tom@contoso.example"}}},
		{ID: "66666666-6666-4666-8666-666666666666", DisplayName: "Twin", SecurityEnabled: true, Owners: []sim.Owner{sim.IntuneProvisioningClient()}},
		{ID: "77777777-7777-4777-8777-777777777777", DisplayName: "twin", SecurityEnabled: true, Owners: []sim.Owner{sim.IntuneProvisioningClient()}},
		{ID: "88888888-8888-4888-8888-888888888888", DisplayName: "Head Office", SecurityEnabled: true, OutOfScope: true,
			Owners: []sim.Owner{sim.IntuneProvisioningClient()}},
	},
}

const (
	scannersID = "11111111-1111-4111-8111-111111111111"
	tillsID    = "22222222-2222-4222-8222-222222222222"
)

// namesSetup is setup with namesTenant seeded.
func namesSetup(t *testing.T, o sim.Options) (*sim.Server, *Job) {
	t.Helper()
	s, job := setup(t, o)
	s.SeedTenant(namesTenant)
	return s, job
}

// sheetRows writes csv to a file and reads its rows as the run does.
func sheetRows(t *testing.T, csv string) []input.Row {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sheet.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return readRows(t, path)
}

func byName(s *sim.Server) map[string]profile.Profile {
	m := map[string]profile.Profile{}
	for _, p := range s.Profiles() {
		m[p.DisplayName] = p
	}
	return m
}

func TestScopeTagNamesAndIDsMixed(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	rows := sheetRows(t, "displayName,roleScopeTagIds\n"+
		"Ids,\"0, 14\"\n"+
		"Names,\"leeds dc; Default\"\n"+
		"Mixed,\"Krako\u0301w, 40, Leeds DC\"\n"+
		"None,\n")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Created] != 4 {
		t.Fatalf("statuses %v: %+v", c, rs)
	}
	got := byName(s)
	for name, want := range map[string][]string{"Ids": {"0", "14"}, "Names": {"40", "0"}, "Mixed": {"21", "40"}} {
		if !slices.Equal(got[name].RoleScopeTagIDs, want) {
			t.Errorf("%s posted tags %q, want %q", name, got[name].RoleScopeTagIDs, want)
		}
	}
	notes := map[string]string{}
	for _, r := range rs {
		notes[r.DisplayName] = strings.Join(r.Notes, " | ")
	}
	if !strings.Contains(notes["Names"], `roleScopeTagIds: "leeds dc" is 40, "Default" is 0 (sent as ids)`) {
		t.Errorf("names note: %s", notes["Names"])
	}
	if strings.Contains(notes["Ids"], "roleScopeTagIds") {
		t.Errorf("a cell of ids got a note: %s", notes["Ids"])
	}
	if n := s.Stats().ScopeTagReads; n != 1 {
		t.Errorf("%d reads of the scope tags, want one per run", n)
	}
}

func TestScopeTagIDsAloneAreNotLookedUp(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	rows := sheetRows(t, "displayName,roleScopeTagIds\nA,\"0, 14\"\nB,40\n")
	if _, err := job.Run(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().ScopeTagReads; n != 0 {
		t.Errorf("%d reads of the scope tags for a sheet of ids", n)
	}
}

func TestUnknownScopeTagIsInvalidBeforeAnythingIsPosted(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	rows := sheetRows(t, "displayName,roleScopeTagIds\nGood,Leeds\nTypo,\"Default, Leds\"\nBad id,\"Leeds, 99\"\n")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Created {
		t.Errorf("good row %s: %s", rs[0].Status, rs[0].ErrorMessage)
	}
	for i, want := range []string{
		`roleScopeTagIds: scope tag "Leds" does not exist in the tenant; did you mean "Leeds" (id 14)?`,
		`roleScopeTagIds: no scope tag in the tenant has id 99`,
	} {
		r := rs[i+1]
		if r.Status != results.Invalid || !strings.Contains(r.ErrorMessage, want) {
			t.Errorf("row %d: %s %q, want invalid with %q", r.Row, r.Status, r.ErrorMessage, want)
		}
	}
	if n := s.Stats().Creates; n != 1 {
		t.Errorf("%d creates, want 1", n)
	}

	// --strict holds every row back, the tag rows counted as invalid.
	s2, strict := namesSetup(t, sim.Options{})
	strict.Strict = true
	rs, err = strict.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Invalid] != 2 || c[results.NotAttempted] != 1 || s2.Stats().Creates != 0 {
		t.Errorf("strict: %v, %d creates", c, s2.Stats().Creates)
	}
	if !strings.Contains(rs[0].ErrorMessage, "held back by --strict: rows 3 and 4 are invalid") {
		t.Errorf("strict message %q", rs[0].ErrorMessage)
	}
}

// An existing profile that the run leaves alone is not held back by a
// name that does not resolve: nothing of the row is sent.
func TestUnknownScopeTagOnAnExistingProfileIsIgnoredWithSkip(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	s.Seed("Old")
	rs, err := job.Run(context.Background(), sheetRows(t, "displayName,roleScopeTagIds\nOld,Leds\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Exists || !strings.Contains(strings.Join(rs[0].Notes, " "), `ignored: roleScopeTagIds: scope tag "Leds"`) {
		t.Errorf("%s %q %q", rs[0].Status, rs[0].ErrorMessage, rs[0].Notes)
	}
}

func TestDeviceGroupSetAfterCreate(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	rows := sheetRows(t, "displayName,enrollmentMode,deviceGroup\n"+
		"Scanner 1,,Leeds Scanners\n"+
		"Scanner 2,corporateOwnedFullyManaged,leeds scanners\n"+
		"Till 1,corporateOwnedWorkProfile,"+tillsID+"\n"+
		"Plain,,\n"+
		"Cleared,,none\n")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Created] != 5 {
		t.Fatalf("statuses %v: %+v", c, rs)
	}
	want := map[string][]string{"Scanner 1": {scannersID}, "Scanner 2": {scannersID}, "Till 1": {tillsID}, "Plain": nil, "Cleared": nil}
	for _, r := range rs {
		got, _ := s.DeviceGroups(r.ID)
		if !slices.Equal(got, want[r.DisplayName]) {
			t.Errorf("%s: device groups %q, want %q", r.DisplayName, got, want[r.DisplayName])
		}
		if r.QRCodeContent == "" {
			t.Errorf("%s: no QR content", r.DisplayName)
		}
	}
	if !slices.Contains(rs[0].Notes, `deviceGroup: set to "Leeds Scanners" (id `+scannersID+`)`) {
		t.Errorf("notes %q", rs[0].Notes)
	}
	st := s.Stats()
	if st.SetTargets != 3 || st.ClearTargets != 0 || st.RetrieveTargets != 0 {
		t.Errorf("%d sets, %d clears, %d retrieves", st.SetTargets, st.ClearTargets, st.RetrieveTargets)
	}
	// Each group is looked up once, however many rows name it.
	if st.GroupLists != 1 || st.GroupGets != 1 || st.OwnerLists != 2 {
		t.Errorf("%d group lists, %d gets, %d owner lists", st.GroupLists, st.GroupGets, st.OwnerLists)
	}
}

func TestBadDeviceGroupsAreInvalidBeforeAnythingIsPosted(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	rows := sheetRows(t, "displayName,enrollmentMode,enrollmentTokenType,deviceGroup\n"+
		"Missing,,,Leeds Scaners\n"+
		"Missing id,,,99999999-9999-4999-8999-999999999999\n"+
		"Dynamic,,,All Zebras\n"+
		"Not security,,,Leeds Team\n"+
		"No owner,,,Unowned Kiosks\n"+
		"Two,,,TWIN\n"+
		"AOSP,corporateOwnedAOSPUserlessDevice,,Leeds Scanners\n"+
		"Staging,corporateOwnedFullyManaged,deviceStaging,Leeds Scanners\n"+
		"Good,,,Leeds Scanners\n")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Missing":      {`deviceGroup: device group "Leeds Scaners": no group of this name in Entra ID`},
		"Missing id":   {`no group has this object id in Entra ID`},
		"Dynamic":      {`device group "All Zebras" (id 33333333-3333-4333-8333-333333333333)`, "membership is dynamic", "Membership type Assigned"},
		"Not security": {`"Leeds Team"`, "not a security group"},
		"No owner":     {`"Unowned Kiosks"`, "Intune Provisioning Client is not an owner", "Groups > Unowned Kiosks > Owners", graph.IntuneProvisioningClientAppID},
		"Two":          {`2 groups have this name (ids 66666666-6666-4666-8666-666666666666, 77777777-7777-4777-8777-777777777777)`, "give the object id"},
		"AOSP":         {"not corporateOwnedAOSPUserlessDevice: leave deviceGroup empty for this row"},
		"Staging":      {"device staging token", "leave deviceGroup empty for this row"},
	}
	for _, r := range rs {
		if r.DisplayName == "Good" {
			if r.Status != results.Created {
				t.Errorf("good row %s: %s", r.Status, r.ErrorMessage)
			}
			continue
		}
		if r.Status != results.Invalid {
			t.Errorf("%s: %s, want invalid", r.DisplayName, r.Status)
		}
		for _, w := range want[r.DisplayName] {
			if !strings.Contains(r.ErrorMessage, w) {
				t.Errorf("%s: message %q lacks %q", r.DisplayName, r.ErrorMessage, w)
			}
		}
	}
	if st := s.Stats(); st.Creates != 1 || st.SetTargets != 1 {
		t.Errorf("%d creates, %d sets", st.Creates, st.SetTargets)
	}
}

// A group the service refuses (here: outside the caller's scope, which
// only the service can tell) fails the row with its reason; the profile
// stays, and a rerun with --on-exists update sets the group.
func TestRefusedDeviceGroupFailsTheRowAndARerunConverges(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	rows := sheetRows(t, "displayName,deviceGroup\nOffice,Head Office\n")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Status != results.Failed || r.ID == "" || r.ErrorCode != graph.CodeSecurityGroupNotInCallerScope {
		t.Fatalf("%s %q %q", r.Status, r.ID, r.ErrorCode)
	}
	for _, w := range []string{"the profile was created (id " + r.ID + ")", `the service refused group "Head Office"`,
		"outside the scope of the signed-in account's Intune role", "--on-exists update --qr-existing"} {
		if !strings.Contains(r.ErrorMessage, w) {
			t.Errorf("message %q lacks %q", r.ErrorMessage, w)
		}
	}
	if r.QRCodeContent != "" {
		t.Errorf("the code of a profile without its group was read")
	}

	// The group is brought into scope; the rerun sets it and prints.
	g := namesTenant.Groups[len(namesTenant.Groups)-1]
	g.OutOfScope = false
	s.SeedGroups(g)
	job.OnExists, job.QRExisting = Update, true
	rs, err = job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	r2 := rs[0]
	if r2.Status != results.Updated || r2.ID != r.ID || r2.QRCodeContent == "" ||
		!slices.Equal(r2.Changes, []string{"deviceGroup: (empty) → Head Office"}) {
		t.Errorf("rerun: %s %q %q %q", r2.Status, r2.ID, r2.Changes, r2.ErrorMessage)
	}
	if got, _ := s.DeviceGroups(r.ID); !slices.Equal(got, []string{g.ID}) {
		t.Errorf("groups %q", got)
	}
	if n := len(s.Profiles()); n != 1 {
		t.Errorf("%d profiles", n)
	}
}

// setGroups gives the named profiles their device groups, as an earlier
// run would have.
func setGroups(t *testing.T, job *Job, ids map[string]string) {
	t.Helper()
	for pid, gid := range ids {
		if err := job.Client.SetDeviceGroup(context.Background(), pid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUpdateChangesAndClearsTheDeviceGroup(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	ps := s.SeedProfiles(profile.Profile{DisplayName: "Moved"}, profile.Profile{DisplayName: "Same"}, profile.Profile{DisplayName: "Cleared"},
		profile.Profile{DisplayName: "Untouched"}, profile.Profile{DisplayName: "Described", Description: "old"})
	setGroups(t, job, map[string]string{ps[0].ID: tillsID, ps[1].ID: scannersID, ps[2].ID: scannersID, ps[3].ID: tillsID, ps[4].ID: tillsID})
	rows := sheetRows(t, "displayName,description,deviceGroup\n"+
		"Moved,,Leeds Scanners\n"+
		"Same,,Leeds Scanners\n"+
		"Cleared,,none\n"+
		"Untouched,,\n"+
		"Described,new,Leeds Scanners\n")

	// The plan reads the groups back and changes nothing.
	before := s.Stats()
	job.OnExists, job.DryRun = Update, true
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	wantPlan := map[string]struct {
		status  results.Status
		changes []string
	}{
		"Moved":     {results.Planned, []string{"deviceGroup: Leeds Tills → Leeds Scanners"}},
		"Same":      {results.Exists, nil},
		"Cleared":   {results.Planned, []string{"deviceGroup: Leeds Scanners → (empty)"}},
		"Untouched": {results.Exists, nil},
		"Described": {results.Planned, []string{"description: old → new", "deviceGroup: Leeds Tills → Leeds Scanners"}},
	}
	for _, r := range rs {
		w := wantPlan[r.DisplayName]
		if r.Status != w.status || !slices.Equal(r.Changes, w.changes) {
			t.Errorf("plan %s: %s %q, want %s %q (%s)", r.DisplayName, r.Status, r.Changes, w.status, w.changes, r.ErrorMessage)
		}
	}
	after := s.Stats()
	if after.SetTargets != before.SetTargets || after.ClearTargets != 0 || after.Patches != 0 || after.RetrieveTargets-before.RetrieveTargets != 4 {
		t.Errorf("the plan sent %d sets, %d clears, %d patches, %d retrieves", after.SetTargets-before.SetTargets, after.ClearTargets,
			after.Patches, after.RetrieveTargets-before.RetrieveTargets)
	}

	// The run applies it.
	job.DryRun = false
	rs, err = job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	wantRun := map[string]results.Status{"Moved": results.Updated, "Same": results.Exists, "Cleared": results.Updated,
		"Untouched": results.Exists, "Described": results.Updated}
	for _, r := range rs {
		if r.Status != wantRun[r.DisplayName] || !slices.Equal(r.Changes, wantPlan[r.DisplayName].changes) {
			t.Errorf("run %s: %s %q (%s)", r.DisplayName, r.Status, r.Changes, r.ErrorMessage)
		}
	}
	want := map[string][]string{"Moved": {scannersID}, "Same": {scannersID}, "Cleared": nil, "Untouched": {tillsID}, "Described": {scannersID}}
	for _, p := range s.Profiles() {
		if got, _ := s.DeviceGroups(p.ID); !slices.Equal(got, want[p.DisplayName]) {
			t.Errorf("%s: groups %q, want %q", p.DisplayName, got, want[p.DisplayName])
		}
	}
	if got := byName(s)["Described"].Description; got != "new" {
		t.Errorf("description %q", got)
	}

	// Again: nothing to do.
	rs, err = job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Exists] != 5 {
		t.Errorf("third run %v", c)
	}
}

// An existing AOSP profile has no device group: a row that gives none of
// its own mode is checked against the tenant's.
func TestUpdateChecksTheTenantsModeForTheGroup(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	s.SeedProfiles(profile.Profile{DisplayName: "Yard", EnrollmentMode: profile.ModeAOSPUserless},
		profile.Profile{DisplayName: "Gate", EnrollmentMode: profile.ModeAOSPUserless})
	job.OnExists = Update
	rs, err := job.Run(context.Background(), sheetRows(t, "displayName,deviceGroup\nYard,Leeds Scanners\nGate,none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Invalid || !strings.Contains(rs[0].ErrorMessage, "not corporateOwnedAOSPUserlessDevice") {
		t.Errorf("Yard: %s %q", rs[0].Status, rs[0].ErrorMessage)
	}
	if rs[1].Status != results.Exists || !strings.Contains(strings.Join(rs[1].Notes, " "), "nothing to clear") {
		t.Errorf("Gate: %s %q", rs[1].Status, rs[1].Notes)
	}
	if st := s.Stats(); st.RetrieveTargets+st.SetTargets+st.ClearTargets != 0 {
		t.Errorf("actions sent: %+v", st)
	}
}

func TestNamesForbiddenNamesThePermissionAndPostsNothing(t *testing.T) {
	cases := []struct {
		name, csv, perm string
	}{
		{"groups", "displayName,deviceGroup\nA,Leeds Scanners\n", graph.PermissionGroups},
		{"scope tags", "displayName,roleScopeTagIds\nA,Leeds\n", graph.PermissionScopeTags},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The roleScopeTag pages allow the job's own permission
			// (DeviceManagementConfiguration.*) too: an app with
			// neither is refused the tags; the groups need their own.
			granted := []string{"DeviceManagementConfiguration.ReadWrite.All"}
			if c.perm == graph.PermissionScopeTags {
				granted = []string{graph.PermissionGroups}
			}
			s, job := namesSetup(t, sim.Options{Granted: granted})
			rs, err := job.Run(context.Background(), sheetRows(t, c.csv))
			var ae *graph.AuthError
			if !errors.As(err, &ae) || ae.Permission != c.perm || !strings.Contains(err.Error(), c.perm) {
				t.Fatalf("error %v, want an AuthError naming %s", err, c.perm)
			}
			if rs[0].Status != results.NotAttempted || s.Stats().Posts != 0 {
				t.Errorf("%s, %d posts", rs[0].Status, s.Stats().Posts)
			}
		})
	}
}

// An update shows scope tags with their names when the tags were listed.
func TestUpdateShowsScopeTagNames(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	s.SeedProfiles(profile.Profile{DisplayName: "Tagged", RoleScopeTagIDs: []string{"0"}})
	job.OnExists = Update
	rs, err := job.Run(context.Background(), sheetRows(t, "displayName,roleScopeTagIds\nTagged,\"0, Leeds DC\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"roleScopeTagIds: Default (0) → Default (0), Leeds DC (40)"}; rs[0].Status != results.Updated || !slices.Equal(rs[0].Changes, want) {
		t.Errorf("%s %q, want updated %q", rs[0].Status, rs[0].Changes, want)
	}
	if got := byName(s)["Tagged"].RoleScopeTagIDs; !slices.Equal(got, []string{"0", "40"}) {
		t.Errorf("tags %q", got)
	}
}

// Without Application.Read.All, Graph lists service principal owners
// without their appId: the row gets a note, and the service's own check
// after the create decides.
func TestHiddenOwnersAreANote(t *testing.T) {
	s, job := namesSetup(t, sim.Options{Granted: []string{"DeviceManagementConfiguration.ReadWrite.All", "GroupMember.Read.All"}})
	rs, err := job.Run(context.Background(), sheetRows(t, "displayName,deviceGroup\nA,Leeds Scanners\nB,Unowned Kiosks\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Created || !strings.Contains(strings.Join(rs[0].Notes, " "), "cannot tell whether the Intune Provisioning Client owns it") {
		t.Errorf("A: %s %q", rs[0].Status, rs[0].Notes)
	}
	// B's only owner is a user: no service principal at all, so the
	// Intune Provisioning Client is surely not among them.
	if rs[1].Status != results.Invalid || !strings.Contains(rs[1].ErrorMessage, "the Intune Provisioning Client is not an owner") {
		t.Errorf("B: %s %q", rs[1].Status, rs[1].ErrorMessage)
	}
	if got, _ := s.DeviceGroups(rs[0].ID); !slices.Equal(got, []string{scannersID}) {
		t.Errorf("A's groups %q", got)
	}
}

// With application permissions the actions have been reported to answer
// 500: the row fails with what to do, and the run goes on.
func TestDeviceGroupAction500(t *testing.T) {
	s, job := namesSetup(t, sim.Options{})
	s.Inject(sim.Fault{Op: sim.OpSetDeviceGroup, Status: 500, Count: -1})
	rs, err := job.Run(context.Background(), sheetRows(t, "displayName,deviceGroup\nA,Leeds Scanners\nB,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.Status != results.Failed || r.HTTPStatus != 500 || !strings.Contains(r.ErrorMessage, "--auth device-code") ||
		!strings.Contains(r.ErrorMessage, "the profile was created") {
		t.Errorf("A: %s %d %q", r.Status, r.HTTPStatus, r.ErrorMessage)
	}
	if rs[1].Status != results.Created {
		t.Errorf("B: %s", rs[1].Status)
	}
}
