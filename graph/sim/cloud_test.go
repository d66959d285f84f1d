package sim_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// cloudEnv is a Cloud behind a real loopback HTTP server, on a fake clock.
type cloudEnv struct {
	*env
	cloud *sim.Cloud
}

// startCloud serves a Cloud of specs with base options (Now defaults to
// a fake clock); setup, when not nil, sets the Cloud's fields before the
// first request.
func startCloud(t *testing.T, base sim.Options, setup func(*sim.Cloud), specs ...sim.TenantSpec) *cloudEnv {
	t.Helper()
	c := newClock()
	if base.Now == nil {
		base.Now = c.Now
	}
	base.OmitImage = true
	cl := sim.NewCloud(base, specs...)
	if setup != nil {
		setup(cl)
	}
	srv := httptest.NewServer(cl)
	t.Cleanup(srv.Close)
	return &cloudEnv{env: &env{t: t, srv: srv, clock: c, coll: srv.URL + "/beta" + profile.CollectionPath}, cloud: cl}
}

// token signs in to a tenant, failing the test on a refusal.
func (e *cloudEnv) token(tenant string) string {
	e.t.Helper()
	tok, err := e.cloud.Token(tenant)
	if err != nil {
		e.t.Fatalf("token for %s: %v", tenant, err)
	}
	return tok
}

// create posts a profile with a token.
func (e *cloudEnv) create(tok, name string) response {
	e.t.Helper()
	return e.do(http.MethodPost, e.coll, tok, []byte(`{"displayName":"`+name+`"}`))
}

// server returns a tenant's Server, failing the test when there is none.
func (e *cloudEnv) server(tenant string) *sim.Server {
	e.t.Helper()
	s, ok := e.cloud.Tenant(tenant)
	if !ok {
		e.t.Fatalf("no tenant %s", tenant)
	}
	return s
}

// jwt makes an unsigned token with the given header and claims, as a
// client that forges one would.
func jwt(header string, claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(b) + "."
}

// claims decodes the payload of a token.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var threeTenants = []sim.TenantSpec{
	{Domain: "contoso.onmicrosoft.com", Organization: "Contoso"},
	{Domain: "fabrikam.onmicrosoft.com"},
	{Domain: "northwind.onmicrosoft.com", Organization: "Northwind Traders", NotConsented: true},
}

// TestCloudRoutesByTenant checks that each request acts on the tenant of
// its token: creates land in that tenant's store, a name is a duplicate
// only within one tenant, each tenant sees only its own tokens, and GET
// /organization answers each tenant's name and id.
func TestCloudRoutesByTenant(t *testing.T) {
	t.Parallel()
	e := startCloud(t, sim.Options{}, nil, threeTenants...)
	contoso, fabrikam := e.token("contoso.onmicrosoft.com"), e.token("FABRIKAM.onmicrosoft.com")
	contoso2 := e.token(sim.DomainTenantID("contoso.onmicrosoft.com"))
	for _, c := range []struct{ tok, name string }{
		{contoso, "Site 1"}, {fabrikam, "Site 1"}, {contoso2, "Site 2"}, {fabrikam, "site 2"},
	} {
		if r := e.create(c.tok, c.name); r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", c.name, r.status, r.body)
		}
	}
	for _, c := range []struct {
		tenant string
		want   []string
		tokens []string
	}{
		{"contoso.onmicrosoft.com", []string{"Site 1", "Site 2"}, []string{contoso, contoso2}},
		{"fabrikam.onmicrosoft.com", []string{"Site 1", "site 2"}, []string{fabrikam}},
		{"northwind.onmicrosoft.com", nil, nil},
	} {
		s := e.server(c.tenant)
		var got []string
		for _, p := range s.Profiles() {
			got = append(got, p.DisplayName)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s holds %q, want %q", c.tenant, got, c.want)
		}
		if st := s.Stats(); st.Duplicates != 0 || st.Created != len(c.want) {
			t.Errorf("%s: %d created, %d duplicates", c.tenant, st.Created, st.Duplicates)
		}
		if seen := s.Tokens(); !slices.Equal(seen, c.tokens) {
			t.Errorf("%s saw %d token(s), want %d", c.tenant, len(seen), len(c.tokens))
		}
		for _, tok := range s.Tokens() {
			if tid := claims(t, tok)["tid"]; tid != sim.DomainTenantID(c.tenant) {
				t.Errorf("%s saw a token of tenant %v", c.tenant, tid)
			}
		}
	}

	for _, c := range []struct{ tok, id, name string }{
		{contoso, sim.DomainTenantID("contoso.onmicrosoft.com"), "Contoso"},
		{fabrikam, sim.DomainTenantID("fabrikam.onmicrosoft.com"), "Fabrikam"},
	} {
		r := e.do(http.MethodGet, e.srv.URL+"/v1.0/organization", c.tok, nil)
		var doc struct {
			Value []struct{ ID, DisplayName string }
		}
		if err := json.Unmarshal(r.body, &doc); err != nil || r.status != http.StatusOK || len(doc.Value) != 1 {
			t.Fatalf("organization: %d %s", r.status, r.body)
		}
		if v := doc.Value[0]; v.ID != c.id || v.DisplayName != c.name {
			t.Errorf("organization %+v, want %s %s", v, c.id, c.name)
		}
	}
}

