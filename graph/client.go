// Package graph is the Microsoft Graph client of the job: it sends the
// requests for androidDeviceOwnerEnrollmentProfiles through the job's shared
// pacer, signs them with a bearer token, gives each a fresh
// client-request-id, and turns error responses into *Error values that carry
// the service's code, message, request-id and Retry-After.
//
// The client retries reads (lists, GETs, token actions) that failed in a
// transient way. It never retries a create: whether a create may be sent
// again is the batch's decision, because a create that got no answer may
// have been carried out. Both count attempts, and give up, with Retries.
//
// The bearer token goes only to the origin (scheme, host and port) of
// BaseURL: a link from the service to another origin fails the request
// before anything is sent, redirects are never followed, and a plain http
// BaseURL is accepted only for a loopback address. Text from the service
// (error codes and messages, request-ids) is cleaned of terminal escapes
// and control characters, and secrets the request carried are redacted
// from it, before it reaches an error.
package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/safetext"
)

// DefaultURL is the Graph base URL of the public cloud; the resource exists
// only in beta.
const DefaultURL = "https://graph.microsoft.com/beta"

// MaxThrottled is how many throttled answers (429) one request may get
// before it is given up. Throttling does not use up MaxRetries (see
// Retries): the shared pacer slows the whole job down instead, so a row is
// not lost merely because the service was busy.
const MaxThrottled = 30

// MaxRetryAfter caps a Retry-After: a longer one (or a garbled HTTP date)
// would stall the whole job.
const MaxRetryAfter = 5 * time.Minute

// MaxBody is the most of a response body the client reads.
const MaxBody = 4 << 20

// MaxListPages and MaxListed bound a listing, so that a service that sends
// pages for ever (a nextLink loop, or links that never end) cannot hold
// the job nor fill its memory. No tenant holds that many enrollment
// profiles: Intune's admin center shows a tenant's profiles on one list,
// and the pages Graph sends hold tens to hundreds of profiles each.
const (
	MaxListPages = 2000
	MaxListed    = 100000
)

// TokenSource gives bearer tokens. After a 401 the client asks once for a
// fresh token (fresh true) that must not come from a cache.
type TokenSource interface {
	Token(ctx context.Context, fresh bool) (string, error)
}

// StaticToken is a TokenSource for a token given as is.
type StaticToken string

// Token returns the token; a fresh one cannot be had.
func (s StaticToken) Token(ctx context.Context, fresh bool) (string, error) {
	if fresh {
		return "", refused("the access token was rejected and cannot be renewed: provide a new one")
	}
	return string(s), nil
}

// Pacer is the job's shared rate limiter (see package ratelimit).
type Pacer interface {
	Wait(ctx context.Context) (ratelimit.Ticket, error)
	WaitWrite(ctx context.Context) (ratelimit.Ticket, error) // for POST, PATCH and DELETE
	Hold(ctx context.Context) error                          // a last look for a pause, just before sending
	Throttled(t ratelimit.Ticket, retryAfter time.Duration)
	Succeeded(t ratelimit.Ticket)
	Backoff(attempt int) time.Duration
	Sleep(ctx context.Context, d time.Duration) error
	Now() time.Time
}

// Client talks to one Graph endpoint. Its zero value is not usable: set
// BaseURL and HTTP at least. A Client is safe for concurrent use.
type Client struct {
	BaseURL        string        // e.g. https://graph.microsoft.com/beta
	HTTP           *http.Client  // transport
	Tokens         TokenSource   // nil sends no Authorization header
	Pacer          Pacer         // nil sends without pacing
	RequestTimeout time.Duration // per request; 0 means none
	MaxRetries     int           // retries of reads that failed in a transient way
	Log            *slog.Logger  // debug log of every request; nil for none
	// Listed, when set, is told the number of pages a listing has read
	// so far, for a progress display.
	Listed func(pages int)

	requests  atomic.Int64
	throttled atomic.Int64

	setup   sync.Once
	base    *url.URL     // BaseURL parsed
	baseErr error        // why BaseURL cannot be used
	hc      *http.Client // HTTP, but never following a redirect
}

// Response is what came back from a successful request.
type Response struct {
	Status          int
	RequestID       string
	ClientRequestID string
	Body            []byte
}

// Requests is the number of requests sent so far.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// ThrottledCount is the number of 429 responses seen so far.
func (c *Client) ThrottledCount() int { return int(c.throttled.Load()) }

