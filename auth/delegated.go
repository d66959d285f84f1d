package auth

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
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

func buildDeviceCode(c *config) (TokenSource, error) {
	tenant, client := c.delegatedIDs()
	w := c.promptWriter()
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
	// One credential for the whole run: it keeps the token and its refresh token in memory, so the person signs in
	// once. A fresh token is asked for with claims, which MSAL answers with the refresh token, without a prompt.
	return newAzSource(srcDeviceCode, "device code sign-in"+idList(tenant, client, c.authority), c.delegatedScope(), refreshClaims,
		func() (azcore.TokenCredential, error) { return azidentity.NewDeviceCodeCredential(o) })
}

func buildBrowser(c *config) (TokenSource, error) {
	tenant, client := c.delegatedIDs()
	o := &azidentity.InteractiveBrowserCredentialOptions{
		ClientOptions:            c.client,
		DisableInstanceDiscovery: c.noDiscovery,
		TenantID:                 tenant,
		ClientID:                 client,
		// http://localhost (any port) is the redirect URI of public clients such as Microsoft Graph Command Line
		// Tools; an app of one's own must register it as a "Mobile and desktop applications" redirect URI.
		RedirectURL: "http://localhost",
	}
	return newAzSource(srcBrowser, "browser sign-in"+idList(tenant, client, c.authority), c.delegatedScope(), refreshClaims,
		func() (azcore.TokenCredential, error) { return azidentity.NewInteractiveBrowserCredential(o) })
}
