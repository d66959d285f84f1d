package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

const (
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testClient = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// testdata/client.p12 is a self-signed RSA certificate with its key, encrypted with this password.
	p12Password = "test-password"
)

// envOf returns a Getenv that reads only vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// noAz is a LookPath that finds nothing.
func noAz(string) (string, error) { return "", exec.ErrNotFound }

// secretEnv is a complete client secret configuration against the fake authority.
func secretEnv(a *fakeAuthority, secret string) map[string]string {
	return map[string]string{
		EnvTenantID: testTenant, EnvClientID: testClient, EnvClientSecret: secret, EnvAuthorityHost: a.url(),
	}
}

func newSource(t *testing.T, a *fakeAuthority, opts Options) TokenSource {
	t.Helper()
	if opts.HTTPClient == nil && a != nil {
		opts.HTTPClient = a.srv.Client()
	}
	if opts.LookPath == nil {
		opts.LookPath = noAz
	}
	ts, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ts
}

func mustToken(t *testing.T, ts TokenSource, fresh bool) string {
	t.Helper()
	tok, err := ts.Token(context.Background(), fresh)
	if err != nil {
		t.Fatalf("Token(fresh=%v): %v", fresh, err)
	}
	if tok == "" {
		t.Fatalf("Token(fresh=%v) is empty", fresh)
	}
	return tok
}

func TestLookupCloud(t *testing.T) {
	tests := []struct {
		name, want, wantGraph, wantAuthority string
		wantErr                              bool
	}{
		{name: "", want: "public", wantGraph: "https://graph.microsoft.com/beta", wantAuthority: "https://login.microsoftonline.com/"},
		{name: "public", want: "public", wantGraph: "https://graph.microsoft.com/beta", wantAuthority: "https://login.microsoftonline.com/"},
		{name: " USGov ", want: "usgov", wantGraph: "https://graph.microsoft.us/beta", wantAuthority: "https://login.microsoftonline.us/"},
		{name: "usgovdod", want: "usgovdod", wantGraph: "https://dod-graph.microsoft.us/beta", wantAuthority: "https://login.microsoftonline.us/"},
		{name: "china", want: "china", wantGraph: "https://microsoftgraph.chinacloudapi.cn/beta", wantAuthority: "https://login.chinacloudapi.cn/"},
		{name: "germany", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LookupCloud(tt.name)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("LookupCloud(%q) = %+v, want an error", tt.name, c)
				}
				for _, n := range CloudNames() {
					if !strings.Contains(err.Error(), n) {
						t.Errorf("error %q does not list %q", err, n)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.want || c.GraphURL != tt.wantGraph || c.AuthorityHost != tt.wantAuthority {
				t.Errorf("LookupCloud(%q) = %+v", tt.name, c)
			}
		})
	}
}

func TestResolveAuthority(t *testing.T) {
	usgov, _ := LookupCloud("usgov")
	tests := []struct {
		name          string
		opts          Options
		env           map[string]string
		wantAuthority string
		wantNoDisc    bool
		wantErr       string
	}{
		{name: "default is public", wantAuthority: "https://login.microsoftonline.com/"},
		{name: "cloud's authority", opts: Options{GraphURL: usgov.GraphURL, AuthorityHost: usgov.AuthorityHost}, wantAuthority: usgov.AuthorityHost},
		{name: "inferred from the graph host", opts: Options{GraphURL: "https://dod-graph.microsoft.us/beta"}, wantAuthority: "https://login.microsoftonline.us/"},
		{name: "unknown graph host gets public", opts: Options{GraphURL: "http://127.0.0.1:8080/beta"}, wantAuthority: "https://login.microsoftonline.com/"},
		{name: "env overrides the cloud", opts: Options{AuthorityHost: usgov.AuthorityHost}, env: map[string]string{EnvAuthorityHost: "https://login.chinacloudapi.cn"}, wantAuthority: "https://login.chinacloudapi.cn/"},
		{name: "private authority skips discovery", env: map[string]string{EnvAuthorityHost: "https://adfs.contoso.test/adfs/"}, wantAuthority: "https://adfs.contoso.test/adfs/", wantNoDisc: true},
		{name: "http authority refused", env: map[string]string{EnvAuthorityHost: "http://login.example.test/"}, wantErr: EnvAuthorityHost},
		{name: "bad graph url", opts: Options{GraphURL: "graph.microsoft.com"}, wantErr: "not an absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Getenv = envOf(tt.env)
			c, err := resolve(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("resolve: err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.authority != tt.wantAuthority || c.noDiscovery != tt.wantNoDisc {
				t.Errorf("authority %q (no discovery %v), want %q (%v)", c.authority, c.noDiscovery, tt.wantAuthority, tt.wantNoDisc)
			}
			if c.client.Cloud.ActiveDirectoryAuthorityHost != c.authority {
				t.Errorf("client options authority %q, want %q", c.client.Cloud.ActiveDirectoryAuthorityHost, c.authority)
			}
		})
	}
}