// NewRequestID returns a random GUID for the client-request-id header.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CheckBaseURL reports whether base can be the Graph URL: an absolute
// https URL, or http for a loopback address (127.0.0.0/8, ::1, localhost)
// such as the simulator's. The token is sent to it.
func CheckBaseURL(base string) error {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return fmt.Errorf("graph URL %q: %w", base, err)
	}
	if !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("graph URL %q is not an absolute URL (e.g. %s)", base, DefaultURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("graph URL %q uses plain http: the token would cross the network unencrypted; use https (plain http is accepted only for loopback addresses such as 127.0.0.1)", base)
	}
	return fmt.Errorf("graph URL %q: use an https URL (e.g. %s)", base, DefaultURL)
}

// IsLoopback reports whether host (without port) is a loopback address:
// 127.0.0.0/8, ::1 or localhost.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// origin is a URL's scheme, host and port, as compared before sending the
// token: "https://graph.microsoft.com:443".
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), port)
}

// OriginError is a link from the service that leads away from the Graph
// URL's origin. Nothing was sent to it.
type OriginError struct {
	Link string // the foreign origin, cleaned for display
	Want string // the Graph URL's origin
}

func (e *OriginError) Error() string {
	return fmt.Sprintf("the service's link leads to %s, not to the Graph URL's origin %s; nothing was sent there, "+
		"since the token goes only to the Graph URL (check --graph-url and any proxy in between)", e.Link, e.Want)
}

// init parses BaseURL and makes the HTTP client that never follows
// redirects; it runs once.
func (c *Client) init() {
	c.setup.Do(func() {
		if err := CheckBaseURL(c.BaseURL); err != nil {
			c.baseErr = err
			return
		}
		c.base, _ = url.Parse(strings.TrimRight(strings.TrimSpace(c.BaseURL), "/"))
		hc := http.Client{}
		if c.HTTP != nil {
			hc = *c.HTTP
		}
		// A redirect would carry the body (with wifiPassword) and, to the
		// same host on another port, the token elsewhere; the 3xx becomes
		// the request's error instead.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		c.hc = &hc
	})
}

// target resolves a path under BaseURL, or an absolute link from the
// service, which must have BaseURL's origin.
func (c *Client) target(pathOrURL string) (*url.URL, error) {
	if strings.HasPrefix(pathOrURL, "/") && !strings.HasPrefix(pathOrURL, "//") {
		return url.Parse(c.base.String() + pathOrURL)
	}
	u, err := url.Parse(pathOrURL)
	if err != nil {
		return nil, fmt.Errorf("the service's link is not a URL: %w", err)
	}
	if !u.IsAbs() {
		u = c.base.ResolveReference(u)
	}
	if got, want := origin(u), origin(c.base); got != want {
		return nil, &OriginError{Link: safetext.Clean(got), Want: want}
	}
	return u, nil
}

// Do sends one request (a 401 is answered once with a fresh token) and
// returns the response of a 2xx, or an *Error, an *AuthError or the
// context's error.
func (c *Client) Do(ctx context.Context, method, pathOrURL string, body []byte) (*Response, error) {
	resp, err := c.send(ctx, method, pathOrURL, body)
	var ge *Error
	if errors.As(err, &ge) && ge.Status == http.StatusUnauthorized && c.Tokens != nil {
		if _, ferr := c.Tokens.Token(ctx, true); ferr != nil {
			return nil, &AuthError{Err: ge, SignIn: ferr}
		}
		resp, err = c.send(ctx, method, pathOrURL, body)
		if errors.As(err, &ge) && ge.Status == http.StatusUnauthorized {
			return nil, unauthorized(ge)
		}
	}
	if errors.As(err, &ge) && ge.Status == http.StatusForbidden {
		return nil, forbidden(ge)
	}
	return resp, err
}

