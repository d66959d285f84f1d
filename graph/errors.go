package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is a failed request: either the service answered with an error
// status, or no answer came (Transport is set).
type Error struct {
	Method, Path    string        // what was asked, without the query string
	Status          int           // HTTP status; 0 when no answer came
	Code            string        // error.code from the body
	Message         string        // error.message as sent (may hold a JSON document)
	RequestID       string        // the service's request-id
	ClientRequestID string        // the client-request-id this request carried
	RetryAfter      time.Duration // from the Retry-After header
	HasRetryAfter   bool          // whether a Retry-After header was given
	Transport       error         // set when no answer came: timeout, reset, dropped connection
}

func (e *Error) Error() string {
	if e.Transport != nil {
		return fmt.Sprintf("%s %s: no answer: %v", e.Method, e.Path, e.Transport)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if m := e.Readable(); m != "" {
		fmt.Fprintf(&b, ": %s", m)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request-id %s)", e.RequestID)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Transport }

// Readable returns the message meant for people. Intune often wraps a JSON
// document inside error.message; the inner "Message" is returned then.
func (e *Error) Readable() string {
	if e.Transport != nil {
		return e.Transport.Error()
	}
	return InnerMessage(e.Message)
}

// InnerMessage unwraps a message that is itself a JSON document, as Intune
// sends them ({"_version":3,"Message":"An error has occurred ..."}). Plain
// messages come back unchanged.
func InnerMessage(msg string) string {
	s := strings.TrimSpace(msg)
	if !strings.HasPrefix(s, "{") {
		return msg
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return msg
	}
	for _, k := range []string{"CustomApiErrorPhrase", "Message", "message", "ErrorMessage"} {
		if v, ok := doc[k].(string); ok && v != "" {
			return InnerMessage(v)
		}
	}
	return msg
}

// Throttled reports whether the service asked the job to slow down.
func (e *Error) Throttled() bool { return e.Status == http.StatusTooManyRequests }

// Transient reports whether the same request may succeed later: throttling,
// 500, 502, 503, 504, or no answer at all.
func (e *Error) Transient() bool {
	if e.Transport != nil {
		return true
	}
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// MaybeApplied reports whether a write that failed this way may have been
// carried out all the same: no answer, a 5xx, or throttling (seen on other
// Graph writes). Before sending such a write again, look for its effect.
func (e *Error) MaybeApplied() bool { return e.Transient() }

// AuthError is a fatal authentication or permission failure: the token was
// rejected twice, or the app lacks the permission. It aborts the run.
type AuthError struct {
	Err    *Error // the response that ended it; nil when the sign-in itself failed
	SignIn error  // the sign-in failure, when no token could be had
	Why    string // what to do next
}

func (e *AuthError) Error() string {
	switch {
	case e.SignIn != nil:
		return fmt.Sprintf("sign in: %v", e.SignIn)
	case e.Err == nil:
		return e.Why
	}
	return fmt.Sprintf("%v; %s", e.Err, e.Why)
}

func (e *AuthError) Unwrap() error {
	if e.SignIn != nil {
		return e.SignIn
	}
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// IsAuth reports whether err aborts the run for authentication or
// permission reasons.
func IsAuth(err error) bool {
	var ae *AuthError
	return errors.As(err, &ae)
}

// Permission is the application permission the job needs.
const Permission = "DeviceManagementConfiguration.ReadWrite.All"

func forbidden(e *Error) *AuthError {
	return &AuthError{Err: e, Why: "the app lacks permission: grant the application permission " + Permission + " to the app registration and give admin consent"}
}

func unauthorized(e *Error) *AuthError {
	return &AuthError{Err: e, Why: "the service rejected the token twice: check the tenant, the app's credentials and that admin consent for " + Permission + " was given"}
}

// TokenError is a token action (createToken) that the service refused for
// one profile: a 403 while the rest of the job's requests are allowed, or a
// 400 or 404 for the id. It fails that profile's row and lets the run go
// on; it is not an *AuthError.
type TokenError struct {
	Action string // "createToken"
	ID     string // the profile id the action was sent for
	Path   string // the path that was tried
	Err    *Error // the service's answer
	Why    string // what was tried and what to do next
}

func (e *TokenError) Error() string { return fmt.Sprintf("%v; %s", e.Err, e.Why) }

// Unwrap returns the service's answer.
func (e *TokenError) Unwrap() error { return e.Err }

// tokenError turns a refusal of a token action for profile id into a
// *TokenError; other errors come back unchanged.
func tokenError(action, id, path string, err error) error {
	var ae *AuthError
	if errors.As(err, &ae) && ae.Err != nil && ae.Err.Status == http.StatusForbidden {
		return &TokenError{Action: action, ID: id, Path: path, Err: ae.Err, Why: "the service refused " + action +
			" (403) although it allowed the job's other requests; it is documented for " + Permission +
			" as an application permission, but it has been seen refusing app-only tokens while accepting delegated ones: " +
			"sign in as an Intune administrator with --auth device-code or --auth browser and run again " +
			"(add --renew-within 1d to give profiles that exist without a token a new one)"}
	}
	var ge *Error
	if errors.As(err, &ge) && !IsAuth(err) && (ge.Status == http.StatusBadRequest || ge.Status == http.StatusNotFound) {
		return &TokenError{Action: action, ID: id, Path: path, Err: ge, Why: fmt.Sprintf("tried POST %s with the profile's id %q as the service lists it "+
			"(the form Graph's %s page documents; Microsoft's AOSP sample prefixes ids with AOSP-, which the documentation does not): "+
			"check that the profile still exists with enrollbatch qr --from-tenant, and report the requestId if it does", path, id, action)}
	}
	return err
}
