package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/results"
)

// throttleForever is a Graph that lists an empty tenant and answers every
// create 429 with Retry-After: 60. It records when each request arrived.
type throttleForever struct {
	mu      sync.Mutex
	arrived []time.Time
	creates atomic.Int32
}

func (s *throttleForever) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.arrived = append(s.arrived, time.Now())
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet {
		w.Write([]byte(`{"value":[]}`))
		return
	}
	s.creates.Add(1)
	w.Header().Set("Retry-After", "60")
	w.WriteHeader(http.StatusTooManyRequests)
	w.Write([]byte(`{"error":{"code":"TooManyRequests","message":"Too many requests"}}`))
}

func (s *throttleForever) after(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.arrived {
		if a.After(t) {
			n++
		}
	}
	return n
}

// TestStopWhileThrottled stops a run that waits out a 60 s Retry-After,
// by each stop signal and by --deadline: it sends nothing more, writes
// every row's result and exits 1 within seconds. Rows that were never sent,
// also those whose workers wait in the pause, are not_attempted.
func TestStopWhileThrottled(t *testing.T) {
	t.Parallel()
	const n = 10
	in := writeNames(t, n, "Scanner %02d")
	tests := []struct {
		name   string
		signal os.Signal // nil: let --deadline stop it
		says   string
	}{
		{"SIGTERM", syscall.SIGTERM, "stopping (signal terminated)"},
		{"SIGHUP", syscall.SIGHUP, "stopping (signal hangup)"},
		{"SIGINT", os.Interrupt, "stopping (signal interrupt)"},
		{"deadline", nil, "stopping (the run's deadline (--deadline 3s) was reached)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &throttleForever{}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"run", "--graph-url", hs.URL + "/beta", "--input", in, "--out", out, "--rate", "2", "--concurrency", "4"}
			if tc.signal == nil {
				args = append(args, "--deadline", "3s")
			}
			cmd, stderr := startIn(t, t.TempDir(), args...)
			// Once the pause is told, every worker waits in it.
			waitFor(t, cmd, stderr, "the pause told", func() bool { return strings.Contains(stderr.String(), "the service asked us to wait") })
			stopped := time.Now()
			if tc.signal != nil {
				cmd.Process.Signal(tc.signal)
			}
			code := exitCode(t, cmd)
			took := time.Since(stopped)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			if limit := 5 * time.Second; took > limit {
				t.Errorf("took %v after the stop, want under %v", took, limit)
			}
			if tc.signal != nil {
				if got := srv.after(stopped); got != 0 {
					t.Errorf("%d request(s) sent after the signal", got)
				}
			}
			for _, want := range []string{regexp.QuoteMeta(tc.says), `paused (59|60) s: the service asked us to wait`, "not_attempted"} {
				if !regexp.MustCompile(want).MatchString(stderr.String()) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			rs := readResults(t, filepath.Join(out, "results.xlsx"))
			if len(rs) != n {
				t.Fatalf("%d results, want %d", len(rs), n)
			}
			sent := int(srv.creates.Load())
			c := statuses(rs)
			if c[results.NotAttempted] != n-sent || c[results.Failed] != sent {
				t.Errorf("statuses %v after %d creates were throttled; want %d not_attempted, %d failed", c, sent, n-sent, sent)
			}
			for _, r := range rs {
				switch r.Status {
				case results.NotAttempted:
					if r.Attempts != 0 || !strings.Contains(r.ErrorMessage, "no profile exists") {
						t.Errorf("row %d: %d attempts, %q", r.Row, r.Attempts, r.ErrorMessage)
					}
				case results.Failed:
					if !strings.Contains(r.ErrorMessage, "may have created") {
						t.Errorf("row %d: %q does not say the profile may exist", r.Row, r.ErrorMessage)
					}
				}
			}
		})
	}
}

// TestBadTimes: --request-timeout and --deadline must be positive.
func TestBadTimes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--request-timeout", "0"},
		{"--request-timeout", "-5s"},
		{"--deadline", "0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, nil, append([]string{"run", "--simulate", "--input", "samples/profiles.csv", "--out", t.TempDir()}, args...)...)
			if code != 2 || !strings.Contains(stderr, args[0]) {
				t.Errorf("exit %d, want 2 naming %s:\n%s", code, args[0], stderr)
			}
		})
	}
}

// TestStopCutsOffHangingRequests: a service that never answers cannot hold
// a stopped run beyond the grace period: the requests in flight are
// cancelled, the results say those rows may have been created, and the run
// exits within Kubernetes' 30 s.
func TestStopCutsOffHangingRequests(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits out the 20 s grace period")
	}
	var creates atomic.Int32
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Write([]byte(`{"value":[]}`))
			return
		}
		creates.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	defer close(release)
	in := writeNames(t, 4, "Dock %d")
	out := filepath.Join(t.TempDir(), "out")
	cmd, stderr := startIn(t, t.TempDir(), "run", "--graph-url", hs.URL+"/beta", "--input", in, "--out", out, "--rate", "0", "--concurrency", "2", "--request-timeout", "10m")
	waitFor(t, cmd, stderr, "2 creates in flight", func() bool { return creates.Load() >= 2 })
	signalled := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	code := exitCode(t, cmd)
	if took := time.Since(signalled); took > 25*time.Second || took < stopGrace {
		t.Errorf("exited %v after SIGTERM, want after the %v grace and well within 30 s", took, stopGrace)
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	c := statuses(rs)
	if len(rs) != 4 || c[results.Failed] != 2 || c[results.NotAttempted] != 2 {
		t.Fatalf("statuses %v", c)
	}
	for _, r := range rs {
		if r.Status == results.Failed && !strings.Contains(r.ErrorMessage, "may have been created") {
			t.Errorf("row %d: %q does not say the profile may exist", r.Row, r.ErrorMessage)
		}
	}
}
