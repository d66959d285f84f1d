package batch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// tamper serves the simulator through answer, which sees each request with
// the simulator's answer and may replace it; the requests seen are kept.
type tamper struct {
	sim   *sim.Server
	mu    sync.Mutex
	posts int
	paths []string
}

func setupTampered(t *testing.T, answer func(tp *tamper, w http.ResponseWriter, r *http.Request, posts int, rec *httptest.ResponseRecorder)) (*tamper, *Job) {
	t.Helper()
	tp := &tamper{sim: sim.New(sim.Options{OmitImage: true})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp.mu.Lock()
		tp.paths = append(tp.paths, r.Method+" "+r.URL.Path)
		n := tp.posts
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "Profiles") {
			tp.posts++
			n = tp.posts
		}
		tp.mu.Unlock()
		rec := httptest.NewRecorder()
		answer(tp, w, r, n, rec)
	}))
	t.Cleanup(hs.Close)
	pacer := ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: pacer, MaxRetries: 3, RequestTimeout: 10 * time.Second}
	return tp, &Job{Client: c, Options: Options{Concurrency: 1, MaxRetries: 3}}
}

// pass forwards to the simulator and copies its answer.
func pass(tp *tamper, w http.ResponseWriter, r *http.Request, rec *httptest.ResponseRecorder) {
	tp.sim.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func isCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "Profiles")
}

func TestBadCreateAnswersAreLookedUp(t *testing.T) {
	cases := []struct {
		name    string
		forward bool // the service created the profile before answering badly
		status  int
		body    string
	}{
		{"created, answered 200 empty", true, 200, ""},
		{"created, answered 201 without an id", true, 201, `{"displayName":"Dock 001"}`},
		{"created, answered 201 not JSON", true, 201, "OK"},
		{"not created, answered 201 empty", false, 201, ""},
		{"not created, answered 201 with an empty id", false, 201, `{"id":""}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp, job := setupTampered(t, func(tp *tamper, w http.ResponseWriter, r *http.Request, posts int, rec *httptest.ResponseRecorder) {
				if isCreate(r) && posts == 1 {
					if c.forward {
						tp.sim.ServeHTTP(rec, r)
					}
					w.WriteHeader(c.status)
					io.WriteString(w, c.body)
					return
				}
				pass(tp, w, r, rec)
			})
			rs, err := job.Run(context.Background(), makeRows(1, "Dock"))
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			ps := tp.sim.Profiles()
			if r.Status != results.Created || len(ps) != 1 || r.ID != ps[0].ID || r.QRCodeContent == "" {
				t.Fatalf("result %+v with %d profiles in the tenant, want created with the tenant's id", r, len(ps))
			}
			if got := tp.sim.Stats().Duplicates; got != 0 {
				t.Errorf("%d duplicates", got)
			}
			for _, p := range tp.paths {
				if strings.Contains(p, "Profiles//") || strings.HasSuffix(p, "Profiles/createToken") {
					t.Errorf("a request used an empty id: %s", p)
				}
			}
		})
	}
}

func TestRedirectedCreateIsNotCreated(t *testing.T) {
	var mu sync.Mutex
	elsewhere := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere++
		mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"made-elsewhere","displayName":"Dock 001","qrCodeContent":"x"}`)
	}))
	t.Cleanup(other.Close)
	tp, job := setupTampered(t, func(tp *tamper, w http.ResponseWriter, r *http.Request, _ int, rec *httptest.ResponseRecorder) {
		if isCreate(r) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		pass(tp, w, r, rec)
	})
	rs, err := job.Run(context.Background(), makeRows(1, "Dock"))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Status != results.Failed || r.ID != "" || r.HTTPStatus != 307 || r.Attempts != 1 ||
		!strings.Contains(r.ErrorMessage, "redirected the request to "+strings.TrimPrefix(other.URL, "http://")) {
		t.Fatalf("result %+v, want failed after one 307 naming the other host", r)
	}
	if elsewhere != 0 || len(tp.sim.Profiles()) != 0 {
		t.Errorf("the other host got %d request(s); the tenant holds %d profile(s)", elsewhere, len(tp.sim.Profiles()))
	}
}

func TestSameIDForTwoRowsWarnsBoth(t *testing.T) {
	var first string
	_, job := setupTampered(t, func(tp *tamper, w http.ResponseWriter, r *http.Request, posts int, rec *httptest.ResponseRecorder) {
		if !isCreate(r) {
			pass(tp, w, r, rec)
			return
		}
		tp.sim.ServeHTTP(rec, r)
		var m map[string]any
		json.Unmarshal(rec.Body.Bytes(), &m)
		if posts == 1 {
			first, _ = m["id"].(string)
		} else {
			m["id"] = first
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		json.NewEncoder(w).Encode(m)
	})
	rs, err := job.Run(context.Background(), makeRows(3, "Till"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Status != results.Created || r.ID != first {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	for i, want := range []int{2, 1, 1} {
		notes := strings.Join(rs[i].Notes, "\n")
		if got := strings.Count(notes, "same profile id "+first); got != want {
			t.Errorf("row %d notes %q: %d warnings, want %d", rs[i].Row, notes, got, want)
		}
	}
	if !strings.Contains(strings.Join(rs[1].Notes, ""), `as row 2;`) {
		t.Errorf("row 3's note does not name the row it shares the id with: %q", rs[1].Notes)
	}
}

func TestSignInFailureMidRunIsNotAttempted(t *testing.T) {
	s, job := setup(t, sim.Options{})
	var mu sync.Mutex
	calls := 0
	job.Client.Tokens = fakeTokens{token: func(bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return "t", nil // the listing signs in; then the authority goes away
		}
		return "", errors.New("sign-in failed: cannot reach the sign-in authority: connection refused")
	}}
	rs, err := job.Run(context.Background(), makeRows(3, "Gate"))
	if err != nil {
		t.Fatalf("a sign-in that could not reach the authority aborted the run: %v", err)
	}
	for _, r := range rs {
		if r.Status != results.NotAttempted || r.Attempts != 0 || !strings.Contains(r.ErrorMessage, "connection refused") {
			t.Errorf("row %d: %s after %d attempts: %s", r.Row, r.Status, r.Attempts, r.ErrorMessage)
		}
	}
	if st := s.Stats(); st.Creates != 0 {
		t.Errorf("%d creates reached the service", st.Creates)
	}
}
