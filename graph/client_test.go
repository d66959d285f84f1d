package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

func newClient(t *testing.T, o sim.Options) (*sim.Server, *Client) {
	t.Helper()
	o.OmitImage = true
	s := sim.New(o)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	p := ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})
	return s, &Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: p, MaxRetries: 3}
}

func TestInnerMessage(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain words", "plain words"},
		{`{"_version":3,"Message":"An error has occurred - Operation ID: 1","CustomApiErrorPhrase":"","RetryAfter":null}`, "An error has occurred - Operation ID: 1"},
		{`{"_version":3,"Message":"An error has occurred","CustomApiErrorPhrase":"Scope tag 9 not found"}`, "Scope tag 9 not found"},
		{`{"not json`, `{"not json`},
		{`{"Message":"{\"Message\":\"nested reason\"}"}`, "nested reason"},
	}
	for _, c := range cases {
		if got := InnerMessage(c.in); got != c.want {
			t.Errorf("InnerMessage(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNameFilterDoublesQuotes(t *testing.T) {
	if got, want := NameFilter("O'Brien's Tills"), "displayName eq 'O''Brien''s Tills'"; got != want {
		t.Fatalf("NameFilter = %q, want %q", got, want)
	}
}

func TestListFollowsNextLinkAndFindByName(t *testing.T) {
	s, c := newClient(t, sim.Options{PageSize: 7})
	names := make([]string, 30)
	for i := range names {
		names[i] = fmt.Sprintf("Store %02d", i)
	}
	names[5] = "O'Brien's Tills"
	s.Seed(names...)
	var pages []int
	c.Listed = func(n int) { pages = append(pages, n) }
	all, err := c.List(context.Background(), "id", "displayName")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 30 || s.Stats().Lists != 5 {
		t.Fatalf("%d profiles in %d pages, want 30 in 5", len(all), s.Stats().Lists)
	}
	if fmt.Sprint(pages) != "[1 2 3 4 5]" {
		t.Errorf("the progress hook was told pages %v, want 1 to 5", pages)
	}
	found, err := c.FindByName(context.Background(), "o'brien's tills", "id", "displayName")
	if err != nil || len(found) != 1 || found[0].DisplayName != "O'Brien's Tills" {
		t.Fatalf("FindByName: %v, %v", found, err)
	}
}

func TestErrorCarriesTheServiceFacts(t *testing.T) {
	s, c := newClient(t, sim.Options{})
	s.Inject(sim.Fault{Op: sim.OpCreate, Status: 400, Code: "BadRequest", Message: "Invalid property"})
	_, _, err := c.Create(context.Background(), map[string]any{"displayName": "X"})
	var ge *Error
	if !errors.As(err, &ge) {
		t.Fatalf("err %v, want *Error", err)
	}
	if ge.Status != 400 || ge.Code != "BadRequest" || ge.Message != "Invalid property" || ge.RequestID == "" || ge.ClientRequestID == "" || ge.Transient() {
		t.Fatalf("error %+v", ge)
	}
	if !strings.Contains(ge.Error(), "request-id "+ge.RequestID) {
		t.Errorf("Error() = %q does not name the request-id", ge.Error())
	}
}

func TestRetryAfterForms(t *testing.T) {
	for _, ra := range []string{"1", "0.25", time.Now().Add(time.Second).UTC().Format(http.TimeFormat)} {
		t.Run(ra, func(t *testing.T) {
			s, c := newClient(t, sim.Options{})
			s.Inject(sim.Fault{Op: sim.OpCreate, Status: 429, RetryAfter: ra})
			_, _, err := c.Create(context.Background(), map[string]any{"displayName": "X"})
			var ge *Error
			if !errors.As(err, &ge) || !ge.Throttled() || !ge.HasRetryAfter || ge.RetryAfter <= 0 || ge.RetryAfter > 2*time.Second {
				t.Fatalf("err %v (retry after %v)", err, ge.RetryAfter)
			}
			if c.ThrottledCount() != 1 {
				t.Errorf("throttled count %d", c.ThrottledCount())
			}
		})
	}
}

func TestReadsRetryTransientFailures(t *testing.T) {
	s, c := newClient(t, sim.Options{})
	s.Seed("Dock 1")
	s.Inject(sim.Fault{Op: sim.OpList, Status: 503, Count: 2}, sim.Fault{Op: sim.OpList, Drop: true})
	all, err := c.List(context.Background(), "id")
	if err != nil || len(all) != 1 {
		t.Fatalf("list after transient failures: %v, %v", all, err)
	}
	if got := s.Stats().Lists; got != 4 {
		t.Errorf("%d list requests, want 4", got)
	}
	s.Inject(sim.Fault{Op: sim.OpList, Status: 503, Count: -1})
	if _, err := c.List(context.Background(), "id"); err == nil {
		t.Fatal("a list that always fails succeeded")
	}
}

type tokens struct{ fresh, calls int }

func (tk *tokens) Token(_ context.Context, fresh bool) (string, error) {
	tk.calls++
	if fresh {
		tk.fresh++
	}
	return fmt.Sprintf("token-%d", tk.fresh), nil
}

func TestAuthFailures(t *testing.T) {
	cases := []struct {
		name      string
		authorize func(string) int
		wantErr   bool
		wantFresh int
	}{
		{"401 then a fresh token works", func(tok string) int {
			if tok == "token-1" {
				return 0
			}
			return 401
		}, false, 1},
		{"401 twice aborts", func(string) int { return 401 }, true, 1},
		{"403 aborts at once", func(string) int { return 403 }, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cl := newClient(t, sim.Options{Authorize: c.authorize})
			tk := &tokens{}
			cl.Tokens = tk
			_, err := cl.List(context.Background(), "id")
			if (err != nil) != c.wantErr || tk.fresh != c.wantFresh {
				t.Fatalf("err %v, %d fresh tokens", err, tk.fresh)
			}
			if c.wantErr && (!IsAuth(err) || !strings.Contains(err.Error(), Permission)) {
				t.Errorf("err %v is not an AuthError naming %s", err, Permission)
			}
		})
	}
}

func TestStaticTokenCannotBeRenewed(t *testing.T) {
	if _, err := StaticToken("x").Token(context.Background(), true); err == nil {
		t.Fatal("a static token claimed to renew itself")
	}
}

func TestNewRequestIDIsAGUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewRequestID()
		if len(id) != 36 || id[14] != '4' || strings.Count(id, "-") != 4 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// TestTokenActionsBodies checks what the token actions send: createToken
// its documented body on the profile's id as listed, revokeToken no body at
// all, and that both take the 204 with no body.
func TestTokenActionsBodies(t *testing.T) {
	s, c := newClient(t, sim.Options{})
	id := s.Seed("Till 1")[0].ID
	type seen struct {
		path, body, contentType string
	}
	var got []seen
	s.SetHook(func(r *http.Request, op sim.Op) *sim.Fault {
		if op == sim.OpCreateToken || op == sim.OpRevokeToken {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			got = append(got, seen{r.URL.Path, string(b), r.Header.Get("Content-Type")})
		}
		return nil
	})
	ctx := context.Background()
	if err := c.CreateToken(ctx, id, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"/beta/deviceManagement/androidDeviceOwnerEnrollmentProfiles/" + id + "/createToken", `{"tokenValidityInSeconds":604800}`, "application/json"},
		{"/beta/deviceManagement/androidDeviceOwnerEnrollmentProfiles/" + id + "/revokeToken", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent %+v\nwant %+v", got, want)
	}

	// A 403 on the action is the profile's problem, not an abort.
	s.Inject(sim.Fault{Op: sim.OpCreateToken, Status: http.StatusForbidden})
	err := c.CreateToken(ctx, id, time.Hour)
	var te *TokenError
	if !errors.As(err, &te) || IsAuth(err) || te.Err.Status != http.StatusForbidden || !strings.Contains(err.Error(), "--auth device-code") {
		t.Errorf("403 on createToken: %v (IsAuth %v)", err, IsAuth(err))
	}
	// A 403 elsewhere still is.
	s.Inject(sim.Fault{Op: sim.OpRevokeToken, Status: http.StatusForbidden})
	if err := c.RevokeToken(ctx, id); !IsAuth(err) {
		t.Errorf("403 on revokeToken: %v, want an AuthError", err)
	}
}
