package sim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file serves several tenants on one URL, as Graph does: the tid
// claim of the bearer token says which tenant a request acts on.

// GraphAudience is the aud of the tokens a Cloud issues and accepts, the
// Graph origin. Tokens whose aud is Graph's application id
// (00000003-0000-0000-c000-000000000000), as v2 tokens carry it, are
// accepted as well.
const GraphAudience = "https://graph.microsoft.com"

// graphAppID is Microsoft Graph's application id, the aud of v2 tokens.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// SimulatedAppID is the client id of the app a Cloud issues tokens to,
// unless Cloud.AppID names another.
const SimulatedAppID = "7c3e4b1a-9d2f-4e8a-b6c5-0f1e2d3c4b5a"

// Cloud serves several simulated tenants on one URL, one Server each, and
// routes each request by the tid claim of its bearer token, as Graph
// does. Create it with NewCloud; it is safe for concurrent use. Set the
// exported fields before the first request or token.
//
// Tokens are unsigned JWTs (header {"alg":"none","typ":"JWT"}, an empty
// signature) with the claims aud (GraphAudience), iss, iat, nbf, exp, tid,
// appid and roles; Token issues them. A request the Cloud cannot route is
// answered 401 InvalidAuthenticationToken with Graph's wording: no bearer
// token ("Access token is empty."), a token that is not such a JWT
// ("CompactToken parsing failed with error code: 80049217"), another
// audience ("Access token validation failure. Invalid audience."), a
// token past its exp or before its nbf ("Access token has expired or is
// not yet valid."), and a tid of no tenant ("Access token validation
// failure. Invalid issuer.", the issuer being the tenant). Such requests
// reach no tenant: they count in Refused, not in any Server's Stats.
type Cloud struct {
	// AppID is the client id of the app, named in sign-in errors and in
	// the appid claim; default SimulatedAppID.
	AppID string
	// AppLimit is a limit on the app's requests across all tenants per
	// AppWindow (0: none), Graph's global limit (130,000 requests per 10 s
	// per app across all tenants). It is applied by the tenants, after
	// their own limits, and a request over it is answered 429 with
	// Retry-After like theirs and counted in that tenant's Stats as
	// Throttled and AppThrottled. Requests refused by a tenant's own limit
	// count against it too.
	AppLimit int
	// AppWindow is the sliding window of AppLimit; default 10 s.
	AppWindow time.Duration
	// TokenLifetime is how long a token from Token is valid; default one
	// hour, as Entra issues app tokens.
	TokenLifetime time.Duration

	base Options
	app  *appLimit

	mu       sync.Mutex
	tenants  []*cloudTenant
	byID     map[string]*cloudTenant // lower-cased id
	byDomain map[string]*cloudTenant // lower-cased domain
	refused  int
}

// cloudTenant is one tenant of a Cloud.
type cloudTenant struct {
	spec TenantSpec
	srv  *Server
}

// NewCloud returns a Cloud serving the tenants of specs. Each gets a
// Server with base, whose fields the spec's replace (see TenantSpec), and
// the spec's scope tags, groups and profiles seeded. A spec naming a
// tenant already given (by id or domain) is ignored, as Add does.
func NewCloud(base Options, specs ...TenantSpec) *Cloud {
	if base.Now == nil {
		base.Now = time.Now
	}
	c := &Cloud{
		base:     base,
		byID:     make(map[string]*cloudTenant),
		byDomain: make(map[string]*cloudTenant),
	}
	c.app = &appLimit{cloud: c}
	for _, s := range specs {
		c.Add(s)
	}
	return c
}

