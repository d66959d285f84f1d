package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Authority is a Microsoft Entra authority for the tenants of a Cloud, as
// an app signing in with client credentials meets it: per tenant
// (/<tenant>/…), its OpenID configuration and a token endpoint that
// answers with Cloud.Token, refusals worded as Entra words them. Serve it
// over TLS (httptest.NewTLSServer) and give its URL as the authority host.
// It records the tenant of every token request.
type Authority struct {
	cloud *Cloud
	mu    sync.Mutex
	asked []string
}

// NewAuthority returns the authority of c's tenants.
func NewAuthority(c *Cloud) *Authority { return &Authority{cloud: c} }

// Asked lists the tenant of every token request so far, in order, as the
// request named it.
func (a *Authority) Asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.asked)
}

// ServeHTTP answers /<tenant>/v2.0/.well-known/openid-configuration and
// POST /<tenant>/oauth2/v2.0/token.
func (a *Authority) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	if len(parts) != 4 {
		http.NotFound(w, r)
		return
	}
	tenant := parts[0]
	switch {
	case parts[3] == "openid-configuration":
		base := "https://" + r.Host + "/" + tenant
		reply(http.StatusOK, map[string]any{
			"issuer":                                base + "/v2.0",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		})
	case parts[3] == "token" && r.Method == http.MethodPost:
		a.mu.Lock()
		a.asked = append(a.asked, tenant)
		a.mu.Unlock()
		tok, err := a.cloud.Token(tenant)
		if err != nil {
			code := 0
			var se *SignInError
			if errors.As(err, &se) {
				fmt.Sscanf(se.Code, "AADSTS%d", &code)
			}
			reply(http.StatusBadRequest, map[string]any{"error": "unauthorized_client", "error_codes": []int{code},
				"error_description": err.Error() + "\r\nTrace ID: 0"})
			return
		}
		reply(http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tok})
	default:
		http.NotFound(w, r)
	}
}
