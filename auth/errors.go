package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/enrollbatch/enrollbatch/safetext"
)

// ErrNoCredentials is matched (errors.Is) by every *NoCredentialsError: no sign-in method is configured, or the
// configured one cannot be used on this machine (az missing or not signed in). The CLI exits 2 on it.
var ErrNoCredentials = errors.New("no credentials found")

// Attempt is one sign-in method that was considered and why it could not be used.
type Attempt struct {
	// Source names the method as people know it, e.g. "environment" or "Azure CLI".
	Source string
	// Reason says what is missing and what to do, e.g. "az not found on PATH; install it and run az login".
	Reason string
}

// NoCredentialsError lists every sign-in method that was tried and what each needs.
type NoCredentialsError struct {
	// Mode is the sign-in mode that was asked for ("auto", "env", …).
	Mode string
	// Tried lists the methods in the order they were considered.
	Tried []Attempt
}

// Error returns a multi-line message telling how to sign in.
func (e *NoCredentialsError) Error() string {
	var b strings.Builder
	b.WriteString("no credentials found")
	if e.Mode != "" && e.Mode != ModeAuto {
		fmt.Fprintf(&b, " for --auth %s", e.Mode)
	}
	if e.Mode == "" || e.Mode == ModeAuto {
		// A person at a terminal signs in interactively; the rest is
		// for unattended runs.
		b.WriteString(".\nSigning in yourself? Add --auth device-code (a code to enter at microsoft.com/devicelogin, from any machine), or --auth browser on a desktop.")
		b.WriteString("\nFor unattended runs (cron, CI, Kubernetes), enrollbatch tried:")
	} else {
		b.WriteString("; tried:")
	}
	for _, a := range e.Tried {
		fmt.Fprintf(&b, "\n  %s: %s", a.Source, a.Reason)
	}
	b.WriteString("\nTo try enrollbatch without a tenant, run with --simulate.")
	return b.String()
}

// Is makes errors.Is(err, ErrNoCredentials) true.
func (e *NoCredentialsError) Is(target error) bool { return target == ErrNoCredentials }

// SignInRefused is true: no sign-in can work until the configuration changes, so the run stops.
func (e *NoCredentialsError) SignInRefused() bool { return true }

// AuthError is a sign-in that Microsoft Entra ID (or Graph, for a static token) rejected: a wrong or expired
// secret, an unknown app or tenant, a certificate the app does not know. Retrying does not help; the CLI exits 3.
type AuthError struct {
	// Source describes the credential, as TokenSource.Describe does.
	Source string
	// Code is the AADSTS code, e.g. "AADSTS7000215", when the authority gave one.
	Code string
	// Reason is the authority's explanation without trace and correlation ids.
	Reason string
	// Hint says what to check or change.
	Hint string
	// Err is the underlying error, if any.
	Err error
}

// Error names the credential, the AADSTS code and what to do.
func (e *AuthError) Error() string {
	var b strings.Builder
	b.WriteString("sign-in rejected")
	if e.Source != "" {
		b.WriteString(" for " + e.Source)
	}
	b.WriteString(": ")
	reason := e.Reason
	if e.Code != "" && !strings.Contains(reason, e.Code) {
		reason = strings.TrimSpace(e.Code + ": " + reason)
	}
	if e.Hint != "" {
		reason = strings.TrimRight(reason, ". ")
	}
	b.WriteString(reason)
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }

// SignInRefused is true: the authority refused the credentials, and retrying does not help, so the run stops.
func (e *AuthError) SignInRefused() bool { return true }

// AuthorityError is a sign-in that failed without a refusal: the authority could not be reached (DNS, connection
// refused, TLS), or answered with a server error or throttling. Trying again later may work; the CLI exits 1.
type AuthorityError struct {
	// Source describes the credential, as TokenSource.Describe does.
	Source string
	// Status is the HTTP status the authority answered, 0 when it could not be reached.
	Status int
	// Code is the AADSTS code, when the authority gave one.
	Code string
	// Reason says what happened, in one line.
	Reason string
	// Err is the underlying error.
	Err error
}

