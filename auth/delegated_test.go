package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Grant types of delegated sign-ins.
const (
	grantDeviceCode = "device_code" // as MSAL sends it; RFC 8628 spells it urn:ietf:params:oauth:grant-type:device_code
	grantAuthCode   = "authorization_code"
	grantRefresh    = "refresh_token"
)

// fakeUser is the account the fake authority signs in for delegated grants.
const fakeUser = "admin@contoso.example"

// delegated reports whether a token request is a delegated grant (device code, authorization code or refresh
// token); it peeks at the form without consuming the body.
func (a *fakeAuthority) delegated(r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		return false
	}
	switch r.PostForm.Get("grant_type") {
	case grantDeviceCode, "urn:ietf:params:oauth:grant-type:device_code", grantAuthCode, grantRefresh:
		return true
	}
	return false
}

// deviceCode answers the device authorization request.
func (a *fakeAuthority) deviceCode(w http.ResponseWriter, r *http.Request, tenant string) {
	r.ParseForm()
	a.mu.Lock()
	r.PostForm.Set("x-tenant", tenant)
	a.tokenReqs = append(a.tokenReqs, r.PostForm)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        "FAKE-CODE",
		"device_code":      "device-code-1",
		"verification_uri": "https://microsoft.com/devicelogin",
		"expires_in":       900,
		"interval":         1,
		"message":          "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE-CODE to authenticate.\x1b]0;owned\x07\x1b[2J",
	})
}

// delegatedToken answers a delegated grant with an access token, a refresh token, an id token and client info, as
// Entra does; the codes it accepts are the ones it handed out.
func (a *fakeAuthority) delegatedToken(w http.ResponseWriter, r *http.Request, tenant string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r.PostForm.Set("x-tenant", tenant)
	a.tokenReqs = append(a.tokenReqs, r.PostForm)
	f := r.PostForm
	if a.refusal(w, tenant) {
		return
	}
	switch f.Get("grant_type") {
	case grantDeviceCode, "urn:ietf:params:oauth:grant-type:device_code":
		if f.Get("device_code") != "device-code-1" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "AADSTS70000: bad device code", "error_codes": []int{70000}})
			return
		}
	case grantAuthCode:
		if f.Get("code") != "auth-code-1" || f.Get("code_verifier") == "" || f.Get("redirect_uri") == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "AADSTS70000: bad authorization code", "error_codes": []int{70000}})
			return
		}
	case grantRefresh:
		if !strings.HasPrefix(f.Get("refresh_token"), "refresh-") {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "AADSTS70000: bad refresh token", "error_codes": []int{70000}})
			return
		}
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	// The person's home tenant is testTenant; a token for another tenant (a customer's, through GDAP) names that one.
	tid := testTenant
	if a.tid != nil && tenant != DefaultDelegatedTenant {
		tid = a.tid(tenant)
	}
	idToken := enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(map[string]any{
		"aud": f.Get("client_id"), "iss": a.srv.URL + "/" + tid + "/v2.0", "iat": now, "nbf": now, "exp": now + 3600,
		"oid": "00000000-0000-0000-0000-0000000000aa", "sub": "sub-1", "tid": tid, "preferred_username": fakeUser, "name": "Admin",
	}) + "."
	a.issued++
	access := fmt.Sprintf("user-token-%d", a.issued)
	if a.tid != nil {
		access = fakeJWT(map[string]any{"name": access, "tid": tid, "exp": now + 3600})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"scope":          f.Get("scope"),
		"expires_in":     a.expiresIn,
		"ext_expires_in": a.expiresIn,
		"access_token":   access,
		"refresh_token":  fmt.Sprintf("refresh-%d", a.issued),
		"id_token":       idToken,
		"client_info":    enc(map[string]string{"uid": "00000000-0000-0000-0000-0000000000aa", "utid": testTenant}),
	})
}

