package main

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

// entra is a TLS server that answers like Microsoft Entra ID for one
// tenant: its openid-configuration and its token endpoint, which accepts
// one client secret and refuses others with Entra's AADSTS7000215.
type entra struct {
	srv    *httptest.Server
	mu     sync.Mutex
	scopes []string
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