// Error says what failed and what to do, in one line.
func (e *AuthorityError) Error() string {
	var b strings.Builder
	b.WriteString("sign-in failed")
	if e.Source != "" {
		b.WriteString(" for " + e.Source)
	}
	b.WriteString(": ")
	if e.Status == 0 {
		b.WriteString(e.Reason + "; check the network, any proxy, and " + EnvAuthorityHost + " if set")
		return b.String()
	}
	fmt.Fprintf(&b, "the sign-in authority answered HTTP %d", e.Status)
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	b.WriteString("; try again later")
	return b.String()
}

// Unwrap returns the underlying error.
func (e *AuthorityError) Unwrap() error { return e.Err }

// IsAuthFailure reports whether err is (or wraps) a rejected sign-in, such as an invalid client secret
// (AADSTS7000215) or a static GRAPH_ACCESS_TOKEN that Graph refused. The CLI exits 3 on it.
func IsAuthFailure(err error) bool {
	var ae *AuthError
	return errors.As(err, &ae)
}

// entraError is the error body of the Microsoft Entra token endpoint.
type entraError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

var aadstsCode = regexp.MustCompile(`AADSTS\d+`)

// hints say what to do for the AADSTS codes people meet most often when setting up an app.
var hints = map[string]string{
	"AADSTS7000215": "check AZURE_CLIENT_SECRET: use the secret's value, not its ID",
	"AADSTS7000222": "the client secret has expired: create a new one for the app and update AZURE_CLIENT_SECRET",
	"AADSTS700016":  "check AZURE_CLIENT_ID and AZURE_TENANT_ID: the app is not registered in that tenant",
	"AADSTS90002":   "check AZURE_TENANT_ID: the tenant was not found",
	"AADSTS900023":  "check AZURE_TENANT_ID: it must be the tenant's ID or domain name",
	"AADSTS700027":  "upload the certificate to the app registration, or check AZURE_CLIENT_CERTIFICATE_PATH",
	"AADSTS700024":  "the federated token has expired: check that AZURE_FEDERATED_TOKEN_FILE is refreshed",
	"AADSTS70021":   "add a federated credential matching this workload's issuer and subject to the app",
	"AADSTS7000229": "the app has no service principal in the tenant: grant admin consent for it",
	"AADSTS53003":   "a Conditional Access policy blocked the sign-in: ask the tenant's administrator",
}

// classify turns an azidentity error into an *AuthError (rejected sign-in), a *NoCredentialsError (the method is not
// usable here) or a wrapped error (transport trouble, cancellation, throttling by the authority). It never includes
// request bodies, so secrets and assertions do not leak.
func classify(source, sourceName string, err error) error {
	if err == nil {
		return nil
	}
	if classified(err) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("get token (%s): %w", source, err)
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		var body []byte
		if b, rerr := runtime.Payload(afe.RawResponse); rerr == nil {
			body = b
		}
		return fromEntra(source, afe.RawResponse.StatusCode, body, err)
	}
	if why := unreachable(err); why != "" {
		return &AuthorityError{Source: source, Reason: why, Err: err}
	}
	msg := safetext.Clean(err.Error())
	code := aadstsCode.FindString(msg)
	if sourceName == srcBrowser && strings.Contains(msg, "executable file not found") {
		// No browser to open on this machine (a server, an SSH session).
		return &NoCredentialsError{Mode: ModeBrowser, Tried: []Attempt{{Source: srcBrowser,
			Reason: "no browser can be opened here (xdg-open, x-www-browser and www-browser not found); use --auth device-code and sign in from any device"}}}
	}
	if sourceName == srcCLI {
		switch {
		case strings.Contains(msg, "executable not found"):
			return &NoCredentialsError{Tried: []Attempt{{Source: srcCLI, Reason: "az not found on PATH; install it and run az login"}}}
		case strings.Contains(msg, "az login"):
			// az asks for a new login: not signed in, or the login expired (AADSTS700082 and friends).
			reason := "not signed in; run az login (with --tenant for the Intune tenant)"
			if code != "" {
				reason = "the login is no longer valid (" + code + "); run az login again"
			}
			return &NoCredentialsError{Tried: []Attempt{{Source: srcCLI, Reason: reason}}}
		}
	}
	if code != "" {
		return &AuthError{Source: source, Code: code, Reason: firstSentences(msg[strings.Index(msg, code):]), Hint: hintFor(code), Err: err}
	}
	if status, reason := serverStatus(msg); status != 0 {
		return &AuthorityError{Source: source, Status: status, Reason: reason, Err: err}
	}
	return &oneLine{msg: fmt.Sprintf("get token (%s): %s", source, firstSentences(msg)), err: err}
}

