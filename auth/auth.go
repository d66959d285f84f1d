// Package auth signs enrollbatch in to Microsoft Graph. It picks a sign-in method the way Azure tools do
// (a static GRAPH_ACCESS_TOKEN, environment credentials with a client secret or certificate, workload identity,
// managed identity, the Azure CLI's login), requests tokens for the Graph host's scope from the authority of the
// chosen national cloud, and hands them to the Graph client through a TokenSource.
//
// New only inspects the configuration; it sends nothing. Tokens are fetched on the first Token call, so a
// rejected sign-in surfaces there, as an error for which IsAuthFailure is true. Secrets, assertions and tokens never
// appear in errors or in Describe.
//
// In auto mode the first configured method wins, in this order:
//
//  1. GRAPH_ACCESS_TOKEN: a bearer token used as is (it cannot be renewed).
//  2. environment: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or AZURE_CLIENT_CERTIFICATE_PATH
//     (PEM or PKCS#12) with optional AZURE_CLIENT_CERTIFICATE_PASSWORD and AZURE_CLIENT_SEND_CERTIFICATE_CHAIN.
//  3. workload identity: AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID (AKS, GitHub Actions OIDC).
//  4. managed identity, only when a variable says the process runs on Azure: IDENTITY_ENDPOINT (App Service,
//     Container Apps, Functions, Arc), MSI_ENDPOINT (Cloud Shell, older hosts) or AZURE_USE_MANAGED_IDENTITY=true
//     (plain VMs and scale sets, whose IMDS endpoint announces itself through no variable). Probing IMDS elsewhere
//     would hang a laptop for seconds, so auto mode never does; --auth managed forces it. AZURE_CLIENT_ID, when
//     set, selects a user-assigned identity.
//  5. Azure CLI: az on PATH, signed in with az login (AZURE_TENANT_ID, when set, is passed as --tenant).
//
// Two delegated methods, for a person at a laptop, are used only when named: --auth device-code and --auth browser
// (see delegated.go). They sign in to AZURE_CLIENT_ID, or DefaultPublicClientID, in AZURE_TENANT_ID, or
// "organizations", and ask for the delegated DeviceManagementConfiguration.ReadWrite.All on the Graph host.
//
// NewTenants serves several customer tenants from one configuration (one multi-tenant app, or one partner admin's
// sign-in); see Tenants.
//
// The authority host comes from Options.AuthorityHost (the cloud's), or AZURE_AUTHORITY_HOST when set; for a host
// other than the public clouds' instance discovery is skipped.
package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"unicode"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Sign-in modes, the values of --auth.
const (
	// ModeAuto tries the methods in order and uses the first one that is configured.
	ModeAuto = "auto"
	// ModeToken uses GRAPH_ACCESS_TOKEN only.
	ModeToken = "token"
	// ModeEnv uses the environment's client secret or certificate only.
	ModeEnv = "env"
	// ModeWorkload uses workload identity federation only.
	ModeWorkload = "workload"
	// ModeManaged uses the managed identity of the Azure host, without checking that one exists.
	ModeManaged = "managed"
	// ModeCLI uses the Azure CLI's login only.
	ModeCLI = "cli"
)

// Modes returns the valid --auth values, auto first.
func Modes() []string {
	return []string{ModeAuto, ModeToken, ModeEnv, ModeWorkload, ModeManaged, ModeCLI, ModeDeviceCode, ModeBrowser}
}

