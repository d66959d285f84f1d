// Package lock keeps two runs of the job from working on the same output
// folder at once. The lock is a file holding the holder's process id; a lock
// left by a process that no longer runs is taken over.
package lock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// HeldError says another live process holds the lock.
type HeldError struct {
	Path string
	PID  int
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another enrollbatch run (pid %d) holds the lock %s; wait for it to finish, or remove the file if that process is not enrollbatch", e.PID, e.Path)
}

// Lock is a held lock file.
type Lock struct{ path string }

// Acquire takes the lock at path, or returns a *HeldError naming the live
// process that holds it. A lock whose process is gone is taken over.
func Acquire(path string) (*Lock, error) {
	for tries := 0; tries < 3; tries++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("write lock %s: %w", path, errors.Join(werr, cerr))
			}
			return &Lock{path: path}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create lock %s: %w", path, err)
		}
		data, rerr := os.ReadFile(path)
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return nil, fmt.Errorf("read lock %s: %w", path, rerr)
		}
		pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
		if perr == nil && pid > 0 && alive(pid) {
			return nil, &HeldError{Path: path, PID: pid}
		}
		// Stale (or half-written by a process that died): take it over.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove stale lock %s: %w", path, err)
		}
	}
	return nil, fmt.Errorf("take lock %s: another process keeps taking it", path)
}

// Release removes the lock file.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}

func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
