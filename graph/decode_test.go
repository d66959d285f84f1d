package graph

import (
	"net/http"
	"strings"
	"testing"
	"unicode"
)

// clean reports the first character that must not reach a terminal.
func badRune(s string, newlines bool) (rune, bool) {
	for _, r := range s {
		if r == '\t' || (newlines && r == '\n') {
			continue
		}
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return r, true
		}
	}
	return 0, false
}

// FuzzDecodeError feeds the error decoder whatever a server could send. The
// seeds (run by go test) are the answers the hostile-server tests use.
func FuzzDecodeError(f *testing.F) {
	seeds := []struct {
		status      int
		ctype, body string
		cut         bool
	}{
		{400, "application/json", `{"error":{"code":"BadRequest","message":"Invalid property","innerError":{"request-id":"r1"}}}`, false},
		{500, "application/json", `{"error":{"code":"InternalServerError","message":"{\"_version\":3,\"Message\":\"An error has occurred - Operation ID: 1\",\"CustomApiErrorPhrase\":\"\"}"}}`, false},
		{400, "application/json", `{"error":{"code":"X\u001b]0;t\u0007","message":"echo {\"wifiPassword\":\"s3cret-pass\"}\u001b[2J"}}`, false},
		{502, "text/html", "<!DOCTYPE html><html><body>Bad Gateway</body></html>", false},
		{404, "", "<html><body>Not Found</body></html>", false},
		{503, "", "", false},
		{500, "application/json", `{"error":{"code":"X","message":"aaaa`, true},
		{307, "", "", false},
		{429, "text/plain", "slow down\r\n\x1b[31mnow\x07", false},
		{400, "application/json", `{"error":null}`, false},
		{400, "application/json", `{"error":{"message":{"nested":true}}}`, false},
		{500, "text/plain", "\xff\xfe\x00bad utf-8 \u009b2J", false},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ctype, "http://other.example:8443/x\x1b[2J", []byte(s.body), s.cut)
	}
	secret := "s3cret-pass"
	f.Fuzz(func(t *testing.T, status int, ctype, location string, body []byte, cut bool) {
		e := &Error{Method: "POST", Path: "/beta/x", Host: "graph.example:443", Status: status}
		h := http.Header{}
		h.Set("Content-Type", ctype)
		h.Set("Location", location)
		decodeError(e, h, body, cut, []string{secret})
		e.notCollection("https://graph.example/beta")
		for what, s := range map[string]string{"Error()": e.Error(), "Readable()": e.Readable(), "Code": e.Code, "RequestID": e.RequestID} {
			if r, bad := badRune(s, !e.local); bad {
				t.Fatalf("%s = %q holds %U", what, s, r)
			}
			if strings.Contains(s, secret) {
				t.Fatalf("%s = %q shows the secret", what, s)
			}
		}
		if e.local && len(e.Message) > 1000 {
			t.Fatalf("a local message of %d bytes", len(e.Message))
		}
		if e.Message == "" && e.Code == "" && (status < 200 || status >= 300) {
			// Graph's document with an empty code and message says nothing,
			// and is described like any other body instead.
			t.Fatalf("status %d body %q: the error says nothing", status, body)
		}
	})
}

// FuzzDecodePage feeds the listing decoder whatever a server could send.
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{
		`{"value":[{"id":"1","displayName":"A","tokenExpirationDateTime":"2027-01-01T00:00:00Z"}],"@odata.nextLink":"https://graph.example/beta/x?$skiptoken=1"}`,
		`{"value":[]}`, `{"value":null}`, `{}`, `[]`, `<html></html>`, `{"value":[{"id":1}]}`,
		`{"value":[{"tokenExpirationDateTime":"not a date"}]}`, "{\"value\":[],\"@odata.nextLink\":\"\x1b[2J\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage(body)
		if err != nil {
			if r, bad := badRune(err.Error(), false); bad {
				t.Fatalf("error %q holds %U", err, r)
			}
			if len(p.Value) != 0 {
				t.Fatalf("a failed decode returned %d profiles", len(p.Value))
			}
		}
	})
}
