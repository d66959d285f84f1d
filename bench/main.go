// Command bench measures enrollbatch against the Graph simulator served on
// a loopback port: the built binary is run as a process, as cron would run
// it, and the simulator counts what reached it. Where a scenario has a
// comparison (the naive loop), both run in the same invocation against the
// same kind of simulator. It prints a Markdown table.
//
//	go run ./bench                          # the pacing scenarios
//	go run ./bench -scenario window -sizes 50,80,300,2000
//	go run ./bench -scenario unknown -repeat 3
//	go run ./bench -scenario backtoback -repeat 3 # 80 rows, then the 300-row sheet
//	go run ./bench -scenario backtoback-norecord -repeat 3 # the same, the second run without the record
//	go run ./bench -scenario burst -repeat 3      # another app's 70 writes, then 150 rows
//	go run ./bench -scenario lift -repeat 3       # 20 writes per 20 s for 2 minutes, then 100
//	go run ./bench -scenario memory -repeat 3    # 10,000, 50,000 and 100,000 rows
//	go run ./bench -scenario reprint -repeat 3   # 20,000 rows
//	go run ./bench -scenario tenants -repeat 3   # one sheet over 1, 50 and 500 tenants
//	go run ./bench -scenario tenants -profile DIR # 50 tenants × 40 rows once, with --cpuprofile and --memprofile into DIR
//	go run ./bench -scenario tenants -sizes 50x40 -args "--tenant-concurrency 16" -repeat 3
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// The documented Intune window the pacing scenarios simulate.
const (
	intuneWrites   = 100
	intuneRequests = 1000
	intuneWindow   = 20 * time.Second
	latency        = 50 * time.Millisecond
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == measureFlag {
		os.Exit(measure(os.Args[2], os.Args[3:]))
	}
	var (
		bin    = flag.String("bin", "", "enrollbatch binary (default: build it)")
		which  = flag.String("scenario", "pacing", "window, unknown, shortwindow, bucket, backtoback, backtoback-norecord, burst, lift, faults, overhead, memory, reprint, tenants, pacing (window, unknown, bucket, backtoback, burst, lift) or all")
		sizes  = flag.String("sizes", "", "row counts, comma-separated (window default 50,80,300,1000; memory default 10000,50000,100000; overhead default 2000); tenants: TENANTSxROWS, default 1x40,50x40,500x10")
		repeat = flag.Int("repeat", 1, "runs of each scenario (of each size, for window)")
		prof   = flag.String("profile", "", "tenants: run 50 tenants × 40 rows (or the one -sizes) once with --cpuprofile and --memprofile into this folder, instead of the table")
		extra  = flag.String("args", "", "tenants: more arguments of enrollbatch run, space-separated (e.g. \"--tenant-concurrency 16\")")
		env    = flag.String("env", "", "tenants: more environment of enrollbatch, comma-separated (e.g. GOMEMLIMIT=200MiB)")
		lat    = flag.Duration("latency", latency, "tenants: the simulated cloud's latency per request")
		format = flag.String("format", "csv", "tenants: the sheet's format, csv or xlsx")
	)
	flag.Parse()
	if *format != "csv" && *format != "xlsx" {
		fmt.Fprintln(os.Stderr, "bench: -format: use csv or xlsx")
		os.Exit(2)
	}
	tenantOpts = tenantsOptions{args: strings.Fields(*extra), env: splitList(*env), latency: *lat, format: *format}
	if err := run(*bin, *which, *sizes, *repeat, *prof); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// simRun is what one run against a simulator saw.
type simRun struct {
	wall             time.Duration // process (or loop) start to end
	firstReq         time.Time     // first request that reached the simulator
	firstWrite       time.Time     // first create
	first429         time.Time     // first 429 answered
	lastCreate       time.Time     // last 201 of a create
	created          int           // 201s of creates
	createdBefore429 int           // 201s of creates answered before the first 429
	maxRSS           int64         // KiB, for processes
	stats            sim.Stats
	results          []results.Result
	tenant           int
	exit             int
	stderr           string
}

// createSpan is the time from the tool's first request to the last
// profile created: the part of a run that pacing decides.
func (r simRun) createSpan() time.Duration { return r.lastCreate.Sub(r.firstReq) }

// perSecondAfter429 is profiles created per second from the first 429 to
// the last creation.
func (r simRun) perSecondAfter429() float64 {
	if r.first429.IsZero() {
		return 0
	}
	return float64(r.created-r.createdBefore429) / r.lastCreate.Sub(r.first429).Seconds()
}

// recorder wraps the simulator to time what reached it.
type recorder struct {
	sim  *sim.Server
	gate *limitGate // a limit in front of the simulator (nil: none)
	mu   sync.Mutex
	r    simRun
	// every write that reached the service (the gate or the simulator),
	// in arrival order, with its status: the windows count them all
	writes []arrival
}

// arrival is a request as the service saw it.
type arrival struct {
	at     time.Time
	status int
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if rc.gate != nil && rc.gate.refuse(w, r, now) {
		rc.mu.Lock()
		rc.writes = append(rc.writes, arrival{now, http.StatusTooManyRequests})
		rc.mu.Unlock()
		return
	}
	rc.mu.Lock()
	if rc.r.firstReq.IsZero() {
		rc.r.firstReq = now
	}
	isCreate := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "androidDeviceOwnerEnrollmentProfiles")
	if isCreate && rc.r.firstWrite.IsZero() {
		rc.r.firstWrite = now
	}
	rc.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w}
	rc.sim.ServeHTTP(rec, r)
	done := time.Now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if write {
		rc.writes = append(rc.writes, arrival{now, rec.status})
	}
	switch {
	case rec.status == http.StatusTooManyRequests && rc.r.first429.IsZero():
		rc.r.first429 = done
		rc.r.createdBefore429 = rc.r.created
	case rec.status == http.StatusCreated && isCreate:
		rc.r.created++
		rc.r.lastCreate = done
	}
}

