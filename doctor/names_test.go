package doctor

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
)

func TestNamesChecks(t *testing.T) {
	appToken := func(roles ...string) graph.StaticToken {
		return graph.StaticToken(jwt(map[string]any{"appid": "a1", "idtyp": "app", "roles": roles}))
	}
	tests := []struct {
		name           string
		granted        []string
		token          graph.StaticToken
		tags, groups   bool
		ready          bool
		missing        []string
		checks         map[string]string // check -> result
		advice, detail string
	}{
		{name: "no names: no checks", granted: []string{"DeviceManagementConfiguration.ReadWrite.All"},
			token: appToken("DeviceManagementConfiguration.ReadWrite.All"), ready: true, checks: map[string]string{"scope tags": "", "groups": ""}},
		{name: "all granted", granted: []string{"DeviceManagementConfiguration.ReadWrite.All", "Group.Read.All", "Application.Read.All"},
			token: appToken("DeviceManagementConfiguration.ReadWrite.All", "Group.Read.All", "Application.Read.All"), tags: true, groups: true, ready: true,
			checks: map[string]string{"scope tags": OK, "groups": OK, "group owners": "", "device groups": Warn}},
		{name: "groups refused", granted: []string{"DeviceManagementConfiguration.ReadWrite.All"},
			token: appToken("DeviceManagementConfiguration.ReadWrite.All"), tags: true, groups: true, missing: []string{graph.PermissionGroups},
			checks: map[string]string{"scope tags": OK, "groups": Fail}, advice: "grant the app registration Group.Read.All",
			detail: "grant Group.Read.All (or the least privileged GroupMember.Read.All)"},
		{name: "owners' appId hidden", granted: []string{"DeviceManagementConfiguration.ReadWrite.All", "GroupMember.Read.All"},
			token: appToken("DeviceManagementConfiguration.ReadWrite.All", "GroupMember.Read.All"), groups: true, ready: true,
			checks: map[string]string{"groups": OK, "group owners": Warn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(sim.Options{Granted: tt.granted, ScopeTags: []sim.ScopeTag{{ID: "14", DisplayName: "Leeds"}}})
			hs := httptest.NewServer(s)
			defer hs.Close()
			c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Tokens: tt.token}
			r, err := Run(context.Background(), Options{Client: c, GraphURL: c.BaseURL, Cloud: "test", ScopeTags: tt.tags, Groups: tt.groups})
			if err != nil {
				t.Fatal(err)
			}
			if r.Ready != tt.ready || !slices.Equal(r.Missing, tt.missing) {
				t.Errorf("ready %v, missing %q; want %v, %q\n%+v", r.Ready, r.Missing, tt.ready, tt.missing, r.Checks)
			}
			got := map[string]Check{}
			for _, ch := range r.Checks {
				got[ch.Name] = ch
			}
			for name, want := range tt.checks {
				if got[name].Result != want {
					t.Errorf("check %q: %q (%s), want %q", name, got[name].Result, got[name].Detail, want)
				}
			}
			if !strings.Contains(r.Advice, tt.advice) {
				t.Errorf("advice %q, want %q", r.Advice, tt.advice)
			}
			if tt.detail != "" && !strings.Contains(got["groups"].Detail, tt.detail) {
				t.Errorf("groups detail %q", got["groups"].Detail)
			}
			if tt.missing != nil && !r.AuthFailed {
				t.Errorf("not an auth failure")
			}
		})
	}
}