// Environment variables read by this package.
const (
	EnvAccessToken         = "GRAPH_ACCESS_TOKEN"                  // a bearer token used as is
	EnvTenantID            = "AZURE_TENANT_ID"                     // the Entra tenant (ID or domain)
	EnvClientID            = "AZURE_CLIENT_ID"                     // the app registration, or a user-assigned managed identity
	EnvClientSecret        = "AZURE_CLIENT_SECRET"                 // the app's client secret value
	EnvCertificatePath     = "AZURE_CLIENT_CERTIFICATE_PATH"       // PEM (certificate and key) or PKCS#12 file
	EnvCertificatePassword = "AZURE_CLIENT_CERTIFICATE_PASSWORD"   // password of the PKCS#12 file
	EnvSendCertChain       = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN" // true: send the x5c chain (subject name/issuer auth)
	EnvFederatedTokenFile  = "AZURE_FEDERATED_TOKEN_FILE"          // the workload's federated token (rotated by the platform)
	EnvAuthorityHost       = "AZURE_AUTHORITY_HOST"                // overrides the cloud's authority host
	EnvIdentityEndpoint    = "IDENTITY_ENDPOINT"                   // set by App Service, Container Apps, Functions, Arc
	EnvMSIEndpoint         = "MSI_ENDPOINT"                        // set by Cloud Shell and older hosts
	EnvUseManagedIdentity  = "AZURE_USE_MANAGED_IDENTITY"          // true: use managed identity in auto mode (Azure VMs)
)

// Names of the sign-in methods in messages.
const (
	srcToken    = "GRAPH_ACCESS_TOKEN"
	srcEnv      = "environment"
	srcWorkload = "workload identity"
	srcManaged  = "managed identity"
	srcCLI      = "Azure CLI"
)

// TokenSource gives bearer tokens to the Graph client. It is safe for concurrent use.
type TokenSource interface {
	// Token returns a bearer token for the Graph scope. With fresh false it may come from a cache (and is renewed
	// before it expires). With fresh true the token is fetched anew, bypassing every cache this process holds; the
	// Graph client asks for one after a 401 and gives up if that one is refused too. Concurrent fresh requests share
	// one fetch. Errors are *AuthError (IsAuthFailure: the sign-in was rejected), *NoCredentialsError (the method
	// cannot be used here, e.g. az is not signed in) or a wrapped transport or context error.
	Token(ctx context.Context, fresh bool) (string, error)
	// Describe names the method and its non-secret identifiers, e.g. "client secret (tenant 72f988bf…, app 04b07795…)".
	Describe() string
}

// Options configures New. The zero value signs in to the public cloud in auto mode.
type Options struct {
	// Mode is one of Modes(); empty means auto.
	Mode string
	// GraphURL is the Graph base URL; the scope is "https://<its host>/.default". Empty means the public cloud's.
	GraphURL string
	// AuthorityHost is the cloud's authority host (Cloud.AuthorityHost). AZURE_AUTHORITY_HOST overrides it. Empty
	// means the authority of the known cloud whose Graph host matches GraphURL, else the public one.
	AuthorityHost string
	// Getenv reads the configuration; os.Getenv when nil. Note that azidentity itself reads the managed identity
	// endpoint variables from the process environment, and az runs with the process environment.
	Getenv func(string) string
	// HTTPClient carries the requests to the authority and the managed identity endpoint; azcore's default when nil.
	HTTPClient *http.Client
	// LookPath finds the az executable; exec.LookPath when nil.
	LookPath func(string) (string, error)
	// Prompt receives the device code sign-in instructions; os.Stderr when nil.
	Prompt io.Writer
	// Tenant, when set, is the tenant (ID or verified domain) to sign in to, in place of AZURE_TENANT_ID. NewTenants
	// sets it for each customer tenant.
	Tenant string
	// ExtraPermissions are delegated permissions a person signing in is
	// asked for besides DeviceManagementConfiguration.ReadWrite.All, such as
	// Group.Read.All when the sheet names device groups; asked for only
	// then. An app's permissions are granted in its registration instead.
	ExtraPermissions []string
	// KeepSignIn keeps a person's sign-in (device-code, browser) between
	// commands where the system can keep it safe (see keep.go); a later
	// command signs in from it without a prompt. SignOut forgets it. A run
	// over several tenants (Tenants) signs in once per run.
	KeepSignIn bool
	// KeepNote, when KeepSignIn is set, is told why the sign-in cannot be
	// kept on this system, once, for the person to know.
	KeepNote func(string)
}

