package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// jsonContentType is the Content-Type Graph puts on JSON responses.
const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// permission is the Graph application permission the resource needs.
const permission = "DeviceManagementConfiguration.ReadWrite.All"

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps its members in order, as Graph writes
// them (annotations first, id next).
type obj []kv

// MarshalJSON writes the members in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", m.k, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// reply is a response decided by a handler, written by ServeHTTP after the
// configured latency.
type reply struct {
	status   int
	body     []byte        // nil: no body
	retryAt  time.Time     // Retry-After: until this moment (a limit frees a slot)
	retryIn  time.Duration // Retry-After: this long from delivery
	retryRaw string        // Retry-After: this value as is
	header   map[string]string
	drop     bool // close the connection without a response
}

// apiError is a Graph error about to be answered.
type apiError struct {
	status  int
	code    string
	message string
}

// errorf makes a plain Graph error.
func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// intuneError makes an error the way Intune's own services send them: a
// JSON document inside error.message whose Message is a generic text with
// operation and activity ids, and the actual reason (if any) in
// CustomApiErrorPhrase.
func intuneError(status int, code, url, phrase string) *apiError {
	doc := obj{
		{"_version", 3},
		{"Message", fmt.Sprintf("An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: %s - Url: %s", newGUID(), url)},
		{"CustomApiErrorPhrase", phrase},
		{"RetryAfter", nil},
		{"ErrorSourceService", ""},
		{"HttpHeaders", "{}"},
	}
	b, _ := doc.MarshalJSON() // strings, numbers and null only
	return &apiError{status: status, code: code, message: string(b)}
}

// defaultError gives the code and message Graph uses for a status.
func defaultError(status int) (code, message string) {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest", "Bad request."
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
	case http.StatusForbidden:
		return "Forbidden", "Application is not authorized to perform this operation. Application must have one of the following scopes: " + permission
	case http.StatusNotFound:
		return "ResourceNotFound", "Resource not found."
	case http.StatusConflict:
		return "Conflict", "The request conflicts with the current state of the resource."
	case http.StatusTooManyRequests:
		return "TooManyRequests", "Too many requests. Retry after the time given in the Retry-After header."
	case http.StatusInternalServerError:
		return "InternalServerError", "An internal server error occurred."
	case http.StatusBadGateway:
		return "BadGateway", "Bad gateway."
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable", "The service is temporarily unavailable. Retry later."
	case http.StatusGatewayTimeout:
		return "GatewayTimeout", "The gateway did not receive a response from the service in time."
	}
	return "UnknownError", http.StatusText(status)
}

// errorBody renders Graph's error JSON.
func errorBody(code, message, requestID, clientRequestID string, now time.Time) []byte {
	doc := obj{{"error", obj{
		{"code", code},
		{"message", message},
		{"innerError", obj{
			{"date", now.UTC().Format("2006-01-02T15:04:05")},
			{"request-id", requestID},
			{"client-request-id", clientRequestID},
		}},
	}}}
	b, _ := doc.MarshalJSON()
	return b
}
