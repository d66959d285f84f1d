package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

// recorder is a loopback server that must receive nothing: it counts the
// requests and tokens that reach it.
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   int
	tokens []string
	bodies []string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits++
		r.tokens = append(r.tokens, req.Header.Get("Authorization"))
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"from-the-other-host","displayName":"x","value":[]}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) received() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits, append([]string(nil), r.tokens...)
}

// hostile serves handler on loopback and returns a client for it that
// signs every request with "secret-token".
func hostile(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *Client) {
	t.Helper()
	hs := httptest.NewServer(handler)
	t.Cleanup(hs.Close)
	p := ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})
	return hs, &Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: p, MaxRetries: 2, Tokens: StaticToken("secret-token")}
}

func jsonReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestNextLinkToAnotherOriginGetsNothing(t *testing.T) {
	other := newRecorder(t)
	otherPort := other.srv.URL[strings.LastIndex(other.srv.URL, ":"):]
	cases := []struct {
		name string
		link func(self string) string
	}{
		{"another port on the same host", func(string) string { return other.srv.URL + "/beta" + profile.CollectionPath + "?$skiptoken=2" }},
		{"another host name for the same address", func(self string) string {
			return strings.Replace(self, "127.0.0.1", "localhost", 1) + "/beta" + profile.CollectionPath + "?$skiptoken=2"
		}},
		{"https instead of http", func(self string) string {
			return strings.Replace(self, "http://", "https://", 1) + "/beta" + profile.CollectionPath + "?$skiptoken=2"
		}},
		{"scheme-relative", func(string) string { return "//127.0.0.1" + otherPort + "/beta" + profile.CollectionPath }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			hits := 0
			var self string
			hs, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				mu.Unlock()
				if r.URL.Query().Get("$skiptoken") != "" {
					t.Errorf("the second page was asked of the Graph host, although the link named another origin")
				}
				jsonReply(w, 200, map[string]any{"value": []any{map[string]any{"id": "1", "displayName": "A"}}, "@odata.nextLink": c.link(self)})
			})
			self = hs.URL
			_, err := cl.List(context.Background(), "id")
			var oe *OriginError
			if !errors.As(err, &oe) {
				t.Fatalf("List = %v, want an *OriginError", err)
			}
			if !strings.Contains(err.Error(), "not to the Graph URL's origin") || !strings.Contains(err.Error(), oe.Link) {
				t.Errorf("message %q does not say where the link led", err)
			}
			if n, _ := other.received(); n != 0 {
				t.Errorf("the other origin received %d request(s)", n)
			}
			if hits != 1 {
				t.Errorf("the Graph host received %d requests, want 1", hits)
			}
		})
	}
}

func TestCheckBaseURL(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://graph.microsoft.com/beta", true},
		{"https://graph.microsoft.us/beta", true},
		{"HTTPS://Graph.Microsoft.com/beta", true},
		{"http://127.0.0.1:8080/beta", true},
		{"http://127.1.2.3/beta", true},
		{"http://[::1]:8080/beta", true},
		{"http://localhost:8080/beta", true},
		{"http://LOCALHOST./beta", true},
		{"http://graph.microsoft.com/beta", false},
		{"http://10.0.0.5:8080/beta", false},
		{"http://127.0.0.1.example.com/beta", false},
		{"http://localhost.example.com/beta", false},
		{"ftp://graph.microsoft.com/beta", false},
		{"graph.microsoft.com/beta", false},
		{"/beta", false},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			err := CheckBaseURL(c.url)
			if (err == nil) != c.ok {
				t.Fatalf("CheckBaseURL(%q) = %v, want ok %v", c.url, err, c.ok)
			}
			if err != nil && strings.HasPrefix(c.url, "http://") && !strings.Contains(err.Error(), "use https") {
				t.Errorf("message %q does not say to use https", err)
			}
		})
	}
}

// failTransport fails the test if anything is sent.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("a request was sent to %s", r.URL)
	return nil, errors.New("refused by the test")
}

func TestPlainHTTPElsewhereSendsNothing(t *testing.T) {
	cl := &Client{BaseURL: "http://graph.example.com/beta", HTTP: &http.Client{Transport: failTransport{t}}, Tokens: StaticToken("secret-token")}
	if _, err := cl.List(context.Background(), "id"); err == nil || !strings.Contains(err.Error(), "use https") {
		t.Fatalf("List over plain http to another host: %v", err)
	}
}