// config is Options resolved.
type config struct {
	getenv      func(string) string
	lookPath    func(string) (string, error)
	scope       string
	extra       []string // Options.ExtraPermissions
	keepSignIn  bool     // Options.KeepSignIn
	keepNote    func(string)
	wholeTenant bool // Describe shows the tenant in full (one source of many, one per tenant)
	authority   string
	noDiscovery bool
	client      azcore.ClientOptions
	prompt      io.Writer
}

// method is one way to sign in.
type method struct {
	name string
	mode string
	// detect reports whether the method is configured; if not, reason says what it needs.
	detect func(c *config, explicit bool) (ok bool, reason string)
	// build makes the source; its errors are configuration errors.
	build func(c *config) (TokenSource, error)
	// interactive methods wait for a person; auto mode never picks them.
	interactive bool
}

var methods = []method{
	{name: srcToken, mode: ModeToken, detect: detectToken, build: buildToken},
	{name: srcEnv, mode: ModeEnv, detect: detectEnv, build: buildEnv},
	{name: srcWorkload, mode: ModeWorkload, detect: detectWorkload, build: buildWorkload},
	{name: srcManaged, mode: ModeManaged, detect: detectManaged, build: buildManaged},
	{name: srcCLI, mode: ModeCLI, detect: detectCLI, build: buildCLI},
	{name: srcDeviceCode, mode: ModeDeviceCode, detect: detectDelegated, build: buildDeviceCode, interactive: true},
	{name: srcBrowser, mode: ModeBrowser, detect: detectDelegated, build: buildBrowser, interactive: true},
}

// New picks the sign-in method for opts and returns its TokenSource. It contacts nothing. Its errors are
// configuration errors (the CLI exits 2): a *NoCredentialsError (errors.Is ErrNoCredentials) when no method is
// configured, or a message naming the variable or value to fix.
func New(ctx context.Context, opts Options) (TokenSource, error) {
	_ = ctx // reserved: New does no I/O that could block
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	m, err := pick(c, opts.Mode)
	if err != nil {
		return nil, err
	}
	ts, err := m.build(c)
	if err != nil {
		return nil, fmt.Errorf("sign in with %s: %w", m.name, err)
	}
	return ts, nil
}

// pick returns the method for mode: the named one, or in auto mode the first configured one that needs no person.
func pick(c *config, mode string) (*method, error) {
	asked := mode
	mode = strings.ToLower(strings.TrimSpace(mode))
	if mode == "" {
		mode = ModeAuto
	}
	var tried []Attempt
	for i := range methods {
		m := &methods[i]
		if mode != ModeAuto && mode != m.mode || mode == ModeAuto && m.interactive {
			continue
		}
		ok, reason := m.detect(c, mode != ModeAuto)
		if !ok {
			tried = append(tried, Attempt{Source: m.name, Reason: reason})
			continue
		}
		return m, nil
	}
	if len(tried) == 0 {
		return nil, fmt.Errorf("unknown sign-in mode %q: use one of %s", asked, strings.Join(Modes(), ", "))
	}
	return nil, &NoCredentialsError{Mode: mode, Tried: tried}
}