func (c *Client) send(ctx context.Context, method, pathOrURL string, body []byte) (*Response, error) {
	c.init()
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	u, err := c.target(pathOrURL)
	if err != nil {
		return nil, err
	}
	var ticket ratelimit.Ticket
	if c.Pacer != nil {
		wait := c.Pacer.Wait
		if method != http.MethodGet && method != http.MethodHead {
			wait = c.Pacer.WaitWrite
		}
		t, err := wait(ctx)
		if err != nil {
			return nil, err
		}
		ticket = t
	}
	full, path, host := u.String(), u.Path, u.Host
	crid := NewRequestID()
	rctx := ctx
	if c.RequestTimeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, c.RequestTimeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, full, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", crid)
	req.Header.Set("return-client-request-id", "true")
	req.Header.Set("User-Agent", "enrollbatch")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Tokens != nil {
		tok, err := c.Tokens.Token(ctx, false)
		if err != nil {
			return nil, signInFailed(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if c.Pacer != nil {
		// A Retry-After may have arrived while the request was prepared
		// (or its goroutine waited for a core): it holds this one too.
		if err := c.Pacer.Hold(ctx); err != nil {
			return nil, err
		}
	}
	c.requests.Add(1)
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// The job itself was cancelled: not the service's doing.
			return nil, &Error{Method: method, Path: path, Host: host, ClientRequestID: crid, Transport: ctx.Err()}
		}
		c.debug("request failed", method, path, 0, "", crid, err)
		return nil, &Error{Method: method, Path: path, Host: host, ClientRequestID: crid, Transport: err}
	}
	// A refusal pauses every request the moment its headers arrive,
	// before its body is read: a request that left in those milliseconds
	// would arrive inside the Retry-After the service just announced.
	var retryAfter time.Duration
	var hasRetryAfter bool
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		if v := res.Header.Get("Retry-After"); v != "" {
			now := time.Now()
			if c.Pacer != nil {
				now = c.Pacer.Now()
			}
			retryAfter, hasRetryAfter = ratelimit.ParseRetryAfter(v, now)
			retryAfter = min(retryAfter, MaxRetryAfter)
		}
		switch {
		case c.Pacer == nil:
		case res.StatusCode == http.StatusTooManyRequests:
			// Throttled: pause every request and let the rate adapt.
			c.Pacer.Throttled(ticket, retryAfter)
		case hasRetryAfter:
			// Unavailable (503) with a Retry-After: pause every request,
			// but the rate was not the cause, so leave it alone.
			c.Pacer.Throttled(ratelimit.Ticket{}, retryAfter)
		}
	}
	data, rerr := io.ReadAll(io.LimitReader(res.Body, MaxBody+1))
	res.Body.Close()
	cut := len(data) > MaxBody
	if cut {
		data = data[:MaxBody]
	}
	rid := safetext.Clean(res.Header.Get("request-id"))
	c.debug("request", method, path, res.StatusCode, rid, crid, nil)
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if rerr != nil {
			return nil, &Error{Method: method, Path: path, Host: host, Status: res.StatusCode, RequestID: rid, ClientRequestID: crid, Transport: fmt.Errorf("read body: %w", rerr)}
		}
		if cut {
			return nil, &Error{Method: method, Path: path, Host: host, Status: res.StatusCode, RequestID: rid, ClientRequestID: crid,
				Incomplete: true, local: true, Message: fmt.Sprintf("HTTP %d from %s: the answer was larger than %d MiB and was cut there", res.StatusCode, host, MaxBody>>20)}
		}
		if c.Pacer != nil {
			c.Pacer.Succeeded(ticket)
		}
		return &Response{Status: res.StatusCode, RequestID: rid, ClientRequestID: crid, Body: data}, nil
	}
	ge := &Error{Method: method, Path: path, Host: host, Status: res.StatusCode, RequestID: rid, ClientRequestID: crid}
	decodeError(ge, res.Header, data, cut, secretsIn(body))
	if method == http.MethodGet && strings.HasSuffix(strings.ToLower(path), strings.ToLower(profile.CollectionPath)) {
		ge.notCollection(c.BaseURL)
	}
	ge.RetryAfter, ge.HasRetryAfter = retryAfter, hasRetryAfter
	if res.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
	}
	return nil, ge
}

func (c *Client) debug(msg, method, path string, status int, rid, crid string, err error) {
	if c.Log == nil {
		return
	}
	attrs := []any{"method", method, "path", path, "status", status, "request-id", rid, "client-request-id", crid}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	c.Log.Debug(msg, attrs...)
}