// serve starts opts' simulator on a loopback port.
func serve(opts sim.Options) (*recorder, string, func(), error) {
	opts.OmitImage = true // the service renders images on its side, not on this machine
	rc := &recorder{sim: sim.New(opts)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	hs := &http.Server{Handler: rc}
	go hs.Serve(ln)
	return rc, "http://" + ln.Addr().String() + "/beta", func() { hs.Close() }, nil
}

// intune is the simulator of the documented window: 100 writes and 1000
// requests per sliding 20 s, 50 ms latency, whole-second Retry-After.
func intune() sim.Options {
	return sim.Options{Limit: intuneRequests, Window: intuneWindow, WriteLimit: intuneWrites, WriteWindow: intuneWindow, Latency: latency}
}

// writeInput writes rows rows of CSV input.
func writeInput(path, tag string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("displayName,description,tokenExpirationDateTime,Site\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(w, "Bench %s %06d,Handheld scanner,2027-06-30,Site %d\n", tag, i, i%40)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runBinary runs enrollbatch run against opts' simulator.
func runBinary(bin, tmp, tag string, rows int, opts sim.Options, args ...string) (simRun, error) {
	dir, err := os.MkdirTemp(tmp, tag)
	if err != nil {
		return simRun{}, err
	}
	defer os.RemoveAll(dir)
	rc, url, stop, err := serve(opts)
	if err != nil {
		return simRun{}, err
	}
	defer stop()
	r, err := runOn(bin, dir, dir, tag, rows, rc, url, args...)
	if err != nil {
		return r, err
	}
	ok := 0
	for _, res := range r.results {
		if res.Status == results.Created && res.ID != "" {
			ok++
		}
	}
	if ok != rows || r.tenant != rows {
		return r, fmt.Errorf("%d of %d rows created with an id, %d profiles in the tenant (stderr: %s)", ok, rows, r.tenant, tail(r.stderr))
	}
	return r, nil
}

// runOn runs enrollbatch run over rows rows named by tag against the
// simulator rc serves at url, with HOME (where the tenant's lock and
// window record live) at home and its files in a new folder under dir. The
// recorder's timings start afresh; the simulator's stats are those of this
// run.
func runOn(bin, dir, home, tag string, rows int, rc *recorder, url string, args ...string) (simRun, error) {
	dir, err := os.MkdirTemp(dir, "run")
	if err != nil {
		return simRun{}, err
	}
	in := filepath.Join(dir, "in.csv")
	if err := writeInput(in, tag, rows); err != nil {
		return simRun{}, err
	}
	rc.mu.Lock()
	rc.r = simRun{}
	rc.mu.Unlock()
	rc.sim.ResetStats()
	out := filepath.Join(dir, "out")
	full := append([]string{"run", "--input", in, "--out", out, "--graph-url", url, "--progress", "never", "--log-format", "text"}, args...)
	cmd, rssFile := measured(dir, bin, full...)
	cmd.Env = []string{"GRAPH_ACCESS_TOKEN=bench", "PATH=" + os.Getenv("PATH"), "HOME=" + home}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return simRun{}, err
	}
	rc.mu.Lock()
	r := rc.r
	rc.mu.Unlock()
	r.wall = wall
	r.exit = cmd.ProcessState.ExitCode()
	r.stderr = stderr.String()
	r.stats = rc.sim.Stats()
	if rc.gate != nil {
		r.stats.InsideRetryAfter += rc.gate.insideCount()
		r.stats.Throttled += rc.gate.refusedCount()
	}
	r.tenant = len(rc.sim.Profiles())
	r.maxRSS = readRSS(rssFile)
	if _, r.results, err = output.ReadWorkbook(filepath.Join(out, "results.xlsx")); err != nil {
		return r, fmt.Errorf("read results: %w (stderr: %s)", err, tail(r.stderr))
	}
	return r, nil
}

// measureFlag makes the bench binary run a command and write its peak RSS
// to a file (see measured).
const measureFlag = "-measure-rss"

// measured is the command that runs bin with args through a small process
// of this binary, which writes bin's peak RSS to the returned file. Linux
// counts in a child's peak RSS the peak of the process it was started from
// (the child shares its memory until it runs exec), and this bench holds
// the simulator's tenant: started from here, enrollbatch would report the
// bench's own peak. Started from the small process, it reports its own.
func measured(dir, bin string, args ...string) (*exec.Cmd, string) {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	f, err := os.CreateTemp(dir, "rss-*")
	name := ""
	if err == nil {
		name = f.Name()
		f.Close()
	}
	return exec.Command(self, append([]string{measureFlag, name, bin}, args...)...), name
}

// measure runs args[0] with the rest as its arguments, passing the
// standard streams and the environment through, writes its peak RSS (KiB)
// and the CPU time it used (ms, user and system) to rssFile and returns
// its exit code.
func measure(rssFile string, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 125
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	os.WriteFile(rssFile, []byte(strconv.FormatInt(maxRSS(cmd.ProcessState), 10)+" "+strconv.FormatInt(cpu.Milliseconds(), 10)), 0o600)
	return cmd.ProcessState.ExitCode()
}

// readRSS reads the peak RSS measure wrote; 0 when it wrote nothing.
func readRSS(path string) int64 { return readMeasured(path, 0) }

// readCPU reads the CPU time measure wrote; 0 when it wrote nothing.
func readCPU(path string) time.Duration {
	return time.Duration(readMeasured(path, 1)) * time.Millisecond
}

// readMeasured reads field i of what measure wrote; 0 when there is none.
func readMeasured(path string, i int) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if i >= len(f) {
		return 0
	}
	n, _ := strconv.ParseInt(f[i], 10, 64)
	return n
}

// processRun is one command run as a process.
type processRun struct {
	what   string
	wall   time.Duration
	maxRSS int64 // KiB
	note   string
}

// reprintAndExport runs enrollbatch run over rows rows, then reprints its
// results with qr --results and exports the tenant it filled, each as a
// process of its own.
func reprintAndExport(bin, tmp string, rows int) ([]processRun, error) {
	dir, err := os.MkdirTemp(tmp, "reprint")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.csv")
	if err := writeInput(in, "reprint", rows); err != nil {
		return nil, err
	}
	rc, url, stop, err := serve(sim.Options{})
	if err != nil {
		return nil, err
	}
	defer stop()
	out := filepath.Join(dir, "out")
	env := []string{"GRAPH_ACCESS_TOKEN=bench", "PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	runCmd := func(what string, args ...string) (processRun, error) {
		cmd, rssFile := measured(dir, bin, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return processRun{}, fmt.Errorf("%s: %w (stderr: %s)", what, err, tail(stderr.String()))
		}
		return processRun{what: what, wall: time.Since(start), maxRSS: readRSS(rssFile)}, nil
	}
	if _, err := runCmd("run", "run", "--input", in, "--out", out, "--graph-url", url, "--progress", "never",
		"--write-budget", "0", "--request-budget", "0", "--concurrency", "16"); err != nil {
		return nil, err
	}
	if n := len(rc.sim.Profiles()); n != rows {
		return nil, fmt.Errorf("%d profiles for %d rows", n, rows)
	}
	qr, err := runCmd("qr --results", "qr", "--results", filepath.Join(out, "results.xlsx"), "--out", filepath.Join(dir, "reprint.pdf"))
	if err != nil {
		return nil, err
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "reprint*.pdf"))
	qr.note = fmt.Sprintf("%d label(s) in %d file(s)", rows, len(parts))
	exp, err := runCmd("export", "export", "--graph-url", url, "--out", filepath.Join(dir, "export.xlsx"))
	if err != nil {
		return nil, err
	}
	exported, err := input.Read(filepath.Join(dir, "export.xlsx"), input.Options{})
	if err != nil {
		return nil, fmt.Errorf("read the export: %w", err)
	}
	if len(exported.Rows) != rows {
		return nil, fmt.Errorf("export: %d rows for %d profiles", len(exported.Rows), rows)
	}
	exp.note = fmt.Sprintf("%d profile(s) exported", len(exported.Rows))
	return []processRun{qr, exp}, nil
}

