package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/results"
)

// syncBuffer is a buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls cond while a process works (there is no clock to fake
// across processes); it kills cmd and fails the test after 20 s.
func waitFor(t *testing.T, cmd *exec.Cmd, stderr fmt.Stringer, what string, cond func() bool) {
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

// startIn starts the built binary with a Graph token and cache as its
// user's cache folder (where the tenant locks live).
func startIn(t *testing.T, cache string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"GRAPH_ACCESS_TOKEN=t", "PATH=" + os.Getenv("PATH"), "HOME=" + cache, "XDG_CACHE_HOME=" + cache}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, stderr
}

// exitCode waits for cmd and returns its exit code.
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

// TestLocksKeepRunsApart holds a run in its listing and starts others: on
// the same folder, and on another folder against the same tenant. Both exit
// 2 naming the holder's pid and send nothing.
func TestLocksKeepRunsApart(t *testing.T) {
	t.Parallel()
	s, listing, url := gatedSimServer(t, sim.Options{})
	in := writeNames(t, 2, "Door %d")
	out := t.TempDir()
	cache := t.TempDir()
	holder, herr := startIn(t, cache, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0")
	waitFor(t, holder, herr, "the listing", listing.holding)
	pid := fmt.Sprintf("another run (pid %d) holds ", holder.Process.Pid)
	cases := []struct {
		name, out, cache, says string
	}{
		{"same folder", out, t.TempDir(), filepath.Join(out, ".enrollbatch.lock")},
		{"same tenant, other folder", t.TempDir(), cache, "two runs against one tenant could create profiles twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.Stats().Requests
			cmd, stderr := startIn(t, c.cache, "run", "--graph-url", url, "--input", in, "--out", c.out, "--rate", "0")
			if code := exitCode(t, cmd); code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, stderr)
			}
			for _, want := range []string{pid, c.says} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if got := s.Stats().Requests - before; got != 0 {
				t.Errorf("the refused run sent %d request(s)", got)
			}
		})
	}
	listing.open()
	if code := exitCode(t, holder); code != 0 {
		t.Fatalf("holder exit %d:\n%s", code, herr)
	}
	if _, err := os.Stat(filepath.Join(out, ".enrollbatch.lock")); !os.IsNotExist(err) {
		t.Errorf("the run left the lock file it created: %v", err)
	}
}

// TestLockNeverDestroysAFile points --lock at the input file: the run is
// refused before any request, and the file is left as it was.
func TestLockNeverDestroysAFile(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{})
	in := writeNames(t, 3, "Till %d")
	want, _ := os.ReadFile(in)
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", t.TempDir(), "--lock", in)
	if code != 2 || !strings.Contains(stderr, "is not an enrollbatch lock file") {
		t.Fatalf("exit %d, want 2 refusing the lock path:\n%s", code, stderr)
	}
	if got, err := os.ReadFile(in); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("input file changed: %q, %v", got, err)
	}
	if n := s.Stats().Requests; n != 0 {
		t.Errorf("%d request(s) sent", n)
	}
}

// TestFiveConcurrentStarts starts five runs at once, many times: exactly one
// goes ahead each time. Even rounds share the output folder (each run has
// its own cache folder); odd rounds share the tenant (each run has its own
// output folder). Each round has a simulator and folders of its own, so a
// few rounds run at a time.
func TestFiveConcurrentStarts(t *testing.T) {
	t.Parallel()
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	const together = 3
	in := writeNames(t, 1, "Kiosk %d")
	for first := 0; first < rounds; first += together {
		var wg sync.WaitGroup
		for round := first; round < min(first+together, rounds); round++ {
			wg.Go(func() {
				t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) { fiveConcurrentStarts(t, in, round) })
			})
		}
		wg.Wait()
	}
}

