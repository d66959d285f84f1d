package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/enrollbatch/enrollbatch/safetext"
)

// Delegated sign-in modes: a person signs in, as Connect-MgGraph does. They are used only when asked for with
// --auth; auto mode never prompts, so that cron jobs never wait for a person.
const (
	// ModeDeviceCode prints a code to enter at the authority's device login page, from any browser.
	ModeDeviceCode = "device-code"
	// ModeBrowser opens the system browser on the authority's sign-in page and listens on localhost for the answer.
	ModeBrowser = "browser"
)

// DefaultPublicClientID is the app a person signs in to when AZURE_CLIENT_ID is not set: Microsoft Graph Command
// Line Tools, the first-party public client of the Microsoft Graph PowerShell SDK (Connect-MgGraph reports
// "Connected via delegated access using 14d82eec-204b-4c2f-b7e8-296a70dab67e"). It exists in every tenant; an
// administrator consents to DeviceManagementConfiguration.ReadWrite.All for it on first use.
const DefaultPublicClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// DefaultDelegatedTenant is the tenant of a delegated sign-in when AZURE_TENANT_ID is not set: any work or school
// account.
const DefaultDelegatedTenant = "organizations"

// Names of the delegated methods in messages.
const (
	srcDeviceCode = "device code"
	srcBrowser    = "browser"
)

// delegatedPermission is what a delegated sign-in asks for. Unlike ".default", naming the permission lets Entra ask
// for consent when it was never given for the client.
const delegatedPermission = "DeviceManagementConfiguration.ReadWrite.All"

// delegatedScope is the scope of delegated sign-ins for the Graph host of c.
func (c *config) delegatedScope() string {
	base := strings.TrimSuffix(c.scope, ".default")
	scopes := []string{base + delegatedPermission}
	for _, p := range c.extra {
		scopes = append(scopes, base+p)
	}
	return strings.Join(scopes, " ") // one request for them all: tokenRequest splits them
}

// delegatedIDs returns the tenant and client of a delegated sign-in, with their defaults.
func (c *config) delegatedIDs() (tenant, client string) {
	tenant, client = c.env(EnvTenantID), c.env(EnvClientID)
	if tenant == "" {
		tenant = DefaultDelegatedTenant
	}
	if client == "" {
		client = DefaultPublicClientID
	}
	return tenant, client
}

func detectDelegated(_ *config, explicit bool) (bool, string) {
	return explicit, "interactive: only with --auth device-code or --auth browser"
}

// prompt is where the device code instructions go: the writer given in Options, else stderr (stdout may be a
// report or a pipe).
func (c *config) promptWriter() io.Writer {
	if c.prompt != nil {
		return c.prompt
	}
	return os.Stderr
}

// kept opens the kept sign-in of a person for tenant and client (nil when
// not asked for, or when the system cannot keep it: then the person is told
// why, and signs in for this command only).
func (c *config) kept(tenant, client string) *kept {
	k, err := c.keep(tenant, client)
	if err != nil {
		if c.keepNote != nil {
			c.keepNote("the sign-in is kept for this command only: " + err.Error())
		}
		return nil
	}
	return k
}

func buildDeviceCode(c *config) (TokenSource, error) {
	tenant, client := c.delegatedIDs()
	w := c.promptWriter()
	k := c.kept(tenant, client)
	o := &azidentity.DeviceCodeCredentialOptions{
		ClientOptions:            c.client,
		DisableInstanceDiscovery: c.noDiscovery,
		TenantID:                 tenant,
		ClientID:                 client,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			// The message is the authority's text: clean it before it reaches the terminal.
			_, err := fmt.Fprintf(w, "sign in: %s\n", safetext.Clean(m.Message))
			return err
		},
	}
	o.Cache, o.AuthenticationRecord = k.options()
	// One credential for the whole run: it keeps the token and its refresh token in memory, so the person signs in
	// once. A fresh token is asked for with claims, which MSAL answers with the refresh token, without a prompt.
	return newAzSource(srcDeviceCode, "device code sign-in"+c.idList(tenant, client), c.delegatedScope(), refreshClaims,
		func() (azcore.TokenCredential, error) {
			cred, err := azidentity.NewDeviceCodeCredential(o)
			return wrap(k, cred, err)
		})
}

