package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Customer tenants of the tests.
const (
	tenantA = "aaaaaaaa-0000-4000-8000-00000000000a"
	tenantB = "bbbbbbbb-0000-4000-8000-00000000000b"
	tenantC = "cccccccc-0000-4000-8000-00000000000c"
)

// sameTenant is a fake authority's tid for a tenant given by its ID.
func sameTenant(tenant string) string { return tenant }

// mspEnv is a multi-tenant app registration with a client secret: no AZURE_TENANT_ID.
func mspEnv(a *fakeAuthority) map[string]string {
	return map[string]string{EnvClientID: testClient, EnvClientSecret: a.secret, EnvAuthorityHost: a.url()}
}

func newTenants(t *testing.T, a *fakeAuthority, opts Options) *Tenants {
	t.Helper()
	if opts.HTTPClient == nil && a != nil {
		opts.HTTPClient = a.srv.Client()
	}
	if opts.LookPath == nil {
		opts.LookPath = noAz
	}
	ts, err := NewTenants(context.Background(), opts)
	if err != nil {
		t.Fatalf("NewTenants: %v", err)
	}
	return ts
}

func mustFor(t *testing.T, ts *Tenants, tenant string) TokenSource {
	t.Helper()
	s, err := ts.For(tenant)
	if err != nil {
		t.Fatalf("For(%q): %v", tenant, err)
	}
	return s
}

// requestTenants lists the tenant in the path of each token request, in order.
func (a *fakeAuthority) requestTenants() []string {
	var out []string
	for _, f := range a.tokenRequests() {
		out = append(out, f.Get("x-tenant"))
	}
	return out
}

func TestTenantsAskEachTenantsAuthority(t *testing.T) {
	a := newFakeAuthority(t)
	a.tid = sameTenant
	ts := newTenants(t, a, Options{Getenv: envOf(mspEnv(a))})
	for i, tenant := range []string{tenantA, tenantB} {
		s := mustFor(t, ts, tenant)
		tok := mustToken(t, s, false)
		if got := TokenTenant(tok); got != tenant {
			t.Errorf("For(%s): token for tenant %q", tenant, got)
		}
		if got := a.requestTenants(); len(got) != i+1 || got[i] != tenant {
			t.Errorf("For(%s): token requests went to %v, want /%s/oauth2/v2.0/token last", tenant, got, tenant)
		}
		if !strings.Contains(s.Describe(), "tenant "+tenant) || !strings.Contains(s.Describe(), "client secret") {
			t.Errorf("Describe() = %q, want the method and the whole tenant", s.Describe())
		}
		if again := mustFor(t, ts, strings.ToUpper(tenant)); again != s {
			t.Errorf("For(%s) in capitals made a second source", tenant)
		}
	}
	// Each tenant has its own cache: asking again sends nothing.
	mustToken(t, mustFor(t, ts, tenantA), false)
	if n := len(a.tokenRequests()); n != 2 {
		t.Errorf("%d token requests, want 2 (one per tenant)", n)
	}
}

func TestTenantsRejectWhatIsNotATenant(t *testing.T) {
	a := newFakeAuthority(t)
	ts := newTenants(t, a, Options{Getenv: envOf(mspEnv(a))})
	for _, tenant := range []string{"", " ", "organizations", "common", "contoso .com", "https://contoso.com"} {
		if _, err := ts.For(tenant); err == nil || IsAuthFailure(err) {
			t.Errorf("For(%q): %v, want a configuration error", tenant, err)
		}
	}
}

func TestTenantsConcurrentUse(t *testing.T) {
	a := newFakeAuthority(t)
	a.tid = sameTenant
	// Closing the server while 50 credentials' connections are still open is not a failure worth a line each.
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts := newTenants(t, a, Options{Getenv: envOf(mspEnv(a))})
	const tenants, callers = 50, 3 // each tenant asked by several goroutines at once
	var wg sync.WaitGroup
	errs := make(chan error, tenants*callers)
	for i := 0; i < tenants; i++ {
		tenant := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		for j := 0; j < callers; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := ts.For(tenant)
				if err != nil {
					errs <- err
					return
				}
				tok, err := s.Token(context.Background(), false)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", tenant, err)
					return
				}
				if got := TokenTenant(tok); got != tenant {
					errs <- fmt.Errorf("%s: got a token for %s", tenant, got)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for _, tenant := range a.requestTenants() {
		seen[tenant] = true
	}
	if len(seen) != tenants {
		t.Errorf("token requests reached %d tenants' endpoints, want %d", len(seen), tenants)
	}
}

func TestTenantsRefuseATokenOfAnotherTenant(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tenant string
		first  string // tid of the first token
		later  string // tid of the fresh one; "" when the first is already refused
	}{
		{name: "tenant ID, token of another", tenant: tenantA, first: tenantB},
		{name: "tenant ID in other case", tenant: strings.ToUpper(tenantA), first: tenantA, later: tenantA},
		{name: "domain pinned to its first tenant", tenant: "contoso.example", first: tenantA, later: tenantB},
		{name: "domain keeps its tenant", tenant: "contoso.example", first: tenantA, later: strings.ToUpper(tenantA)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAuthority(t)
			var tid atomic.Value
			tid.Store(tt.first)
			a.tid = func(string) string { return tid.Load().(string) }
			s := mustFor(t, newTenants(t, a, Options{Getenv: envOf(mspEnv(a))}), tt.tenant)
			tok, err := s.Token(context.Background(), false)
			wantRefused := !strings.EqualFold(tt.first, tt.tenant) && isGUID(tt.tenant)
			if check := refusedFor(t, tok, err, wantRefused); check || wantRefused {
				return
			}
			tid.Store(tt.later)
			tok, err = s.Token(context.Background(), true)
			refusedFor(t, tok, err, !strings.EqualFold(tt.first, tt.later))
		})
	}
}

