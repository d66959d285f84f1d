package auth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// unknownTenant is a tenant the fake authority does not know (AADSTS90002).
const unknownTenant = "contoso-typo.onmicrosoft.com"

// fakeAuthority is a TLS server that answers like Microsoft Entra ID: the tenant's openid-configuration, the v2.0
// token endpoint (client credentials with a secret or a client assertion) and an App Service managed identity
// endpoint. It records what it was asked.
type fakeAuthority struct {
	t   *testing.T
	srv *httptest.Server

	secret    string           // the only client secret accepted
	publicKey crypto.PublicKey // when set, client assertions must be signed with its private key
	expiresIn int              // lifetime of issued tokens, seconds
	failWith  int              // when set, the token endpoint answers this status with Entra's server_error
	// tid, when set, makes access tokens JWTs whose tid claim is tid(the tenant in the request's path).
	tid func(tenant string) string
	// refuse maps a tenant (as in the path) to the AADSTS code its token endpoint refuses every grant with.
	refuse map[string]int

	mu        sync.Mutex
	tokenReqs []url.Values // token endpoint form posts
	miReqs    []url.Values // managed identity endpoint queries
	issued    int
}

func newFakeAuthority(t *testing.T) *fakeAuthority {
	t.Helper()
	a := &fakeAuthority{t: t, secret: "right-secret", expiresIn: 3600}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// url is the authority host, as AZURE_AUTHORITY_HOST would name it.
func (a *fakeAuthority) url() string { return a.srv.URL + "/" }

func (a *fakeAuthority) tokenRequests() []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]url.Values(nil), a.tokenReqs...)
}

func (a *fakeAuthority) miRequests() []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]url.Values(nil), a.miReqs...)
}

func (a *fakeAuthority) nextToken(prefix string) string {
	a.issued++
	return fmt.Sprintf("%s-%d", prefix, a.issued)
}

// accessToken issues an access token for tenant: "<prefix>-N", or a JWT carrying that name and a tid claim when
// a.tid is set. The caller holds a.mu.
func (a *fakeAuthority) accessToken(prefix, tenant string) string {
	name := a.nextToken(prefix)
	if a.tid == nil {
		return name
	}
	return fakeJWT(map[string]any{"name": name, "tid": a.tid(tenant), "exp": 4102444800})
}

// fakeJWT returns an unsigned JWT with claims.
func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}

// refusal answers the token request of tenant with its refusal, if a.refuse has one; the caller holds a.mu.
func (a *fakeAuthority) refusal(w http.ResponseWriter, tenant string) bool {
	code, ok := a.refuse[tenant]
	if !ok {
		return false
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_codes": []int{code},
		"error_description": fmt.Sprintf("AADSTS%d: refused by tenant '%s'.\r\nTrace ID: 1", code, tenant)})
	return true
}

func (a *fakeAuthority) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		if parts[0] == unknownTenant {
			a.writeFile(w, http.StatusBadRequest, "testdata/invalid_tenant.json")
			return
		}
		base := a.srv.URL + "/" + parts[0]
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                base + "/v2.0",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"jwks_uri":                              a.srv.URL + "/" + parts[0] + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		})
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "devicecode":
		a.deviceCode(w, r, parts[0])
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && a.delegated(r):
		a.delegatedToken(w, r, parts[0])
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		a.token(w, r, parts[0])
	case r.Method == http.MethodGet && r.URL.Path == "/msi/token":
		a.managedIdentity(w, r)
	default:
		a.t.Errorf("fake authority: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	}
}

func (a *fakeAuthority) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r.PostForm.Set("x-tenant", tenant)
	a.tokenReqs = append(a.tokenReqs, r.PostForm)
	if a.refusal(w, tenant) {
		return
	}
	if a.failWith != 0 {
		writeJSON(w, a.failWith, map[string]any{"error": "server_error", "error_codes": []int{50000},
			"error_description": "AADSTS50000: There was an error issuing a token.\x1b]0;t\x07\r\nTrace ID: 1\r\nCorrelation ID: 2"})
		return
	}
	if s := r.PostForm.Get("client_secret"); s != "" && s != a.secret {
		a.writeFile(w, http.StatusBadRequest, "testdata/invalid_client.json")
		return
	}
	if as := r.PostForm.Get("client_assertion"); as != "" && a.publicKey != nil {
		if err := verifyAssertion(as, a.publicKey, r.PostForm.Get("client_id"), a.srv.URL+"/"+tenant); err != nil {
			a.t.Errorf("fake authority: client assertion: %v", err)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS700027: " + err.Error(), "error_codes": []int{700027}})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     a.expiresIn,
		"ext_expires_in": a.expiresIn,
		"access_token":   a.accessToken("token", tenant),
	})
}

func (a *fakeAuthority) managedIdentity(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := r.URL.Query()
	q.Set("x-identity-header", r.Header.Get("X-IDENTITY-HEADER"))
	a.miReqs = append(a.miReqs, q)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": a.nextToken("mi-token"),
		"expires_in":   a.expiresIn,
		"resource":     q.Get("resource"),
		"token_type":   "Bearer",
	})
}

// writeFile answers with a recorded Entra error body.
func (a *fakeAuthority) writeFile(w http.ResponseWriter, status int, path string) {
	body, err := os.ReadFile(path)
	if err != nil {
		a.t.Errorf("fake authority: %v", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// verifyAssertion checks a client assertion JWT as Entra does: signed (PS256 or RS256) by the certificate's key,
// issued by and for the client, addressed to the tenant's token endpoint.
func verifyAssertion(jwt string, key crypto.PublicKey, clientID, tenantURL string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Aud, Iss, Sub string
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return err
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("key %T is not RSA", key)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		err = fmt.Errorf("alg %q", header.Alg)
	}
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if claims.Iss != clientID || claims.Sub != clientID {
		return fmt.Errorf("iss %q, sub %q: want the client id %q", claims.Iss, claims.Sub, clientID)
	}
	if !strings.HasPrefix(claims.Aud, tenantURL) {
		return fmt.Errorf("aud %q: want the tenant's token endpoint under %s", claims.Aud, tenantURL)
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// certPublicKey returns the public key of the first certificate.
func certPublicKey(t *testing.T, certs []*x509.Certificate) crypto.PublicKey {
	t.Helper()
	if len(certs) == 0 {
		t.Fatal("no certificate")
	}
	return certs[0].PublicKey
}
