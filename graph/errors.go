package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/safetext"
)

// Error is a failed request: either the service answered with an error
// status, or no answer came (Transport is set), or a 2xx answer lacked what
// it must hold (Incomplete). Code, Message and RequestID are cleaned of
// control characters and terminal escapes, and the request's secrets are
// redacted from them.
type Error struct {
	Method, Path    string        // what was asked, without the query string
	Host            string        // who was asked (host and port)
	Status          int           // HTTP status; 0 when no answer came
	Code            string        // error.code from the body
	Message         string        // error.message as sent (may hold a JSON document), or what this client saw
	RequestID       string        // the service's request-id
	ClientRequestID string        // the client-request-id this request carried
	RetryAfter      time.Duration // from the Retry-After header
	HasRetryAfter   bool          // whether a Retry-After header was given
	Transport       error         // set when no answer came: timeout, reset, dropped connection
	// Incomplete is set when a 2xx answer was empty, cut at MaxBody, or
	// (for a create) held no profile id: the request may have been carried
	// out, as when no answer came.
	Incomplete bool

	local   bool     // Message was written by this client, not the service
	secrets []string // values the request carried that must not be shown
}

func (e *Error) Error() string {
	if e.Transport != nil {
		return fmt.Sprintf("%s %s: no answer from %s: %s", e.Method, e.Path, e.Host, safetext.Clean(e.Transport.Error()))
	}
	var b strings.Builder
	if e.local {
		fmt.Fprintf(&b, "%s %s: %s", e.Method, e.Path, e.Message)
		if e.RequestID != "" {
			fmt.Fprintf(&b, " (request-id %s)", e.RequestID)
		}
		return b.String()
	}
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
		return safetext.Clean(e.Transport.Error())
	}
	return safetext.Redact(InnerMessage(e.Message), e.secrets)
}

// InnerMessage unwraps a message that is itself a JSON document, as Intune
// sends them ({"_version":3,"Message":"An error has occurred ..."}). Plain
// messages come back unchanged; an unwrapped one is cleaned of control
// characters and terminal escapes, which JSON escapes (\u001b) can carry.
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
			return safetext.Clean(InnerMessage(v))
		}
	}
	return msg
}

// Throttled reports whether the service asked the job to slow down.
func (e *Error) Throttled() bool { return e.Status == http.StatusTooManyRequests }

// Transient reports whether the same request may succeed later: throttling,
// 500, 502, 503, 504, no answer at all, or an incomplete 2xx answer.
func (e *Error) Transient() bool {
	if e.Transport != nil || e.Incomplete {
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
// carried out all the same: no answer, an incomplete 2xx answer, a 5xx, or
// throttling (seen on other Graph writes). Before sending such a write
// again, look for its effect. A redirect (3xx) is not: the answer says the
// service did not carry the request out there, and it was not sent on.
func (e *Error) MaybeApplied() bool { return e.Transient() }

// AuthError is a fatal authentication or permission failure: the token was
// rejected twice, or the app lacks the permission. It aborts the run.
type AuthError struct {
	Err    *Error // the response that ended it; nil when the sign-in itself failed
	SignIn error  // the sign-in failure, when no token could be had
	Why    string // what to do next
	// Permission is the permission a 403 says the app lacks (Permission
	// for the profiles, PermissionGroups or PermissionScopeTags for the
	// name lookups); "" for other failures.
	Permission string
}

func (e *AuthError) Error() string {
	switch {
	case e.SignIn != nil:
		return fmt.Sprintf("sign in: %s", safetext.Clean(e.SignIn.Error()))
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
	return &AuthError{Err: e, Permission: Permission, Why: "the app lacks permission: grant the application permission " + Permission + " to the app registration and give admin consent"}
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

// SignInRefusal is implemented by sign-in errors that retrying cannot mend:
// the authority refused the credentials, or no sign-in method can be used.
// Only those end the run (an *AuthError); a sign-in that failed for other
// reasons (the authority unreachable or failing) is the failure of the
// request that needed the token.
type SignInRefusal interface {
	SignInRefused() bool
}

// signInFailed wraps an error from the TokenSource.
func signInFailed(err error) error {
	var r SignInRefusal
	if errors.As(err, &r) && r.SignInRefused() {
		return &AuthError{SignIn: err}
	}
	return &SignInError{Err: err}
}

// SignInError is a sign-in that failed for a reason other than a refusal:
// the authority could not be reached, or answered with a server error. The
// request that needed the token was not sent.
type SignInError struct{ Err error }

func (e *SignInError) Error() string {
	msg := safetext.Clean(e.Err.Error())
	if strings.HasPrefix(msg, "sign-in") {
		return msg
	}
	return "sign in: " + msg
}
func (e *SignInError) Unwrap() error { return e.Err }

// refused is the error of a StaticToken asked for a fresh token.
type refused string

func (r refused) Error() string       { return string(r) }
func (r refused) SignInRefused() bool { return true }
