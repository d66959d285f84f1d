package names

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

func TestParseGroupCell(t *testing.T) {
	for _, tt := range []struct {
		cell string
		want GroupRef
	}{
		{"", GroupRef{Action: GroupKeep}},
		{"   ", GroupRef{Action: GroupKeep}},
		{"none", GroupRef{Action: GroupClear, Given: "none"}},
		{" NONE ", GroupRef{Action: GroupClear, Given: "NONE"}},
		{"11111111-AAAA-4111-8111-111111111111", GroupRef{Action: GroupByID, Given: "11111111-AAAA-4111-8111-111111111111", ID: "11111111-aaaa-4111-8111-111111111111"}},
		{"{11111111-1111-4111-8111-111111111111}", GroupRef{Action: GroupByID, Given: "{11111111-1111-4111-8111-111111111111}", ID: "11111111-1111-4111-8111-111111111111"}},
		{"11111111-1111-4111-8111-11111111111", GroupRef{Action: GroupByName, Given: "11111111-1111-4111-8111-11111111111"}},
		{" Leeds Kiosks ", GroupRef{Action: GroupByName, Given: "Leeds Kiosks"}},
		{"none of these", GroupRef{Action: GroupByName, Given: "none of these"}},
	} {
		if got := ParseGroupCell(tt.cell); got != tt.want {
			t.Errorf("ParseGroupCell(%q) = %+v, want %+v", tt.cell, got, tt.want)
		}
	}
}

func TestCheckMode(t *testing.T) {
	for _, tt := range []struct {
		mode, token, rule string
	}{
		{"", "", ""},
		{profile.ModeDedicated, profile.TokenDefault, ""},
		{profile.ModeDedicated, profile.TokenSharedMode, ""},
		{profile.ModeFullyManaged, "", ""},
		{profile.ModeWorkProfile, profile.TokenDefault, ""},
		{profile.ModeFullyManaged, profile.TokenStaging, RuleToken},
		{profile.ModeWorkProfile, profile.TokenStaging, RuleToken},
		{profile.ModeAOSPUserless, "", RuleMode},
		{profile.ModeAOSPAssociated, "", RuleMode},
		{"somethingNew", "", RuleMode},
	} {
		p := CheckMode(tt.mode, tt.token)
		if got := ""; p != nil {
			got = p.Rule
			if got != tt.rule {
				t.Errorf("CheckMode(%q, %q) = %s, want %q", tt.mode, tt.token, got, tt.rule)
			}
			if !strings.Contains(p.Fix, "leave deviceGroup empty for this row") {
				t.Errorf("fix %q", p.Fix)
			}
		} else if tt.rule != "" {
			t.Errorf("CheckMode(%q, %q) = nil, want %s", tt.mode, tt.token, tt.rule)
		}
	}
}

var (
	provisioning = graph.DirectoryObject{ODataType: "#microsoft.graph.servicePrincipal", ID: "6b5c7a4e-2f1d-4c3b-9a8e-7d6f5e4c3b2a",
		DisplayName: "Intune Provisioning Client", AppID: graph.IntuneProvisioningClientAppID}
	hiddenSP  = graph.DirectoryObject{ODataType: "#microsoft.graph.servicePrincipal", ID: "6b5c7a4e-2f1d-4c3b-9a8e-7d6f5e4c3b2a"}
	otherSP   = graph.DirectoryObject{ODataType: "#microsoft.graph.servicePrincipal", ID: "7b5c7a4e-2f1d-4c3b-9a8e-7d6f5e4c3b2a", DisplayName: "Intune Provisioning Client", AppID: "00000000-0000-0000-0000-000000000001"}
	userOwner = graph.DirectoryObject{ODataType: "#microsoft.graph.user", ID: "8b5c7a4e-2f1d-4c3b-9a8e-7d6f5e4c3b2a", UserPrincipalName: "tom@contoso.example"}
)