func resolve(opts Options) (*config, error) {
	c := &config{getenv: opts.Getenv, lookPath: opts.LookPath, prompt: opts.Prompt}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if tenant := strings.TrimSpace(opts.Tenant); tenant != "" {
		c.getenv = withTenant(c.getenv, tenant)
	}
	if c.lookPath == nil {
		c.lookPath = exec.LookPath
	}
	graphURL := strings.TrimSpace(opts.GraphURL)
	if graphURL == "" {
		graphURL = clouds[0].GraphURL
	}
	host, err := graphHost(graphURL)
	if err != nil {
		return nil, err
	}
	c.scope = "https://" + host + "/.default"
	c.extra = opts.ExtraPermissions
	c.keepSignIn, c.keepNote = opts.KeepSignIn, opts.KeepNote
	authority := c.env(EnvAuthorityHost)
	from := EnvAuthorityHost
	if authority == "" {
		authority, from = opts.AuthorityHost, "the cloud's authority host"
	}
	if strings.TrimSpace(authority) == "" {
		authority = authorityForGraph(host)
	}
	c.authority, c.noDiscovery, err = normalizeAuthorityHost(authority)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	c.client = azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: c.authority}}
	c.client.Telemetry.ApplicationID = "enrollbatch"
	c.client.Retry.ShouldRetry = retryAuthority
	if opts.HTTPClient != nil {
		c.client.Transport = opts.HTTPClient
	}
	return c, nil
}

// withTenant returns getenv with AZURE_TENANT_ID set to tenant.
func withTenant(getenv func(string) string, tenant string) func(string) string {
	return func(name string) string {
		if name == EnvTenantID {
			return tenant
		}
		return getenv(name)
	}
}

// env returns a trimmed variable.
func (c *config) env(name string) string { return strings.TrimSpace(c.getenv(name)) }

// missing returns the names among vars that are not set.
func (c *config) missing(vars ...string) []string {
	var out []string
	for _, v := range vars {
		if c.env(v) == "" {
			out = append(out, v)
		}
	}
	return out
}

// joinAnd joins names as "A, B and C".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// needs phrases what a method lacks: only the full recipe when nothing is set, else what is missing first.
func needs(missing []string, total int, recipe string) string {
	if len(missing) == total {
		return recipe
	}
	return joinAnd(missing) + " not set; " + recipe
}

func detectToken(c *config, _ bool) (bool, string) {
	return c.env(EnvAccessToken) != "", "not set"
}

const envRecipe = "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)"

func detectEnv(c *config, _ bool) (bool, string) {
	miss := c.missing(EnvTenantID, EnvClientID)
	if c.env(EnvClientSecret) == "" && c.env(EnvCertificatePath) == "" {
		miss = append(miss, EnvClientSecret+" (or "+EnvCertificatePath+")")
	}
	return len(miss) == 0, needs(miss, 3, envRecipe)
}

func detectWorkload(c *config, _ bool) (bool, string) {
	miss := c.missing(EnvFederatedTokenFile, EnvClientID, EnvTenantID)
	return len(miss) == 0, needs(miss, 3, "set AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID")
}

func detectManaged(c *config, explicit bool) (bool, string) {
	if explicit || c.env(EnvIdentityEndpoint) != "" || c.env(EnvMSIEndpoint) != "" || truthy(c.env(EnvUseManagedIdentity)) {
		return true, ""
	}
	return false, "not on Azure (IDENTITY_ENDPOINT/MSI_ENDPOINT not set); use --auth managed to force it " +
		"(or set AZURE_USE_MANAGED_IDENTITY=true on an Azure VM)"
}

func detectCLI(c *config, _ bool) (bool, string) {
	if _, err := c.lookPath("az"); err != nil {
		return false, "az not found on PATH; install it and run az login"
	}
	return true, ""
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func buildToken(c *config) (TokenSource, error) {
	tok := c.env(EnvAccessToken)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, fmt.Errorf("%s contains spaces or line breaks: set it to the token alone", EnvAccessToken)
	}
	return newStaticSource(tok), nil
}