// TestCloudRefusesTokens checks the 401s of requests that name no tenant
// the Cloud can act on, and the 403 of a tenant that has not consented.
func TestCloudRefusesTokens(t *testing.T) {
	t.Parallel()
	e := startCloud(t, sim.Options{}, nil, threeTenants...)
	now := e.clock.Now().Unix()
	contosoID := sim.DomainTenantID("contoso.onmicrosoft.com")
	none := `{"alg":"none","typ":"JWT"}`
	valid := func(tid string) map[string]any {
		return map[string]any{"aud": sim.GraphAudience, "tid": tid, "iat": now, "exp": now + 3600}
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		m[k] = v
		return m
	}
	for _, c := range []struct {
		name, token   string
		status        int
		code, message string
	}{
		{"no token", "", 401, "InvalidAuthenticationToken", "Access token is empty."},
		{"not a JWT", "opaque-token", 401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217"},
		{"two parts", "eyJhbGciOiJub25lIn0.e30", 401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217"},
		{"signed", jwt(`{"alg":"RS256","typ":"JWT"}`, valid(contosoID)), 401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217"},
		{"other audience", jwt(none, with(valid(contosoID), "aud", "https://management.azure.com")), 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."},
		{"expired", jwt(none, with(valid(contosoID), "exp", now-1)), 401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."},
		{"not yet valid", jwt(none, with(valid(contosoID), "nbf", now+60)), 401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."},
		{"unknown tenant", jwt(none, valid("0b9f3f2e-1111-4a4a-8c8c-123456789abc")), 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer."},
		{"domain as tid", jwt(none, valid("contoso.onmicrosoft.com")), 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer."},
		{"not consented", jwt(none, valid(sim.DomainTenantID("northwind.onmicrosoft.com"))), 403, "Forbidden", "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementConfiguration.ReadWrite.All"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.create(c.token, "Site 1")
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			code, msg := r.graphError(t)
			if code != c.code || msg != c.message {
				t.Errorf("error %s %q, want %s %q", code, msg, c.code, c.message)
			}
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("401 without a Bearer challenge: %v", r.header)
			}
		})
	}
	if n := e.cloud.Refused(); n != 9 {
		t.Errorf("Refused %d, want 9", n)
	}
	for _, s := range e.cloud.Tenants() {
		if got := len(e.server(s.ID).Profiles()); got != 0 {
			t.Errorf("%s holds %d profile(s)", s.Domain, got)
		}
	}
	// A token that was valid expires with the clock.
	tok := e.token("contoso.onmicrosoft.com")
	e.clock.Advance(time.Hour)
	if r := e.create(tok, "Late"); r.status != http.StatusUnauthorized {
		t.Errorf("an hour later: %d %s", r.status, r.body)
	}
}

// TestCloudLimitsPerTenant checks that each tenant has its own limits:
// throttling one leaves the others alone.
func TestCloudLimitsPerTenant(t *testing.T) {
	t.Parallel()
	e := startCloud(t, sim.Options{WriteLimit: 3, WriteWindow: 20 * time.Second}, nil,
		sim.TenantSpec{Domain: "a.onmicrosoft.com"},
		sim.TenantSpec{Domain: "b.onmicrosoft.com", WriteLimit: 5},
		sim.TenantSpec{Domain: "c.onmicrosoft.com", WriteLimit: 1, WriteWindow: time.Minute, RetryAfter: sim.RetryAfterFractional},
	)
	a, b, c := e.token("a.onmicrosoft.com"), e.token("b.onmicrosoft.com"), e.token("c.onmicrosoft.com")
	for i, want := range []int{201, 429, 429} {
		if r := e.create(c, "C"); r.status != want {
			t.Fatalf("C create %d: %d, want %d", i+1, r.status, want)
		} else if want == 429 && r.header.Get("Retry-After") != "60" {
			t.Errorf("C Retry-After %q, want 60", r.header.Get("Retry-After"))
		}
	}
	for _, c := range []struct {
		tok    string
		tenant string
		want   []int
	}{
		{a, "a.onmicrosoft.com", []int{201, 201, 201, 429}},
		{b, "b.onmicrosoft.com", []int{201, 201, 201, 201, 201, 429}},
	} {
		for i, want := range c.want {
			if r := e.create(c.tok, "X"); r.status != want {
				t.Fatalf("%s create %d: %d, want %d", c.tenant, i+1, r.status, want)
			}
		}
		if st := e.server(c.tenant).Stats(); st.Throttled != 1 || st.AppThrottled != 0 {
			t.Errorf("%s: %d throttled, %d by the app limit", c.tenant, st.Throttled, st.AppThrottled)
		}
	}
	e.clock.Advance(20 * time.Second)
	if r := e.create(a, "Again"); r.status != http.StatusCreated {
		t.Errorf("A after its window: %d", r.status)
	}
	if r := e.create(c, "Again"); r.status != http.StatusTooManyRequests {
		t.Errorf("C inside its own window: %d", r.status)
	}
}

// TestCloudAppLimit checks the limit on the app across all tenants.
func TestCloudAppLimit(t *testing.T) {
	t.Parallel()
	e := startCloud(t, sim.Options{}, func(c *sim.Cloud) { c.AppLimit, c.AppWindow = 3, 10*time.Second },
		sim.TenantSpec{Domain: "a.onmicrosoft.com"}, sim.TenantSpec{Domain: "b.onmicrosoft.com"})
	a, b := e.token("a.onmicrosoft.com"), e.token("b.onmicrosoft.com")
	for i, c := range []struct {
		tok  string
		want int
	}{{a, 201}, {b, 201}, {a, 201}, {b, 429}, {a, 429}} {
		r := e.create(c.tok, "X")
		if r.status != c.want {
			t.Fatalf("request %d: %d, want %d", i+1, r.status, c.want)
		}
		if c.want == 429 {
			if code, _ := r.graphError(t); code != "TooManyRequests" || r.header.Get("Retry-After") != "10" {
				t.Errorf("request %d: %s, Retry-After %q", i+1, code, r.header.Get("Retry-After"))
			}
		}
	}
	for _, d := range []string{"a.onmicrosoft.com", "b.onmicrosoft.com"} {
		if st := e.server(d).Stats(); st.Throttled != 1 || st.AppThrottled != 1 {
			t.Errorf("%s: %d throttled, %d by the app limit", d, st.Throttled, st.AppThrottled)
		}
	}
	e.clock.Advance(10 * time.Second)
	if r := e.create(b, "Y"); r.status != http.StatusCreated {
		t.Errorf("after the window: %d", r.status)
	}
}

// TestCloudToken checks the tokens a Cloud issues and its sign-in errors.
func TestCloudToken(t *testing.T) {
	t.Parallel()
	e := startCloud(t, sim.Options{}, nil, threeTenants...)
	tok := e.token("Contoso.OnMicrosoft.com")
	head, _, _ := strings.Cut(tok, ".")
	if h, _ := base64.RawURLEncoding.DecodeString(head); string(h) != `{"alg":"none","typ":"JWT"}` || !strings.HasSuffix(tok, ".") {
		t.Errorf("token header %s, token %s", h, tok)
	}
	m := claims(t, tok)
	now := float64(e.clock.Now().Unix())
	if m["tid"] != sim.DomainTenantID("contoso.onmicrosoft.com") || m["aud"] != sim.GraphAudience ||
		m["iat"] != now || m["exp"] != now+3600 || m["appid"] != sim.SimulatedAppID {
		t.Errorf("claims %v", m)
	}

	for _, c := range []struct {
		tenant, code, message string
	}{
		{"unknown.onmicrosoft.com", "AADSTS90002", "Tenant 'unknown.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."},
		{"northwind.onmicrosoft.com", "AADSTS700016", "Application with identifier '" + sim.SimulatedAppID + "' was not found in the directory 'Northwind Traders'."},
	} {
		_, err := e.cloud.Token(c.tenant)
		var se *sim.SignInError
		if !errors.As(err, &se) || se.Code != c.code || !strings.HasPrefix(se.Message, c.message) {
			t.Errorf("%s: %v, want %s %s", c.tenant, err, c.code, c.message)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.code+": ") {
			t.Errorf("%s: error %q does not start with its code", c.tenant, err)
		}
	}
}

// TestCloudAdd checks tenants added on first use, and the ids and names
// derived from a domain.
func TestCloudAdd(t *testing.T) {
	t.Parallel()
	cl := sim.NewCloud(sim.Options{Organization: "Base"})
	s := cl.Add(sim.TenantSpec{Domain: "contoso.onmicrosoft.com"})
	for _, again := range []sim.TenantSpec{
		{Domain: "CONTOSO.onmicrosoft.com", Organization: "Other"},
		{ID: sim.DomainTenantID("contoso.onmicrosoft.com")},
		{ID: strings.ToUpper(sim.DomainTenantID("contoso.onmicrosoft.com")), Domain: "elsewhere.example"},
	} {
		if got := cl.Add(again); got != s {
			t.Errorf("Add(%+v) made another tenant", again)
		}
	}
	id := "3f7e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
	cl.Add(sim.TenantSpec{ID: id})
	got := cl.Tenants()
	if len(got) != 2 {
		t.Fatalf("%d tenants: %+v", len(got), got)
	}
	if got[0].ID != sim.DomainTenantID("contoso.onmicrosoft.com") || got[0].Organization != "Contoso" {
		t.Errorf("first tenant %+v", got[0])
	}
	if got[1].ID != id || got[1].Organization != "Base" {
		t.Errorf("second tenant %+v", got[1])
	}
	// The derived id is a version 5 UUID and does not change between runs.
	if d := sim.DomainTenantID("contoso.onmicrosoft.com"); !profile.IsGUID(d) || d[14] != '5' || d != sim.DomainTenantID(" Contoso.onmicrosoft.com") {
		t.Errorf("derived id %s", d)
	}
	if _, ok := cl.Tenant("fabrikam.onmicrosoft.com"); ok {
		t.Error("found a tenant never added")
	}
}

// TestReadTenants reads the sample file and checks that file errors name
// the tenant and the member at fault.
func TestReadTenants(t *testing.T) {
	t.Parallel()
	specs, err := sim.LoadTenants("../../samples/tenants.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Organization)
		if s.ID != sim.DomainTenantID(s.Domain) {
			t.Errorf("%s: id %s", s.Domain, s.ID)
		}
	}
	if !slices.Equal(names, []string{"Contoso", "Fabrikam", "Northwind Traders"}) || !specs[2].NotConsented || specs[0].NotConsented {
		t.Errorf("sample tenants %q", names)
	}
	if specs[1].Latency != 20*time.Millisecond || specs[1].WriteWindow != 20*time.Second || specs[0].WriteLimit != 0 || len(specs[0].Groups) != 1 || len(specs[1].Profiles) != 1 {
		t.Errorf("sample tenants read as %+v", specs)
	}
	// A spec written back reads the same.
	b, err := json.Marshal(map[string]any{"tenants": specs})
	if err != nil {
		t.Fatal(err)
	}
	again, err := sim.ReadTenants(strings.NewReader(string(b)))
	if err != nil || len(again) != 3 || again[1].Latency != specs[1].Latency || again[1].Profiles[0].DisplayName != "Fabrikam Lobby" {
		t.Errorf("round trip: %v %+v", err, again)
	}

	const id = "3f7e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
	for _, c := range []struct {
		name, file string
		want       []string
	}{
		{"not json", `{"tenants": [`, []string{"tenants file"}},
		{"unknown top-level member", `{"tenant": []}`, []string{"tenants file", `"tenant"`}},
		{"no tenants", `{"tenants": []}`, []string{"no tenants"}},
		{"unknown member", `{"tenants": [{"domain": "a.onmicrosoft.com"}, {"domain": "b.onmicrosoft.com", "writeLimt": 5}]}`,
			[]string{"tenant 2 (b.onmicrosoft.com)", "writeLimt"}},
		{"unknown member of a group", `{"tenants": [{"domain": "a.onmicrosoft.com", "groups": [{"displayName": "G", "owner": []}]}]}`,
			[]string{"tenant 1 (a.onmicrosoft.com)", `"owner"`}},
		{"wrong type", `{"tenants": [{"domain": "a.onmicrosoft.com", "limit": "5"}]}`, []string{"tenant 1 (a.onmicrosoft.com)", "limit"}},
		{"bad duration", `{"tenants": [{"id": "` + id + `", "window": "20"}]}`, []string{"tenant 1 (" + id + ")", "window", `"20"`}},
		{"negative limit", `{"tenants": [{"domain": "a.onmicrosoft.com", "writeLimit": -1}]}`, []string{"tenant 1 (a.onmicrosoft.com)", "writeLimit must not be negative"}},
		{"id not a guid", `{"tenants": [{"id": "contoso"}]}`, []string{"tenant 1 (contoso)", `id "contoso" is not a GUID`}},
		{"bad domain", `{"tenants": [{"domain": "contoso onmicrosoft"}]}`, []string{"tenant 1 (contoso onmicrosoft)", "domain"}},
		{"neither id nor domain", `{"tenants": [{"organization": "Contoso"}]}`, []string{"tenant 1", "needs an id"}},
		{"bad retryAfter", `{"tenants": [{"domain": "a.onmicrosoft.com", "retryAfter": "minutes"}]}`, []string{"tenant 1 (a.onmicrosoft.com)", "retryAfter", "minutes"}},
		{"group without a name", `{"tenants": [{"domain": "a.onmicrosoft.com", "groups": [{"securityEnabled": true}]}]}`, []string{"tenant 1 (a.onmicrosoft.com)", "group 1 has no displayName"}},
		{"profile without a name", `{"tenants": [{"domain": "a.onmicrosoft.com", "profiles": [{"enrollmentMode": "corporateOwnedDedicatedDevice"}]}]}`, []string{"tenant 1 (a.onmicrosoft.com)", "profile 1 has no displayName"}},
		{"duplicate domain", `{"tenants": [{"domain": "a.onmicrosoft.com"}, {"domain": "A.onmicrosoft.com"}]}`, []string{"tenant 2 (A.onmicrosoft.com)", "also tenant 1's"}},
		{"duplicate id", `{"tenants": [{"id": "` + id + `"}, {"id": "` + strings.ToUpper(id) + `", "domain": "b.onmicrosoft.com"}]}`, []string{"tenant 2 (b.onmicrosoft.com)", "id", "also tenant 1's"}},
		{"derived id given again", `{"tenants": [{"domain": "a.onmicrosoft.com"}, {"id": "` + sim.DomainTenantID("a.onmicrosoft.com") + `"}]}`, []string{"tenant 2", "also tenant 1's"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sim.ReadTenants(strings.NewReader(c.file))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
