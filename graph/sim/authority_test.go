package sim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// The authority answers each tenant's OpenID configuration with its own
// endpoints, signs the app in to a consented tenant with the cloud's
// token for it, refuses one that never consented as Entra does
// (AADSTS700016), and records the tenant of every token request.
func TestAuthoritySignsInPerTenant(t *testing.T) {
	cloud := sim.NewCloud(sim.Options{OmitImage: true},
		sim.TenantSpec{Domain: "contoso.onmicrosoft.com"},
		sim.TenantSpec{Domain: "northwind.onmicrosoft.com", NotConsented: true})
	a := sim.NewAuthority(cloud)
	srv := httptest.NewTLSServer(a)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	get := func(method, path string) (int, map[string]any) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = hc.PostForm(srv.URL+path, url.Values{"grant_type": {"client_credentials"}, "client_id": {sim.SimulatedAppID}})
		} else {
			resp, err = hc.Get(srv.URL + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	status, conf := get(http.MethodGet, "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if status != 200 || conf["token_endpoint"] != srv.URL+"/contoso.onmicrosoft.com/oauth2/v2.0/token" {
		t.Fatalf("openid-configuration: %d %v", status, conf)
	}
	status, tok := get(http.MethodPost, "/contoso.onmicrosoft.com/oauth2/v2.0/token")
	if status != 200 || tok["access_token"] == "" || tok["token_type"] != "Bearer" {
		t.Fatalf("token: %d %v", status, tok)
	}
	// The token is the cloud's for that tenant: the cloud takes it.
	graph := httptest.NewServer(cloud)
	t.Cleanup(graph.Close)
	req, _ := http.NewRequest(http.MethodGet, graph.URL+"/beta"+profile.CollectionPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the cloud answered the token with %d", resp.StatusCode)
	}
	status, refusal := get(http.MethodPost, "/northwind.onmicrosoft.com/oauth2/v2.0/token")
	codes, _ := refusal["error_codes"].([]any)
	if status != 400 || len(codes) != 1 || codes[0] != float64(700016) || !strings.HasPrefix(refusal["error_description"].(string), "AADSTS700016") {
		t.Fatalf("a tenant that never consented: %d %v", status, refusal)
	}
	if status, _ := get(http.MethodGet, "/contoso.onmicrosoft.com/oauth2/v2.0/token"); status != 404 {
		t.Errorf("a GET of the token endpoint: %d, want 404", status)
	}
	if got := a.Asked(); !slices.Equal(got, []string{"contoso.onmicrosoft.com", "northwind.onmicrosoft.com"}) {
		t.Errorf("asked %v", got)
	}
}
