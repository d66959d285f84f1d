package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// Groups used across the tests below.
var (
	leedsKiosks = sim.Group{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "Leeds Kiosks", SecurityEnabled: true,
		Owners: []sim.Owner{sim.IntuneProvisioningClient(), {Type: sim.OwnerUser, DisplayName: "Priya Patel", UserPrincipalName: "priya@contoso.example"}}}
	noOwner = sim.Group{ID: "22222222-2222-4222-8222-222222222222", DisplayName: "Leeds Tills", SecurityEnabled: true,
		Owners: []sim.Owner{{Type: sim.OwnerUser, DisplayName: "Tom", UserPrincipalName: "tom@contoso.example"}}}
	dynamic = sim.Group{ID: "33333333-3333-4333-8333-333333333333", DisplayName: "All Zebras", SecurityEnabled: true,
		GroupTypes: []string{"DynamicMembership"}, MembershipRule: `(device.deviceModel -eq "TC52")`, Owners: []sim.Owner{sim.IntuneProvisioningClient()}}
	unified = sim.Group{ID: "44444444-4444-4444-8444-444444444444", DisplayName: "Leeds Team", MailEnabled: true,
		GroupTypes: []string{"Unified"}, Owners: []sim.Owner{sim.IntuneProvisioningClient()}}
	outOfScope = sim.Group{ID: "55555555-5555-4555-8555-555555555555", DisplayName: "Kraków Kiosks", SecurityEnabled: true,
		OutOfScope: true, Owners: []sim.Owner{sim.IntuneProvisioningClient()}}
	twinA = sim.Group{ID: "66666666-6666-4666-8666-666666666666", DisplayName: "Brno Scanners", SecurityEnabled: true}
	twinB = sim.Group{ID: "77777777-7777-4777-8777-777777777777", DisplayName: "brno scanners", SecurityEnabled: true}
)

// profileNamed is a profile to seed.
func profileNamed(name string, tags ...string) profile.Profile {
	return profile.Profile{DisplayName: name, RoleScopeTagIDs: tags}
}

func tenantOptions() sim.Options {
	return sim.Options{
		ScopeTags: []sim.ScopeTag{{ID: "14", DisplayName: "Leeds"}, {ID: "21", DisplayName: "Kraków", Description: "Polish stores"}},
		Groups:    []sim.Group{leedsKiosks, noOwner, dynamic, unified, outOfScope, twinA, twinB},
	}
}

// base is the Graph URL of the environment.
func (e *env) base() string { return e.srv.URL + "/beta" }

