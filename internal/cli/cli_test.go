package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// binary is the enrollbatch binary built once for the tests that need a
// real process (signals, exit codes).
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	setDefaultParallel()
	// The tests work from the module's root, as a person at a checkout
	// does: the samples, the docs and the Containerfile are there, and the
	// program is built from there.
	if err := os.Chdir(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "enrollbatch-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "enrollbatch")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the built binary with args and env and returns its exit code,
// stdout and stderr.
func run(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

// start starts the built binary with args and a Graph token, returning the
// process and its stderr so far, which the test may read while the process
// writes it. Like run, it gives the process a home and cache folder of its
// own, so that its tenant lock and font index are its own (startIn shares
// a cache folder on purpose).
func start(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	home := t.TempDir()
	cmd.Env = []string{"GRAPH_ACCESS_TOKEN=t", "PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, ".cache")}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr
}

// waitUntil polls cond while a real process works (there is no clock to
// fake across processes); it kills cmd and fails the test after 20 s.
func waitUntil(t *testing.T, cmd *exec.Cmd, stderr fmt.Stringer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%s never happened:\n%s", what, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeNames writes a CSV with a displayName column and n rows named
// format(i) for i in 1..n, and returns its path.
func writeNames(t *testing.T, n int, format string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("displayName\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, format+"\n", i)
	}
	path := filepath.Join(t.TempDir(), "names.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func simServer(t *testing.T, o sim.Options) (*sim.Server, string) {
	t.Helper()
	s := sim.New(o)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs.URL + "/beta"
}

func readResults(t *testing.T, path string) []results.Result {
	t.Helper()
	_, rs, err := output.ReadWorkbook(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rs
}

func statuses(rs []results.Result) map[results.Status]int { return results.Counts(rs) }

func TestSampleRunSimulate(t *testing.T) {
	t.Parallel()
	for _, sample := range []string{"samples/profiles.csv", "samples/profiles.xlsx"} {
		t.Run(filepath.Ext(sample), func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			code, _, stderr := run(t, nil, "run", "--input", sample, "--simulate", "--out", out, "--rate", "0", "--label-columns", "Site")
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			for _, f := range []string{"results.xlsx", "qr-codes.pdf"} {
				fi, err := os.Stat(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
				}
			}
			rs := readResults(t, filepath.Join(out, "results.xlsx"))
			if len(rs) == 0 || statuses(rs)[results.Created] != len(rs) {
				t.Fatalf("statuses %v over %d rows, want all created", statuses(rs), len(rs))
			}
			for _, r := range rs {
				if r.ID == "" || r.QRCodeContent == "" || r.TokenExpiration.IsZero() {
					t.Errorf("row %d: id %q, content %d bytes, expiry %v", r.Row, r.ID, len(r.QRCodeContent), r.TokenExpiration)
				}
			}
			if !strings.Contains(stderr, "created") {
				t.Errorf("summary missing from stderr:\n%s", stderr)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	_, url := simServer(t, sim.Options{})
	_, furl := simServer(t, sim.Options{Authorize: func(string) int { return http.StatusForbidden }})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("displayName,tokenExpirationDateTime\nKiosk A,2027-01-31\nKiosk B,31.02.2026\n"), 0o600)
	noName := filepath.Join(dir, "noname.csv")
	os.WriteFile(noName, []byte("description\nx\n"), 0o600)
	tok := []string{"GRAPH_ACCESS_TOKEN=test-token"}
	cases := []struct {
		name string
		env  []string
		args []string
		want int
		says string
	}{
		{"no command", nil, nil, 2, "no command"},
		{"unknown flag", nil, []string{"run", "--bogus"}, 2, "bogus"},
		{"missing input", nil, []string{"run", "--simulate", "--input", filepath.Join(dir, "nope.csv")}, 2, "nope.csv"},
		{"no displayName column", nil, []string{"run", "--simulate", "--input", noName, "--out", t.TempDir()}, 2, "displayName"},
		{"no credentials", nil, []string{"run", "--input", "samples/profiles.csv", "--out", t.TempDir()}, 2, "--simulate"},
		{"unknown cloud", nil, []string{"run", "--input", "samples/profiles.csv", "--cloud", "mars", "--out", t.TempDir()}, 2, "usgov"},
		{"bad on-exists", nil, []string{"run", "--simulate", "--input", bad, "--on-exists", "maybe"}, 2, "on-exists"},
		{"invalid row", tok, []string{"run", "--graph-url", url, "--input", bad, "--out", t.TempDir(), "--rate", "0"}, 1, "invalid 1"},
		{"forbidden", tok, []string{"run", "--graph-url", furl, "--input", bad, "--out", t.TempDir(), "--rate", "0"}, 3, "DeviceManagementConfiguration.ReadWrite.All"},
		{"validate bad", nil, []string{"validate", "--input", bad}, 1, `row 3, tokenExpirationDateTime: "31.02.2026"`},
		{"validate sample", nil, []string{"validate", "--input", "samples/profiles.csv"}, 0, "0 invalid"},
		{"help", nil, []string{"run", "--help"}, 0, "-concurrency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, c.env, c.args...)
			if code != c.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.want, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, c.says) {
				t.Errorf("output does not mention %q\nstdout:\n%s\nstderr:\n%s", c.says, stdout, stderr)
			}
		})
	}
}

func TestRerunReportsExistsAndRemovesStaleSheet(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{})
	out := t.TempDir()
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("first run exit %d:\n%s", code, stderr)
	}
	created := s.Stats().Created
	posts := s.Stats().Posts
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("second run exit %d:\n%s", code, stderr)
	}
	if s.Stats().Posts != posts {
		t.Errorf("rerun posted %d times", s.Stats().Posts-posts)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if got := statuses(rs)[results.Exists]; got != created {
		t.Errorf("rerun: %v, want %d exists", statuses(rs), created)
	}
	// The earlier results in the folder still hold the codes: the rerun's
	// sheet prints them again, and its results say so.
	carried := 0
	for _, r := range rs {
		if r.QRCodeContent != "" && slices.Contains(r.Notes, output.CarriedNote) {
			carried++
		}
	}
	if carried != created {
		t.Errorf("%d codes carried over, want the %d the first run created", carried, created)
	}
	if _, err := os.Stat(filepath.Join(out, "qr-codes.pdf")); err != nil {
		t.Errorf("no sheet after the rerun: %v", err)
	}
	// Without them nothing is printable, and the old sheet goes.
	if err := os.Remove(filepath.Join(out, "results.xlsx")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("third run exit %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "qr-codes.pdf")); !os.IsNotExist(err) {
		t.Errorf("a QR sheet from the earlier run is left behind: %v", err)
	}
}

// TestSIGTERMMidRun stops the built binary in the middle of a run: the
// results must be complete, and a rerun must finish the rest without a
// duplicate.
func TestSIGTERMMidRun(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{Latency: 150 * time.Millisecond})
	const n = 40
	in := writeNames(t, n, "Till %02d")
	out := filepath.Join(t.TempDir(), "out")
	cmd, stderr := start(t, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--concurrency", "2")
	waitUntil(t, cmd, stderr, "4 creates", func() bool { return s.Stats().Created >= 4 })
	cmd.Process.Signal(syscall.SIGTERM)
	signalled := time.Now()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit after SIGTERM: %v, want 1\n%s", err, stderr.String())
	}
	if took := time.Since(signalled); took > 5*time.Second {
		t.Errorf("took %v to stop", took)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if len(rs) != n {
		t.Fatalf("%d results, want %d", len(rs), n)
	}
	inTenant := map[string]string{}
	for _, p := range s.Profiles() {
		inTenant[p.DisplayName] = p.ID
	}
	c := statuses(rs)
	if c[results.Created] == 0 || c[results.NotAttempted] == 0 || c[results.Created]+c[results.NotAttempted] != n {
		t.Fatalf("statuses after SIGTERM: %v", c)
	}
	for _, r := range rs {
		id, there := inTenant[r.DisplayName]
		switch r.Status {
		case results.Created:
			if !there || id != r.ID {
				t.Errorf("row %d created as %q, tenant has %q", r.Row, r.ID, id)
			}
		case results.NotAttempted:
			if there {
				t.Errorf("row %d not_attempted but in the tenant", r.Row)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "qr-codes.pdf")); err != nil {
		t.Errorf("no QR sheet for the created profiles: %v", err)
	}

	code, _, serr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("rerun exit %d:\n%s", code, serr)
	}
	rs = readResults(t, filepath.Join(out, "results.xlsx"))
	c2 := statuses(rs)
	if c2[results.Exists] != c[results.Created] || c2[results.Created] != c[results.NotAttempted] {
		t.Errorf("rerun statuses %v after %v", c2, c)
	}
	if got := len(s.Profiles()); got != n {
		t.Errorf("tenant has %d profiles, want %d (no duplicates)", got, n)
	}
}

// TestKillThenRerun kills the binary with SIGKILL mid-run: nothing can be
// written then, but the tenant is the source of truth, and a rerun reports
// what was created as exists and creates only the rest.
//
// It does not run in parallel with other tests: how far the killed run's
// spool may lag the service is bounded only while the run gets the CPU it
// asks for.
func TestKillThenRerun(t *testing.T) {
	s, url := simServer(t, sim.Options{Latency: 100 * time.Millisecond, OmitImage: true})
	const n = 30
	in := writeNames(t, n, "Kiosk %02d")
	out := filepath.Join(t.TempDir(), "out")
	cmd, stderr := start(t, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--concurrency", "3")
	waitUntil(t, cmd, stderr, "5 creates", func() bool { return s.Stats().Created >= 5 })
	cmd.Process.Kill()
	cmd.Wait()
	before := len(s.Profiles())
	if before == 0 || before == n {
		t.Fatalf("%d profiles when killed; the test needs a run cut in the middle", before)
	}
	// The killed run's lock file is still there; the kernel released the
	// lock on it, so the rerun takes it at once.
	if _, err := os.Stat(filepath.Join(out, ".enrollbatch.lock")); err != nil {
		t.Fatalf("the killed run left no lock file: %v", err)
	}
	// The killed run's record: its spool, every row settled in input
	// order before the kill, each created one with its id.
	spools, _ := filepath.Glob(filepath.Join(out, results.SpoolPattern))
	if len(spools) != 1 {
		t.Fatalf("the killed run left %d spools, want 1", len(spools))
	}
	spooled, _, err := results.ReadSpool(spools[0])
	if err != nil {
		t.Fatal(err)
	}
	inTenant := map[string]bool{}
	for _, p := range s.Profiles() {
		inTenant[p.ID] = true
	}
	created := 0
	for _, r := range spooled {
		if r.Status == results.Created {
			created++
			if !inTenant[r.ID] || r.QRCodeContent == "" {
				t.Errorf("spooled row %d: id %q in the tenant %v, content %q", r.Row, r.ID, inTenant[r.ID], r.QRCodeContent)
			}
		}
	}
	// Rows settled after a row still in flight (its create answered, its
	// QR content being read back) wait for it, in input order: how many
	// wait depends on the machine's load, so what the spool misses is
	// bounded by what the rerun must settle, checked below, not by the
	// concurrency.
	if created == 0 || created > before {
		t.Errorf("the spool records %d created rows of the %d in the tenant", created, before)
	}
	code, _, rerr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0")
	if code != 0 {
		t.Fatalf("rerun exit %d: %s", code, rerr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	c := statuses(rs)
	// A create the server took before the kill may land after it was
	// counted: the rerun finds at least the profiles counted.
	if c[results.Exists] < before || c[results.Exists]+c[results.Created] != n || len(s.Profiles()) != n {
		t.Errorf("rerun %v after %d created; tenant has %d, want %d", c, before, len(s.Profiles()), n)
	}
	// The rerun took the spool's codes over and removed it.
	if !strings.Contains(rerr, "found "+spools[0]) {
		t.Errorf("the rerun did not say it found the spool:\n%s", rerr)
	}
	if left, _ := filepath.Glob(filepath.Join(out, results.SpoolPattern)); len(left) != 0 {
		t.Errorf("spools left after the rerun: %v", left)
	}
	carried := 0
	for _, r := range rs {
		if r.Status == results.Exists && r.QRCodeContent != "" && slices.Contains(r.Notes, output.CarriedNote) {
			carried++
		}
	}
	if carried != created {
		t.Errorf("%d rows carried their code over from the spool, want %d", carried, created)
	}
	if want := fmt.Sprintf("(%d label(s))", c[results.Created]+created); !strings.Contains(rerr, want) {
		t.Errorf("the rerun's sheet does not hold %s:\n%s", want, rerr)
	}
}

// TestSecondSignalCancelsRequestsInFlight sends two signals: the run stops
// without waiting out slow requests, still writes complete results, and
// marks the rows whose requests were cut off as possibly created.
func TestSecondSignalCancelsRequestsInFlight(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{Latency: 3 * time.Second, OmitImage: true})
	in := writeNames(t, 4, "Gate %d")
	out := filepath.Join(t.TempDir(), "out")
	cmd, stderr := start(t, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--concurrency", "2", "--request-timeout", "60s")
	// The listing takes 3 s too: wait until both creates are in flight.
	waitUntil(t, cmd, stderr, "2 creates in flight", func() bool { return s.Stats().Creates >= 2 })
	signalled := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	// A second signal sent before the first is handled may be merged
	// with it: send it once the run has said it is stopping.
	waitUntil(t, cmd, stderr, "the first signal handled", func() bool {
		return strings.Contains(stderr.String(), "stopping (signal terminated)")
	})
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if took := time.Since(signalled); took > 1500*time.Millisecond {
		t.Errorf("took %v to stop: the second signal did not cancel the 3 s requests", took)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want 1\n%s", err, stderr.String())
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