// fromEntra turns an error answer of the authority (its status and body) into an *AuthError (a refusal) or an
// *AuthorityError (a server error or throttling).
func fromEntra(source string, status int, body []byte, err error) error {
	var ee entraError
	_ = json.Unmarshal(body, &ee)
	code := aadstsCode.FindString(ee.Description)
	if code == "" && len(ee.Codes) > 0 {
		code = "AADSTS" + strconv.Itoa(ee.Codes[0])
	}
	reason := firstSentences(ee.Description)
	if reason == "" {
		reason = firstSentences(ee.Error)
	}
	if status >= 400 && status < 500 && status != 408 && status != 429 {
		if reason == "" {
			reason = fmt.Sprintf("the authority answered %d", status)
		}
		return &AuthError{Source: source, Code: code, Reason: reason, Hint: hintFor(code), Err: err}
	}
	if code != "" && !strings.Contains(reason, code) {
		reason = strings.TrimSpace(code + ": " + reason)
	}
	return &AuthorityError{Source: source, Status: status, Code: code, Reason: reason, Err: err}
}

// classified reports whether err is already one of this package's sign-in errors.
func classified(err error) bool {
	var (
		ae *AuthError
		oe *AuthorityError
		ne *NoCredentialsError
		me *TenantMismatchError
		se *SingleTenantError
	)
	return errors.As(err, &ae) || errors.As(err, &oe) || errors.As(err, &ne) || errors.As(err, &me) || errors.As(err, &se)
}

// oneLine is an error shown as one cleaned line that still wraps the original.
type oneLine struct {
	msg string
	err error
}

func (e *oneLine) Error() string { return e.msg }
func (e *oneLine) Unwrap() error { return e.err }

// retryAuthority decides, for azcore's retry policy, whether a request to the authority is tried again: after a
// server error or throttling, or a dropped connection, but not when the authority cannot be reached at all (the
// name does not resolve, the connection is refused, the certificate is not trusted), so that a wrong host or a
// network outage is reported at once instead of after seconds of silent retries.
func retryAuthority(resp *http.Response, err error) bool {
	if err != nil {
		var dns *net.DNSError
		switch {
		case errors.As(err, &dns), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENETUNREACH),
			errors.Is(err, syscall.EHOSTUNREACH):
			return false
		}
		msg := err.Error()
		return !strings.Contains(msg, "x509: ") && !strings.Contains(msg, "tls: ")
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// unreachable says why the authority could not be reached, when err is a network failure: the name did not
// resolve, the connection was refused or reset, the network is unreachable, the TLS handshake failed.
func unreachable(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot reach the sign-in authority: the name " + dns.Name + " does not resolve"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "cannot reach the sign-in authority: connection refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "cannot reach the sign-in authority: the network is unreachable"
	}
	// MSAL reports some failures as text only, e.g. while it resolves the authority's endpoints.
	msg := err.Error()
	for _, m := range []struct{ text, why string }{
		{"no such host", "the name does not resolve"},
		{"server misbehaving", "the name does not resolve"},
		{"connection refused", "connection refused"},
		{"network is unreachable", "the network is unreachable"},
		{"no route to host", "the network is unreachable"},
		{"connection reset by peer", "the connection was reset"},
		{"tls: ", "the TLS handshake failed"},
		{"x509: ", "its certificate is not trusted"},
		{"i/o timeout", "the connection timed out"},
	} {
		if strings.Contains(msg, m.text) {
			if host := dialedHost(msg); host != "" {
				return "cannot reach the sign-in authority " + host + ": " + m.why
			}
			return "cannot reach the sign-in authority: " + m.why
		}
	}
	return ""
}

