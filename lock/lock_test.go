package lock

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAcquireHeldRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.lock")
	l, err := Acquire(path, "the output folder out")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", fi.Mode().Perm())
	}
	// The lock is on the open file, not the process: a second open in this
	// same process is refused like another process would be, and named.
	_, err = Acquire(path, "the output folder out")
	var held *HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second acquire: %v, want a HeldError naming pid %d", err, os.Getpid())
	}
	for _, want := range []string{"another run (pid ", path, "the output folder out", "wait for it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); removeOnRelease && !os.IsNotExist(err) {
		t.Errorf("the lock file this lock created is still there: %v", err)
	}
	l, err = Acquire(path, "")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	l.Release()
}

// TestNeverTouchesOtherFiles points the lock at files that are not lock
// files: each is refused and left byte for byte as it was.
func TestNeverTouchesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content string
	}{
		{"profiles.csv", "displayName,description\nKiosk 1,Leeds\n"},
		{"old-style.lock", "12345\n"},
		{"one-byte", "#"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, []byte(c.content), 0o640); err != nil {
				t.Fatal(err)
			}
			l, err := Acquire(path, "")
			var nl *NotLockError
			if !errors.As(err, &nl) {
				l.Release()
				t.Fatalf("acquire: %v, want a NotLockError", err)
			}
			if !strings.Contains(err.Error(), "give --lock a path of its own") {
				t.Errorf("message %q does not say what to do", err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != c.content {
				t.Errorf("file now %q (%v), want %q unchanged", got, err, c.content)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		_, err := Acquire(dir, "")
		var nl *NotLockError
		if !errors.As(err, &nl) {
			t.Fatalf("acquire a directory: %v, want a NotLockError", err)
		}
	})
}

// TestTakesLeftLocks: a lock file left by a run that died (its pid in it,
// whatever that pid is now) and an empty file are taken at once; neither is
// removed afterwards, since this lock did not create them.
func TestTakesLeftLocks(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"left.lock":  append([]byte("#"), record(1)...), // pid 1: always alive, as in a container
		"empty.lock": nil,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := Acquire(path, "")
			if err != nil {
				t.Fatalf("left lock not taken: %v", err)
			}
			if got := holder(path); got != os.Getpid() {
				t.Errorf("lock names pid %d, want %d", got, os.Getpid())
			}
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("a file this lock did not create was removed: %v", err)
			}
		})
	}
}

// TestOneHolderAtATime has goroutines take and release one lock as fast as
// they can; each acquire is its own open file, as in separate processes. At
// no moment may two hold it, also while holders remove the file on release.
func TestOneHolderAtATime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.lock")
	var holders, max, taken atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				l, err := Acquire(path, "")
				var held *HeldError
				if errors.As(err, &held) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				n := holders.Add(1)
				for m := max.Load(); n > m && !max.CompareAndSwap(m, n); m = max.Load() {
				}
				taken.Add(1)
				time.Sleep(50 * time.Microsecond) // hold it while others try
				holders.Add(-1)
				if err := l.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if max.Load() != 1 || taken.Load() == 0 {
		t.Fatalf("%d holders at once at most, %d acquisitions; want exactly 1 at a time", max.Load(), taken.Load())
	}
}
