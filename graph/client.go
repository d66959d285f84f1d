// Package graph is the Microsoft Graph client of the job: it sends the
// requests for androidDeviceOwnerEnrollmentProfiles through the job's shared
// pacer, signs them with a bearer token, gives each a fresh
// client-request-id, and turns error responses into *Error values that carry
// the service's code, message, request-id and Retry-After.
//
// The client retries reads (lists, GETs, token actions) that failed in a
// transient way. It never retries a create: whether a create may be sent
// again is the batch's decision, because a create that got no answer may
// have been carried out.
package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

// DefaultURL is the Graph base URL of the public cloud; the resource exists
// only in beta.
const DefaultURL = "https://graph.microsoft.com/beta"

// MaxThrottled is how many throttled answers (429) one request may get
// before it is given up. Throttling does not use up MaxRetries: the shared
// pacer slows the whole job down instead, so a row is not lost merely
// because the service was busy.
const MaxThrottled = 30

// MaxRetryAfter caps a Retry-After: a longer one (or a garbled HTTP date)
// would stall the whole job.
const MaxRetryAfter = 5 * time.Minute

// MaxBody is the most of a response body the client reads.
const MaxBody = 4 << 20

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
		return "", errors.New("the access token was rejected and cannot be renewed: provide a new one")
	}
	return string(s), nil
}

// Pacer is the job's shared rate limiter (see package ratelimit).
type Pacer interface {
	Wait(ctx context.Context) (ratelimit.Ticket, error)
	WaitWrite(ctx context.Context) (ratelimit.Ticket, error) // for POST, PATCH and DELETE
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

	requests  atomic.Int64
	throttled atomic.Int64
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

func (c *Client) url(pathOrURL string) string {
	if strings.HasPrefix(pathOrURL, "http://") || strings.HasPrefix(pathOrURL, "https://") {
		return pathOrURL
	}
	return strings.TrimRight(c.BaseURL, "/") + pathOrURL
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
	full := c.url(pathOrURL)
	path := full
	if u, err := url.Parse(full); err == nil {
		path = u.Path
	}
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
			return nil, &AuthError{SignIn: err}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	c.requests.Add(1)
	res, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// The job itself was cancelled: not the service's doing.
			return nil, &Error{Method: method, Path: path, ClientRequestID: crid, Transport: ctx.Err()}
		}
		c.debug("request failed", method, path, 0, "", crid, err)
		return nil, &Error{Method: method, Path: path, ClientRequestID: crid, Transport: err}
	}
	data, rerr := io.ReadAll(io.LimitReader(res.Body, MaxBody))
	res.Body.Close()
	rid := res.Header.Get("request-id")
	c.debug("request", method, path, res.StatusCode, rid, crid, nil)
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if rerr != nil {
			return nil, &Error{Method: method, Path: path, Status: res.StatusCode, RequestID: rid, ClientRequestID: crid, Transport: fmt.Errorf("read body: %w", rerr)}
		}
		if c.Pacer != nil {
			c.Pacer.Succeeded(ticket)
		}
		return &Response{Status: res.StatusCode, RequestID: rid, ClientRequestID: crid, Body: data}, nil
	}
	ge := &Error{Method: method, Path: path, Status: res.StatusCode, RequestID: rid, ClientRequestID: crid}
	var env struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) == nil {
		ge.Code, ge.Message = env.Error.Code, env.Error.Message
		if ge.RequestID == "" {
			ge.RequestID = env.Error.InnerError.RequestID
		}
	} else {
		ge.Message = strings.TrimSpace(string(data[:min(len(data), 512)]))
	}
	if v := res.Header.Get("Retry-After"); v != "" {
		now := time.Now()
		if c.Pacer != nil {
			now = c.Pacer.Now()
		}
		ge.RetryAfter, ge.HasRetryAfter = ratelimit.ParseRetryAfter(v, now)
		ge.RetryAfter = min(ge.RetryAfter, MaxRetryAfter)
	}
	if res.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
	}
	switch {
	case c.Pacer == nil:
	case res.StatusCode == http.StatusTooManyRequests:
		// Throttled: pause every request and let the rate adapt.
		c.Pacer.Throttled(ticket, ge.RetryAfter)
	case ge.HasRetryAfter:
		// Unavailable (503) with a Retry-After: pause every request, but
		// the rate was not the cause, so leave it alone.
		c.Pacer.Throttled(ratelimit.Ticket{}, ge.RetryAfter)
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
	failures, throttles := 0, 0
	for attempt := 1; ; attempt++ {
		resp, err := c.Do(ctx, method, pathOrURL, body)
		var ge *Error
		if err == nil || !errors.As(err, &ge) || !ge.Transient() || ctx.Err() != nil {
			return resp, err
		}
		if ge.Throttled() {
			throttles++
		} else {
			failures++
		}
		if failures > c.MaxRetries || throttles > MaxThrottled {
			return resp, err
		}
		if !ge.HasRetryAfter && c.Pacer != nil {
			if err := c.Pacer.Sleep(ctx, c.Pacer.Backoff(attempt)); err != nil {
				return nil, err
			}
		}
	}
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

func (c *Client) list(ctx context.Context, next string) ([]profile.Profile, error) {
	var all []profile.Profile
	for pages := 0; next != ""; pages++ {
		if pages > 100000 {
			return nil, errors.New("list profiles: too many pages")
		}
		resp, err := c.retry(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Value    []profile.Profile `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return nil, fmt.Errorf("list profiles: decode page: %w", err)
		}
		all = append(all, page.Value...)
		next = page.NextLink
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

// Create posts one profile. body holds the properties to send; the
// @odata.type is added. It is sent once: the caller decides on retries.
func (c *Client) Create(ctx context.Context, body map[string]any) (profile.Profile, *Response, error) {
	var p profile.Profile
	m := make(map[string]any, len(body)+1)
	for k, v := range body {
		m[k] = v
	}
	m["@odata.type"] = profile.ODataType
	data, err := json.Marshal(m)
	if err != nil {
		return p, nil, fmt.Errorf("encode profile: %w", err)
	}
	resp, err := c.Do(ctx, http.MethodPost, profile.CollectionPath, data)
	if err != nil {
		return p, nil, err
	}
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return p, resp, fmt.Errorf("create profile: decode: %w", err)
	}
	return p, resp, nil
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
	m := make(map[string]any, len(body)+1)
	for k, v := range body {
		m[k] = v
	}
	m["@odata.type"] = profile.ODataType
	data, err := json.Marshal(m)
	if err != nil {
		return p, nil, fmt.Errorf("encode profile: %w", err)
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