// retry runs a read (or a request safe to repeat) until it succeeds, fails
// in a way that is not transient, or retries run out. A wait ordered by
// Retry-After is kept by the pacer, which holds every request back; without
// one the client backs off with jitter.
func (c *Client) retry(ctx context.Context, method, pathOrURL string, body []byte) (*Response, error) {
	tries := Retries{Max: c.MaxRetries}
	for {
		attempt := tries.Attempt()
		resp, err := c.Do(ctx, method, pathOrURL, body)
		var ge *Error
		if err == nil || !errors.As(err, &ge) || !ge.Transient() || ctx.Err() != nil {
			return resp, err
		}
		if !tries.Again(ge) {
			return resp, err
		}
		if !ge.HasRetryAfter && c.Pacer != nil {
			if err := c.Pacer.Sleep(ctx, c.Pacer.Backoff(attempt)); err != nil {
				return nil, err
			}
		}
	}
}

// Retries counts the attempts of one request and the transient failures
// among them, and says when to give up: after more than Max failures other
// than throttling, or more than MaxThrottled throttled answers, whichever
// comes first. Throttling does not use up Max, since the shared pacer
// slows the whole job down for it instead.
//
// The client's retries of reads and the batch's resends of a create count
// with it. Its zero value allows no resend but of throttled requests; it
// counts one request, by one goroutine.
type Retries struct {
	Max int // transient failures other than throttling that are sent again, e.g. Client.MaxRetries

	failures  int // transient failures other than throttling
	throttles int // throttled answers (429)
}

// Attempt is the number of the attempt being sent, from 1: one more than
// the failures counted so far.
func (r *Retries) Attempt() int { return 1 + r.failures + r.throttles }

// Again counts ge, the failure of the attempt just sent, and reports
// whether the request may be sent again. A failure that is not transient
// is not counted: it is never sent again.
func (r *Retries) Again(ge *Error) bool {
	if !ge.Transient() {
		return false
	}
	if ge.Throttled() {
		r.throttles++
	} else {
		r.failures++
	}
	return r.failures <= r.Max && r.throttles <= MaxThrottled
}