func TestClientSecretGetsToken(t *testing.T) {
	a := newFakeAuthority(t)
	ts := newSource(t, a, Options{Getenv: envOf(secretEnv(a, a.secret))})
	tok := mustToken(t, ts, false)
	reqs := a.tokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("token endpoint saw %d requests, want 1", len(reqs))
	}
	if !hasScope(reqs[0], "https://graph.microsoft.com/.default") {
		t.Errorf("token request scope %q lacks the Graph scope", reqs[0].Get("scope"))
	}
	want := map[string]string{
		"grant_type":    "client_credentials",
		"client_id":     testClient,
		"client_secret": a.secret,
	}
	for k, v := range want {
		if got := reqs[0].Get(k); got != v {
			t.Errorf("token request %s = %q, want %q", k, got, v)
		}
	}
	if tok != "token-1" {
		t.Errorf("token %q, want the one the authority issued (token-1)", tok)
	}
	d := ts.Describe()
	if !strings.HasPrefix(d, "client secret (tenant "+testTenant[:8]) || strings.Contains(d, a.secret) {
		t.Errorf("Describe() = %q", d)
	}
}

// writeSelfSignedPEM writes a new self-signed certificate and its PKCS#8 key to a PEM file.
func writeSelfSignedPEM(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "enrollbatch test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	path := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, cert
}

func TestClientCertificateGetsToken(t *testing.T) {
	pemPath, pemCert := writeSelfSignedPEM(t)
	p12Data, err := os.ReadFile("testdata/client.p12")
	if err != nil {
		t.Fatal(err)
	}
	p12Certs, _, err := azidentity.ParseCertificates(p12Data, []byte(p12Password))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, password string
		cert                 *x509.Certificate
	}{
		{name: "PEM", path: pemPath, cert: pemCert},
		{name: "PKCS#12 with password", path: "testdata/client.p12", password: p12Password, cert: p12Certs[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAuthority(t)
			a.publicKey = certPublicKey(t, []*x509.Certificate{tt.cert})
			env := map[string]string{
				EnvTenantID: testTenant, EnvClientID: testClient, EnvAuthorityHost: a.url(),
				EnvCertificatePath: tt.path, EnvCertificatePassword: tt.password,
			}
			ts := newSource(t, a, Options{Mode: ModeEnv, Getenv: envOf(env)})
			mustToken(t, ts, false)
			reqs := a.tokenRequests()
			if len(reqs) != 1 {
				t.Fatalf("token endpoint saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Get("client_assertion") == "" || r.Get("client_secret") != "" {
				t.Errorf("want a client assertion and no secret; got form keys %v", keys(r))
			}
			if got := r.Get("client_assertion_type"); got != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
				t.Errorf("client_assertion_type %q", got)
			}
			if !strings.HasPrefix(ts.Describe(), "client certificate") {
				t.Errorf("Describe() = %q", ts.Describe())
			}
		})
	}
}