func buildBrowser(c *config) (TokenSource, error) {
	tenant, client := c.delegatedIDs()
	k := c.kept(tenant, client)
	o := &azidentity.InteractiveBrowserCredentialOptions{
		ClientOptions:            c.client,
		DisableInstanceDiscovery: c.noDiscovery,
		TenantID:                 tenant,
		ClientID:                 client,
		// http://localhost (any port) is the redirect URI of public clients such as Microsoft Graph Command Line
		// Tools; an app of one's own must register it as a "Mobile and desktop applications" redirect URI.
		RedirectURL: "http://localhost",
	}
	o.Cache, o.AuthenticationRecord = k.options()
	return newAzSource(srcBrowser, "browser sign-in"+c.idList(tenant, client), c.delegatedScope(), refreshClaims,
		func() (azcore.TokenCredential, error) {
			cred, err := azidentity.NewInteractiveBrowserCredential(o)
			return wrap(k, cred, err)
		})
}

// authenticator is a delegated credential: it can be asked to sign the person in.
type authenticator interface {
	azcore.TokenCredential
	Authenticate(context.Context, *policy.TokenRequestOptions) (azidentity.AuthenticationRecord, error)
}

// delegated is the one sign-in of a person that Tenants shares between customer tenants. The person signs in once,
// in the first tenant asked for; tokens for every tenant then come from the refresh token, silently. The credential
// never prompts by itself: a tenant whose token needs a new sign-in (no GDAP role there, a policy asking for MFA)
// gets an error instead, so that a run over hundreds of tenants does not stop at a prompt for each.
type delegated struct {
	name, desc string // method name, and Describe without the tenant
	clientID   string
	scope      string
	cred       authenticator

	gate     chan struct{} // held during the first sign-in
	mu       sync.Mutex
	signedIn bool
	failed   error // a sign-in failure no other tenant can mend
}

func newDelegated(c *config, mode string) (*delegated, error) {
	home, client := c.delegatedIDs()
	d := &delegated{clientID: client, scope: c.delegatedScope(), gate: make(chan struct{}, 1)}
	co := c.client
	// Keep the authority's refusal of a silent request: azidentity reports only that a sign-in is needed.
	co.PerCallPolicies = append(append([]policy.Policy(nil), co.PerCallPolicies...), recordRefusals{})
	var err error
	switch mode {
	case ModeDeviceCode:
		d.name, d.desc = srcDeviceCode, "device code sign-in"
		w := c.promptWriter()
		d.cred, err = azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions:                  co,
			DisableInstanceDiscovery:       c.noDiscovery,
			TenantID:                       home,
			ClientID:                       client,
			AdditionallyAllowedTenants:     []string{"*"},
			DisableAutomaticAuthentication: true,
			UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
				_, err := fmt.Fprintf(w, "sign in: %s\n", safetext.Clean(m.Message))
				return err
			},
		})
	case ModeBrowser:
		d.name, d.desc = srcBrowser, "browser sign-in"
		d.cred, err = azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
			ClientOptions:                  co,
			DisableInstanceDiscovery:       c.noDiscovery,
			TenantID:                       home,
			ClientID:                       client,
			AdditionallyAllowedTenants:     []string{"*"},
			DisableAutomaticAuthentication: true,
			RedirectURL:                    "http://localhost",
		})
	default:
		return nil, fmt.Errorf("%s is not a delegated sign-in", mode)
	}
	if err != nil {
		return nil, err
	}
	d.desc += " (app " + short(client)
	if c.authority != clouds[0].AuthorityHost {
		d.desc += ", " + strings.TrimSuffix(strings.TrimPrefix(c.authority, "https://"), "/")
	}
	d.desc += ")"
	return d, nil
}