func query(selectFields []string, filter string) string {
	v := url.Values{}
	if len(selectFields) > 0 {
		v.Set("$select", strings.Join(selectFields, ","))
	}
	if filter != "" {
		v.Set("$filter", filter)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

// NameFilter is the OData filter that finds a profile by display name, with
// single quotes doubled.
func NameFilter(name string) string {
	return "displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"
}

// List returns every profile of the tenant, following @odata.nextLink, with
// the given properties selected.
func (c *Client) List(ctx context.Context, selectFields ...string) ([]profile.Profile, error) {
	return c.list(ctx, profile.CollectionPath+query(selectFields, ""))
}

// FindByName returns the profiles whose displayName equals name (the service
// compares without regard to case).
func (c *Client) FindByName(ctx context.Context, name string, selectFields ...string) ([]profile.Profile, error) {
	return c.list(ctx, profile.CollectionPath+query(selectFields, NameFilter(name)))
}

// list follows @odata.nextLink from next to the last page. It fails when a
// link repeats (a loop) or the listing outgrows MaxListPages or MaxListed.
// Links are remembered by their hash, so a service sending huge links
// cannot fill the memory.
func (c *Client) list(ctx context.Context, next string) ([]profile.Profile, error) {
	var all []profile.Profile
	seen := make(map[[sha256.Size]byte]int)
	for page := 1; next != ""; page++ {
		if page > MaxListPages {
			return nil, fmt.Errorf("list profiles: the service sent more than %d pages (%d profiles so far); no tenant holds that many enrollment profiles, so the listing was stopped: check --graph-url and any proxy in between", MaxListPages, len(all))
		}
		resp, err := c.retry(ctx, http.MethodGet, next, nil)
		if err != nil {
			if page == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("list profiles: page %d: %w", page, err)
		}
		p, err := decodePage(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("list profiles: page %d: %w", page, err)
		}
		if len(all)+len(p.Value) > MaxListed {
			return nil, fmt.Errorf("list profiles: the service sent more than %d profiles; no tenant holds that many enrollment profiles, so the listing was stopped: check --graph-url and any proxy in between", MaxListed)
		}
		all = append(all, p.Value...)
		if c.Listed != nil {
			c.Listed(page)
		}
		next = p.NextLink
		if next != "" {
			h := sha256.Sum256([]byte(next))
			if first, ok := seen[h]; ok {
				return nil, fmt.Errorf("list profiles: page %d links back to page %d, which was already read: the service's pages form a loop, so the listing was stopped; try again later", page, first+1)
			}
			seen[h] = page
		}
	}
	return all, nil
}

// Get returns one profile. qrCodeContent and qrCodeImage come back only
// when named in selectFields.
func (c *Client) Get(ctx context.Context, id string, selectFields ...string) (profile.Profile, error) {
	var p profile.Profile
	resp, err := c.retry(ctx, http.MethodGet, profile.CollectionPath+"/"+url.PathEscape(id)+query(selectFields, ""), nil)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return p, fmt.Errorf("get profile %s: decode: %w", id, err)
	}
	return p, nil
}

// profileBody encodes the properties of a create or an update with the
// resource's @odata.type added.
func profileBody(body map[string]any) ([]byte, error) {
	m := make(map[string]any, len(body)+1)
	for k, v := range body {
		m[k] = v
	}
	m["@odata.type"] = profile.ODataType
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return data, nil
}

// Create posts one profile. body holds the properties to send; the
// @odata.type is added. It is sent once: the caller decides on retries.
func (c *Client) Create(ctx context.Context, body map[string]any) (profile.Profile, *Response, error) {
	var p profile.Profile
	data, err := profileBody(body)
	if err != nil {
		return p, nil, err
	}
	resp, err := c.Do(ctx, http.MethodPost, profile.CollectionPath, data)
	if err != nil {
		return p, nil, err
	}
	var why string
	switch err := json.Unmarshal(resp.Body, &p); {
	case len(bytes.TrimSpace(resp.Body)) == 0:
		why = "an empty answer"
	case err != nil:
		why = "an answer that is not a profile (" + safetext.Clean(err.Error()) + ")"
	case strings.TrimSpace(p.ID) == "":
		why = "a profile without an id"
	default:
		return p, resp, nil
	}
	// The service said yes but did not say what it made: the profile may
	// exist, so this is treated as a lost answer (look the name up).
	return profile.Profile{}, resp, &Error{
		Method: http.MethodPost, Path: c.base.Path + profile.CollectionPath, Host: c.base.Host,
		Status: resp.Status, RequestID: resp.RequestID, ClientRequestID: resp.ClientRequestID,
		Incomplete: true, local: true,
		Message: fmt.Sprintf("HTTP %d from %s with %s: the profile may have been created", resp.Status, c.base.Host, why),
	}
}

// CreateToken creates a new enrollment token valid for the given time; the
// action answers 204 with no body, so read the profile back for the token.
// Repeating it is harmless: the newest token replaces the previous one.
//
// id is the profile's id as the service returns it, the form Graph's
// createToken page documents. A 403, or a 400 or 404, is returned as a
// *TokenError: it concerns this profile, not the whole run.
func (c *Client) CreateToken(ctx context.Context, id string, validity time.Duration) error {
	body, _ := json.Marshal(map[string]int64{"tokenValidityInSeconds": int64(validity / time.Second)})
	path := profile.CollectionPath + "/" + url.PathEscape(id) + "/createToken"
	_, err := c.retry(ctx, http.MethodPost, path, body)
	return tokenError("createToken", id, path, err)
}

// RevokeToken revokes the profile's enrollment token. The action takes no
// request body and answers 204 with none.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.retry(ctx, http.MethodPost, profile.CollectionPath+"/"+url.PathEscape(id)+"/revokeToken", nil)
	return err
}

// Patch changes the properties in body on profile id and returns the
// profile as the service answers (200 with the updated object). An update
// is idempotent, so it is retried like a read after a transient failure.
func (c *Client) Patch(ctx context.Context, id string, body map[string]any) (profile.Profile, *Response, error) {
	var p profile.Profile
	data, err := profileBody(body)
	if err != nil {
		return p, nil, err
	}
	resp, err := c.retry(ctx, http.MethodPatch, profile.CollectionPath+"/"+url.PathEscape(id), data)
	if err != nil {
		return p, nil, err
	}
	if len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, &p); err != nil {
			return p, resp, fmt.Errorf("update profile %s: decode: %w", id, err)
		}
	}
	return p, resp, nil
}

// Delete deletes profile id (204). It is retried after a transient
// failure; a 404 after a lost answer means an earlier attempt deleted it,
// which the caller tells from the error (IsNotFound).
func (c *Client) Delete(ctx context.Context, id string) (*Response, error) {
	return c.retry(ctx, http.MethodDelete, profile.CollectionPath+"/"+url.PathEscape(id), nil)
}

// IsNotFound reports whether err is the service's 404.
func IsNotFound(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Status == http.StatusNotFound
}