// hasScope reports whether the token request asked for scope (MSAL adds openid, profile and offline_access).
func hasScope(form url.Values, scope string) bool {
	for _, s := range strings.Fields(form.Get("scope")) {
		if s == scope {
			return true
		}
	}
	return false
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBadCertificateIsAConfigurationError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-a-cert.pem")
	if err := os.WriteFile(bad, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, password, want string }{
		{name: "missing file", path: filepath.Join(t.TempDir(), "absent.pem"), want: EnvCertificatePath},
		{name: "not a certificate", path: bad, want: "PKCS#12"},
		{name: "wrong PKCS#12 password", path: "testdata/client.p12", password: "not-the-password", want: "testdata/client.p12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{EnvTenantID: testTenant, EnvClientID: testClient, EnvCertificatePath: tt.path, EnvCertificatePassword: tt.password}
			_, err := New(context.Background(), Options{Getenv: envOf(env), LookPath: noAz})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if IsAuthFailure(err) || errors.Is(err, ErrNoCredentials) {
				t.Errorf("a broken certificate file is a configuration error, got %T", err)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestRejectedSignInIsAnAuthFailure(t *testing.T) {
	const wrong = "wrong-secret-value"
	tests := []struct {
		name, tenant, secret, wantCode string
		want                           []string
	}{
		{name: "wrong secret", tenant: testTenant, secret: wrong, wantCode: "AADSTS7000215",
			want: []string{"Invalid client secret", "AZURE_CLIENT_SECRET", "tenant " + testTenant[:8]}},
		{name: "unknown tenant", tenant: unknownTenant, secret: "right-secret", wantCode: "AADSTS90002",
			want: []string{"not found", "check AZURE_TENANT_ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAuthority(t)
			env := secretEnv(a, tt.secret)
			env[EnvTenantID] = tt.tenant
			ts := newSource(t, a, Options{Getenv: envOf(env)})
			_, err := ts.Token(context.Background(), false)
			if err == nil {
				t.Fatal("Token succeeded")
			}
			if !IsAuthFailure(err) {
				t.Errorf("IsAuthFailure(%v) = false", err)
			}
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Code != tt.wantCode {
				t.Fatalf("want an *AuthError with code %s, got %#v", tt.wantCode, err)
			}
			msg := err.Error()
			for _, want := range append(tt.want, tt.wantCode) {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			for _, leak := range []string{wrong, "Trace ID", "\n"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q contains %q", msg, leak)
				}
			}
			if errors.Is(err, ErrNoCredentials) {
				t.Error("a rejected sign-in is not a missing one")
			}
		})
	}
}

func TestTokenRenewedWhenItExpires(t *testing.T) {
	tests := []struct {
		name          string
		expiresIn     int
		wantRequests  int
		wantSameToken bool
	}{
		// azidentity renews tokens within 5 minutes of expiry: a 60 s token is renewed on every call.
		{name: "long-lived token is cached", expiresIn: 3600, wantRequests: 1, wantSameToken: true},
		{name: "expiring token is renewed", expiresIn: 60, wantRequests: 2, wantSameToken: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAuthority(t)
			a.expiresIn = tt.expiresIn
			ts := newSource(t, a, Options{Getenv: envOf(secretEnv(a, a.secret))})
			first := mustToken(t, ts, false)
			second := mustToken(t, ts, false)
			if got := len(a.tokenRequests()); got != tt.wantRequests {
				t.Errorf("token endpoint saw %d requests, want %d", got, tt.wantRequests)
			}
			if (first == second) != tt.wantSameToken {
				t.Errorf("tokens %q then %q; want same = %v", first, second, tt.wantSameToken)
			}
		})
	}
}

func TestFreshTokenBypassesCache(t *testing.T) {
	a := newFakeAuthority(t)
	ts := newSource(t, a, Options{Getenv: envOf(secretEnv(a, a.secret))})
	cached := mustToken(t, ts, false)
	if again := mustToken(t, ts, false); again != cached {
		t.Fatalf("second token %q, want the cached %q", again, cached)
	}
	fresh := mustToken(t, ts, true)
	if fresh == cached {
		t.Errorf("fresh token %q equals the cached one", fresh)
	}
	if got := len(a.tokenRequests()); got != 2 {
		t.Errorf("token endpoint saw %d requests, want 2 (one fresh)", got)
	}
	if after := mustToken(t, ts, false); after != fresh {
		t.Errorf("after a fresh token the cache serves %q, want %q", after, fresh)
	}
	if got := len(a.tokenRequests()); got != 2 {
		t.Errorf("token endpoint saw %d requests after the fresh one was cached, want 2", got)
	}
}

func TestScopeFollowsGraphHost(t *testing.T) {
	tests := []struct{ cloud, wantScope string }{
		{cloud: "public", wantScope: "https://graph.microsoft.com/.default"},
		{cloud: "usgov", wantScope: "https://graph.microsoft.us/.default"},
		{cloud: "usgovdod", wantScope: "https://dod-graph.microsoft.us/.default"},
		{cloud: "china", wantScope: "https://microsoftgraph.chinacloudapi.cn/.default"},
	}
	for _, tt := range tests {
		t.Run(tt.cloud, func(t *testing.T) {
			c, err := LookupCloud(tt.cloud)
			if err != nil {
				t.Fatal(err)
			}
			if s, err := Scope(c.GraphURL); err != nil || s != tt.wantScope {
				t.Errorf("Scope(%q) = %q, %v", c.GraphURL, s, err)
			}
			a := newFakeAuthority(t)
			// AZURE_AUTHORITY_HOST points the cloud's sign-in at the fake authority.
			ts := newSource(t, a, Options{GraphURL: c.GraphURL, AuthorityHost: c.AuthorityHost, Getenv: envOf(secretEnv(a, a.secret))})
			mustToken(t, ts, false)
			reqs := a.tokenRequests()
			if len(reqs) != 1 || !hasScope(reqs[0], tt.wantScope) {
				t.Errorf("token requests %v, want one with scope %s", reqs, tt.wantScope)
			}
		})
	}
}

func TestNoCredentials(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		env      map[string]string
		want     []string
		wantNot  []string
		wantRows int
	}{
		{
			name: "auto, nothing set",
			want: []string{
				"no credentials found.\nSigning in yourself? Add --auth device-code",
				"--auth browser on a desktop",
				"For unattended runs (cron, CI, Kubernetes), enrollbatch tried:",
				"  GRAPH_ACCESS_TOKEN: not set",
				"  environment: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)",
				"  workload identity: set AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID",
				"  managed identity: not on Azure (IDENTITY_ENDPOINT/MSI_ENDPOINT not set); use --auth managed to force it",
				"  Azure CLI: az not found on PATH; install it and run az login",
				"run with --simulate",
			},
			wantRows: 5,
		},
		{
			name:     "auto, secret missing",
			env:      map[string]string{EnvTenantID: testTenant, EnvClientID: testClient},
			want:     []string{"environment: AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) not set", "workload identity: AZURE_FEDERATED_TOKEN_FILE not set"},
			wantRows: 5,
		},
		{
			name:     "env mode lists only env",
			mode:     ModeEnv,
			env:      map[string]string{EnvClientSecret: "s3cret-value"},
			want:     []string{"for --auth env", "environment: AZURE_TENANT_ID and AZURE_CLIENT_ID not set"},
			wantNot:  []string{"s3cret-value", "GRAPH_ACCESS_TOKEN", "Azure CLI"},
			wantRows: 1,
		},
		{name: "token mode", mode: ModeToken, want: []string{"GRAPH_ACCESS_TOKEN: not set"}, wantRows: 1},
		{name: "workload mode", mode: ModeWorkload, want: []string{"workload identity: set AZURE_FEDERATED_TOKEN_FILE"}, wantRows: 1},
		{name: "cli mode", mode: "CLI", want: []string{"Azure CLI: az not found on PATH"}, wantRows: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{Mode: tt.mode, Getenv: envOf(tt.env), LookPath: noAz})
			if !errors.Is(err, ErrNoCredentials) {
				t.Fatalf("err = %v, want ErrNoCredentials", err)
			}
			var nc *NoCredentialsError
			if !errors.As(err, &nc) || len(nc.Tried) != tt.wantRows {
				t.Fatalf("want a *NoCredentialsError with %d attempts, got %#v", tt.wantRows, err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(msg, w) {
					t.Errorf("message contains %q:\n%s", w, msg)
				}
			}
			if IsAuthFailure(err) {
				t.Error("missing credentials are not a rejected sign-in")
			}
		})
	}
}

func TestUnknownMode(t *testing.T) {
	_, err := New(context.Background(), Options{Mode: "kerberos", Getenv: envOf(nil)})
	if err == nil || errors.Is(err, ErrNoCredentials) {
		t.Fatalf("err = %v, want an unknown-mode error", err)
	}
	for _, m := range Modes() {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not list mode %q", err, m)
		}
	}
}