// source returns the TokenSource of one tenant. A fresh token is asked for with claims, which MSAL answers from the
// refresh token.
func (d *delegated) source(tenant string) (TokenSource, error) {
	desc := strings.Replace(d.desc, " (", " (tenant "+tenant+", ", 1)
	tc := &tenantCred{d: d, tenant: tenant, desc: desc}
	return newAzSource(d.name, desc, d.scope, refreshClaims, func() (azcore.TokenCredential, error) { return tc, nil })
}

// signIn makes sure the person signed in: the first caller signs in to its tenant, and the others wait for it. A
// sign-in refused for reasons of that tenant only lets the next caller try in its own; any other failure is
// the answer of every later call.
func (d *delegated) signIn(ctx context.Context, tenant, desc string) error {
	d.mu.Lock()
	done, failed := d.signedIn, d.failed
	d.mu.Unlock()
	if done || failed != nil {
		return failed
	}
	select {
	case d.gate <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("get token (%s): waiting for the sign-in: %w", desc, ctx.Err())
	}
	defer func() { <-d.gate }()
	d.mu.Lock()
	done, failed = d.signedIn, d.failed
	d.mu.Unlock()
	if done || failed != nil {
		return failed
	}
	rec := &refusal{}
	_, err := d.cred.Authenticate(context.WithValue(ctx, refusalKey{}, rec),
		&policy.TokenRequestOptions{Scopes: strings.Fields(d.scope), TenantID: tenant})
	if err == nil {
		d.mu.Lock()
		d.signedIn = true
		d.mu.Unlock()
		return nil
	}
	err = classify(desc, d.name, err)
	var ae *AuthError
	if status, body := rec.get(); status != 0 && errors.As(err, &ae) && ae.Code == "" {
		// MSAL keeps the body of a refused device code grant to itself; the policy kept a copy.
		err = fromEntra(desc, status, body, ae.Err)
	}
	if ctx.Err() != nil || errors.As(err, &ae) && tenantCodes[ae.Code] != "" {
		return err
	}
	d.mu.Lock()
	d.failed = err
	d.mu.Unlock()
	return err
}

// tenantCred is the credential of one tenant: the shared sign-in, asked for tokens of that tenant.
type tenantCred struct {
	d            *delegated
	tenant, desc string
}

func (t *tenantCred) GetToken(ctx context.Context, req policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if err := t.d.signIn(ctx, t.tenant, t.desc); err != nil {
		return azcore.AccessToken{}, err
	}
	req.TenantID = t.tenant
	rec := &refusal{}
	at, err := t.d.cred.GetToken(context.WithValue(ctx, refusalKey{}, rec), req)
	var need *azidentity.AuthenticationRequiredError
	if err == nil || !errors.As(err, &need) {
		return at, err
	}
	if status, body := rec.get(); status != 0 {
		err = fromEntra(t.desc, status, body, err)
		if ae, ok := err.(*AuthError); ok && tenantCodes[ae.Code] == "" {
			ae.Hint = "sign in to this tenant alone: run enrollbatch for tenant " + t.tenant + " only, which asks you to sign in to it"
		}
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{}, &AuthError{Source: t.desc, Reason: "Microsoft Entra ID asks for a new sign-in for this tenant",
		Hint: "sign in to this tenant alone: run enrollbatch for tenant " + t.tenant + " only, which asks you to sign in to it", Err: err}
}

// refusal keeps the last refusal (a 4xx answer) of the authority to the requests of one call.
type refusal struct {
	mu     sync.Mutex
	status int
	body   []byte
}

func (r *refusal) get() (int, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.body
}

type refusalKey struct{}

// recordRefusals is a pipeline policy that copies the authority's refusals into the call's *refusal, if any.
type recordRefusals struct{}

func (recordRefusals) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil || resp.StatusCode < 400 || resp.StatusCode >= 500 {
		return resp, err
	}
	if r, ok := req.Raw().Context().Value(refusalKey{}).(*refusal); ok {
		if body, perr := runtime.Payload(resp); perr == nil {
			r.mu.Lock()
			r.status, r.body = resp.StatusCode, body
			r.mu.Unlock()
		}
	}
	return resp, err
}
