package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/safetext"
)

// envelope is Graph's error body.
type envelope struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// maxPlain is how much of a body that is not Graph's error document goes
// into a message.
const maxPlain = 300

// decodeError fills e (Status and Host set) from an error answer: Graph's
// error document when the body is one, else one line that says what came
// (a redirect, an HTML page, a body cut at MaxBody, an empty body, or the
// start of the text). Everything taken from the answer is cleaned, and the
// secrets the request carried are redacted.
func decodeError(e *Error, h http.Header, body []byte, cut bool, secrets []string) {
	e.secrets = secrets
	clean := func(s string) string { return safetext.Clean(safetext.Redact(s, secrets)) }
	local := func(format string, a ...any) {
		e.local = true
		e.Message = clean(fmt.Sprintf("HTTP %d from %s: ", e.Status, e.Host) + fmt.Sprintf(format, a...))
	}
	if e.Status >= 300 && e.Status < 400 {
		where := "another address"
		if loc, err := url.Parse(h.Get("Location")); err == nil && loc.Host != "" {
			where = loc.Host
		} else if err == nil && loc.Path != "" {
			where = "another path on the same host"
		}
		local("the service redirected the request to %s; redirects are not followed, so nothing was sent there "+
			"(check --graph-url: use the Graph URL itself, e.g. %s)", where, DefaultURL)
		return
	}
	var env envelope
	if !cut && json.Unmarshal(body, &env) == nil {
		code, msg := clean(env.Error.Code), clean(env.Error.Message)
		if strings.TrimSpace(code) != "" || strings.TrimSpace(msg) != "" {
			e.Code, e.Message = code, msg
			if e.RequestID == "" {
				e.RequestID = safetext.Clean(env.Error.InnerError.RequestID)
			}
			return
		}
	}
	who := "the server"
	switch e.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		who = "the gateway"
	}
	switch {
	case looksHTML(h.Get("Content-Type"), body):
		local("%s answered with an HTML page", who)
	case cut:
		local("the answer was larger than %d MiB and was cut there", MaxBody>>20)
	case len(bytes.TrimSpace(body)) == 0:
		local("%s answered with an empty body", who)
	default:
		text := strings.Join(strings.Fields(clean(string(body[:min(len(body), 4*maxPlain)]))), " ")
		if len(text) > maxPlain {
			text = strings.ToValidUTF8(text[:maxPlain], "") + "…"
		}
		local("%s", text)
	}
}

// looksHTML reports an HTML page: by its media type, or by how it starts.
func looksHTML(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	start := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
	start = bytes.TrimPrefix(start, []byte("\xef\xbb\xbf"))
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<!--"} {
		if bytes.HasPrefix(start, []byte(p)) {
			return true
		}
	}
	return false
}

// notCollection rewrites the error of the first listing request when the
// answer says the collection is not there: the Graph URL is likely wrong.
func (e *Error) notCollection(base string) {
	if e.Transport != nil {
		return
	}
	segment := e.Status == http.StatusBadRequest && strings.Contains(e.Message, "Resource not found for the segment")
	if e.Status != http.StatusNotFound && !segment {
		return
	}
	said := ""
	if !e.local && e.Readable() != "" {
		said = "; the service said: " + e.Readable()
	}
	e.local = true
	e.Message = fmt.Sprintf("HTTP %d from %s: is this the Graph URL (it ends in /beta, e.g. %s)? %s has no %s%s",
		e.Status, e.Host, DefaultURL, safetext.Clean(base), profile.CollectionPath, said)
}

// page is one page of a listing.
type page struct {
	Value    []profile.Profile `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

// decodePage decodes a listing page. A body that is not one (an HTML page
// from a proxy, a document without "value") is an error that says what it
// was, never a silently empty page.
func decodePage(body []byte) (page, error) {
	var p page
	var probe struct {
		Value json.RawMessage `json:"value"`
	}
	if looksHTML("", body) {
		return p, fmt.Errorf("the answer is an HTML page, not a list of profiles")
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return p, fmt.Errorf("the answer is not a list of profiles: %s", safetext.Clean(err.Error()))
	}
	if len(probe.Value) == 0 || string(probe.Value) == "null" {
		return p, fmt.Errorf("the answer has no \"value\" list: it is not a page of profiles")
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return page{}, fmt.Errorf("the answer is not a list of profiles: %s", safetext.Clean(err.Error()))
	}
	return p, nil
}

// secretsIn returns the values of secret properties (wifiPassword,
// tokenValue) in a JSON request body.
func secretsIn(body []byte) []string {
	if len(body) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	var out []string
	for _, p := range profile.Properties {
		if s, ok := m[p.Name].(string); ok && p.Secret && s != "" {
			out = append(out, s)
		}
	}
	return out
}