func TestAutoModeSelection(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "federated-token")
	if err := os.WriteFile(tokenFile, []byte("assertion"), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		EnvAccessToken: "static-token", EnvTenantID: testTenant, EnvClientID: testClient, EnvClientSecret: "s",
		EnvFederatedTokenFile: tokenFile, EnvIdentityEndpoint: "https://127.0.0.1:1/msi/token",
	}
	without := func(drop ...string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			m[k] = v
		}
		for _, d := range drop {
			delete(m, d)
		}
		return m
	}
	findAz := func(string) (string, error) { return "/usr/bin/az", nil }
	tests := []struct {
		name     string
		env      map[string]string
		lookPath func(string) (string, error)
		want     string
	}{
		{name: "token first", env: all, want: srcToken},
		{name: "then environment", env: without(EnvAccessToken), want: srcEnv},
		{name: "certificate counts as environment", env: map[string]string{EnvTenantID: testTenant, EnvClientID: testClient, EnvCertificatePath: "testdata/client.p12", EnvCertificatePassword: p12Password}, want: srcEnv},
		{name: "then workload identity", env: without(EnvAccessToken, EnvClientSecret), want: srcWorkload},
		{name: "then managed identity on Azure", env: without(EnvAccessToken, EnvClientSecret, EnvFederatedTokenFile), want: srcManaged},
		{name: "MSI_ENDPOINT means Azure", env: map[string]string{EnvMSIEndpoint: "http://localhost:50342/oauth2/token"}, want: srcManaged},
		{name: "AZURE_USE_MANAGED_IDENTITY means Azure", env: map[string]string{EnvUseManagedIdentity: "true"}, lookPath: findAz, want: srcManaged},
		{name: "AZURE_USE_MANAGED_IDENTITY=false does not", env: map[string]string{EnvUseManagedIdentity: "false"}, lookPath: findAz, want: srcCLI},
		{name: "CLI last", env: map[string]string{EnvTenantID: testTenant}, lookPath: findAz, want: srcCLI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lp := tt.lookPath
			if lp == nil {
				lp = noAz
			}
			ts, err := New(context.Background(), Options{Getenv: envOf(tt.env), LookPath: lp})
			if err != nil {
				t.Fatal(err)
			}
			got := srcToken
			if s, ok := ts.(*azSource); ok {
				got = s.name
			}
			if got != tt.want {
				t.Errorf("auto picked %s (%s), want %s", got, ts.Describe(), tt.want)
			}
		})
	}
}