// naiveLoop is the script people write, to compare with: 8 requests at a time,
// and a 5 s sleep after a 429 before the same create is sent again.
func naiveLoop(rows int, opts sim.Options) (simRun, error) {
	rc, url, stop, err := serve(opts)
	if err != nil {
		return simRun{}, err
	}
	defer stop()
	coll := url + "/deviceManagement/androidDeviceOwnerEnrollmentProfiles"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	next := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var errMu sync.Mutex
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := range next {
				body := fmt.Sprintf(`{"displayName":"Bench naive %06d","description":"Handheld scanner","tokenExpirationDateTime":"2027-06-30T00:00:00Z"}`, i)
				for {
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, coll, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer bench")
					resp, err := hc.Do(req)
					if err != nil {
						errMu.Lock()
						firstErr = err
						errMu.Unlock()
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusTooManyRequests {
						time.Sleep(5 * time.Second)
						continue
					}
					break
				}
			}
		})
	}
	for i := 1; i <= rows; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return simRun{}, firstErr
	}
	rc.mu.Lock()
	r := rc.r
	rc.mu.Unlock()
	r.wall = time.Since(start)
	r.stats = rc.sim.Stats()
	r.tenant = len(rc.sim.Profiles())
	if r.tenant != rows {
		return r, fmt.Errorf("naive loop: %d profiles for %d rows", r.tenant, rows)
	}
	return r, nil
}