// listPage decodes a list answer.
func listPage(t *testing.T, r response) (values []map[string]any, next string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var p struct {
		Context string           `json:"@odata.context"`
		Next    string           `json:"@odata.nextLink"`
		Value   []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Context == "" {
		t.Fatalf("not a list page (%v): %s", err, r.body)
	}
	return p.Value, p.Next
}

func TestScopeTags(t *testing.T) {
	e := start(t, sim.Options{})
	vals, _ := listPage(t, e.get(e.base()+"/deviceManagement/roleScopeTags"))
	if len(vals) != 1 || vals[0]["id"] != "0" || vals[0]["displayName"] != "Default" || vals[0]["isBuiltIn"] != true ||
		vals[0]["@odata.type"] != "#microsoft.graph.roleScopeTag" {
		t.Fatalf("a bare tenant's tags: %v", vals)
	}

	e = start(t, tenantOptions())
	added := e.sim.SeedScopeTags(sim.ScopeTag{DisplayName: "Brno"})
	if added[0].ID != "22" {
		t.Errorf("seeded tag without id got %q, want the next number 22", added[0].ID)
	}
	vals, _ = listPage(t, e.get(e.base()+"/deviceManagement/roleScopeTags"))
	var got []string
	for _, v := range vals {
		got = append(got, fmt.Sprint(v["id"], "=", v["displayName"]))
	}
	if want := []string{"0=Default", "14=Leeds", "21=Kraków", "22=Brno"}; !slices.Equal(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}

	vals, _ = listPage(t, e.get(e.base()+"/deviceManagement/roleScopeTags?$filter="+url.QueryEscape("displayName eq 'KRAKÓW'")+"&$select=displayName"))
	if len(vals) != 1 || vals[0]["id"] != "21" || vals[0]["displayName"] != "Kraków" || len(vals[0]) != 3 {
		t.Errorf("filtered, selected (want @odata.type, id and displayName): %v", vals)
	}

	// Paging with $top follows nextLink to the end.
	var ids []string
	for link := e.base() + "/deviceManagement/roleScopeTags?$top=3"; link != ""; {
		var page []map[string]any
		page, link = listPage(t, e.get(link))
		for _, v := range page {
			ids = append(ids, v["id"].(string))
		}
	}
	if len(ids) != 4 {
		t.Errorf("paged ids %v", ids)
	}

	r := e.get(e.base() + "/deviceManagement/roleScopeTags/21")
	if r.status != 200 || r.json(t)["displayName"] != "Kraków" {
		t.Errorf("get one: %d %s", r.status, r.body)
	}
	r = e.get(e.base() + "/deviceManagement/roleScopeTags/99")
	if code, msg := r.graphError(t); r.status != 404 || code != "ResourceNotFound" || !strings.Contains(msg, "Role scope tag with id '99' does not exist") {
		t.Errorf("unknown tag: %d %s %s", r.status, code, msg)
	}
	if st := e.sim.Stats(); st.ScopeTagReads != 6 || st.Requests != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnknownScopeTagRefused(t *testing.T) {
	// A bare simulator does not model tags: any id is taken.
	e := start(t, sim.Options{})
	if r := e.post(`{"displayName":"A","roleScopeTagIds":["0","99"]}`); r.status != http.StatusCreated {
		t.Fatalf("bare simulator refused a tag id: %d %s", r.status, r.body)
	}

	for _, opts := range []sim.Options{tenantOptions(), {CheckScopeTags: true}} {
		e := start(t, opts)
		r := e.post(`{"displayName":"A","roleScopeTagIds":["0","99"]}`)
		code, msg := r.graphError(t)
		if r.status != 400 || code != "BadRequest" || !strings.Contains(msg, `Role scope tag with id '99' does not exist`) {
			t.Errorf("create with an unknown tag: %d %s %s", r.status, code, msg)
		}
		if len(e.sim.Profiles()) != 0 {
			t.Errorf("the refused create made a profile")
		}
		r = e.post(`{"displayName":"B"}`)
		if r.status != 201 {
			t.Fatalf("create without tags: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		r = e.do(http.MethodPatch, e.coll+"/"+id, "", []byte(`{"roleScopeTagIds":["0","98"]}`))
		if code, msg := r.graphError(t); r.status != 400 || !strings.Contains(msg, "'98' does not exist") {
			t.Errorf("patch with an unknown tag: %d %s %s", r.status, code, msg)
		}
	}

	e = start(t, tenantOptions())
	if r := e.post(`{"displayName":"C","roleScopeTagIds":["0","14","21"]}`); r.status != 201 {
		t.Errorf("create with known tags: %d %s", r.status, r.body)
	}
	// A profile seeded with a tag that does not exist can still be
	// updated when the update leaves the tags alone.
	p := e.sim.SeedProfiles(profileNamed("D", "0", "77"))[0]
	if r := e.do(http.MethodPatch, e.coll+"/"+p.ID, "", []byte(`{"description":"x"}`)); r.status != 200 {
		t.Errorf("patch leaving tags alone: %d %s", r.status, r.body)
	}
}

func TestGroups(t *testing.T) {
	e := start(t, tenantOptions())
	filter := func(name string) string {
		return e.base() + "/groups?$filter=" + url.QueryEscape("displayName eq '"+strings.ReplaceAll(name, "'", "''")+"'") +
			"&$select=id,displayName,securityEnabled,groupTypes,mailEnabled"
	}
	vals, _ := listPage(t, e.get(filter("leeds kiosks")))
	if len(vals) != 1 || vals[0]["id"] != leedsKiosks.ID || vals[0]["securityEnabled"] != true || vals[0]["displayName"] != "Leeds Kiosks" {
		t.Fatalf("found %v", vals)
	}
	if _, ok := vals[0]["membershipRule"]; ok {
		t.Errorf("$select ignored: %v", vals[0])
	}
	if vals, _ := listPage(t, e.get(filter("Brno Scanners"))); len(vals) != 2 {
		t.Errorf("two groups of one name: %v", vals)
	}
	if vals, _ := listPage(t, e.get(filter("Nobody's Group"))); len(vals) != 0 {
		t.Errorf("no group: %v", vals)
	}
	vals, _ = listPage(t, e.get(e.base()+"/groups"))
	if len(vals) != 7 {
		t.Errorf("all groups: %d", len(vals))
	}
	for _, v := range vals {
		if v["id"] == dynamic.ID && (v["membershipRule"] != dynamic.MembershipRule || v["membershipRuleProcessingState"] != "On") {
			t.Errorf("dynamic group rendered %v", v)
		}
	}
	r := e.get(e.base() + "/groups?$select=nosuch")
	if code, _ := r.graphError(t); r.status != 400 || code != "Request_BadRequest" {
		t.Errorf("bad $select: %d %s", r.status, code)
	}

	r = e.get(e.base() + "/groups/" + strings.ToUpper(dynamic.ID) + "?$select=groupTypes")
	if m := r.json(t); r.status != 200 || m["id"] != dynamic.ID || fmt.Sprint(m["groupTypes"]) != "[DynamicMembership]" {
		t.Errorf("get group: %d %s", r.status, r.body)
	}
	r = e.get(e.base() + "/groups/88888888-8888-4888-8888-888888888888")
	if code, msg := r.graphError(t); r.status != 404 || code != "Request_ResourceNotFound" || !strings.Contains(msg, "does not exist") {
		t.Errorf("unknown group: %d %s %s", r.status, code, msg)
	}
	r = e.get(e.base() + "/groups/Leeds%20Kiosks")
	if code, msg := r.graphError(t); r.status != 400 || !strings.Contains(msg, "Invalid object identifier") {
		t.Errorf("name as id: %d %s %s", r.status, code, msg)
	}

	vals, _ = listPage(t, e.get(e.base()+"/groups/"+leedsKiosks.ID+"/owners"))
	if len(vals) != 2 || vals[0]["@odata.type"] != "#microsoft.graph.servicePrincipal" || vals[0]["appId"] != sim.IntuneProvisioningClientAppID ||
		vals[1]["@odata.type"] != "#microsoft.graph.user" || vals[1]["userPrincipalName"] != "priya@contoso.example" {
		t.Errorf("owners %v", vals)
	}
	if r := e.do(http.MethodPost, e.base()+"/groups", "", []byte(`{}`)); r.status != 405 {
		t.Errorf("POST /groups: %d", r.status)
	}
	if st := e.sim.Stats(); st.GroupLists != 5 || st.GroupGets != 3 || st.OwnerLists != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestPermissions(t *testing.T) {
	o := tenantOptions()
	o.Granted = []string{"DeviceManagementConfiguration.ReadWrite.All", "GroupMember.Read.All"}
	e := start(t, o)
	// Tags: the roleScopeTag pages accept DeviceManagementConfiguration.*.
	if r := e.get(e.base() + "/deviceManagement/roleScopeTags"); r.status != 200 {
		t.Errorf("tags with DeviceManagementConfiguration.ReadWrite.All: %d %s", r.status, r.body)
	}
	// Owners without Application.Read.All: limited information.
	vals, _ := listPage(t, e.get(e.base()+"/groups/"+leedsKiosks.ID+"/owners"))
	if len(vals) != 2 || vals[0]["@odata.type"] != "#microsoft.graph.servicePrincipal" || vals[0]["id"] == nil || vals[0]["appId"] != nil || vals[1]["userPrincipalName"] != nil {
		t.Errorf("limited owners %v", vals)
	}

	o.Granted = []string{"DeviceManagementConfiguration.ReadWrite.All", "Group.Read.All", "Application.Read.All"}
	e = start(t, o)
	vals, _ = listPage(t, e.get(e.base()+"/groups/"+leedsKiosks.ID+"/owners"))
	if vals[0]["appId"] != sim.IntuneProvisioningClientAppID || vals[1]["userPrincipalName"] != nil {
		t.Errorf("owners with Application.Read.All only: %v", vals)
	}

	o.Granted = []string{"DeviceManagementRBAC.Read.All"}
	e = start(t, o)
	r := e.get(e.base() + "/groups?$filter=" + url.QueryEscape("displayName eq 'Leeds Kiosks'"))
	if code, msg := r.graphError(t); r.status != 403 || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
		t.Errorf("groups without a group permission: %d %s %s", r.status, code, msg)
	}
	if r := e.get(e.base() + "/deviceManagement/roleScopeTags"); r.status != 200 {
		t.Errorf("tags with DeviceManagementRBAC.Read.All: %d", r.status)
	}
	r = e.get(e.coll)
	if code, msg := r.graphError(t); r.status != 403 || code != "Forbidden" || !strings.Contains(msg, "DeviceManagementConfiguration.ReadWrite.All") {
		t.Errorf("profiles without DeviceManagementConfiguration: %d %s %s", r.status, code, msg)
	}

	o.Granted = []string{"Group.Read.All"}
	e = start(t, o)
	r = e.get(e.base() + "/deviceManagement/roleScopeTags")
	if code, msg := r.graphError(t); r.status != 403 || !strings.Contains(msg, "DeviceManagementRBAC.Read.All") {
		t.Errorf("tags without permission: %d %s %s", r.status, code, msg)
	}

	// Authorize answering 403 gives each kind of request its service's
	// message.
	e = start(t, sim.Options{Authorize: func(string) int { return 403 }})
	if code, _ := e.get(e.base() + "/groups").graphError(t); code != "Authorization_RequestDenied" {
		t.Errorf("Authorize 403 on groups: %s", code)
	}
}

// setBody is the body of setEnrollmentTimeDeviceMembershipTarget.
func setBody(ids ...string) []byte {
	var ts []map[string]string
	for _, id := range ids {
		ts = append(ts, map[string]string{"@odata.type": "microsoft.graph.enrollmentTimeDeviceMembershipTarget", "targetType": "staticSecurityGroup", "targetId": id})
	}
	b, _ := json.Marshal(map[string]any{"enrollmentTimeDeviceMembershipTargets": ts})
	return b
}

// targetResult is the decoded answer of set or retrieve.
type targetResult struct {
	Value struct {
		Type      string `json:"@odata.type"`
		Succeeded bool   `json:"validationSucceeded"`
		Statuses  []struct {
			Type      string `json:"@odata.type"`
			TargetID  string `json:"targetId"`
			Succeeded bool   `json:"validationSucceeded"`
			Code      string `json:"targetValidationErrorCode"`
		} `json:"enrollmentTimeDeviceMembershipTargetValidationStatuses"`
	} `json:"value"`
}

func decodeResult(t *testing.T, r response) targetResult {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var res targetResult
	if err := json.Unmarshal(r.body, &res); err != nil || res.Value.Type != "#microsoft.graph.enrollmentTimeDeviceMembershipTargetResult" {
		t.Fatalf("not a result (%v): %s", err, r.body)
	}
	return res
}

func TestDeviceGroupActions(t *testing.T) {
	e := start(t, tenantOptions())
	p := e.sim.SeedProfiles(profileNamed("Leeds kiosk"))[0]
	action := func(name string) string { return e.coll + "/" + p.ID + "/" + name }

	for _, tt := range []struct {
		group, code string
	}{
		{"88888888-8888-4888-8888-888888888888", "securityGroupNotFound"},
		{"not a guid", "securityGroupNotFound"},
		{unified.ID, "notSecurityGroup"},
		{dynamic.ID, "notStaticSecurityGroup"},
		{noOwner.ID, "firstPartyAppNotAnOwner"},
		{outOfScope.ID, "securityGroupNotInCallerScope"},
	} {
		res := decodeResult(t, e.do(http.MethodPost, action("setEnrollmentTimeDeviceMembershipTarget"), "", setBody(tt.group)))
		if res.Value.Succeeded || len(res.Value.Statuses) != 1 || res.Value.Statuses[0].Succeeded || res.Value.Statuses[0].Code != tt.code ||
			res.Value.Statuses[0].TargetID != tt.group {
			t.Errorf("set %s: %+v, want %s", tt.group, res, tt.code)
		}
		if got, _ := e.sim.DeviceGroups(p.ID); len(got) != 0 {
			t.Errorf("a failed set stored %v", got)
		}
	}

	res := decodeResult(t, e.do(http.MethodPost, action("microsoft.graph.setEnrollmentTimeDeviceMembershipTarget"), "", setBody(leedsKiosks.ID)))
	if !res.Value.Succeeded || len(res.Value.Statuses) != 1 || !res.Value.Statuses[0].Succeeded {
		t.Fatalf("set a valid group: %+v", res)
	}
	if got, _ := e.sim.DeviceGroups(p.ID); !slices.Equal(got, []string{leedsKiosks.ID}) {
		t.Errorf("stored %v", got)
	}
	// A failing set leaves the stored group.
	decodeResult(t, e.do(http.MethodPost, action("setEnrollmentTimeDeviceMembershipTarget"), "", setBody(dynamic.ID)))
	res = decodeResult(t, e.do(http.MethodPost, action("retrieveEnrollmentTimeDeviceMembershipTarget"), "", nil))
	if !res.Value.Succeeded || len(res.Value.Statuses) != 1 || res.Value.Statuses[0].TargetID != leedsKiosks.ID {
		t.Errorf("retrieve: %+v", res)
	}
	r := e.do(http.MethodPost, action("clearEnrollmentTimeDeviceMembershipTarget"), "", nil)
	if r.status != 204 || len(r.body) != 0 {
		t.Errorf("clear: %d %s", r.status, r.body)
	}
	res = decodeResult(t, e.do(http.MethodPost, action("retrieveEnrollmentTimeDeviceMembershipTarget"), "", nil))
	if !res.Value.Succeeded || len(res.Value.Statuses) != 0 {
		t.Errorf("retrieve after clear: %+v", res)
	}
	if r := e.do(http.MethodPost, action("clearEnrollmentTimeDeviceMembershipTarget"), "", nil); r.status != 204 {
		t.Errorf("clear again: %d", r.status)
	}
	if st := e.sim.Stats(); st.SetTargets != 8 || st.RetrieveTargets != 2 || st.ClearTargets != 2 || st.Posts != 12 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeviceGroupActionRefusals(t *testing.T) {
	e := start(t, tenantOptions())
	in := []profile.Profile{profileNamed("Kiosk"), profileNamed("AOSP"), profileNamed("Staged")}
	in[1].EnrollmentMode = "corporateOwnedAOSPUserlessDevice"
	in[2].EnrollmentMode, in[2].EnrollmentTokenType = "corporateOwnedFullyManaged", "deviceStaging"
	ps := e.sim.SeedProfiles(in...)
	aosp := ps[1:]
	set := func(id string) string { return e.coll + "/" + id + "/setEnrollmentTimeDeviceMembershipTarget" }
	for _, tt := range []struct {
		name, url string
		body      string
		status    int
		mention   string
	}{
		{"AOSP", set(aosp[0].ID), string(setBody(leedsKiosks.ID)), 400, "enrollment mode 'corporateOwnedAOSPUserlessDevice'"},
		{"staging", set(aosp[1].ID), string(setBody(leedsKiosks.ID)), 400, "token type 'deviceStaging'"},
		{"no profile", set("9d0e0b8e-0000-4000-8000-000000000000"), string(setBody(leedsKiosks.ID)), 404, "No androidDeviceOwnerEnrollmentProfile"},
		{"empty body", set(ps[0].ID), "", 400, "Empty Payload"},
		{"unknown parameter", set(ps[0].ID), `{"groups":[]}`, 400, "not a valid parameter"},
		{"missing parameter", set(ps[0].ID), `{}`, 400, "Missing parameter"},
		{"not a list", set(ps[0].ID), `{"enrollmentTimeDeviceMembershipTargets":{"targetId":"x"}}`, 400, "StartArray"},
		{"bad type", set(ps[0].ID), `{"enrollmentTimeDeviceMembershipTargets":[{"targetType":"dynamicGroup","targetId":"x"}]}`, 400, "dynamicGroup"},
		{"no type", set(ps[0].ID), `{"enrollmentTimeDeviceMembershipTargets":[{"targetId":"x"}]}`, 400, "targetType"},
		{"unknown property", set(ps[0].ID), `{"enrollmentTimeDeviceMembershipTargets":[{"targetType":"staticSecurityGroup","groupId":"x"}]}`, 400, "'groupId' does not exist"},
		{"wrong odata type", set(ps[0].ID), `{"enrollmentTimeDeviceMembershipTargets":[{"@odata.type":"#microsoft.graph.group","targetType":"staticSecurityGroup","targetId":"x"}]}`, 400, "could not be resolved"},
		{"retrieve with a body", e.coll + "/" + ps[0].ID + "/retrieveEnrollmentTimeDeviceMembershipTarget", `{}`, 400, "takes no request body"},
		{"GET on the action", "", "", 405, "not allowed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.url == "" {
				r = e.get(set(ps[0].ID))
			} else {
				var body []byte
				if tt.body != "" {
					body = []byte(tt.body)
				}
				r = e.do(http.MethodPost, tt.url, "", body)
			}
			_, msg := r.graphError(t)
			if r.status != tt.status || !strings.Contains(msg, tt.mention) {
				t.Errorf("%d %s, want %d mentioning %q", r.status, msg, tt.status, tt.mention)
			}
		})
	}
	// "#"-prefixed and bare @odata.type are both taken.
	b := strings.Replace(string(setBody(leedsKiosks.ID)), `"microsoft.graph.`, `"#microsoft.graph.`, 1)
	if res := decodeResult(t, e.do(http.MethodPost, set(ps[0].ID), "", []byte(b))); !res.Value.Succeeded {
		t.Errorf("set with #-prefixed type: %+v", res)
	}
}

func TestDirectoryRequestsAreThrottledAndFaulted(t *testing.T) {
	o := tenantOptions()
	o.Limit = 2
	e := start(t, o)
	p := e.sim.SeedProfiles(profileNamed("Kiosk"))[0]
	statuses := []int{
		e.get(e.base() + "/groups").status,
		e.do(http.MethodPost, e.coll+"/"+p.ID+"/setEnrollmentTimeDeviceMembershipTarget", "", setBody(leedsKiosks.ID)).status,
		e.get(e.base() + "/deviceManagement/roleScopeTags").status,
	}
	if fmt.Sprint(statuses) != "[200 200 429]" {
		t.Errorf("statuses %v, want the third throttled", statuses)
	}
	if st := e.sim.Stats(); st.Throttled != 1 {
		t.Errorf("throttled %d", st.Throttled)
	}

	e = start(t, tenantOptions())
	p = e.sim.SeedProfiles(profileNamed("Kiosk"))[0]
	e.sim.Inject(sim.Fault{Op: sim.OpSetDeviceGroup, Status: 500}, sim.Fault{Op: sim.OpListGroupOwners, Status: 503, RetryAfter: "1"})
	if r := e.do(http.MethodPost, e.coll+"/"+p.ID+"/setEnrollmentTimeDeviceMembershipTarget", "", setBody(leedsKiosks.ID)); r.status != 500 {
		t.Errorf("injected 500: %d", r.status)
	}
	if r := e.get(e.base() + "/groups/" + leedsKiosks.ID + "/owners"); r.status != 503 || r.header.Get("Retry-After") != "1" {
		t.Errorf("injected 503: %d", r.status)
	}
	if got, _ := e.sim.DeviceGroups(p.ID); len(got) != 0 {
		t.Errorf("a faulted set stored %v", got)
	}
}

func TestReadTenant(t *testing.T) {
	doc := `{"scopeTags":[{"id":"14","displayName":"Leeds"}],
	 "groups":[{"displayName":"Leeds Kiosks","securityEnabled":true,
	   "owners":[{"type":"servicePrincipal","appId":"` + sim.IntuneProvisioningClientAppID + `","displayName":"Intune Provisioning Client"}]}]}`
	path := filepath.Join(t.TempDir(), "tenant.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	ten, err := sim.LoadTenant(path)
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, sim.Options{})
	e.sim.SeedTenant(ten)
	gs := e.sim.Groups()
	if len(gs) != 1 || gs[0].ID == "" || gs[0].Owners[0].ID == "" {
		t.Fatalf("groups %+v", gs)
	}
	if tags := e.sim.ScopeTags(); len(tags) != 2 || tags[1].DisplayName != "Leeds" {
		t.Errorf("tags %+v", tags)
	}
	// Seeding tags turns the check on.
	if r := e.post(`{"displayName":"A","roleScopeTagIds":["15"]}`); r.status != 400 {
		t.Errorf("unknown tag after seeding: %d", r.status)
	}
	p := e.sim.SeedProfiles(profileNamed("Kiosk"))[0]
	if res := decodeResult(t, e.do(http.MethodPost, e.coll+"/"+p.ID+"/setEnrollmentTimeDeviceMembershipTarget", "", setBody(gs[0].ID))); !res.Value.Succeeded {
		t.Errorf("set the seeded group: %+v", res)
	}

	for _, bad := range []string{
		`{"scopeTag":[]}`,
		`{"groups":[{"displayName":""}]}`,
		`{"groups":[{"displayName":"G","id":"12"}]}`,
		`{"groups":[{"displayName":"G","owners":[{"type":"app"}]}]}`,
		`{"scopeTags":[{"id":"3"}]}`,
	} {
		if _, err := sim.ReadTenant(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadTenant(%s) took it", bad)
		}
	}
}

// ReplaceProfiles makes the tenant hold exactly the profiles given: a
// tenant kept between runs replaces the seeds it started with.
func TestReplaceProfiles(t *testing.T) {
	s := sim.New(sim.Options{})
	s.Seed("Till 1", "Till 2")
	s.ReplaceProfiles(profile.Profile{DisplayName: "Till 2"}, profile.Profile{DisplayName: "Till 3"})
	var names []string
	for _, p := range s.Profiles() {
		names = append(names, p.DisplayName)
	}
	if strings.Join(names, ",") != "Till 2,Till 3" || len(s.Named("Till 1")) != 0 || len(s.Named("Till 2")) != 1 {
		t.Errorf("after ReplaceProfiles the tenant holds %q", names)
	}
}