func TestAccessTokenTakesPrecedence(t *testing.T) {
	a := newFakeAuthority(t)
	env := secretEnv(a, a.secret)
	env[EnvAccessToken] = "Bearer eyJ0eXAi.static.token"
	ts := newSource(t, a, Options{Getenv: envOf(env)})
	if got := mustToken(t, ts, false); got != "eyJ0eXAi.static.token" {
		t.Errorf("token %q, want GRAPH_ACCESS_TOKEN without its Bearer prefix", got)
	}
	if n := len(a.tokenRequests()); n != 0 {
		t.Errorf("authority saw %d token requests, want none", n)
	}
	_, err := ts.Token(context.Background(), true)
	if !IsAuthFailure(err) {
		t.Fatalf("fresh static token: err = %v, want an auth failure", err)
	}
	for _, want := range []string{"GRAPH_ACCESS_TOKEN", "rejected", "provide a new token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "static.token") {
		t.Errorf("message shows the token: %q", err)
	}
}

// jwtWithExp builds an unsigned JWT-shaped token whose exp claim is exp.
func jwtWithExp(exp time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"typ": "JWT", "alg": "none"}) + "." + enc(map[string]int64{"exp": exp.Unix()}) + ".sig"
}

func TestStaticTokenExpiry(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		token   string
		wantErr bool
	}{
		{name: "valid JWT", token: jwtWithExp(now.Add(time.Hour))},
		{name: "expired JWT", token: jwtWithExp(now.Add(-time.Minute)), wantErr: true},
		{name: "opaque token is passed on", token: "opaque-token-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStaticSource(tt.token)
			s.now = func() time.Time { return now }
			got, err := s.Token(context.Background(), false)
			if tt.wantErr {
				if !IsAuthFailure(err) || !strings.Contains(err.Error(), "expired") {
					t.Fatalf("err = %v, want an expired-token auth failure", err)
				}
				return
			}
			if err != nil || got != tt.token {
				t.Errorf("Token = %q, %v", got, err)
			}
		})
	}
}