// grants lists the grant types of the token requests, in order ("devicecode" for a device authorization request).
func (a *fakeAuthority) grants() []string {
	var out []string
	for _, f := range a.tokenRequests() {
		g := f.Get("grant_type")
		if g == "" {
			g = "devicecode"
		}
		out = append(out, g)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the credential's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDeviceCodeSignIn(t *testing.T) {
	a := newFakeAuthority(t)
	var prompt syncBuffer
	for _, tt := range []struct {
		name   string
		env    map[string]string
		tenant string
		client string
	}{
		{"defaults", map[string]string{}, DefaultDelegatedTenant, DefaultPublicClientID},
		{"own app in one tenant", map[string]string{EnvTenantID: testTenant, EnvClientID: testClient}, testTenant, testClient},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.mu.Lock()
			a.tokenReqs = nil
			a.mu.Unlock()
			tt.env[EnvAuthorityHost] = a.url()
			ts := newSource(t, a, Options{Mode: ModeDeviceCode, Getenv: envOf(tt.env), Prompt: &prompt,
				GraphURL: "https://graph.microsoft.com/beta"})
			first := mustToken(t, ts, false)
			if !strings.Contains(prompt.String(), "enter the code FAKE-CODE") || strings.ContainsAny(prompt.String(), "\x1b\a") {
				t.Errorf("prompt %q does not show the code, or shows the authority's escapes", prompt.String())
			}
			// The run reuses the token: no second sign-in, no token request.
			for i := 0; i < 3; i++ {
				if again := mustToken(t, ts, false); again != first {
					t.Fatalf("token %d: %q, want the cached %q", i, again, first)
				}
			}
			reqs := a.tokenRequests()
			if got := a.grants(); len(got) != 2 || got[0] != "devicecode" || got[1] != grantDeviceCode {
				t.Fatalf("requests to the authority %v, want one device code sign-in", got)
			}
			for _, f := range reqs {
				if f.Get("client_id") != tt.client {
					t.Errorf("client_id %q, want %q", f.Get("client_id"), tt.client)
				}
				if !hasScope(f, "https://graph.microsoft.com/DeviceManagementConfiguration.ReadWrite.All") {
					t.Errorf("scope %q, want the delegated permission on the Graph host", f.Get("scope"))
				}
			}
			if !strings.Contains(ts.Describe(), "device code") || !strings.Contains(ts.Describe(), tt.tenant) && tt.tenant != testTenant {
				t.Errorf("Describe %q", ts.Describe())
			}
			// After a 401 a fresh token comes from the refresh token, without a new prompt.
			before := strings.Count(prompt.String(), "FAKE-CODE")
			fresh := mustToken(t, ts, true)
			if fresh == first || strings.Count(prompt.String(), "FAKE-CODE") != before {
				t.Errorf("fresh token %q (first %q), prompts %d -> %d", fresh, first, before, strings.Count(prompt.String(), "FAKE-CODE"))
			}
			if got := a.grants(); got[len(got)-1] != grantRefresh {
				t.Errorf("fresh token by %v, want a refresh token grant", got)
			}
		})
	}
}

// TestDelegatedModesOnlyWhenAsked checks that auto mode never starts an
// interactive sign-in, and that its error leads a person to one first.
func TestDelegatedModesOnlyWhenAsked(t *testing.T) {
	_, err := New(context.Background(), Options{Getenv: envOf(map[string]string{}), LookPath: noAz})
	var nc *NoCredentialsError
	if !errors.As(err, &nc) {
		t.Fatalf("auto mode with nothing configured: %v, want no credentials", err)
	}
	msg := err.Error()
	if i, j := strings.Index(msg, "--auth device-code"), strings.Index(msg, "GRAPH_ACCESS_TOKEN"); i < 0 || j < 0 || i > j {
		t.Errorf("the interactive sign-in is not offered first:\n%s", msg)
	}
	if !strings.Contains(strings.Join(Modes(), " "), "device-code browser") {
		t.Errorf("Modes() = %v", Modes())
	}
}