// idealWindow is the least time the documented window allows for rows
// creates when it starts empty: one window per full budget before the last
// one, plus one latency.
func idealWindow(rows int) time.Duration {
	return time.Duration((rows+intuneWrites-1)/intuneWrites-1)*intuneWindow + latency
}

type table struct{ failed int }

func (t *table) header(cols ...string) {
	fmt.Println()
	fmt.Println("| " + strings.Join(cols, " | ") + " |")
	fmt.Println("|" + strings.Repeat("---|", len(cols)))
}

func (t *table) row(missed error, cells ...string) {
	if missed != nil {
		cells[len(cells)-1] += " — MISSED: " + missed.Error()
		t.failed++
	}
	fmt.Println("| " + strings.Join(cells, " | ") + " |")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func run(bin, which, sizes string, repeat int, profile string) error {
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
	want := func(name string) bool {
		pacing := name == "window" || name == "unknown" || name == "bucket" || name == "backtoback" || name == "burst" || name == "lift"
		return which == "all" || which == name || (which == "pacing" && pacing)
	}
	parse := func(def string) ([]int, error) {
		s := sizes
		if s == "" {
			s = def
		}
		var out []int
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-sizes %q: use row counts such as 50,80,300", s)
			}
			out = append(out, n)
		}
		return out, nil
	}
	t := &table{}
	if want("window") {
		ns, err := parse("50,80,300,1000")
		if err != nil {
			return err
		}
		fmt.Printf("\n**window**: the simulator allows %d writes and %d requests per sliding %v, %v latency; enrollbatch with default flags (binary as a process) against the naive loop (8 at a time, sleep 5 s on a 429). Span: first request to last profile created, measured by the simulator.\n", intuneWrites, intuneRequests, intuneWindow, latency)
		t.header("rows", "enrollbatch wall", "enrollbatch span", "ideal", "span / ideal", "naive span", "naive / enrollbatch", "requests", "429s", "inside Retry-After", "duplicates", "peak RSS", "result")
		for _, n := range ns {
			for i := 1; i <= repeat; i++ {
				ours, err := runBinary(bin, tmp, "window", n, intune())
				if err != nil {
					return fmt.Errorf("window %d: %w", n, err)
				}
				naive, err := naiveLoop(n, intune())
				if err != nil {
					return fmt.Errorf("window %d: %w", n, err)
				}
				ideal := idealWindow(n)
				ratio := naive.createSpan().Seconds() / ours.createSpan().Seconds()
				var missed []string
				if n <= 80 && ours.wall > 3*time.Second {
					missed = append(missed, "over 3 s")
				}
				if n >= 200 && ours.createSpan() > ideal+ideal/10 {
					missed = append(missed, "more than 10% over ideal")
				}
				if ratio < 1 {
					missed = append(missed, "slower than the naive loop")
				}
				if ours.stats.InsideRetryAfter > 0 || ours.stats.Duplicates > 0 {
					missed = append(missed, "requests inside Retry-After or duplicates")
				}
				var merr error
				if len(missed) > 0 {
					merr = errors.New(strings.Join(missed, ", "))
				}
				t.row(merr, strconv.Itoa(n), secs(ours.wall), secs(ours.createSpan()), secs(ideal),
					fmt.Sprintf("%.2f", ours.createSpan().Seconds()/ideal.Seconds()), secs(naive.createSpan()),
					fmt.Sprintf("%.2f", ratio), strconv.Itoa(ours.stats.Requests), strconv.Itoa(ours.stats.Throttled),
					strconv.Itoa(ours.stats.InsideRetryAfter), strconv.Itoa(ours.stats.Duplicates), fmt.Sprintf("%d MiB", ours.maxRSS/1024),
					fmt.Sprintf("run %d; naive: %d requests, %d 429s", i, naive.stats.Requests, naive.stats.Throttled))
			}
		}
	}
	limitRuns := func(name, desc string, rows int, opts sim.Options, limit float64, target float64, from429 bool, args ...string) error {
		fmt.Printf("\n**%s**: %s; `%s`, %d rows, %d run(s).\n", name, desc, strings.Join(append([]string{"enrollbatch run"}, args...), " "), rows, repeat)
		t.header("run", "wall", "created/s", "of the limit", "requests", "429s", "inside Retry-After", "duplicates", "result")
		for i := 1; i <= repeat; i++ {
			r, err := runBinary(bin, tmp, name, rows, opts, args...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			var rate float64
			if from429 {
				rate = r.perSecondAfter429()
			} else {
				rate = float64(r.created-1) / r.lastCreate.Sub(r.firstWrite).Seconds()
			}
			var merr error
			if rate/limit < target || r.stats.InsideRetryAfter > 0 || r.stats.Duplicates > 0 {
				merr = fmt.Errorf("below %.2f of the limit, or requests inside Retry-After, or duplicates", target)
			}
			what := "from the first create"
			if from429 {
				what = "from the first 429"
			}
			t.row(merr, strconv.Itoa(i), secs(r.wall), fmt.Sprintf("%.2f", rate), fmt.Sprintf("%.3f", rate/limit),
				strconv.Itoa(r.stats.Requests), strconv.Itoa(r.stats.Throttled), strconv.Itoa(r.stats.InsideRetryAfter),
				strconv.Itoa(r.stats.Duplicates), what)
		}
		return nil
	}
	if want("unknown") {
		opts := sim.Options{WriteLimit: 20, WriteWindow: intuneWindow, Limit: intuneRequests, Window: intuneWindow, Latency: latency}
		if err := limitRuns("unknown", "another app leaves this one 20 writes per sliding 20 s (1 per second), five times below `--rate 5` and the default budget", 200, opts, 1, 0.95, true, "--rate", "5"); err != nil {
			return err
		}
	}
	if want("shortwindow") {
		opts := sim.Options{Limit: 4, Window: time.Second, Latency: latency}
		if err := limitRuns("shortwindow", "the simulator allows 4 requests per sliding 1 s, five times below `--rate 20`", 240, opts, 4, 0.95, true, "--rate", "20"); err != nil {
			return err
		}
	}
	if want("bucket") {
		opts := sim.Options{BucketRate: 4, BucketBurst: 10, Latency: latency}
		if err := limitRuns("bucket", "a token bucket of 4 requests per second, bursts of 10, instead of a window; default flags", 300, opts, 4, 0.9, false); err != nil {
			return err
		}
	}
	if err := sharedWindow(bin, tmp, repeat, want, t); err != nil {
		return err
	}
	if want("faults") {
		opts := sim.Options{Fail503: 0.05, Fail504AfterCreate: 0.03, DropAfterCreate: 0.03, Seed: 7}
		fmt.Println("\n**faults**: 5% 503, 3% 504 after the create, 3% dropped connections after the create; no limit.")
		t.header("rows", "wall", "requests", "503s", "504s", "duplicates", "result")
		r, err := runBinary(bin, tmp, "faults", 300, opts, "--write-budget", "0", "--request-budget", "0")
		if err != nil {
			return fmt.Errorf("faults: %w", err)
		}
		var merr error
		if r.stats.Duplicates > 0 {
			merr = errors.New("duplicates")
		}
		t.row(merr, "300", secs(r.wall), strconv.Itoa(r.stats.Requests), strconv.Itoa(r.stats.Status[503]), strconv.Itoa(r.stats.Status[504]),
			strconv.Itoa(r.stats.Duplicates), "every row created exactly once, with its id in the results")
	}
	for _, name := range []string{"overhead", "memory"} {
		if !want(name) {
			continue
		}
		def := "2000"
		if name == "memory" {
			def = "10000,50000,100000"
		}
		ns, err := parse(def)
		if err != nil {
			return err
		}
		fmt.Printf("\n**%s**: no latency, no limit (`--write-budget 0 --request-budget 0 --concurrency 16`), input to PDF; peak RSS of the process.\n", name)
		t.header("run", "rows", "wall", "rows/s", "peak RSS", "result")
		for i := 1; i <= repeat; i++ {
			rss := map[int]int64{}
			for _, n := range ns {
				r, err := runBinary(bin, tmp, name, n, sim.Options{}, "--write-budget", "0", "--request-budget", "0", "--concurrency", "16")
				if err != nil {
					return fmt.Errorf("%s %d: %w", name, n, err)
				}
				rss[n] = r.maxRSS
				var merr error
				if name == "memory" && n <= 50000 && r.maxRSS >= 256*1024 {
					merr = errors.New("256 MiB or more")
				}
				t.row(merr, strconv.Itoa(i), strconv.Itoa(n), secs(r.wall), fmt.Sprintf("%.0f", float64(n)/r.wall.Seconds()), fmt.Sprintf("%d MiB", r.maxRSS/1024), "every row created")
			}
			if name == "memory" && rss[10000] > 0 && rss[100000] > 0 {
				growth := float64(rss[100000]-rss[10000]) / float64(rss[10000])
				var merr error
				if growth >= 0.10 {
					merr = errors.New("10% or more")
				}
				t.row(merr, strconv.Itoa(i), "10000 → 100000", "", "", fmt.Sprintf("%+.1f%%", 100*growth), "peak RSS growth")
			}
		}
	}
	if want("reprint") {
		ns, err := parse("20000")
		if err != nil {
			return err
		}
		fmt.Println("\n**reprint**: `enrollbatch qr --results` of a run's results.xlsx, and `enrollbatch export` of the tenant the run filled; peak RSS of each process.")
		t.header("run", "rows", "command", "wall", "peak RSS", "result")
		for i := 1; i <= repeat; i++ {
			for _, n := range ns {
				rows, err := reprintAndExport(bin, tmp, n)
				if err != nil {
					return fmt.Errorf("reprint %d: %w", n, err)
				}
				for _, r := range rows {
					var merr error
					if r.maxRSS >= 256*1024 {
						merr = errors.New("256 MiB or more")
					}
					t.row(merr, strconv.Itoa(i), strconv.Itoa(n), r.what, secs(r.wall), fmt.Sprintf("%d MiB", r.maxRSS/1024), r.note)
				}
			}
		}
	}
	if want("tenants") {
		if err := tenantsScenario(bin, tmp, sizes, repeat, profile, t); err != nil {
			return err
		}
	}
	if t.failed > 0 {
		return fmt.Errorf("%d row(s) missed their target", t.failed)
	}
	return nil
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
