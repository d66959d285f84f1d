package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// Tenants signs in to many customer tenants from one configuration, as a managed service provider does with one
// multi-tenant app registration consented in every customer tenant, or a partner admin signing in once with GDAP.
// For returns one TokenSource per tenant; every token a source returns was issued for its tenant.
//
// The method is chosen as New chooses it, except that AZURE_TENANT_ID is not needed:
//
//   - app methods (client secret or certificate, workload identity, Azure CLI): one credential per tenant, built as
//     New would build it with that tenant in place of AZURE_TENANT_ID, each with its own token cache;
//   - delegated methods (--auth device-code, --auth browser): one sign-in for the run, in the first tenant asked for,
//     then tokens for every other tenant from the same refresh token, without a prompt (AZURE_TENANT_ID, or
//     "organizations", is the home tenant of the credential; every tenant is allowed);
//   - GRAPH_ACCESS_TOKEN and managed identity serve one tenant only: For returns a *SingleTenantError.
//
// A Tenants is safe for concurrent use.
type Tenants struct {
	c      *config
	m      *method
	single string     // the method serves one tenant only: its name
	deleg  *delegated // the delegated methods' shared sign-in

	mu      sync.Mutex
	sources map[string]*tenantSource // by lower-cased tenant
}

// tenantPlaceholder stands for the tenant while NewTenants checks a configuration that does not name one.
const tenantPlaceholder = "organizations"

// NewTenants picks the sign-in method for opts, as New does, and checks its configuration. Like New it contacts
// nothing, and its errors are configuration errors. opts.Tenant, when set, is the home tenant of a delegated
// sign-in; app methods ignore it and AZURE_TENANT_ID.
func NewTenants(ctx context.Context, opts Options) (*Tenants, error) {
	_ = ctx // reserved: NewTenants does no I/O that could block
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	c.wholeTenant = true
	// The tenant comes with each For call: check the configuration as though AZURE_TENANT_ID were set.
	check := *c
	if c.env(EnvTenantID) == "" {
		check.getenv = withTenant(c.getenv, tenantPlaceholder)
	}
	m, err := pick(&check, opts.Mode)
	if err != nil {
		return nil, err
	}
	t := &Tenants{c: c, m: m, sources: map[string]*tenantSource{}}
	switch m.mode {
	case ModeToken, ModeManaged:
		t.single = m.name
	case ModeDeviceCode, ModeBrowser:
		if t.deleg, err = newDelegated(c, m.mode); err != nil {
			return nil, fmt.Errorf("sign in with %s: %w", m.name, err)
		}
	default:
		// Building contacts nothing: it finds a bad certificate or token file now rather than once per tenant.
		if _, err := m.build(&check); err != nil {
			return nil, fmt.Errorf("sign in with %s: %w", m.name, err)
		}
	}
	return t, nil
}