func TestCheckGroup(t *testing.T) {
	good := graph.Group{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "Leeds Kiosks", SecurityEnabled: true}
	m365 := graph.Group{ID: "22222222-2222-4222-8222-222222222222", DisplayName: "Leeds Team", MailEnabled: true, GroupTypes: []string{"Unified"}}
	dyn := graph.Group{ID: "33333333-3333-4333-8333-333333333333", DisplayName: "All Zebras", SecurityEnabled: true, GroupTypes: []string{"DynamicMembership"}}
	both := graph.Group{ID: "44444444-4444-4444-8444-444444444444", DisplayName: "Mess", GroupTypes: []string{"Unified", "DynamicMembership"}}
	for _, tt := range []struct {
		name     string
		group    graph.Group
		owners   []graph.DirectoryObject
		mode     string
		token    string
		rules    []string
		message  string // the whole message, when given
		mentions []string
		note     string
	}{
		{name: "fine", group: good, owners: []graph.DirectoryObject{userOwner, provisioning}},
		{name: "fine for fully managed", group: good, owners: []graph.DirectoryObject{provisioning}, mode: profile.ModeFullyManaged},
		{name: "missing owner", group: good, owners: []graph.DirectoryObject{userOwner}, rules: []string{RuleOwner},
			message: `device group "Leeds Kiosks" (id 11111111-1111-4111-8111-111111111111): the Intune Provisioning Client is not an owner of it: ` +
				`in Entra admin center, Groups > Leeds Kiosks > Owners > Add owners > "Intune Provisioning Client" (appId f1346770-5b25-470b-88bd-d5744ab7952c); ` +
				"if it is not listed, create the service principal with `New-MgServicePrincipal -AppId f1346770-5b25-470b-88bd-d5744ab7952c`"},
		{name: "no owners at all", group: good, rules: []string{RuleOwner}},
		{name: "a look-alike owner", group: good, owners: []graph.DirectoryObject{otherSP}, rules: []string{RuleOwner}},
		{name: "not security", group: m365, owners: []graph.DirectoryObject{provisioning}, rules: []string{RuleNotSecurity},
			mentions: []string{`"Leeds Team" (id 22222222-2222-4222-8222-222222222222)`, "not a security group", "Group type Security"}},
		{name: "dynamic", group: dyn, owners: []graph.DirectoryObject{provisioning}, rules: []string{RuleDynamic},
			mentions: []string{`"All Zebras"`, "membership is dynamic", "Membership type Assigned"}},
		{name: "every rule broken is named", group: both, rules: []string{RuleNotSecurity, RuleDynamic, RuleOwner},
			mentions: []string{"not a security group", "; and its membership is dynamic", "; and the Intune Provisioning Client", "Groups > Mess > Owners"}},
		{name: "AOSP: the group is not looked at", group: both, mode: profile.ModeAOSPUserless, rules: []string{RuleMode},
			message: `device group "Mess" (id 44444444-4444-4444-8444-444444444444): enrollment-time device groups are available only for dedicated (corporateOwnedDedicatedDevice), ` +
				"fully managed (corporateOwnedFullyManaged) and corporate-owned work profile (corporateOwnedWorkProfile) profiles, not corporateOwnedAOSPUserlessDevice: leave deviceGroup empty for this row"},
		{name: "staging token", group: good, owners: []graph.DirectoryObject{provisioning}, mode: profile.ModeWorkProfile, token: profile.TokenStaging, rules: []string{RuleToken},
			mentions: []string{"device staging token (enrollmentTokenType deviceStaging): use the default token type, or leave deviceGroup empty for this row"}},
		{name: "owners hidden: a note, not an error", group: good, owners: []graph.DirectoryObject{hiddenSP, userOwner},
			note: "cannot tell whether the Intune Provisioning Client owns it"},
		{name: "owners hidden, other rules still apply", group: dyn, owners: []graph.DirectoryObject{hiddenSP}, rules: []string{RuleDynamic},
			note: "lacks Application.Read.All; grant Application.Read.All (or Directory.Read.All)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			note, err := CheckGroup(tt.group, tt.owners, tt.mode, tt.token)
			if tt.note == "" && note != "" || !strings.Contains(note, tt.note) {
				t.Errorf("note %q, want it to hold %q", note, tt.note)
			}
			if len(tt.rules) == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			var ge *GroupError
			if !errors.As(err, &ge) || len(ge.Problems) != len(tt.rules) {
				t.Fatalf("error %v, want rules %v", err, tt.rules)
			}
			for i, r := range tt.rules {
				if ge.Problems[i].Rule != r || !ge.Has(r) {
					t.Errorf("rule %d is %s, want %s", i, ge.Problems[i].Rule, r)
				}
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Errorf("message\n %s\nwant\n %s", err, tt.message)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not hold %q", err, m)
				}
			}
		})
	}
}