// Add adds a tenant, e.g. one created on first use, and returns its
// Server. When a tenant with the spec's id (given or derived from the
// domain) or domain is already there, it returns that tenant's Server and
// changes nothing. A spec with neither id nor domain gets a random id.
// Add does not validate the spec as ReadTenants does.
func (c *Cloud) Add(spec TenantSpec) *Server {
	if spec.ID == "" {
		if spec.Domain != "" {
			spec.ID = DomainTenantID(spec.Domain)
		} else {
			spec.ID = newGUID()
		}
	}
	if spec.Organization == "" && spec.Domain != "" {
		spec.Organization = domainOrganization(spec.Domain)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.byID[strings.ToLower(spec.ID)]; ok {
		return t.srv
	}
	if t, ok := c.byDomain[strings.ToLower(spec.Domain)]; ok && spec.Domain != "" {
		return t.srv
	}
	o := c.base
	o.TenantID = spec.ID
	if spec.Organization != "" {
		o.Organization = spec.Organization
	}
	if spec.Limit != 0 {
		o.Limit = spec.Limit
	}
	if spec.Window != 0 {
		o.Window = spec.Window
	}
	if spec.WriteLimit != 0 {
		o.WriteLimit = spec.WriteLimit
	}
	if spec.WriteWindow != 0 {
		o.WriteWindow = spec.WriteWindow
	}
	if spec.Latency != 0 {
		o.Latency = spec.Latency
	}
	if spec.RetryAfter != "" {
		o.RetryAfter = spec.RetryAfter
	}
	o.ScopeTags = append(slices.Clone(c.base.ScopeTags), spec.ScopeTags...)
	o.Groups = append(slices.Clone(c.base.Groups), spec.Groups...)
	if spec.Granted != nil {
		o.Granted = spec.Granted
	}
	if spec.NotConsented {
		// No service principal, so no permission: every request needing
		// one is answered 403, in Intune's or Entra's words.
		o.Granted = []string{}
	}
	s := New(o)
	s.app = c.app
	s.SeedProfiles(spec.Profiles...)
	if spec.Organization == "" {
		spec.Organization = s.opts.Organization
	}
	t := &cloudTenant{spec: spec, srv: s}
	c.tenants = append(c.tenants, t)
	c.byID[strings.ToLower(spec.ID)] = t
	if spec.Domain != "" {
		c.byDomain[strings.ToLower(spec.Domain)] = t
	}
	return s
}

// lookup finds a tenant by id or domain, without regard to case.
func (c *Cloud) lookup(idOrDomain string) (*cloudTenant, bool) {
	k := strings.ToLower(strings.TrimSpace(idOrDomain))
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.byID[k]; ok {
		return t, true
	}
	t, ok := c.byDomain[k]
	return t, ok
}

// Tenant returns the Server of the tenant with the given id or domain
// (compared without regard to case).
func (c *Cloud) Tenant(idOrDomain string) (*Server, bool) {
	t, ok := c.lookup(idOrDomain)
	if !ok {
		return nil, false
	}
	return t.srv, true
}

// Tenants returns the tenants' specs in the order they were added, with
// their ids and organization names filled in.
func (c *Cloud) Tenants() []TenantSpec {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]TenantSpec, len(c.tenants))
	for i, t := range c.tenants {
		out[i] = t.spec
	}
	return out
}

// Refused returns how many requests the Cloud answered 401 itself,
// without routing them to a tenant.
func (c *Cloud) Refused() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// SignInError is a refusal of Entra ID's token endpoint, as Token
// returns it: Code is the AADSTS code, Message its description.
type SignInError struct {
	Code    string
	Message string
}

// Error returns the description as Entra writes it: "AADSTS…: message".
func (e *SignInError) Error() string { return e.Code + ": " + e.Message }

// Token signs the app in to the tenant with the given id or domain, as a
// client-credentials request does, and returns the access token for
// Graph. A tenant the Cloud does not have is refused with AADSTS90002.
// A tenant that has not consented is refused with AADSTS700016, which is
// what Entra answers a client-credentials request of a multi-tenant app
// that has no service principal in the tenant (rather than AADSTS65001,
// which asks a user for consent in interactive flows, or AADSTS7000229,
// which is about a missing service principal when an app's own tenant is
// asked for a token).
func (c *Cloud) Token(idOrDomain string) (string, error) {
	t, ok := c.lookup(idOrDomain)
	if !ok {
		return "", &SignInError{Code: "AADSTS90002", Message: "Tenant '" + idOrDomain +
			"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."}
	}
	if t.spec.NotConsented {
		return "", &SignInError{Code: "AADSTS700016", Message: "Application with identifier '" + c.appID() +
			"' was not found in the directory '" + t.spec.Organization + "'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."}
	}
	now := c.base.Now()
	life := c.TokenLifetime
	if life <= 0 {
		life = time.Hour
	}
	roles := c.base.Granted
	if t.spec.Granted != nil {
		roles = t.spec.Granted
	}
	if roles == nil {
		roles = []string{permission}
	}
	return makeToken(tokenClaims{
		Aud: GraphAudience, Iss: "https://sts.windows.net/" + t.spec.ID + "/",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(life).Unix(),
		AppID: c.appID(), IDType: "app", Roles: roles, Tid: t.spec.ID, Uti: newGUID(),
	}), nil
}

