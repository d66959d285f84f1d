package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

var (
	kiosks = sim.Group{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "Kraków Kiosks", SecurityEnabled: true,
		Owners: []sim.Owner{sim.IntuneProvisioningClient(), {Type: sim.OwnerUser, DisplayName: "Łukasz", UserPrincipalName: "lukasz@contoso.example"}}}
	tills = sim.Group{ID: "22222222-2222-4222-8222-222222222222", DisplayName: "O'Brien's Tills", SecurityEnabled: true,
		Owners: []sim.Owner{{Type: sim.OwnerUser, DisplayName: "Tom"}}}
	zebras = sim.Group{ID: "33333333-3333-4333-8333-333333333333", DisplayName: "All Zebras", SecurityEnabled: true,
		GroupTypes: []string{"DynamicMembership"}, MembershipRule: `(device.deviceModel -eq "TC52")`, Owners: []sim.Owner{sim.IntuneProvisioningClient()}}
	twin1 = sim.Group{ID: "66666666-6666-4666-8666-666666666666", DisplayName: "Brno Scanners", SecurityEnabled: true}
	twin2 = sim.Group{ID: "77777777-7777-4777-8777-777777777777", DisplayName: "BRNO SCANNERS", SecurityEnabled: true}
)

func tenantClient(t *testing.T, o sim.Options) (*sim.Server, *Client) {
	t.Helper()
	o.ScopeTags = []sim.ScopeTag{{ID: "14", DisplayName: "Leeds"}, {ID: "21", DisplayName: "Kraków"}}
	o.Groups = []sim.Group{kiosks, tills, zebras, twin1, twin2}
	return newClient(t, o)
}

func TestListRoleScopeTags(t *testing.T) {
	s, c := tenantClient(t, sim.Options{PageSize: 2})
	tags, err := c.ListRoleScopeTags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []ScopeTag{{ID: "0", DisplayName: "Default", IsBuiltIn: true}, {ID: "14", DisplayName: "Leeds"}, {ID: "21", DisplayName: "Kraków"}}
	if !reflect.DeepEqual(tags, want) {
		t.Errorf("tags %+v, want %+v", tags, want)
	}
	if got := s.Stats().ScopeTagReads; got != 2 {
		t.Errorf("%d pages read, want 2", got)
	}
}