func TestPickGroup(t *testing.T) {
	a := graph.Group{ID: "66666666-6666-4666-8666-666666666666", DisplayName: "Brno Scanners"}
	b := graph.Group{ID: "77777777-7777-4777-8777-777777777777", DisplayName: "BRNO SCANNERS"}
	byName := ParseGroupCell("Brno Scanners")
	for _, tt := range []struct {
		name    string
		ref     GroupRef
		found   []graph.Group
		rule    string
		message string
	}{
		{"one", byName, []graph.Group{a}, "", ""},
		{"two of one name", byName, []graph.Group{a, b}, RuleAmbiguous,
			`device group "Brno Scanners": 2 groups have this name (ids 66666666-6666-4666-8666-666666666666, 77777777-7777-4777-8777-777777777777): give the object id of the one to use instead of the name`},
		{"no such name", byName, nil, RuleNotFound,
			`device group "Brno Scanners": no group of this name in Entra ID (names are matched in full, without regard to case): check the name in Entra admin center > Groups, or give the group's object id`},
		{"no such id", ParseGroupCell("88888888-8888-4888-8888-888888888888"), nil, RuleNotFound,
			`device group "88888888-8888-4888-8888-888888888888": no group has this object id in Entra ID (deleted, or from another tenant): check it in Entra admin center > Groups, or give the group's name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, err := PickGroup(tt.ref, tt.found)
			if tt.rule == "" {
				if err != nil || g.ID != a.ID {
					t.Fatalf("%+v, %v", g, err)
				}
				return
			}
			var ge *GroupError
			if !errors.As(err, &ge) || !ge.Has(tt.rule) || err.Error() != tt.message {
				t.Errorf("error\n %v\nwant %s:\n %s", err, tt.rule, tt.message)
			}
		})
	}
}

// TestGroupsCheckAgainstTheSimulator resolves deviceGroup cells through
// the real client and the simulator over loopback: each name, id and
// owner list is read once, and a lookup the app may not make aborts with
// Graph's *AuthError.
func TestGroupsCheckAgainstTheSimulator(t *testing.T) {
	kiosks := sim.Group{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "Leeds Kiosks", SecurityEnabled: true, Owners: []sim.Owner{sim.IntuneProvisioningClient()}}
	tills := sim.Group{ID: "22222222-2222-4222-8222-222222222222", DisplayName: "Leeds Tills", SecurityEnabled: true}
	s, c := simClient(t, sim.Options{Groups: []sim.Group{kiosks, tills,
		{DisplayName: "Twins", SecurityEnabled: true}, {DisplayName: "twins", SecurityEnabled: true}}})
	g := NewGroups(c)
	ctx := context.Background()

	type row struct {
		cell, mode, token string
		action            GroupAction
		group             string
		rule              string
		note              string
	}
	rows := []row{
		{cell: "", action: GroupKeep},
		{cell: "none", action: GroupClear},
		{cell: "none", mode: profile.ModeAOSPUserless, action: GroupKeep, note: "nothing to clear, as corporateOwnedAOSPUserlessDevice profiles have no enrollment-time device group"},
		{cell: "Leeds Kiosks", action: GroupByName, group: kiosks.ID},
		{cell: "leeds kiosks", mode: profile.ModeWorkProfile, action: GroupByName, group: kiosks.ID},
		{cell: strings.ToUpper(kiosks.ID), action: GroupByID, group: kiosks.ID},
		{cell: "Leeds Tills", rule: RuleOwner},
		{cell: "Twins", rule: RuleAmbiguous},
		{cell: "Nowhere", rule: RuleNotFound},
		{cell: "99999999-9999-4999-8999-999999999999", rule: RuleNotFound},
		{cell: "Leeds Kiosks", mode: profile.ModeAOSPAssociated, rule: RuleMode},
		{cell: "Leeds Kiosks", mode: profile.ModeFullyManaged, token: profile.TokenStaging, rule: RuleToken},
	}
	var wg sync.WaitGroup
	results := make([]error, len(rows))
	decisions := make([]Decision, len(rows))
	for i, r := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decisions[i], results[i] = g.Check(ctx, r.cell, r.mode, r.token)
		}()
	}
	wg.Wait()
	for i, r := range rows {
		d, err := decisions[i], results[i]
		if r.rule != "" {
			var ge *GroupError
			if !errors.As(err, &ge) || !ge.Has(r.rule) {
				t.Errorf("%q (%s): %v, want %s", r.cell, r.mode, err, r.rule)
			}
			continue
		}
		if err != nil || d.Action != r.action || d.Group.ID != r.group || !strings.Contains(d.Note, r.note) {
			t.Errorf("%q (%s): %+v, %v", r.cell, r.mode, d, err)
		}
	}
	st := s.Stats()
	// Names looked up: Leeds Kiosks (twice, as two spellings of one key),
	// Leeds Tills, Twins, Nowhere; ids: two; owners: Leeds Kiosks and
	// Leeds Tills (each once, however it was named).
	if st.GroupLists != 4 || st.GroupGets != 2 || st.OwnerLists != 2 {
		t.Errorf("lookups: %d lists, %d gets, %d owner lists; want 4, 2, 2", st.GroupLists, st.GroupGets, st.OwnerLists)
	}

	_, c = simClient(t, sim.Options{Groups: []sim.Group{kiosks}, Granted: []string{"DeviceManagementConfiguration.ReadWrite.All"}})
	_, err := NewGroups(c).Check(ctx, "Leeds Kiosks", "", "")
	var ae *graph.AuthError
	if !errors.As(err, &ae) || ae.Permission != graph.PermissionGroups {
		t.Errorf("without a group permission: %v", err)
	}
}

// TestTagsFromTheSimulator resolves against the tags the client lists.
func TestTagsFromTheSimulator(t *testing.T) {
	_, c := simClient(t, sim.Options{ScopeTags: []sim.ScopeTag{{ID: "14", DisplayName: "Leeds"}}})
	list, err := c.ListRoleScopeTags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids, err := NewTags(list).Resolve([]string{"default", "Leeds", "14"})
	if err != nil || strings.Join(ids, ",") != "0,14" {
		t.Errorf("%v, %v", ids, err)
	}
}

func simClient(t *testing.T, o sim.Options) (*sim.Server, *graph.Client) {
	t.Helper()
	s := sim.New(o)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	p := ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})
	return s, &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: p, MaxRetries: 2}
}
