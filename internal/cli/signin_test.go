package cli

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

// entra is a TLS server that answers like Microsoft Entra ID for one
// tenant: its openid-configuration and its token endpoint, which accepts
// one client secret and refuses others with Entra's AADSTS7000215.
type entra struct {
	srv         *httptest.Server
	mu          sync.Mutex
	scopes      []string
	deviceCodes int // device authorization requests
}

// readForm parses a request's form and returns it.
func readForm(r *http.Request) url.Values {
	r.ParseForm()
	return r.PostForm
}

func newEntra(t *testing.T, secret string) (*entra, string) {
	t.Helper()
	e := &entra{}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
			base := e.srv.URL + "/contoso"
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": base + "/v2.0", "token_endpoint": base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/devicecode"):
			r.ParseForm()
			e.mu.Lock()
			e.deviceCodes++
			e.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{
				"user_code": "FAKE-CODE", "device_code": "dc-1", "verification_uri": "https://microsoft.com/devicelogin",
				"expires_in": 900, "interval": 1,
				"message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE-CODE to authenticate.",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") && strings.Contains(readForm(r).Get("grant_type"), "device_code"):
			e.mu.Lock()
			e.scopes = append(e.scopes, r.PostForm.Get("scope"))
			e.mu.Unlock()
			enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
			json.NewEncoder(w).Encode(map[string]any{
				"token_type": "Bearer", "expires_in": 3600, "access_token": "graph-token", "refresh_token": "refresh-1",
				"scope": r.PostForm.Get("scope"),
				"id_token": enc(map[string]string{"alg": "none"}) + "." + enc(map[string]any{"aud": r.PostForm.Get("client_id"),
					"iss": e.srv.URL + "/contoso/v2.0", "oid": "oid-1", "sub": "sub-1", "tid": "contoso", "preferred_username": "admin@contoso.example",
					"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}) + ".",
				"client_info": enc(map[string]string{"uid": "oid-1", "utid": "contoso"}),
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			r.ParseForm()
			e.mu.Lock()
			e.scopes = append(e.scopes, r.PostForm.Get("scope"))
			e.mu.Unlock()
			if r.PostForm.Get("client_secret") != secret {
				w.WriteHeader(http.StatusUnauthorized)
				json.NewEncoder(w).Encode(map[string]any{
					"error":             "invalid_client",
					"error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 1\r\nCorrelation ID: 2",
					"error_codes":       []int{7000215},
				})
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "graph-token"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.srv.Close)
	// The child process trusts the test authority through SSL_CERT_FILE.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return e, ca
}

func TestClientSecretSignIn(t *testing.T) {
	t.Parallel()
	e, ca := newEntra(t, "right-secret")
	s, url := simServer(t, sim.Options{OmitImage: true, Authorize: func(tok string) int {
		if tok == "graph-token" {
			return 0
		}
		return http.StatusUnauthorized
	}})
	env := func(secret string) []string {
		return []string{"SSL_CERT_FILE=" + ca, "AZURE_TENANT_ID=contoso", "AZURE_CLIENT_ID=00000000-0000-0000-0000-00000000abcd",
			"AZURE_CLIENT_SECRET=" + secret, "AZURE_AUTHORITY_HOST=" + e.srv.URL + "/"}
	}

	code, _, stderr := run(t, env("right-secret"), "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", t.TempDir(), "--rate", "0")
	if code != 0 {
		t.Fatalf("run with a client secret: exit %d: %s", code, stderr)
	}
	if len(s.Profiles()) == 0 {
		t.Fatal("nothing created")
	}
	e.mu.Lock()
	scopes := append([]string(nil), e.scopes...)
	e.mu.Unlock()
	if len(scopes) == 0 || !strings.HasPrefix(scopes[0], "https://"+strings.TrimPrefix(strings.TrimSuffix(url, "/beta"), "http://")+"/.default") {
		t.Errorf("scopes asked for: %q, want the Graph host's /.default", scopes)
	}

	out := t.TempDir()
	code, _, stderr = run(t, env("wrong-secret"), "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0")
	if code != 3 || !strings.Contains(stderr, "AADSTS7000215") || strings.Contains(stderr, "wrong-secret") {
		t.Fatalf("wrong secret: exit %d, want 3 naming AADSTS7000215 without the secret:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "results.xlsx")); err != nil {
		t.Errorf("no results after the aborted run: %v", err)
	}
}

// TestDeviceCodeSignInRun runs the job with --auth device-code against the
// TLS test authority: the prompt goes to stderr, the person signs in once,
// and every request of the run carries that one token.
func TestDeviceCodeSignInRun(t *testing.T) {
	t.Parallel()
	e, ca := newEntra(t, "unused")
	var mu sync.Mutex
	tokens := map[string]int{}
	s, graphURL := simServer(t, sim.Options{OmitImage: true, Authorize: func(tok string) int {
		mu.Lock()
		tokens[tok]++
		mu.Unlock()
		if tok == "graph-token" {
			return 0
		}
		return http.StatusUnauthorized
	}})
	env := []string{"SSL_CERT_FILE=" + ca, "AZURE_TENANT_ID=contoso", "AZURE_AUTHORITY_HOST=" + e.srv.URL + "/"}
	code, stdout, stderr := run(t, env, "run", "--auth", "device-code", "--graph-url", graphURL, "--input", "samples/profiles.csv", "--out", t.TempDir(), "--rate", "0")
	if code != 0 {
		t.Fatalf("run --auth device-code: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "enter the code FAKE-CODE") || strings.Contains(stdout, "FAKE-CODE") {
		t.Errorf("the device code prompt is not on stderr alone:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if e.deviceCodes != 1 || len(e.scopes) != 1 || len(tokens) != 1 || tokens["graph-token"] < len(s.Profiles()) {
		t.Errorf("%d device code sign-ins, %d token requests, tokens seen by Graph %v; want one sign-in for the run", e.deviceCodes, len(e.scopes), tokens)
	}
	if len(e.scopes) == 1 && !strings.Contains(e.scopes[0], "/DeviceManagementConfiguration.ReadWrite.All") {
		t.Errorf("scope asked for %q, want the delegated permission", e.scopes[0])
	}
}

// TestDeviceCodeSignInKept: a person signs in once for several commands.
// The second command, a new process, signs in from the sign-in the first
// kept, with no prompt; signout forgets it, and the next command prompts
// again. Where the system has no store for it, each command says the
// sign-in is kept for that command only, and prompts.
func TestDeviceCodeSignInKept(t *testing.T) {
	t.Parallel()
	e, ca := newEntra(t, "unused")
	_, graphURL := simServer(t, sim.Options{OmitImage: true, Authorize: func(tok string) int {
		if tok == "graph-token" {
			return 0
		}
		return http.StatusUnauthorized
	}})
	home := t.TempDir()
	env := []string{"HOME=" + home, "SSL_CERT_FILE=" + ca, "AZURE_TENANT_ID=contoso", "AZURE_AUTHORITY_HOST=" + e.srv.URL + "/"}
	prompts := func() int { e.mu.Lock(); defer e.mu.Unlock(); return e.deviceCodes }
	command := func() string {
		t.Helper()
		code, _, stderr := run(t, env, "export", "--auth", "device-code", "--graph-url", graphURL, "--out", filepath.Join(t.TempDir(), "p.csv"))
		if code != 0 {
			t.Fatalf("export: exit %d\n%s", code, stderr)
		}
		return stderr
	}
	first := command()
	second := command()
	if strings.Contains(first, "kept for this command only") {
		// No keyring here: each command signs in.
		if !strings.Contains(second, "FAKE-CODE") || prompts() != 2 {
			t.Errorf("without a store: %d prompts\n%s", prompts(), second)
		}
		return
	}
	if prompts() != 1 || strings.Contains(second, "FAKE-CODE") {
		t.Fatalf("%d device code sign-ins for two commands; the second said:\n%s", prompts(), second)
	}
	code, _, stderr := run(t, env, "signout")
	if code != 0 || !strings.Contains(stderr, "signed out") {
		t.Fatalf("signout: exit %d\n%s", code, stderr)
	}
	if third := command(); !strings.Contains(third, "FAKE-CODE") || prompts() != 2 {
		t.Errorf("after signout: %d prompts\n%s", prompts(), third)
	}
	if code, _, stderr := run(t, env, "signout"); code != 0 || !strings.Contains(stderr, "nothing to forget") && !strings.Contains(stderr, "signed out") {
		t.Errorf("a second signout: exit %d\n%s", code, stderr)
	}
}