var dialedURL = regexp.MustCompile(`(?:Get|Post|GET|POST) "(https?://[^/"]+)`)

// dialedHost finds the authority's address in a transport error's text.
func dialedHost(msg string) string {
	if m := dialedURL.FindStringSubmatch(msg); m != nil {
		return safetext.Clean(m[1])
	}
	return ""
}

var serverStatusText = regexp.MustCompile(`\b(5\d\d|408|429) (?:` + strings.Join([]string{
	http.StatusText(500), http.StatusText(502), http.StatusText(503), http.StatusText(504),
	http.StatusText(408), http.StatusText(429)}, "|") + `)`)

// serverStatus finds a server error status in an error's text (MSAL reports failures to fetch the authority's
// metadata that way).
func serverStatus(msg string) (int, string) {
	m := serverStatusText.FindStringSubmatch(msg)
	if m == nil {
		return 0, ""
	}
	n, _ := strconv.Atoi(m[1])
	reason := ""
	if code := aadstsCode.FindString(msg); code != "" {
		reason = firstSentences(msg[strings.Index(msg, code):])
	}
	return n, reason
}

// ConsentURL returns the page where an administrator of tenant grants admin consent to the app clientID, on the
// authority host of the cloud in use: https://<authority host>/<tenant>/adminconsent?client_id=<app id>.
// authorityHost may be given with or without the scheme and trailing slash.
func ConsentURL(authorityHost, tenant, clientID string) string {
	host := strings.TrimSpace(authorityHost)
	if host == "" {
		host = clouds[0].AuthorityHost
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	return strings.TrimRight(host, "/") + "/" + url.PathEscape(strings.TrimSpace(tenant)) +
		"/adminconsent?client_id=" + url.QueryEscape(strings.TrimSpace(clientID))
}

// tenantCodes are the AADSTS codes that say something about one customer tenant rather than the credentials.
var tenantCodes = map[string]string{
	"AADSTS700016":  "unconsented",
	"AADSTS65001":   "consent",
	"AADSTS7000229": "consent",
	"AADSTS650052":  "consent",
	"AADSTS90002":   "unknown",
	"AADSTS900023":  "unknown",
	"AADSTS50020":   "foreign",
	"AADSTS50177":   "foreign",
	"AADSTS500200":  "foreign",
}

// TenantHint says what to do when tenant answers code, for the app clientID ("" when the app is not the
// person's to consent, as for the Azure CLI); "" when code says nothing about the tenant.
func TenantHint(code, tenant, clientID, authorityHost string) string {
	consent := "an administrator of that tenant grants admin consent to the app"
	if clientID != "" {
		consent += " at " + ConsentURL(authorityHost, tenant, clientID)
	}
	switch tenantCodes[code] {
	case "unconsented":
		return "the app is not known in tenant " + tenant + ": it was never consented there; " + consent + ", then run again"
	case "consent":
		return "the app has no consent (no service principal) in tenant " + tenant + "; " + consent + ", then run again"
	case "unknown":
		return "tenant " + tenant + " was not found: check the spelling of the tenant column (the tenant's ID, or a " +
			"verified domain such as contoso.onmicrosoft.com) and the cloud"
	case "foreign":
		return "the account signed in does not belong to tenant " + tenant + ": the partner admin needs a GDAP " +
			"relationship with that tenant granting the Intune Administrator role (or a guest account in it)"
	}
	return ""
}

func hintFor(code string) string {
	if h, ok := hints[code]; ok {
		return h
	}
	return "check the app registration and the sign-in variables"
}

// firstSentences drops what Entra appends after the reason (trace and correlation ids, timestamps, links) and keeps
// one line, cleaned of control characters and terminal escapes.
func firstSentences(s string) string {
	s = strings.TrimSpace(safetext.Clean(s))
	for _, cut := range []string{"\r\n", "\n", " Trace ID:"} {
		if i := strings.Index(s, cut); i >= 0 {
			s = s[:i]
		}
	}
	return strings.TrimSpace(s)
}