// fiveConcurrentStarts is one round of TestFiveConcurrentStarts. The first
// request, the listing of the run that took the locks, is held until four
// runs have exited (or 20 s passed), so that the four others try the locks
// while it holds them, however slowly a busy machine starts them. A second
// run that went ahead would send its listing and finish meanwhile, and be
// counted.
func fiveConcurrentStarts(t *testing.T, in string, round int) {
	s, listing, url := gatedSimServer(t, sim.Options{})
	out, cache := t.TempDir(), t.TempDir()
	cmds := make([]*exec.Cmd, 5)
	errs := make([]*syncBuffer, 5)
	for i := range cmds {
		o, c := out, cache
		if round%2 == 0 {
			c = t.TempDir()
		} else {
			o = t.TempDir()
		}
		cmds[i], errs[i] = startIn(t, c, "run", "--graph-url", url, "--input", in, "--out", o, "--rate", "0")
	}
	codes := make([]int, 5)
	exited := make(chan struct{}, len(cmds))
	var wg sync.WaitGroup
	for i := range cmds {
		wg.Go(func() {
			codes[i] = exitCode(t, cmds[i])
			exited <- struct{}{}
		})
	}
	timeout := time.After(20 * time.Second)
wait:
	for range len(cmds) - 1 {
		select {
		case <-exited:
		case <-timeout:
			break wait
		}
	}
	listing.open()
	wg.Wait()
	went, refused := 0, 0
	for i, code := range codes {
		switch {
		case code == 0:
			went++
		case code == 2 && strings.Contains(errs[i].String(), "holds"):
			refused++
		default:
			t.Errorf("round %d: exit %d:\n%s", round, code, errs[i])
		}
	}
	st := s.Stats()
	if went != 1 || refused != 4 || st.Lists != 1 || st.Creates != 1 || st.Duplicates != 0 {
		t.Fatalf("round %d: %d went ahead, %d refused; the service saw %d listing(s), %d create(s), %d duplicate(s); want 1, 4, 1, 1, 0", round, went, refused, st.Lists, st.Creates, st.Duplicates)
	}
}

// TestLockOfDeadRunInOtherPIDNamespace: a run in a container is pid 1, which
// is alive in every namespace. Its lock, left when it is killed, must not
// block the next run.
func TestLockOfDeadRunInOtherPIDNamespace(t *testing.T) {
	t.Parallel()
	if err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true").Run(); err != nil {
		t.Skipf("cannot make a pid namespace here (unshare --pid --fork --mount-proc: %v); needs util-linux and root or user namespaces", err)
	}
	s, url := simServer(t, sim.Options{Latency: 3 * time.Second})
	in := writeNames(t, 2, "Gate %d")
	out := t.TempDir()
	cache := t.TempDir()
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
		binary, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0")
	cmd.Env = []string{"GRAPH_ACCESS_TOKEN=t", "PATH=" + os.Getenv("PATH"), "HOME=" + cache, "XDG_CACHE_HOME=" + cache}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(out, ".enrollbatch.lock")
	pid1 := regexp.MustCompile(`(?m)^pid 1 *$`)
	waitUntil(t, cmd, stderr, "the lock held by pid 1", func() bool {
		data, _ := os.ReadFile(lockPath)
		return pid1.Match(data) && s.Stats().Lists >= 1
	})
	cmd.Process.Kill() // unshare's child, pid 1 in its namespace, dies with it
	cmd.Wait()
	if data, err := os.ReadFile(lockPath); err != nil || !pid1.Match(data) {
		t.Fatalf("the lock file should still name pid 1 (alive in every namespace): %q, %v", data, err)
	}
	// The child's death is delivered as a signal: wait until its files are
	// closed, without touching the file.
	deadline := time.Now().Add(10 * time.Second)
	for fl := flock.New(lockPath, flock.SetFlag(os.O_RDWR)); ; {
		if ok, err := fl.TryLock(); err == nil && ok {
			fl.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed run's lock was never released")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s2, url2 := simServer(t, sim.Options{})
	code, _, serr := run(t, []string{"GRAPH_ACCESS_TOKEN=t", "XDG_CACHE_HOME=" + cache}, "run", "--graph-url", url2, "--input", in, "--out", out, "--rate", "0")
	if code != 0 {
		t.Fatalf("run after the killed one: exit %d, want 0:\n%s", code, serr)
	}
	if got := statuses(readResults(t, filepath.Join(out, "results.xlsx")))[results.Created]; got != 2 || s2.Stats().Created != 2 {
		t.Errorf("%d created, want 2", got)
	}
}
