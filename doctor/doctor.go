// Package doctor checks, without changing anything, whether a tenant is
// ready for enrollbatch: who signed in, which Graph endpoint answers,
// whether the enrollment profiles can be listed and read back with their QR
// content, which content form the tenant uses, which throttling headers the
// service sends, and which permission the token carries.
//
// Every request it sends is a GET. It never creates, changes or deletes a
// profile, nor creates or revokes a token.
package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/provisioning"
)

// Results of a check.
const (
	OK   = "ok"   // as needed
	Warn = "warn" // works, but something needs a look
	Fail = "fail" // not ready
	Info = "info" // a fact, neither good nor bad
	Skip = "skip" // could not be checked
)

// ReadOnly names the permission that lets the job list but not create.
const ReadOnly = "DeviceManagementConfiguration.Read.All"

// Options say what to check.
type Options struct {
	Client   *graph.Client // the client run would use; its Tokens may be nil (simulator)
	SignIn   string        // how the tool signs in, e.g. "client secret (tenant 72f988bf…, app 04b07795…)"
	GraphURL string        // the Graph base URL
	Cloud    string        // the cloud's name, e.g. "public", or "simulator"
	Recorder *Recorder     // records the response headers; nil records none
	// ScopeTags and Groups say that the sheet to run (doctor --input)
	// names scope tags in roleScopeTagIds, or groups in deviceGroup:
	// doctor then checks that they can be read (names.go).
	ScopeTags, Groups bool
	// SignInUnreachable reports a sign-in error that is no refusal (the
	// authority could not be reached, or failed); nil counts every error
	// as a refusal.
	SignInUnreachable func(error) bool
	// Delegated says a person signs in (--auth device-code or browser), so
	// the advice is about their Intune role and the delegated permission,
	// not about an app registration's application permission.
	Delegated bool
}

// SignInAdvice says what a sign-in needs to work for enrollbatch: for a
// person, an Intune role and the delegated permission; for an app, the
// application permission with admin consent.
func SignInAdvice(delegated bool) string {
	if delegated {
		return "sign in as a user holding an Intune role that may manage enrollment profiles (such as Intune Administrator or Policy and Profile Manager), with consent for the delegated permission " + graph.Permission
	}
	return "the app registration needs the application permission " + graph.Permission + " (Microsoft Graph) with admin consent"
}

// Identity is who the token says signed in, from its claims.
type Identity struct {
	Kind     string `json:"kind"`               // "app", "user", "unknown" or "none" (no sign-in)
	Method   string `json:"method,omitempty"`   // how the tool signed in
	AppID    string `json:"appId,omitempty"`    // appid or azp claim
	AppName  string `json:"appName,omitempty"`  // app_displayname claim
	User     string `json:"user,omitempty"`     // upn, preferred_username or unique_name claim
	TenantID string `json:"tenantId,omitempty"` // tid claim
	JWT      bool   `json:"jwt"`                // whether the token's claims could be read
}

// Permission is what the token carries.
type Permission struct {
	Roles  []string `json:"roles,omitempty"`  // application permissions (roles claim)
	Scopes []string `json:"scopes,omitempty"` // delegated permissions (scp claim)
	// Has is whether it includes graph.Permission; nil when the claims
	// could not be read.
	Has *bool `json:"hasReadWrite"`
}

// ListProbe is the outcome of listing one profile.
type ListProbe struct {
	OK        bool   `json:"ok"`
	Status    int    `json:"status,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Profiles  int    `json:"profiles"` // how many came back (at most 1)
	Error     string `json:"error,omitempty"`
}

// ReadProbe is the outcome of reading one profile back with its QR code.
type ReadProbe struct {
	Tried       bool     `json:"tried"`
	OK          bool     `json:"ok"`
	ID          string   `json:"id,omitempty"`
	DisplayName string   `json:"displayName,omitempty"`
	Mode        string   `json:"enrollmentMode,omitempty"`
	Form        string   `json:"contentForm,omitempty"` // none, json, base64 or text (package provisioning)
	Image       bool     `json:"qrCodeImage"`           // whether qrCodeImage came back
	Warnings    []string `json:"warnings,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Detail string `json:"detail"`
}

