package lock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestAcquireHeldAndStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.lock")
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, mode %v", err, fi.Mode())
	}
	_, err = Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second acquire: got %v, want HeldError with pid %d", err, os.Getpid())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}

	// A lock left by a process that has exited is taken over.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	dead := cmd.ProcessState.Pid()
	if err := os.WriteFile(path, []byte(strconv.Itoa(dead)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = Acquire(path)
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	data, _ := os.ReadFile(path)
	if got, _ := strconv.Atoi(string(data[:len(data)-1])); got != os.Getpid() {
		t.Fatalf("lock holds pid %d, want %d", got, os.Getpid())
	}
	l.Release()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("lock not removed: %v", err)
	}

	// Garbage in the file counts as stale.
	os.WriteFile(path, []byte("not a pid"), 0o600)
	if l, err = Acquire(path); err != nil {
		t.Fatalf("garbage lock: %v", err)
	}
	l.Release()
}
