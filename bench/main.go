// Command bench measures enrollbatch against the Graph simulator served on
// a loopback port: the built binary is run as a process, as cron would run
// it, and the simulator counts what reached it. It prints a Markdown table.
//
//	go run ./bench                       # every scenario
//	go run ./bench -scenario overhead -rows 20000
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

type scenario struct {
	name string
	rows int
	sim  sim.Options
	args []string
	// check returns what to report beyond the common columns, and an error
	// when the scenario's target is missed.
	check func(m measure) (string, error)
}

type measure struct {
	rows    int
	wall    time.Duration
	steady  float64 // profiles created per second, first to last creation
	late429 int     // 429s answered after the first 3 s (steady state)
	maxRSS  int64   // KiB
	stats   sim.Stats
	results []results.Result
	tenant  int
}

func main() {
	var (
		bin   = flag.String("bin", "", "enrollbatch binary (default: build it)")
		which = flag.String("scenario", "all", "throttle, atlimit, faults, overhead, sequential or all")
		rows  = flag.Int("rows", 0, "rows for the overhead scenario (default 2000)")
	)
	flag.Parse()
	if err := run(*bin, *which, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, which string, overheadRows int) error {
	tmp, err := os.MkdirTemp("", "enrollbatch-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "enrollbatch")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	if overheadRows == 0 {
		overheadRows = 2000
	}
	all := []scenario{
		{name: "throttle", rows: 300,
			sim:  sim.Options{Limit: 20, Window: time.Second, Latency: 30 * time.Millisecond, RetryAfter: "seconds"},
			args: []string{"--rate", "100", "--concurrency", "8"},
			check: func(m measure) (string, error) {
				perSec := m.steady
				note := fmt.Sprintf("%.1f created/s = %.2f × limit; %d sent inside Retry-After", perSec, perSec/20, m.stats.InsideRetryAfter)
				if perSec < 0.8*20 || m.stats.InsideRetryAfter > 0 {
					return note, errors.New("below 0.8 × limit or requests sent while paused")
				}
				return note, nil
			}},
		{name: "atlimit", rows: 300,
			sim:  sim.Options{Limit: 20, Window: time.Second, Latency: 30 * time.Millisecond},
			args: []string{"--rate", "20", "--concurrency", "8"},
			check: func(m measure) (string, error) {
				perSec := m.steady
				note := fmt.Sprintf("%.1f created/s = %.2f × limit; %d 429s after the first 3 s", perSec, perSec/20, m.late429)
				if perSec < 0.95*20 || m.late429 > 0 {
					return note, errors.New("below 0.95 × limit or throttled in steady state")
				}
				return note, nil
			}},
		{name: "faults", rows: 300,
			sim:  sim.Options{Fail503: 0.05, Fail504AfterCreate: 0.03, DropAfterCreate: 0.03, Seed: 7},
			args: []string{"--rate", "0", "--concurrency", "8"},
			check: func(m measure) (string, error) {
				ok := 0
				for _, r := range m.results {
					if r.Status == results.Created && r.ID != "" {
						ok++
					}
				}
				note := fmt.Sprintf("%d/%d created with id; %d profiles in the tenant; 503s %d, 504s %d", ok, m.rows, m.tenant, m.stats.Status[503], m.stats.Status[504])
				if ok != m.rows || m.tenant != m.rows {
					return note, errors.New("a row lost or a duplicate created")
				}
				return note, nil
			}},
		{name: "overhead", rows: overheadRows,
			args: []string{"--rate", "0", "--concurrency", "16"},
			check: func(m measure) (string, error) {
				return fmt.Sprintf("%.0f rows/s, input to PDF", float64(m.rows)/m.wall.Seconds()), nil
			}},
		{name: "sequential", rows: 100,
			sim:  sim.Options{Latency: 100 * time.Millisecond},
			args: []string{"--rate", "0", "--concurrency", "1"},
			check: func(m measure) (string, error) {
				return fmt.Sprintf("%.1f rows/s: one request at a time, as a script does", float64(m.rows)/m.wall.Seconds()), nil
			}},
		{name: "concurrent", rows: 100,
			sim:  sim.Options{Latency: 100 * time.Millisecond},
			args: []string{"--rate", "0", "--concurrency", "16"},
			check: func(m measure) (string, error) {
				return fmt.Sprintf("%.1f rows/s with --concurrency 16", float64(m.rows)/m.wall.Seconds()), nil
			}},
	}
	fmt.Println("| scenario | rows | flags | wall | peak RSS | requests | 429s | result |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	failed := 0
	for _, sc := range all {
		if which != "all" && which != sc.name && !(which == "sequential" && sc.name == "concurrent") {
			continue
		}
		m, err := measureOne(bin, tmp, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		note, cerr := sc.check(m)
		if cerr != nil {
			note += " — MISSED: " + cerr.Error()
			failed++
		}
		fmt.Printf("| %s | %d | `%s` | %.2f s | %d MiB | %d | %d | %s |\n", sc.name, sc.rows, strings.Join(sc.args, " "),
			m.wall.Seconds(), m.maxRSS/1024, m.stats.Requests, m.stats.Throttled, note)
	}
	if failed > 0 {
		return fmt.Errorf("%d scenario(s) missed their target", failed)
	}
	return nil
}

func measureOne(bin, tmp string, sc scenario) (measure, error) {
	dir, err := os.MkdirTemp(tmp, sc.name)
	if err != nil {
		return measure{}, err
	}
	in := filepath.Join(dir, "in.csv")
	var b strings.Builder
	b.WriteString("displayName,description,tokenExpirationDateTime,Site\n")
	for i := 1; i <= sc.rows; i++ {
		fmt.Fprintf(&b, "Bench %s %05d,Handheld scanner,2027-06-30,Site %d\n", sc.name, i, i%40)
	}
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		return measure{}, err
	}
	sc.sim.OmitImage = true // the service renders images on its side, not on this machine
	s := sim.New(sc.sim)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return measure{}, err
	}
	var (
		mu        sync.Mutex
		throttled []time.Time
	)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		s.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			mu.Lock()
			throttled = append(throttled, time.Now())
			mu.Unlock()
		}
	})}
	go hs.Serve(ln)
	defer hs.Close()

	out := filepath.Join(dir, "out")
	args := append([]string{"run", "--input", in, "--out", out, "--graph-url", "http://" + ln.Addr().String() + "/beta", "--progress", "never", "--log-format", "text"}, sc.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"GRAPH_ACCESS_TOKEN=bench", "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return measure{}, err
	}
	profiles := s.Profiles()
	m := measure{rows: sc.rows, wall: wall, stats: s.Stats(), tenant: len(profiles)}
	if n := len(profiles); n > 1 {
		first, last := profiles[0].CreatedDateTime, profiles[n-1].CreatedDateTime
		if span := last.Sub(first); span > 0 {
			m.steady = float64(n-1) / span.Seconds()
		}
	}
	for _, at := range throttled {
		if at.Sub(start) > 3*time.Second {
			m.late429++
		}
	}
	m.maxRSS = maxRSS(cmd.ProcessState)
	if _, m.results, err = output.ReadWorkbook(filepath.Join(out, "results.xlsx")); err != nil {
		return m, fmt.Errorf("read results: %w (stderr: %s)", err, tail(stderr.String()))
	}
	if _, err := os.Stat(filepath.Join(out, "qr-codes.pdf")); err != nil {
		return m, fmt.Errorf("no QR sheet: %w (stderr: %s)", err, tail(stderr.String()))
	}
	return m, nil
}

// statusRecorder remembers the status a handler wrote. It passes Hijack
// through, since the simulator drops connections that way.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