// Report is what Run found.
type Report struct {
	Ready      bool              `json:"ready"`
	AuthFailed bool              `json:"authFailed"` // a sign-in or permission failure (the CLI exits 3)
	GraphURL   string            `json:"graphUrl"`
	Cloud      string            `json:"cloud"`
	Identity   Identity          `json:"identity"`
	Permission Permission        `json:"permission"`
	List       ListProbe         `json:"list"`
	ReadBack   ReadProbe         `json:"readBack"`
	Throttling map[string]string `json:"throttling"` // throttling headers seen, by name
	Checks     []Check           `json:"checks"`
	Advice     string            `json:"advice,omitempty"` // what to do next when not ready
	// Missing are the permissions a refused read of names showed missing
	// (graph.PermissionScopeTags, graph.PermissionGroups).
	Missing []string `json:"missingPermissions,omitempty"`
}

// Run checks the tenant. It only fails for a cancelled context; everything
// else is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	r := &Report{GraphURL: o.GraphURL, Cloud: o.Cloud, Throttling: map[string]string{}}
	r.Identity.Method = o.SignIn
	var failures []string

	// Sign in, and read the token's claims.
	if o.Client.Tokens == nil {
		r.Identity.Kind = "none"
		r.add("sign-in", Info, "no sign-in: "+orDefault(o.SignIn, "the built-in simulator"))
	} else {
		tok, err := o.Client.Tokens.Token(ctx, false)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A refusal or missing credentials stop everything (exit 3);
			// an authority that cannot be reached is not a refusal.
			r.AuthFailed = o.SignInUnreachable == nil || !o.SignInUnreachable(err)
			r.add("sign-in", Fail, err.Error())
			r.Advice = "fix the sign-in (see the message above); " + SignInAdvice(o.Delegated)
			if !r.AuthFailed {
				r.Advice = "the sign-in authority could not be reached or failed (see the message above): check the network, a proxy and --cloud, then run doctor again; " + SignInAdvice(o.Delegated)
			}
			r.skipRest("no token")
			return r, nil
		}
		c := readClaims(tok)
		r.Identity = c.identity(o.SignIn)
		r.Permission = c.permission()
		r.add("sign-in", OK, r.Identity.describe())
	}
	r.add("graph", Info, o.GraphURL+" (cloud "+o.Cloud+")")

	// List one profile.
	first, err := r.list(ctx, o.Client)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil && graph.IsAuth(err):
		r.AuthFailed = true
		r.add("list", Fail, err.Error())
		failures = append(failures, "listing")
	case err != nil:
		r.add("list", Fail, err.Error())
		failures = append(failures, "listing")
	default:
		r.add("list", OK, fmt.Sprintf("GET %s?$top=1: %d, %d profile(s)", profile.CollectionPath, r.List.Status, r.List.Profiles))
	}

	// Read one back with its QR code.
	switch {
	case err != nil:
		r.add("read back", Skip, "listing failed")
	case first == nil:
		r.add("read back", Skip, "the tenant has no profile yet; the first run creates one and reads its QR code the same way")
	default:
		r.read(ctx, o.Client, first)
		switch {
		case r.ReadBack.OK && len(r.ReadBack.Warnings) > 0:
			r.add("read back", Warn, r.ReadBack.describe()+": "+strings.Join(r.ReadBack.Warnings, "; "))
		case r.ReadBack.OK:
			r.add("read back", OK, r.ReadBack.describe())
		default:
			r.add("read back", Fail, r.ReadBack.Error)
			failures = append(failures, "reading a profile back")
		}
	}

	// Throttling headers.
	if o.Recorder != nil {
		r.Throttling = o.Recorder.Throttling()
	}
	if len(r.Throttling) == 0 {
		r.add("throttling", Info, "no throttling headers seen (Intune allows 100 writes per 20 s per app and tenant; run's budgets keep within it)")
	} else {
		names := make([]string, 0, len(r.Throttling))
		for k := range r.Throttling {
			names = append(names, k)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = k + ": " + r.Throttling[k]
		}
		r.add("throttling", Info, strings.Join(parts, ", "))
	}

	// Permission.
	switch p := r.Permission; {
	case o.Client.Tokens == nil:
		r.add("permission", Skip, "no token")
	case p.Has == nil:
		r.add("permission", Info, "the token is not a JWT, so its permissions cannot be read; the probes above show what it may do")
	case *p.Has:
		r.add("permission", OK, p.describe())
	default:
		r.AuthFailed = true
		failures = append(failures, "the permission")
		r.add("permission", Fail, p.describe()+"; creating profiles needs "+graph.Permission)
	}

	failures = append(failures, r.checkNames(ctx, o)...)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	r.Ready = len(failures) == 0 && !r.AuthFailed
	// Whether the profiles themselves failed: then that is the advice.
	profilesFailed := slices.ContainsFunc(r.Checks, func(c Check) bool {
		return c.Result == Fail && (c.Name == "list" || c.Name == "read back" || c.Name == "permission")
	})
	switch {
	case r.Ready:
	case len(r.Missing) > 0 && !profilesFailed:
		r.Advice = "grant the app registration " + strings.Join(r.Missing, " and ") + " (Microsoft Graph, application permission) and give admin consent " +
			"(a person signing in needs consent to the delegated permission of that name): the sheet's names need it; then run doctor again"
	case r.AuthFailed && r.Identity.Kind == "user":
		r.Advice = "sign in as a user holding an Intune role that may manage enrollment profiles, with consent for the delegated permission " + graph.Permission
	case r.AuthFailed:
		r.Advice = "grant the app registration the application permission " + graph.Permission + " (Microsoft Graph) and give admin consent, then run doctor again"
	default:
		r.Advice = "check " + strings.Join(failures, " and ") + " above; the service may be unavailable: run doctor again later"
	}
	return r, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (r *Report) add(name, result, detail string) {
	r.Checks = append(r.Checks, Check{Name: name, Result: result, Detail: detail})
}