func (c *Cloud) appID() string {
	if c.AppID != "" {
		return c.AppID
	}
	return SimulatedAppID
}

// tokenClaims are the claims of a Cloud's tokens.
type tokenClaims struct {
	Aud    string   `json:"aud"`
	Iss    string   `json:"iss,omitempty"`
	Iat    int64    `json:"iat"`
	Nbf    int64    `json:"nbf,omitempty"`
	Exp    int64    `json:"exp"`
	AppID  string   `json:"appid,omitempty"`
	IDType string   `json:"idtyp,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	Tid    string   `json:"tid"`
	Uti    string   `json:"uti,omitempty"`
}

// tokenHeader is the JOSE header of an unsigned JWT.
const tokenHeader = `{"alg":"none","typ":"JWT"}`

// makeToken renders an unsigned JWT.
func makeToken(c tokenClaims) string {
	b, _ := json.Marshal(c) // strings and numbers only
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(tokenHeader)) + "." + enc.EncodeToString(b) + "."
}

// parseToken reads an unsigned JWT; ok is false when tok is not one.
func parseToken(tok string) (c tokenClaims, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil || json.Unmarshal(hb, &h) != nil || !strings.EqualFold(h.Alg, "none") {
		return c, false
	}
	pb, err := enc.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, false
	}
	var raw struct {
		Aud string  `json:"aud"`
		Tid string  `json:"tid"`
		Iat float64 `json:"iat"`
		Nbf float64 `json:"nbf"`
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(pb, &raw) != nil {
		return c, false
	}
	return tokenClaims{Aud: raw.Aud, Tid: raw.Tid, Iat: int64(raw.Iat), Nbf: int64(raw.Nbf), Exp: int64(raw.Exp)}, true
}

// ServeHTTP routes a request to the tenant named by the tid claim of its
// bearer token, or answers 401 as Graph does (see Cloud).
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, msg := c.route(bearer(r))
	if t == nil {
		c.refuse(w, r, msg)
		return
	}
	t.srv.ServeHTTP(w, r)
}

// route finds the tenant of a token, or says why there is none.
func (c *Cloud) route(tok string) (*cloudTenant, string) {
	if tok == "" {
		return nil, "Access token is empty."
	}
	cl, ok := parseToken(tok)
	if !ok {
		return nil, "CompactToken parsing failed with error code: 80049217"
	}
	if a := strings.TrimSuffix(cl.Aud, "/"); !strings.EqualFold(a, GraphAudience) && !strings.EqualFold(a, graphAppID) {
		return nil, "Access token validation failure. Invalid audience."
	}
	now := c.base.Now().Unix()
	if cl.Exp == 0 || now >= cl.Exp || cl.Nbf > now {
		return nil, "Access token has expired or is not yet valid."
	}
	t, ok := c.lookup(cl.Tid)
	if !ok || !strings.EqualFold(t.spec.ID, strings.TrimSpace(cl.Tid)) {
		return nil, "Access token validation failure. Invalid issuer."
	}
	return t, ""
}

// refuse answers 401 InvalidAuthenticationToken with Graph's headers.
func (c *Cloud) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	c.mu.Lock()
	c.refused++
	c.mu.Unlock()
	reqID := newGUID()
	clientID := r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = reqID
	}
	h := w.Header()
	h.Set("request-id", reqID)
	h.Set("client-request-id", clientID)
	h.Set("WWW-Authenticate", wwwAuthenticate)
	h.Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(errorBody("InvalidAuthenticationToken", msg, reqID, clientID, c.base.Now()))
}

// appLimit is the app-wide limit of a Cloud, shared by its tenants. It
// reads the Cloud's AppLimit and AppWindow on first use.
type appLimit struct {
	cloud *Cloud
	mu    sync.Mutex
	ready bool
	w     window
}

// add logs a request arriving at now (see window.add); a nil limit (a
// Server outside a Cloud) never refuses.
func (a *appLimit) add(now time.Time) (over bool, free time.Time) {
	if a == nil {
		return false, time.Time{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ready {
		a.ready = true
		a.w = window{limit: a.cloud.AppLimit, size: a.cloud.AppWindow}
		if a.w.size <= 0 {
			a.w.size = 10 * time.Second
		}
	}
	return a.w.add(now)
}