// For returns the TokenSource of tenant, a tenant ID (GUID) or a verified domain name such as contoso.com. The same
// source is returned for the same tenant (case-insensitive). Its tokens are checked: one whose tid claim is not the
// tenant (for a domain: not the tenant of the first token) is never returned, the source answers a
// *TenantMismatchError instead. For fails with a *SingleTenantError when the method serves one tenant only, and
// with a plain error when tenant is not a tenant ID or domain.
func (t *Tenants) For(tenant string) (TokenSource, error) {
	tenant = strings.TrimSpace(tenant)
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if t.single != "" {
		return nil, &SingleTenantError{Method: t.single, Tenant: tenant}
	}
	key := strings.ToLower(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sources[key]; s != nil {
		return s, nil
	}
	s, err := t.build(tenant)
	if err != nil {
		return nil, fmt.Errorf("sign in to tenant %s with %s: %w", tenant, t.m.name, err)
	}
	t.sources[key] = s
	return s, nil
}

// build makes the source of one tenant.
func (t *Tenants) build(tenant string) (*tenantSource, error) {
	s := &tenantSource{tenant: tenant, guid: isGUID(tenant), authority: t.c.authority}
	if t.deleg != nil {
		inner, err := t.deleg.source(tenant)
		if err != nil {
			return nil, err
		}
		s.inner, s.clientID = inner, t.deleg.clientID
		return s, nil
	}
	c := *t.c
	c.getenv = withTenant(t.c.getenv, tenant)
	inner, err := t.m.build(&c)
	if err != nil {
		return nil, err
	}
	s.inner = inner
	if t.m.mode != ModeCLI {
		s.clientID = c.env(EnvClientID)
	}
	return s, nil
}

var (
	guidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

func isGUID(s string) bool { return guidPattern.MatchString(s) }

// checkTenant refuses what is not one tenant: an empty value, "organizations" and the like, anything that is
// neither a GUID nor a domain name.
func checkTenant(tenant string) error {
	switch {
	case tenant == "":
		return errors.New("no tenant given: name the tenant by its ID or a verified domain such as contoso.onmicrosoft.com")
	case isGUID(tenant), domainPattern.MatchString(tenant):
		return nil
	}
	return fmt.Errorf("tenant %q is neither a tenant ID nor a domain name: name the tenant by its ID or a verified domain such as contoso.onmicrosoft.com", tenant)
}

// tenantSource is the TokenSource of one tenant: it checks the tenant of every token its credential returns.
type tenantSource struct {
	tenant    string // as given
	guid      bool
	clientID  string // the app to consent to, for messages; "" when it is not the person's (Azure CLI)
	authority string
	inner     TokenSource

	mu     sync.Mutex
	pinned string // the tid of the first token, when the tenant was given as a domain
}

// Describe names the method, the tenant and the app.
func (s *tenantSource) Describe() string { return s.inner.Describe() }

// Token returns a token for the tenant; see TokenSource. A token issued for another tenant is refused.
func (s *tenantSource) Token(ctx context.Context, fresh bool) (string, error) {
	tok, err := s.inner.Token(ctx, fresh)
	if err != nil {
		return "", s.explain(err)
	}
	if err := s.check(tok); err != nil {
		return "", err
	}
	return tok, nil
}

// check verifies the tid claim of tok, when tok is a JWT that has one.
func (s *tenantSource) check(tok string) error {
	tid := TokenTenant(tok)
	if tid == "" {
		return nil
	}
	if s.guid {
		if !strings.EqualFold(tid, s.tenant) {
			return &TenantMismatchError{Source: s.Describe(), Tenant: s.tenant, TokenTenant: tid}
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned == "" {
		s.pinned = tid
		return nil
	}
	if !strings.EqualFold(tid, s.pinned) {
		return &TenantMismatchError{Source: s.Describe(), Tenant: s.tenant, Pinned: s.pinned, TokenTenant: tid}
	}
	return nil
}

// explain replaces the hint of a refusal that is about the tenant (the app not consented there, the tenant not
// found, the account not allowed in it) with one that names the tenant and says what to do there.
func (s *tenantSource) explain(err error) error {
	ae, ok := err.(*AuthError)
	if !ok {
		return err
	}
	hint := TenantHint(ae.Code, s.tenant, s.clientID, s.authority)
	if hint == "" {
		return err
	}
	cp := *ae // the error may be shared by callers of one fetch: change a copy
	cp.Hint = hint
	return &cp
}

// TokenTenant returns the tid claim of a JWT access token, read without verifying the token; "" when tok is not a
// JWT or has no tid.
func TokenTenant(tok string) string {
	var claims struct {
		Tid string `json:"tid"`
	}
	if !jwtClaims(tok, &claims) {
		return ""
	}
	return strings.TrimSpace(claims.Tid)
}

// jwtClaims decodes the payload of a JWT into v; false when tok is not a JWT.
func jwtClaims(tok string, v any) bool {
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(payload, v) == nil
}

// ErrSingleTenant is matched (errors.Is) by every *SingleTenantError.
var ErrSingleTenant = errors.New("the sign-in method serves one tenant only")

// SingleTenantError is the answer of Tenants.For when the sign-in method serves one tenant only: a static
// GRAPH_ACCESS_TOKEN, or a managed identity. It is a configuration problem, not a refused sign-in (IsAuthFailure is
// false); the CLI exits 2 on it.
type SingleTenantError struct {
	// Method names the sign-in method, e.g. "GRAPH_ACCESS_TOKEN" or "managed identity".
	Method string
	// Tenant is the tenant that was asked for.
	Tenant string
}

// Error says what to use instead.
func (e *SingleTenantError) Error() string {
	return fmt.Sprintf("cannot sign in to tenant %s with %s: it serves one tenant only. For several tenants, use a "+
		"multi-tenant app registration (%s with %s, %s or %s, and no %s), or sign in yourself with --auth device-code",
		e.Tenant, e.Method, EnvClientID, EnvClientSecret, EnvCertificatePath, EnvFederatedTokenFile, EnvAccessToken)
}

// Is makes errors.Is(err, ErrSingleTenant) true.
func (e *SingleTenantError) Is(target error) bool { return target == ErrSingleTenant }

// SignInRefused is true: no tenant can be signed in to until the configuration changes, so the run stops.
func (e *SingleTenantError) SignInRefused() bool { return true }

// TenantMismatchError is a token issued for another tenant than the one its source serves. The token was not
// returned; it is never sent.
type TenantMismatchError struct {
	// Source describes the credential, as TokenSource.Describe does.
	Source string
	// Tenant is the tenant the source serves, as it was given.
	Tenant string
	// Pinned is the tenant ID of the source's first token, when Tenant is a domain name.
	Pinned string
	// TokenTenant is the tid claim of the refused token.
	TokenTenant string
}

// Error names both tenants.
func (e *TenantMismatchError) Error() string {
	want := e.Tenant
	if e.Pinned != "" {
		want += " (" + e.Pinned + " so far)"
	}
	return fmt.Sprintf("sign-in for %s returned a token for tenant %s instead of %s; it was not used: check that the "+
		"tenant column names the tenant, and that its domain is verified in that tenant only", e.Source, e.TokenTenant, want)
}

// SignInRefused is true: the run stops rather than send a token to the wrong tenant.
func (e *TenantMismatchError) SignInRefused() bool { return true }

// compile-time checks
var _ TokenSource = (*tenantSource)(nil)
var _ azcore.TokenCredential = (*tenantCred)(nil)