// TestBrowserSignIn completes the browser sign-in with a fake browser: an xdg-open on PATH that writes the URL it
// is asked to open to a file. The test reads it, checks the authorize request, and follows the redirect to the
// credential's localhost listener as a browser would after the person signed in.
func TestBrowserSignIn(t *testing.T) {
	a := newFakeAuthority(t)
	dir := t.TempDir()
	opened := filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + opened + "'\n"
	for _, name := range []string{"xdg-open", "open"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))

	ts := newSource(t, a, Options{Mode: ModeBrowser, Getenv: envOf(map[string]string{EnvTenantID: testTenant, EnvAuthorityHost: a.url()}),
		GraphURL: "https://graph.microsoft.com/beta"})
	type result struct {
		tok string
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := ts.Token(context.Background(), false)
		done <- result{tok, err}
	}()

	// Wait for the browser to be opened (the credential runs in real time; there is no clock to fake).
	var authorize *url.URL
	deadline := time.Now().Add(20 * time.Second)
	for authorize == nil {
		if b, err := os.ReadFile(opened); err == nil && len(bytes.TrimSpace(b)) > 0 {
			u, err := url.Parse(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			authorize = u
			break
		}
		select {
		case r := <-done:
			t.Fatalf("sign-in ended before a browser was opened: %q %v", r.tok, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no browser was opened")
		}
		time.Sleep(20 * time.Millisecond)
	}
	q := authorize.Query()
	if authorize.Host != strings.TrimPrefix(a.srv.URL, "https://") || authorize.Path != "/"+testTenant+"/oauth2/v2.0/authorize" {
		t.Errorf("authorize URL %s, want the fake authority's for the tenant", authorize)
	}
	if q.Get("client_id") != DefaultPublicClientID || q.Get("response_type") != "code" || q.Get("code_challenge") == "" ||
		!strings.Contains(q.Get("scope"), "https://graph.microsoft.com/DeviceManagementConfiguration.ReadWrite.All") {
		t.Errorf("authorize query %v", q)
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "localhost" {
		t.Fatalf("redirect_uri %q, want http://localhost:PORT", q.Get("redirect_uri"))
	}
	// The person signed in: Entra posts the code back through the browser (response_mode form_post).
	if q.Get("response_mode") != "form_post" {
		t.Errorf("response_mode %q, want form_post", q.Get("response_mode"))
	}
	res, err := http.PostForm(redirect.String(), url.Values{"code": {"auth-code-1"}, "state": {q.Get("state")}})
	if err != nil {
		t.Fatalf("redirect to the credential: %v", err)
	}
	res.Body.Close()
	r := <-done
	if r.err != nil || !strings.HasPrefix(r.tok, "user-token-") {
		t.Fatalf("browser sign-in: %q %v", r.tok, r.err)
	}
	if again := mustToken(t, ts, false); again != r.tok {
		t.Errorf("second token %q, want the cached %q", again, r.tok)
	}
	if got := a.grants(); len(got) != 1 || got[0] != grantAuthCode {
		t.Errorf("token requests %v, want one authorization code grant", got)
	}
}

// TestBrowserSignInWithoutBrowser checks that a machine with no browser to
// open says to use the device code instead (a configuration problem, exit 2).
func TestBrowserSignInWithoutBrowser(t *testing.T) {
	a := newFakeAuthority(t)
	t.Setenv("PATH", t.TempDir())
	ts := newSource(t, a, Options{Mode: ModeBrowser, Getenv: envOf(map[string]string{EnvTenantID: testTenant, EnvAuthorityHost: a.url()})})
	_, err := ts.Token(context.Background(), false)
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "--auth device-code") {
		t.Errorf("browser sign-in without a browser: %v, want a no-credentials error naming --auth device-code", err)
	}
	if len(a.tokenRequests()) != 0 {
		t.Errorf("token requests without a sign-in: %d", len(a.tokenRequests()))
	}
}

// TestDeviceCodeAsksForExtraPermissionsOnlyWhenGiven: a person is asked for
// Group.Read.All only when the sheet needs it (it names device groups).
func TestDeviceCodeAsksForExtraPermissionsOnlyWhenGiven(t *testing.T) {
	a := newFakeAuthority(t)
	for _, tt := range []struct {
		name  string
		extra []string
		want  bool
	}{
		{"a sheet without groups", nil, false},
		{"a sheet with groups", []string{"Group.Read.All"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.mu.Lock()
			a.tokenReqs = nil
			a.mu.Unlock()
			var prompt syncBuffer
			ts := newSource(t, a, Options{Mode: ModeDeviceCode, Getenv: envOf(map[string]string{EnvAuthorityHost: a.url()}), Prompt: &prompt,
				GraphURL: "https://graph.microsoft.com/beta", ExtraPermissions: tt.extra})
			mustToken(t, ts, false)
			reqs := a.tokenRequests()
			if len(reqs) == 0 {
				t.Fatal("no token request")
			}
			for _, f := range reqs {
				if !hasScope(f, "https://graph.microsoft.com/DeviceManagementConfiguration.ReadWrite.All") {
					t.Errorf("scope %q lacks the Intune permission", f.Get("scope"))
				}
				if got := hasScope(f, "https://graph.microsoft.com/Group.Read.All"); got != tt.want {
					t.Errorf("scope %q: Group.Read.All asked for %v, want %v", f.Get("scope"), got, tt.want)
				}
			}
		})
	}
}