func TestAccessTokenWithLineBreakRefused(t *testing.T) {
	_, err := New(context.Background(), Options{Getenv: envOf(map[string]string{EnvAccessToken: "abc\ndef"})})
	if err == nil || strings.Contains(err.Error(), "abc") {
		t.Fatalf("err = %v, want a message that does not show the token", err)
	}
}

func TestWorkloadIdentity(t *testing.T) {
	a := newFakeAuthority(t)
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(file, []byte("federated-assertion-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvFederatedTokenFile: file, EnvClientID: testClient, EnvTenantID: testTenant, EnvAuthorityHost: a.url()}
	ts := newSource(t, a, Options{Getenv: envOf(env)})
	if !strings.HasPrefix(ts.Describe(), "workload identity") {
		t.Fatalf("auto picked %q", ts.Describe())
	}
	mustToken(t, ts, false)
	// The kubelet rotates the projected token; a fresh sign-in must read the new one.
	if err := os.WriteFile(file, []byte("federated-assertion-2"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustToken(t, ts, true)
	reqs := a.tokenRequests()
	if len(reqs) != 2 {
		t.Fatalf("token endpoint saw %d requests, want 2", len(reqs))
	}
	for i, want := range []string{"federated-assertion-1", "federated-assertion-2"} {
		r := reqs[i]
		if r.Get("client_assertion") != want || r.Get("client_id") != testClient || r.Get("grant_type") != "client_credentials" {
			t.Errorf("request %d: client_assertion %q client_id %q grant_type %q; want assertion %q",
				i, r.Get("client_assertion"), r.Get("client_id"), r.Get("grant_type"), want)
		}
	}
}

func TestManagedIdentity(t *testing.T) {
	a := newFakeAuthority(t)
	// azidentity reads the App Service identity endpoint from the process environment.
	t.Setenv(EnvIdentityEndpoint, a.srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "identity-header-value")
	t.Setenv("IDENTITY_SERVER_THUMBPRINT", "")
	t.Setenv(EnvMSIEndpoint, "")
	// MSAL caches managed identity tokens process-wide; a graph host of its own keeps this run's cache empty.
	host := "graph-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".example.test"
	env := map[string]string{EnvIdentityEndpoint: a.srv.URL + "/msi/token", EnvClientID: testClient}
	ts := newSource(t, a, Options{GraphURL: "https://" + host + "/beta", Getenv: envOf(env)})
	if want := "managed identity (client ID " + testClient[:8]; !strings.HasPrefix(ts.Describe(), want) {
		t.Fatalf("Describe() = %q, want %q…", ts.Describe(), want)
	}
	first := mustToken(t, ts, false)
	if again := mustToken(t, ts, false); again != first {
		t.Errorf("second token %q, want the cached %q", again, first)
	}
	fresh := mustToken(t, ts, true)
	if fresh == first {
		t.Errorf("fresh token %q came from the cache", fresh)
	}
	reqs := a.miRequests()
	if len(reqs) != 2 {
		t.Fatalf("identity endpoint saw %d requests, want 2", len(reqs))
	}
	for _, q := range reqs {
		if q.Get("resource") != "https://"+host || q.Get("client_id") != testClient || q.Get("x-identity-header") != "identity-header-value" {
			t.Errorf("identity request %v", q)
		}
	}
}

// useFakeAz puts testdata/fake-az first and alone on PATH and returns the file where it logs its runs.
func useFakeAz(t *testing.T, expires time.Time, mode string) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/fake-az")
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "az.log")
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("FAKE_AZ_LOG", log)
	t.Setenv("FAKE_AZ_MODE", mode)
	t.Setenv("FAKE_AZ_EXPIRES_ON", strconv.FormatInt(expires.Unix(), 10))
	t.Setenv("FAKE_AZ_EXPIRES_ON_LOCAL", expires.Local().Format("2006-01-02 15:04:05.000000"))
	return log
}

func azRuns(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestAzureCLI(t *testing.T) {
	tests := []struct {
		name      string
		lifetime  time.Duration
		wantRuns  int // az runs for: cached call, cached call, fresh call
		wantSame  bool
		graphURL  string
		wantScope string
	}{
		{name: "token kept until near expiry", lifetime: time.Hour, wantRuns: 2, wantSame: true, graphURL: "https://graph.microsoft.us/beta", wantScope: "https://graph.microsoft.us"},
		{name: "expiring token renewed", lifetime: time.Minute, wantRuns: 3, wantSame: false, graphURL: "https://graph.microsoft.com/beta", wantScope: "https://graph.microsoft.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := useFakeAz(t, time.Now().Add(tt.lifetime), "")
			ts, err := New(context.Background(), Options{GraphURL: tt.graphURL, Getenv: envOf(map[string]string{EnvTenantID: testTenant})})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(ts.Describe(), "Azure CLI login (tenant "+testTenant[:8]) {
				t.Errorf("Describe() = %q", ts.Describe())
			}
			first := mustToken(t, ts, false)
			second := mustToken(t, ts, false)
			fresh := mustToken(t, ts, true)
			if (first == second) != tt.wantSame {
				t.Errorf("tokens %q then %q; want same = %v", first, second, tt.wantSame)
			}
			if fresh == second {
				t.Errorf("fresh token %q came from the cache", fresh)
			}
			runs := azRuns(t, log)
			if len(runs) != tt.wantRuns {
				t.Fatalf("az ran %d times (%q), want %d", len(runs), runs, tt.wantRuns)
			}
			want := "account get-access-token -o json --resource " + tt.wantScope + " --tenant " + testTenant
			if runs[0] != want {
				t.Errorf("az args %q, want %q", runs[0], want)
			}
		})
	}
}

func TestAzureCLINotSignedIn(t *testing.T) {
	useFakeAz(t, time.Now().Add(time.Hour), "logged-out")
	ts, err := New(context.Background(), Options{Mode: ModeCLI, Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background(), false)
	if !errors.Is(err, ErrNoCredentials) || IsAuthFailure(err) {
		t.Fatalf("err = %v, want ErrNoCredentials", err)
	}
	if !strings.Contains(err.Error(), "Azure CLI: not signed in; run az login") {
		t.Errorf("message %q does not say to run az login", err)
	}
}

func TestAzureCLIFoundOnPath(t *testing.T) {
	useFakeAz(t, time.Now().Add(time.Hour), "")
	ts, err := New(context.Background(), Options{Getenv: envOf(nil)})
	if err != nil {
		t.Fatalf("auto mode with az on PATH: %v", err)
	}
	if s, ok := ts.(*azSource); !ok || s.name != srcCLI {
		t.Errorf("auto picked %q, want the Azure CLI", ts.Describe())
	}
}

func TestClassifyAuthorityErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		source   string
		wantAuth bool
		wantNoCr bool
		wantText string
	}{
		{name: "cancelled", err: fmt.Errorf("post: %w", context.Canceled), wantText: "context canceled"},
		{name: "AADSTS in a CLI message with az login", source: srcCLI, err: errors.New("AzureCLICredential: ERROR: AADSTS700082: The refresh token has expired. Run az login."), wantNoCr: true, wantText: "AADSTS700082"},
		{name: "AADSTS elsewhere", source: srcManaged, err: errors.New("ManagedIdentityCredential: AADSTS700016: Application not found"), wantAuth: true, wantText: "AADSTS700016: Application not found"},
		{name: "az missing", source: srcCLI, err: errors.New("AzureCLICredential: executable not found on path"), wantNoCr: true, wantText: "install it"},
		{name: "transport", source: srcEnv, err: errors.New("dial tcp: connection refused"), wantText: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("desc", tt.source, tt.err)
			if IsAuthFailure(err) != tt.wantAuth || errors.Is(err, ErrNoCredentials) != tt.wantNoCr {
				t.Errorf("classify = %v (auth %v, no credentials %v)", err, IsAuthFailure(err), errors.Is(err, ErrNoCredentials))
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("message %q lacks %q", err, tt.wantText)
			}
		})
	}
}