func TestRedirectsAreNeverFollowed(t *testing.T) {
	other := newRecorder(t)
	ops := []struct {
		name string
		call func(*Client) error
	}{
		{"create", func(c *Client) error {
			_, _, err := c.Create(context.Background(), map[string]any{"displayName": "X", "wifiPassword": "wifi-secret"})
			return err
		}},
		{"list", func(c *Client) error { _, err := c.List(context.Background(), "id"); return err }},
		{"get", func(c *Client) error { _, err := c.Get(context.Background(), "p1", "id"); return err }},
		{"createToken", func(c *Client) error { return c.CreateToken(context.Background(), "p1", time.Hour) }},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, op := range ops {
			t.Run(fmt.Sprintf("%d %s", status, op.name), func(t *testing.T) {
				hs, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.srv.URL+r.URL.RequestURI(), status)
				})
				err := op.call(cl)
				var ge *Error
				if !errors.As(err, &ge) || ge.Status != status {
					t.Fatalf("err %v, want an *Error with status %d", err, status)
				}
				otherHost := strings.TrimPrefix(other.srv.URL, "http://")
				want := fmt.Sprintf("HTTP %d from %s: the service redirected the request to %s", status, strings.TrimPrefix(hs.URL, "http://"), otherHost)
				if !strings.Contains(ge.Readable(), want) {
					t.Errorf("message %q lacks %q", ge.Readable(), want)
				}
				if ge.Transient() || ge.MaybeApplied() {
					t.Errorf("a redirect is taken as transient or as maybe carried out")
				}
				if n, toks := other.received(); n != 0 {
					t.Errorf("the redirect target received %d request(s), tokens %q", n, toks)
				}
			})
		}
	}
}

func TestListingLoopsAreStopped(t *testing.T) {
	cases := []struct {
		name     string
		page     func(base string, n int, r *http.Request) any
		maxHits  int
		wantText string
	}{
		{"A to B to A", func(base string, _ int, r *http.Request) any {
			next := "B"
			if r.URL.Query().Get("p") == "B" {
				next = "A"
			}
			return map[string]any{"value": []any{}, "@odata.nextLink": base + "?p=" + next}
		}, 3, "loop"},
		{"a page that links to itself", func(base string, _ int, r *http.Request) any {
			return map[string]any{"value": []any{}, "@odata.nextLink": base + "?p=same"}
		}, 2, "loop"},
		{"links that never end", func(base string, n int, _ *http.Request) any {
			return map[string]any{"value": []any{}, "@odata.nextLink": fmt.Sprintf("%s?p=%d", base, n)}
		}, MaxListPages, "more than 2000 pages"},
		{"pages that never end, full of profiles", func(base string, n int, _ *http.Request) any {
			vs := make([]any, 1000)
			for i := range vs {
				vs[i] = map[string]any{"id": fmt.Sprintf("%d-%d", n, i), "displayName": "P"}
			}
			return map[string]any{"value": vs, "@odata.nextLink": fmt.Sprintf("%s?p=%d", base, n)}
		}, MaxListed/1000 + 1, "more than 100000 profiles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			hits := 0
			var base string
			hs, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				n := hits
				mu.Unlock()
				jsonReply(w, 200, c.page(base, n, r))
			})
			base = hs.URL + "/beta" + profile.CollectionPath
			ps, err := cl.List(context.Background(), "id")
			if err == nil || !strings.Contains(err.Error(), c.wantText) {
				t.Fatalf("List = %d profiles, %v; want an error saying %q", len(ps), err, c.wantText)
			}
			if hits > c.maxHits {
				t.Errorf("%d requests, want at most %d", hits, c.maxHits)
			}
		})
	}
}

func TestBadCreateAnswersMayHaveCreated(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"200 empty", 200, "", "with an empty answer"},
		{"201 empty", 201, "", "with an empty answer"},
		{"201 blank", 201, " \n", "with an empty answer"},
		{"201 without an id", 201, `{"displayName":"X"}`, "a profile without an id"},
		{"201 with an empty id", 201, `{"id":"","displayName":"X"}`, "a profile without an id"},
		{"201 not JSON", 201, `<html>ok</html>`, "not a profile"},
		{"201 cut at the size cap", 201, `{"id":"x","displayName":"` + strings.Repeat("a", MaxBody) + `"}`, "larger than 4 MiB and was cut"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			})
			p, _, err := cl.Create(context.Background(), map[string]any{"displayName": "X"})
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("Create = %+v, %v; want an *Error", p, err)
			}
			if !ge.Incomplete || !ge.MaybeApplied() || !ge.Transient() || ge.Status != c.status {
				t.Errorf("error %+v is not an incomplete answer that may have created the profile", ge)
			}
			if !strings.Contains(ge.Readable(), c.want) || strings.Contains(ge.Readable(), "\n") {
				t.Errorf("message %q lacks %q or is not one line", ge.Readable(), c.want)
			}
		})
	}
}

// echoed secrets and terminal escapes, as a hostile or careless service
// sends them back.
const (
	wifiSecret = `Wifi"Pa<ss>w0rd`
	escapes    = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\u009b1m\u202e"
)