func (r *Report) skipRest(why string) {
	for _, n := range []string{"list", "read back", "permission"} {
		r.add(n, Skip, why)
	}
}

// list asks for one profile, with the properties read back needs.
func (r *Report) list(ctx context.Context, c *graph.Client) (*profile.Profile, error) {
	resp, err := c.Do(ctx, http.MethodGet, profile.CollectionPath+"?$top=1&$select=id,displayName,enrollmentMode", nil)
	if err != nil {
		var ge *graph.Error
		if errors.As(err, &ge) {
			r.List.Status, r.List.RequestID = ge.Status, ge.RequestID
		}
		r.List.Error = err.Error()
		return nil, err
	}
	r.List.Status, r.List.RequestID = resp.Status, resp.RequestID
	var page struct {
		Value []profile.Profile `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil {
		err = fmt.Errorf("list profiles: decode page: %w", err)
		r.List.Error = err.Error()
		return nil, err
	}
	r.List.OK, r.List.Profiles = true, len(page.Value)
	if len(page.Value) == 0 {
		return nil, nil
	}
	return &page.Value[0], nil
}

// read reads p back with its QR code and finds the content's form.
func (r *Report) read(ctx context.Context, c *graph.Client, p *profile.Profile) {
	rb := &r.ReadBack
	rb.Tried, rb.ID, rb.DisplayName, rb.Mode = true, p.ID, p.DisplayName, p.EnrollmentMode
	got, err := c.Get(ctx, p.ID, "id", "displayName", "enrollmentMode", "qrCodeContent", "qrCodeImage")
	if err != nil {
		rb.Error = err.Error()
		if graph.IsAuth(err) {
			r.AuthFailed = true
		}
		return
	}
	rb.OK = true
	var img []byte
	if got.QRCodeImage != nil && len(got.QRCodeImage.Value) > 0 {
		rb.Image, img = true, got.QRCodeImage.Value
	}
	pl := provisioning.Resolve(got.QRCodeContent, img)
	rb.Form = string(pl.Form)
	rb.Warnings = pl.Warnings
}

func (rb *ReadProbe) describe() string {
	var form string
	switch provisioning.Form(rb.Form) {
	case provisioning.JSON:
		form = "qrCodeContent is provisioning JSON"
	case provisioning.Base64:
		form = "qrCodeContent is base64 of the provisioning JSON (decoded before printing)"
	case provisioning.None:
		form = "no qrCodeContent (the profile has no token)"
	default:
		form = "qrCodeContent is neither JSON nor base64 of it"
	}
	img := "no qrCodeImage"
	if rb.Image {
		img = "qrCodeImage present"
	}
	return fmt.Sprintf("%q (%s): %s, %s", rb.DisplayName, orDefault(rb.Mode, "mode not given"), form, img)
}

func (id Identity) describe() string {
	var b strings.Builder
	switch id.Kind {
	case "app":
		b.WriteString("app")
		if id.AppName != "" {
			fmt.Fprintf(&b, " %q", id.AppName)
		}
		if id.AppID != "" {
			fmt.Fprintf(&b, " (appid %s)", id.AppID)
		}
	case "user":
		b.WriteString("user " + orDefault(id.User, "(name not in the token)"))
		if id.AppID != "" {
			fmt.Fprintf(&b, " through app %s", orDefault(id.AppName, id.AppID))
		}
	default:
		b.WriteString("token obtained; its claims are not readable (not a JWT)")
	}
	if id.TenantID != "" {
		fmt.Fprintf(&b, ", tenant %s", id.TenantID)
	}
	if id.Method != "" {
		fmt.Fprintf(&b, "; signed in with %s", id.Method)
	}
	return b.String()
}

func (p Permission) describe() string {
	var parts []string
	if len(p.Roles) > 0 {
		parts = append(parts, "application permissions (roles): "+strings.Join(p.Roles, ", "))
	}
	if len(p.Scopes) > 0 {
		parts = append(parts, "delegated permissions (scp): "+strings.Join(p.Scopes, ", "))
	}
	if len(parts) == 0 {
		return "the token carries no roles or scp claim"
	}
	return strings.Join(parts, "; ")
}

// claims are the token claims doctor reports.
type claims struct {
	ok         bool
	AppID      string   `json:"appid"`
	Azp        string   `json:"azp"`
	AppName    string   `json:"app_displayname"`
	UPN        string   `json:"upn"`
	Preferred  string   `json:"preferred_username"`
	UniqueName string   `json:"unique_name"`
	TenantID   string   `json:"tid"`
	Roles      []string `json:"roles"`
	Scp        string   `json:"scp"`
	IDType     string   `json:"idtyp"`
}

// readClaims reads a JWT's payload without verifying it: the service
// verifies the token; doctor only reports what it says.
func readClaims(tok string) claims {
	var c claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c
	}
	if json.Unmarshal(payload, &c) != nil {
		return claims{}
	}
	c.ok = true
	return c
}

func (c claims) identity(method string) Identity {
	id := Identity{Method: method, JWT: c.ok, Kind: "unknown"}
	if !c.ok {
		return id
	}
	id.AppID = orDefault(c.AppID, c.Azp)
	id.AppName, id.TenantID = c.AppName, c.TenantID
	id.User = orDefault(c.UPN, orDefault(c.Preferred, c.UniqueName))
	switch {
	case c.IDType == "app" || c.IDType == "" && c.Scp == "" && id.User == "":
		id.Kind = "app"
	default:
		id.Kind = "user"
	}
	return id
}

func (c claims) permission() Permission {
	if !c.ok {
		return Permission{}
	}
	p := Permission{Roles: c.Roles, Scopes: strings.Fields(c.Scp)}
	has := slices.ContainsFunc(append(append([]string(nil), p.Roles...), p.Scopes...), func(s string) bool {
		return strings.EqualFold(s, graph.Permission)
	})
	p.Has = &has
	return p
}

// Recorder is an http.RoundTripper that keeps the throttling headers of
// every response it carries.
type Recorder struct {
	Next http.RoundTripper // the transport; http.DefaultTransport when nil

	mu   sync.Mutex
	seen map[string]string
}

// NewRecorder returns a Recorder in front of next.
func NewRecorder(next http.RoundTripper) *Recorder { return &Recorder{Next: next} }

// throttleHeader reports whether a response header is about throttling:
// Retry-After, the IETF RateLimit fields, x-ratelimit-* and Microsoft's
// x-ms-throttle-* and x-ms-resource-unit.
func throttleHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "retry-after" || n == "x-ms-resource-unit" || n == "ratelimit" || n == "ratelimit-policy" ||
		strings.HasPrefix(n, "ratelimit-") || strings.HasPrefix(n, "x-ratelimit-") || strings.HasPrefix(n, "x-ms-throttle-")
}

// RoundTrip sends req and records the response's throttling headers.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range res.Header {
		if throttleHeader(k) {
			if r.seen == nil {
				r.seen = map[string]string{}
			}
			r.seen[http.CanonicalHeaderKey(k)] = strings.Join(v, ", ")
		}
	}
	return res, nil
}

// Throttling returns the throttling headers seen, the last value of each.
func (r *Recorder) Throttling() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.seen))
	for k, v := range r.seen {
		out[k] = v
	}
	return out
}

// WriteText writes the report as a short table for people.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tresult\tdetail")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Result, c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Ready {
		_, err := fmt.Fprintln(w, "\nready: nothing was changed; enrollbatch run can create profiles here")
		return err
	}
	_, err := fmt.Fprintf(w, "\nnot ready: %s\n", r.Advice)
	return err
}

// WriteJSON writes the report as one JSON object on one line.
func (r *Report) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}