// refusedFor checks that a token is refused as a tenant mismatch, or returned, as wantRefused says. It returns
// true when the test cannot go on.
func refusedFor(t *testing.T, tok string, err error, wantRefused bool) bool {
	t.Helper()
	var me *TenantMismatchError
	switch {
	case wantRefused && (!errors.As(err, &me) || tok != ""):
		t.Errorf("token %q, err %v: want a *TenantMismatchError and no token", tok, err)
		return true
	case wantRefused && !strings.Contains(err.Error(), me.TokenTenant):
		t.Errorf("message %q does not name the token's tenant", err)
	case !wantRefused && err != nil:
		t.Errorf("Token: %v", err)
		return true
	}
	return false
}

func TestTenantsSingleTenantMethods(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   Options
		method string
	}{
		{"static token", Options{Getenv: envOf(map[string]string{EnvAccessToken: "eyJ.static.token", EnvClientID: testClient})}, srcToken},
		{"managed identity", Options{Mode: ModeManaged, Getenv: envOf(map[string]string{})}, srcManaged},
		{"managed identity on App Service", Options{Getenv: envOf(map[string]string{EnvIdentityEndpoint: "http://127.0.0.1:1/msi/token"})}, srcManaged},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTenants(t, nil, tt.opts)
			s, err := ts.For(tenantA)
			var se *SingleTenantError
			if s != nil || !errors.As(err, &se) || !errors.Is(err, ErrSingleTenant) || se.Method != tt.method {
				t.Fatalf("For: %v, %v; want a *SingleTenantError for %s", s, err, tt.method)
			}
			if IsAuthFailure(err) || errors.Is(err, ErrNoCredentials) {
				t.Errorf("%v is a configuration problem, not a refused or missing sign-in", err)
			}
			for _, want := range []string{tenantA, tt.method, EnvClientID, EnvClientSecret, "--auth device-code"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestTenantsRefusalSaysWhatToDoInTheTenant(t *testing.T) {
	a := newFakeAuthority(t)
	a.refuse = map[string]int{}
	consent := a.url() + "%s/adminconsent?client_id=" + testClient
	tests := []struct {
		code   int
		tenant string
		want   []string
	}{
		{700016, "fabrikam.example", []string{"never consented", fmt.Sprintf(consent, "fabrikam.example")}},
		{65001, tenantA, []string{"no consent", fmt.Sprintf(consent, tenantA)}},
		{7000229, tenantB, []string{"no service principal", fmt.Sprintf(consent, tenantB)}},
		{650052, tenantC, []string{"no consent", fmt.Sprintf(consent, tenantC)}},
		{90002, "fabrikam-typo.example", []string{"not found", "tenant column"}},
		{50020, "d0000000-0000-4000-8000-00000000000d", []string{"GDAP", "Intune Administrator"}},
	}
	for _, tt := range tests {
		a.refuse[tt.tenant] = tt.code
	}
	ts := newTenants(t, a, Options{Getenv: envOf(mspEnv(a))})
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			_, err := mustFor(t, ts, tt.tenant).Token(context.Background(), false)
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Code != fmt.Sprintf("AADSTS%d", tt.code) || !IsAuthFailure(err) {
				t.Fatalf("Token: %#v, want a refusal with AADSTS%d", err, tt.code)
			}
			for _, want := range append(tt.want, "tenant "+tt.tenant) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestConsentURL(t *testing.T) {
	for _, tt := range []struct{ host, tenant, client, want string }{
		{"https://login.microsoftonline.com/", "contoso.com", testClient,
			"https://login.microsoftonline.com/contoso.com/adminconsent?client_id=" + testClient},
		{"https://login.microsoftonline.us", tenantA, testClient,
			"https://login.microsoftonline.us/" + tenantA + "/adminconsent?client_id=" + testClient},
		{"login.chinacloudapi.cn", "contoso.cn", "app id", "https://login.chinacloudapi.cn/contoso.cn/adminconsent?client_id=app+id"},
		{"", "contoso.com", testClient, "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=" + testClient},
	} {
		if got := ConsentURL(tt.host, tt.tenant, tt.client); got != tt.want {
			t.Errorf("ConsentURL(%q, %q, %q) = %q, want %q", tt.host, tt.tenant, tt.client, got, tt.want)
		}
	}
}

func TestTokenTenant(t *testing.T) {
	for _, tt := range []struct{ name, tok, want string }{
		{"JWT", fakeJWT(map[string]any{"tid": tenantA, "aud": "https://graph.microsoft.com"}), tenantA},
		{"JWT without tid", fakeJWT(map[string]any{"aud": "https://graph.microsoft.com"}), ""},
		{"opaque token", "token-1", ""},
		{"three parts, not base64", "a.b!.c", ""},
		{"three parts, not JSON", "a.YWJj.c", ""},
	} {
		if got := TokenTenant(tt.tok); got != tt.want {
			t.Errorf("%s: TokenTenant = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTenantsDeviceCodeSignsInOnce(t *testing.T) {
	a := newFakeAuthority(t)
	a.tid = sameTenant
	var prompt syncBuffer
	ts := newTenants(t, a, Options{Mode: ModeDeviceCode, Getenv: envOf(map[string]string{EnvAuthorityHost: a.url()}), Prompt: &prompt})
	tenants := []string{tenantA, tenantB, tenantC}
	start := make(chan struct{})
	var wg sync.WaitGroup
	toks := make([]string, len(tenants))
	for i, tenant := range tenants {
		s := mustFor(t, ts, tenant)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, err := s.Token(context.Background(), false)
			if err != nil {
				t.Errorf("%s: %v", tenant, err)
			}
			toks[i] = tok
		}()
	}
	close(start)
	wg.Wait()
	if n := strings.Count(prompt.String(), "FAKE-CODE"); n != 1 {
		t.Fatalf("%d sign-in prompts for %d tenants, want 1:\n%s", n, len(tenants), prompt.String())
	}
	grants, where := a.grants(), a.requestTenants()
	if len(grants) != len(tenants)+1 || grants[0] != "devicecode" || grants[1] != grantDeviceCode {
		t.Fatalf("requests %v to %v, want one device code sign-in, then a refresh token grant per other tenant", grants, where)
	}
	signedIn := where[0]
	asked := map[string]bool{signedIn: true}
	for i := 2; i < len(grants); i++ {
		if grants[i] != grantRefresh {
			t.Errorf("request %d is a %s grant, want a refresh token grant", i, grants[i])
		}
		asked[where[i]] = true
	}
	if len(asked) != len(tenants) || where[1] != signedIn {
		t.Errorf("requests went to %v, want the sign-in in one tenant and a refresh grant to each other's", where)
	}
	for i, tenant := range tenants {
		if got := TokenTenant(toks[i]); got != tenant {
			t.Errorf("%s: token for %q", tenant, got)
		}
		if d := mustFor(t, ts, tenant).Describe(); !strings.Contains(d, "device code") || !strings.Contains(d, tenant) {
			t.Errorf("Describe() = %q", d)
		}
	}
	// The run reuses each tenant's token, and a fresh one comes from the refresh token, to that tenant.
	n := len(grants)
	if again := mustToken(t, mustFor(t, ts, tenantB), false); again != toks[1] || len(a.grants()) != n {
		t.Errorf("second token of %s was fetched again", tenantB)
	}
	fresh := mustToken(t, mustFor(t, ts, tenantB), true)
	grants, where = a.grants(), a.requestTenants()
	if TokenTenant(fresh) != tenantB || len(grants) != n+1 || grants[n] != grantRefresh || where[n] != tenantB {
		t.Errorf("fresh token by %v to %v, want a refresh grant to %s", grants[n:], where[n:], tenantB)
	}
	if strings.Count(prompt.String(), "FAKE-CODE") != 1 {
		t.Errorf("a fresh token prompted again")
	}
}

// TestTenantsDeviceCodeWithoutGDAP: a customer tenant that refuses the partner admin answers with its own error,
// not a prompt, and the others keep working.
func TestTenantsDeviceCodeWithoutGDAP(t *testing.T) {
	a := newFakeAuthority(t)
	a.tid = sameTenant
	a.refuse = map[string]int{tenantB: 50020}
	var prompt syncBuffer
	ts := newTenants(t, a, Options{Mode: ModeDeviceCode, Getenv: envOf(map[string]string{EnvAuthorityHost: a.url()}), Prompt: &prompt})
	mustToken(t, mustFor(t, ts, tenantA), false)
	_, err := mustFor(t, ts, tenantB).Token(context.Background(), false)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "AADSTS50020" {
		t.Fatalf("Token for %s: %v, want a refusal with AADSTS50020", tenantB, err)
	}
	for _, want := range []string{"GDAP", "Intune Administrator", tenantB} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if tok := mustToken(t, mustFor(t, ts, tenantC), false); TokenTenant(tok) != tenantC {
		t.Errorf("token for %s names %q", tenantC, TokenTenant(tok))
	}
	if n := strings.Count(prompt.String(), "FAKE-CODE"); n != 1 {
		t.Errorf("%d prompts, want 1", n)
	}
}

// TestTenantsDeviceCodeFirstTenantRefuses: when the tenant of the first sign-in refuses the person, the next tenant
// asked for signs in to its own.
func TestTenantsDeviceCodeFirstTenantRefuses(t *testing.T) {
	a := newFakeAuthority(t)
	a.tid = sameTenant
	a.refuse = map[string]int{tenantA: 50020}
	var prompt syncBuffer
	ts := newTenants(t, a, Options{Mode: ModeDeviceCode, Getenv: envOf(map[string]string{EnvAuthorityHost: a.url()}), Prompt: &prompt})
	if _, err := mustFor(t, ts, tenantA).Token(context.Background(), false); !strings.Contains(fmt.Sprint(err), "GDAP") {
		t.Errorf("Token for %s: %v, want the GDAP advice", tenantA, err)
	}
	if tok := mustToken(t, mustFor(t, ts, tenantB), false); TokenTenant(tok) != tenantB {
		t.Errorf("token for %s names %q", tenantB, TokenTenant(tok))
	}
}

// TestTenantsAppMethodsSignInToEachTenant: each app method signs in to the tenant asked for, whatever
// AZURE_TENANT_ID says.
func TestTenantsAppMethodsSignInToEachTenant(t *testing.T) {
	a := newFakeAuthority(t)
	a.tid = sameTenant
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(file, []byte("federated-assertion"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, mode, want string
		env              map[string]string
	}{
		{"client secret, AZURE_TENANT_ID of another tenant", ModeAuto, "client secret (tenant " + tenantB,
			map[string]string{EnvTenantID: tenantA, EnvClientID: testClient, EnvClientSecret: a.secret, EnvAuthorityHost: a.url()}},
		{"workload identity", ModeAuto, "workload identity (tenant " + tenantB,
			map[string]string{EnvFederatedTokenFile: file, EnvClientID: testClient, EnvAuthorityHost: a.url()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(a.tokenRequests())
			s := mustFor(t, newTenants(t, a, Options{Mode: tt.mode, Getenv: envOf(tt.env)}), tenantB)
			if tok := mustToken(t, s, false); TokenTenant(tok) != tenantB {
				t.Errorf("token for %q", TokenTenant(tok))
			}
			if where := a.requestTenants()[before:]; len(where) != 1 || where[0] != tenantB {
				t.Errorf("token requests to %v, want %s's", where, tenantB)
			}
			if !strings.HasPrefix(s.Describe(), tt.want) {
				t.Errorf("Describe() = %q, want it to start with %q", s.Describe(), tt.want)
			}
		})
	}
	t.Run("Azure CLI", func(t *testing.T) {
		log := useFakeAz(t, time.Now().Add(time.Hour), "")
		ts, err := NewTenants(context.Background(), Options{Mode: ModeCLI, Getenv: envOf(map[string]string{EnvTenantID: tenantA})})
		if err != nil {
			t.Fatal(err)
		}
		s := mustFor(t, ts, tenantB)
		mustToken(t, s, false)
		if runs := azRuns(t, log); len(runs) != 1 || !strings.HasSuffix(runs[0], "--tenant "+tenantB) {
			t.Errorf("az runs %q, want one with --tenant %s", runs, tenantB)
		}
		if d := s.Describe(); d != "Azure CLI login (tenant "+tenantB+")" {
			t.Errorf("Describe() = %q", d)
		}
	})
	t.Run("Options.Tenant in New", func(t *testing.T) {
		before := len(a.tokenRequests())
		env := secretEnv(a, a.secret)
		mustToken(t, newSource(t, a, Options{Tenant: tenantC, Getenv: envOf(env)}), false)
		if where := a.requestTenants()[before:]; len(where) != 1 || where[0] != tenantC {
			t.Errorf("token requests to %v, want %s's in place of AZURE_TENANT_ID's", where, tenantC)
		}
	})
}