func TestServiceTextIsCleanedAndSecretsRedacted(t *testing.T) {
	cases := []struct {
		name   string
		status int
		ctype  string
		body   func(req string) string
	}{
		{"Graph error echoing the request", 400, "application/json", func(req string) string {
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "BadRequest" + escapes,
				"message": "Invalid request " + req + escapes}})
			return string(b)
		}},
		{"Intune's nested message echoing the request", 400, "application/json", func(req string) string {
			inner, _ := json.Marshal(map[string]any{"_version": 3, "Message": "Bad body " + req + escapes})
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "BadRequest", "message": string(inner)}})
			return string(b)
		}},
		{"plain text echo", 500, "text/plain", func(req string) string { return "boom " + req + escapes + "\nline two" }},
		{"plain text with the secret raw", 500, "text/plain", func(string) string { return "password was " + wifiSecret + escapes }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.Header().Set("Content-Type", c.ctype)
				w.Header().Set("request-id", "rid\u009b2J")
				w.WriteHeader(c.status)
				io.WriteString(w, c.body(string(b)))
			})
			_, _, err := cl.Create(context.Background(), map[string]any{"displayName": "X", "wifiPassword": wifiSecret, "tokenValue": "tok-secret-123"})
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("err %v", err)
			}
			for what, s := range map[string]string{"Error()": err.Error(), "Readable()": ge.Readable(), "Message": ge.Message, "Code": ge.Code, "RequestID": ge.RequestID} {
				for _, bad := range []string{"Pa<ss>", `Pa\u003css`, "tok-secret-123", "\x1b", "\a", "\u009b", "\u202e"} {
					if strings.Contains(s, bad) {
						t.Errorf("%s = %q holds %q", what, s, bad)
					}
				}
			}
			if !strings.Contains(ge.Readable(), "[redacted]") {
				t.Errorf("Readable() = %q shows no redaction", ge.Readable())
			}
		})
	}
}

func TestUnhelpfulAnswersBecomeOneLine(t *testing.T) {
	page := "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1>" + strings.Repeat("<p>filler</p>\n", 200) + "</body></html>"
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		call   func(*Client) error
		want   string
	}{
		{"HTML 502 from a proxy", 502, "text/html; charset=utf-8", page, createX, "HTTP 502 from HOST: the gateway answered with an HTML page"},
		{"HTML 502 without a content type", 502, "", page, createX, "HTTP 502 from HOST: the gateway answered with an HTML page"},
		{"HTML 403 from a firewall", 403, "text/html", page, createX, "HTTP 403 from HOST: the server answered with an HTML page"},
		{"404 HTML page on the listing", 404, "text/html", "<html><body>Not Found</body></html>", listAll, "HTTP 404 from HOST: is this the Graph URL (it ends in /beta, e.g. https://graph.microsoft.com/beta)?"},
		{"404 text on the listing", 404, "text/plain", "404 page not found", listAll, "HTTP 404 from HOST: is this the Graph URL"},
		{"400 unknown segment on the listing", 400, "application/json", `{"error":{"code":"BadRequest","message":"Resource not found for the segment 'deviceManagement'."}}`, listAll, "is this the Graph URL"},
		{"body cut at the size cap", 500, "application/json", `{"error":{"code":"X","message":"` + strings.Repeat("a", MaxBody) + `"}}`, createX, "HTTP 500 from HOST: the answer was larger than 4 MiB and was cut there"},
		{"empty 503", 503, "", "", createX, "HTTP 503 from HOST: the gateway answered with an empty body"},
		{"listing page that is HTML with 200", 200, "text/html", page, listAll, "the answer is an HTML page, not a list of profiles"},
		{"listing page without value", 200, "application/json", `{"error":"nope"}`, listAll, `no "value" list`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				if c.ctype != "" {
					w.Header().Set("Content-Type", c.ctype)
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			})
			cl.MaxRetries = 0
			err := c.call(cl)
			want := strings.ReplaceAll(c.want, "HOST", strings.TrimPrefix(hs.URL, "http://"))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err %v, want %q", err, want)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "<") || len(err.Error()) > 400 {
				t.Errorf("message is not one short line: %q", err)
			}
		})
	}
}

func createX(c *Client) error {
	_, _, err := c.Create(context.Background(), map[string]any{"displayName": "X"})
	return err
}

func listAll(c *Client) error {
	_, err := c.List(context.Background(), "id")
	return err
}

func TestDrippingAnswerIsCutByTheRequestTimeout(t *testing.T) {
	done := make(chan struct{})
	_, cl := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"value":[`)
		for {
			select {
			case <-done:
				return
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				io.WriteString(w, " ")
				w.(http.Flusher).Flush()
			}
		}
	})
	defer close(done)
	cl.RequestTimeout = 200 * time.Millisecond
	cl.MaxRetries = 1
	began := time.Now()
	_, err := cl.List(context.Background(), "id")
	var ge *Error
	if !errors.As(err, &ge) || ge.Transport == nil {
		t.Fatalf("List = %v, want no answer within the request timeout", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("a dripping server held the listing for %v", took)
	}
}