func buildEnv(c *config) (TokenSource, error) {
	tenant, client := c.env(EnvTenantID), c.env(EnvClientID)
	ids := c.idList(tenant, client)
	if secret := c.getenv(EnvClientSecret); strings.TrimSpace(secret) != "" {
		o := &azidentity.ClientSecretCredentialOptions{ClientOptions: c.client, DisableInstanceDiscovery: c.noDiscovery}
		return newAzSource(srcEnv, "client secret"+ids, c.scope, refreshRebuild, func() (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(tenant, client, secret, o)
		})
	}
	path := c.env(EnvCertificatePath)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", EnvCertificatePath, err)
	}
	certs, key, err := azidentity.ParseCertificates(data, []byte(c.getenv(EnvCertificatePassword)))
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s: %v (use a PEM file holding the certificate and its "+
			"unencrypted private key, or a PKCS#12 file with %s)", path, err, EnvCertificatePassword)
	}
	o := &azidentity.ClientCertificateCredentialOptions{
		ClientOptions:            c.client,
		DisableInstanceDiscovery: c.noDiscovery,
		SendCertificateChain:     truthy(c.env(EnvSendCertChain)),
	}
	return newAzSource(srcEnv, "client certificate"+ids, c.scope, refreshRebuild, func() (azcore.TokenCredential, error) {
		return azidentity.NewClientCertificateCredential(tenant, client, certs, key, o)
	})
}

func buildWorkload(c *config) (TokenSource, error) {
	tenant, client, file := c.env(EnvTenantID), c.env(EnvClientID), c.env(EnvFederatedTokenFile)
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvFederatedTokenFile, err)
	}
	o := &azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions:            c.client,
		DisableInstanceDiscovery: c.noDiscovery,
		ClientID:                 client,
		TenantID:                 tenant,
		TokenFilePath:            file,
	}
	// A new credential reads the (rotating) token file again, so a fresh token also uses a fresh assertion.
	return newAzSource(srcWorkload, "workload identity"+c.idList(tenant, client), c.scope, refreshRebuild,
		func() (azcore.TokenCredential, error) { return azidentity.NewWorkloadIdentityCredential(o) })
}

func buildManaged(c *config) (TokenSource, error) {
	// The identity endpoint has retry rules of its own (azidentity's defaults for IMDS, which retry while the
	// endpoint starts up): leave them alone.
	co := c.client
	co.Retry.ShouldRetry = nil
	o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
	desc := "managed identity (system-assigned)"
	if id := c.env(EnvClientID); id != "" {
		o.ID = azidentity.ClientID(id)
		desc = "managed identity (client ID " + short(id) + ")"
	}
	// MSAL keeps managed identity tokens in a process-wide cache, so a new credential would not bypass it; a
	// claims request does (the claims are not sent to the identity endpoint).
	return newAzSource(srcManaged, desc, c.scope, refreshClaims, func() (azcore.TokenCredential, error) {
		return azidentity.NewManagedIdentityCredential(o)
	})
}

func buildCLI(c *config) (TokenSource, error) {
	tenant := c.env(EnvTenantID)
	desc := "Azure CLI login"
	if tenant != "" {
		desc += " (tenant " + c.tenantName(tenant) + ")"
	}
	// AzureCLICredential runs az for every call; this source keeps the token until shortly before it expires.
	return newAzSource(srcCLI, desc, c.scope, refreshCached, func() (azcore.TokenCredential, error) {
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenant})
	})
}

// idList describes a service principal without secrets: "(tenant 72f988bf…, app 04b07795…)", plus the authority
// host when it is not the public cloud's. The tenant is shown whole when the source is one of several tenants'.
func (c *config) idList(tenant, client string) string {
	s := " (tenant " + c.tenantName(tenant) + ", app " + short(client)
	if c.authority != clouds[0].AuthorityHost {
		s += ", " + strings.TrimSuffix(strings.TrimPrefix(c.authority, "https://"), "/")
	}
	return s + ")"
}

// tenantName is the tenant as Describe shows it.
func (c *config) tenantName(tenant string) string {
	if c.wholeTenant {
		return tenant
	}
	return short(tenant)
}

// short abbreviates a GUID to its first 8 characters; other identifiers (tenant domain names) are kept whole.
func short(id string) string {
	if len(id) == 36 && strings.Count(id, "-") == 4 {
		return id[:8] + "…"
	}
	return id
}

// tokenRequest returns the options of a token request for scope.
func tokenRequest(scope string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: strings.Fields(scope)}
}