func TestFindGroups(t *testing.T) {
	s, c := tenantClient(t, sim.Options{})
	ctx := context.Background()
	// Decomposed "ó" (o + combining acute) and another case still find it.
	gs, err := c.FindGroups(ctx, " krako\u0301w kiosks ")
	if err != nil || len(gs) != 1 || gs[0].ID != kiosks.ID || !gs[0].SecurityEnabled || gs[0].Dynamic() {
		t.Fatalf("FindGroups: %+v, %v", gs, err)
	}
	if gs, err := c.FindGroups(ctx, "O'Brien's Tills"); err != nil || len(gs) != 1 || gs[0].ID != tills.ID {
		t.Errorf("a name with quotes: %+v, %v", gs, err)
	}
	if gs, err := c.FindGroups(ctx, "Brno Scanners"); err != nil || len(gs) != 2 {
		t.Errorf("two groups of one name: %+v, %v", gs, err)
	}
	if gs, err := c.FindGroups(ctx, "Nobody"); err != nil || len(gs) != 0 {
		t.Errorf("no group: %+v, %v", gs, err)
	}
	g, err := c.GetGroup(ctx, zebras.ID)
	if err != nil || !g.Dynamic() || g.MembershipRule != zebras.MembershipRule || g.DisplayName != "All Zebras" {
		t.Errorf("GetGroup: %+v, %v", g, err)
	}
	if _, err := c.GetGroup(ctx, "88888888-8888-4888-8888-888888888888"); !IsNotFound(err) {
		t.Errorf("unknown group: %v", err)
	}
	owners, err := c.GroupOwners(ctx, kiosks.ID)
	if err != nil || len(owners) != 2 || !owners[0].IsIntuneProvisioningClient() || owners[1].IsServicePrincipal() || owners[1].UserPrincipalName != "lukasz@contoso.example" {
		t.Errorf("owners: %+v, %v", owners, err)
	}

	// A throttled lookup waits and is sent again.
	s.Inject(sim.Fault{Op: sim.OpListGroups, Status: 429, RetryAfter: "0.01"})
	before := s.Stats().GroupLists
	if gs, err := c.FindGroups(ctx, "All Zebras"); err != nil || len(gs) != 1 {
		t.Errorf("after a 429: %+v, %v", gs, err)
	}
	if got := s.Stats().GroupLists - before; got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

func TestOwnersWithoutApplicationReadAll(t *testing.T) {
	_, c := tenantClient(t, sim.Options{Granted: []string{"DeviceManagementConfiguration.ReadWrite.All", "GroupMember.Read.All"}})
	owners, err := c.GroupOwners(context.Background(), kiosks.ID)
	if err != nil || len(owners) != 2 || !owners[0].IsServicePrincipal() || owners[0].AppID != "" || owners[0].IsIntuneProvisioningClient() || owners[0].ID == "" {
		t.Errorf("limited owners: %+v, %v", owners, err)
	}
}

func TestLookupForbiddenNamesThePermission(t *testing.T) {
	ctx := context.Background()
	_, c := tenantClient(t, sim.Options{Granted: []string{"DeviceManagementConfiguration.ReadWrite.All"}})
	for name, call := range map[string]func() error{
		"FindGroups":  func() error { _, err := c.FindGroups(ctx, "x"); return err },
		"GetGroup":    func() error { _, err := c.GetGroup(ctx, kiosks.ID); return err },
		"GroupOwners": func() error { _, err := c.GroupOwners(ctx, kiosks.ID); return err },
	} {
		err := call()
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Permission != PermissionGroups || !strings.Contains(err.Error(), "Group.Read.All") ||
			!strings.Contains(err.Error(), "GroupMember.Read.All") || !strings.Contains(err.Error(), "Authorization_RequestDenied") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The tag pages accept DeviceManagementConfiguration.*, so only an app
	// without either is refused.
	if _, err := c.ListRoleScopeTags(ctx); err != nil {
		t.Errorf("tags with DeviceManagementConfiguration.ReadWrite.All: %v", err)
	}
	_, c = tenantClient(t, sim.Options{Granted: []string{"Group.Read.All"}})
	_, err := c.ListRoleScopeTags(ctx)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Permission != PermissionScopeTags || !strings.Contains(err.Error(), "grant the application permission DeviceManagementRBAC.Read.All") {
		t.Errorf("tags: %v", err)
	}
	// The profiles' own 403 names theirs.
	_, err = c.List(ctx, "id")
	if !errors.As(err, &ae) || ae.Permission != Permission {
		t.Errorf("profiles: %v", err)
	}
}

func TestDeviceGroupActions(t *testing.T) {
	s, c := tenantClient(t, sim.Options{})
	ctx := context.Background()
	id := s.SeedProfiles(profile.Profile{DisplayName: "Kiosk"})[0].ID
	type seen struct{ path, body, contentType string }
	var got []seen
	s.SetHook(func(r *http.Request, op sim.Op) *sim.Fault {
		if op == sim.OpSetDeviceGroup || op == sim.OpRetrieveDeviceGroup || op == sim.OpClearDeviceGroup {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			got = append(got, seen{r.URL.Path, string(b), r.Header.Get("Content-Type")})
		}
		return nil
	})

	if err := c.SetDeviceGroup(ctx, id, kiosks.ID); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.DeviceGroups(id); !slices.Equal(ids, []string{kiosks.ID}) {
		t.Errorf("stored %v", ids)
	}
	res, err := c.RetrieveDeviceGroup(ctx, id)
	if err != nil || !res.Succeeded || !slices.Equal(res.GroupIDs(), []string{kiosks.ID}) {
		t.Errorf("retrieve: %+v, %v", res, err)
	}
	if err := c.ClearDeviceGroup(ctx, id); err != nil {
		t.Fatal(err)
	}
	res, err = c.RetrieveDeviceGroup(ctx, id)
	if err != nil || !res.Succeeded || len(res.GroupIDs()) != 0 {
		t.Errorf("retrieve after clear: %+v, %v", res, err)
	}
	p := profile.CollectionPath + "/" + id + "/"
	want := []seen{
		{"/beta" + p + "setEnrollmentTimeDeviceMembershipTarget", `{"enrollmentTimeDeviceMembershipTargets":[{"@odata.type":"microsoft.graph.enrollmentTimeDeviceMembershipTarget","targetId":"` + kiosks.ID + `","targetType":"staticSecurityGroup"}]}`, "application/json"},
		{"/beta" + p + "retrieveEnrollmentTimeDeviceMembershipTarget", "", ""},
		{"/beta" + p + "clearEnrollmentTimeDeviceMembershipTarget", "", ""},
		{"/beta" + p + "retrieveEnrollmentTimeDeviceMembershipTarget", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent %+v\nwant %+v", got, want)
	}

	for _, tt := range []struct {
		group, code, mention string
	}{
		{tills.ID, CodeFirstPartyAppNotAnOwner, "New-MgServicePrincipal -AppId f1346770-5b25-470b-88bd-d5744ab7952c"},
		{zebras.ID, CodeNotStaticSecurityGroup, "Membership type Assigned"},
		{"88888888-8888-4888-8888-888888888888", CodeSecurityGroupNotFound, "no group with this id"},
	} {
		err := c.SetDeviceGroup(ctx, id, tt.group)
		var de *DeviceGroupError
		if !errors.As(err, &de) || de.Code != tt.code || de.Err != nil || IsAuth(err) || !strings.Contains(err.Error(), tt.mention) ||
			!strings.Contains(err.Error(), tt.group) {
			t.Errorf("set %s: %v, want %s", tt.group, err, tt.code)
		}
	}

	aosp := s.SeedProfiles(profile.Profile{DisplayName: "AOSP", EnrollmentMode: profile.ModeAOSPUserless})[0].ID
	err = c.SetDeviceGroup(ctx, aosp, kiosks.ID)
	var de *DeviceGroupError
	if !errors.As(err, &de) || de.Err == nil || de.Err.Status != 400 || !strings.Contains(err.Error(), "not AOSP") {
		t.Errorf("set on AOSP: %v", err)
	}
	err = c.ClearDeviceGroup(ctx, "9d0e0b8e-0000-4000-8000-000000000000")
	if !errors.As(err, &de) || de.Err == nil || de.Err.Status != 404 || !IsNotFound(err) {
		t.Errorf("clear on a deleted profile: %v", err)
	}
	s.Inject(sim.Fault{Op: sim.OpSetDeviceGroup, Status: http.StatusForbidden})
	err = c.SetDeviceGroup(ctx, id, kiosks.ID)
	if !errors.As(err, &de) || IsAuth(err) || de.Err.Status != 403 || !strings.Contains(err.Error(), "--auth device-code") {
		t.Errorf("403 on set: %v (IsAuth %v)", err, IsAuth(err))
	}
}

// TestSetDeviceGroupAnswers checks the client against answers the simulator
// does not give: the 500 reported for app-only tokens, the result at the
// top level as the Kiota SDK reads it, and answers that are no result.
func TestSetDeviceGroupAnswers(t *testing.T) {
	const group = "11111111-1111-4111-8111-111111111111"
	for _, tt := range []struct {
		name     string
		status   int
		body     string
		wantErr  bool
		code     string
		mentions []string
		requests int32
	}{
		{name: "500 every time", status: 500, body: `{"error":{"code":"InternalServerError","message":"An internal server error occurred."}}`, wantErr: true,
			mentions: []string{"500", "delegated", "--auth device-code", "--auth browser", "app-only"}, requests: 3},
		{name: "top-level success", status: 200, body: `{"validationSucceeded":true,"enrollmentTimeDeviceMembershipTargetValidationStatuses":[{"targetId":"` + group + `","targetValidationErrorCode":"securityGroupNotFound"}]}`, requests: 1},
		{name: "top-level refusal without status flags", status: 200, wantErr: true, code: CodeNotSecurityGroup, mentions: []string{"not a security group"},
			body: `{"validationSucceeded":false,"enrollmentTimeDeviceMembershipTargetValidationStatuses":[{"targetId":"` + group + `","targetValidationErrorCode":"notSecurityGroup"}]}`, requests: 1},
		{name: "wrapped, a status fails", status: 200, wantErr: true, code: CodeSecurityGroupNotInCallerScope, mentions: []string{"scope"},
			body: `{"value":{"validationSucceeded":true,"enrollmentTimeDeviceMembershipTargetValidationStatuses":[{"targetId":"` + group + `","validationSucceeded":false,"targetValidationErrorCode":"securityGroupNotInCallerScope"}]}}`, requests: 1},
		{name: "refused without a status", status: 200, wantErr: true, mentions: []string{"without a status"}, body: `{"value":{"validationSucceeded":false}}`, requests: 1},
		{name: "unknown code", status: 200, wantErr: true, code: "somethingNew", mentions: []string{"somethingNew", "does not know"},
			body: `{"validationSucceeded":false,"enrollmentTimeDeviceMembershipTargetValidationStatuses":[{"targetId":"` + group + `","targetValidationErrorCode":"somethingNew"}]}`, requests: 1},
		{name: "no result", status: 200, wantErr: true, mentions: []string{"no validationSucceeded", "may have been set"}, body: `{"value":[]}`, requests: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			_, c := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			err := c.SetDeviceGroup(context.Background(), "a8d0245e-245e-a8d0-5e24-d0a85e24d0a8", group)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if n.Load() != tt.requests {
				t.Errorf("%d requests, want %d", n.Load(), tt.requests)
			}
			if err == nil {
				return
			}
			var de *DeviceGroupError
			if tt.code != "" && (!errors.As(err, &de) || de.Code != tt.code) {
				t.Errorf("err %v, want code %s", err, tt.code)
			}
			if IsAuth(err) {
				t.Errorf("an AuthError: %v", err)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not mention %q", err, m)
				}
			}
		})
	}
}

// TestUnknownScopeTagOnCreate shows the service's refusal of a tag id
// that does not exist as the client reports it.
func TestUnknownScopeTagOnCreate(t *testing.T) {
	_, c := tenantClient(t, sim.Options{})
	_, _, err := c.Create(context.Background(), map[string]any{"displayName": "Kiosk", "roleScopeTagIds": []string{"0", "99"}})
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Readable() != "Role scope tag with id '99' does not exist" || ge.Transient() {
		t.Errorf("create with an unknown tag: %v", err)
	}
	if _, _, err := c.Create(context.Background(), map[string]any{"displayName": "Kiosk", "roleScopeTagIds": []string{"0", "21"}}); err != nil {
		t.Errorf("create with known tags: %v", err)
	}
}
