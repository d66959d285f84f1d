// Package lock keeps two runs of the job apart. A lock is an operating-system
// file lock (flock on Unix, LockFileEx on Windows) held for the whole run.
// The kernel releases it when the holder ends, however it ends (a crash, an
// out-of-memory kill, a power cut), so a lock is never stale and no process id
// is ever tested for liveness. The file holds the holder's process id only so
// that a run refused the lock can name it.
//
// A lock never removes, truncates or writes a file that is not one of its own:
// a path that exists and holds anything but an enrollbatch lock is refused.
package lock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// A lock file is one byte ('#'), then magic, then "pid N" padded to a fixed
// width. Everything but the first byte is read and written from offset 1: on
// Windows the holder's lock covers the first byte, which no other handle may
// read or write.
const (
	magic    = "enrollbatch lock\n"
	pidWidth = 24
)

// record is what a lock file holds from offset 1 on.
func record(pid int) []byte {
	return fmt.Appendf(nil, "%s%-*s\n", magic, pidWidth, fmt.Sprintf("pid %d", pid))
}

// HeldError says another process holds the lock.
type HeldError struct {
	Path string
	What string // what the lock guards, e.g. "the output folder out"
	PID  int    // the holder's process id; 0 when it could not be read
}

func (e *HeldError) Error() string {
	holder := "another run"
	if e.PID > 0 {
		holder = fmt.Sprintf("another run (pid %d)", e.PID)
	}
	what := ""
	if e.What != "" {
		what = " for " + e.What
	}
	return fmt.Sprintf("%s holds %s%s; wait for it to finish (the lock goes when that process ends)", holder, e.Path, what)
}

// NotLockError says the path exists and is not an enrollbatch lock file, so
// it was left alone.
type NotLockError struct {
	Path   string
	Reason string
}

func (e *NotLockError) Error() string {
	return fmt.Sprintf("lock %s: %s, and is not an enrollbatch lock file; it was left as it is: give --lock a path of its own", e.Path, e.Reason)
}

// Lock is a held lock.
type Lock struct {
	fl      *flock.Flock
	path    string
	created bool // this lock created the file, so it may remove it
}

// Path is the lock file's path.
func (l *Lock) Path() string { return l.path }

// Acquire takes the lock at path without waiting. It returns a *HeldError
// when another process holds it and a *NotLockError when path is some other
// file. what names what the lock guards, for the message. The file is created
// with mode 0600 when it does not exist.
func Acquire(path, what string) (*Lock, error) {
	for tries := 0; ; tries++ {
		l, retry, err := try(path, what)
		if !retry {
			return l, err
		}
		if tries >= 100 {
			return nil, fmt.Errorf("lock %s: the file keeps being removed and created again; try again", path)
		}
	}
}

// try makes one attempt. retry says the file was replaced or removed while
// it was being locked, and a new attempt should be made.
func try(path, what string) (l *Lock, retry bool, err error) {
	created := false
	if fi, err := os.Lstat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, false, &NotLockError{Path: path, Reason: "exists and is not a regular file"}
		}
	} else if errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			created = true
			_, werr := f.Write(append([]byte("#"), record(0)...))
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, false, fmt.Errorf("create lock %s: %w", path, errors.Join(werr, cerr))
			}
		case errors.Is(err, os.ErrExist):
			// Another run created it just now: lock it as theirs.
		default:
			return nil, false, fmt.Errorf("create lock %s: %w", path, err)
		}
	} else {
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}

	fl := flock.New(path, flock.SetFlag(os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if errors.Is(err, os.ErrNotExist) {
		// The holder removed it on release just now: start again.
		return nil, true, nil
	}
	if err != nil {
		fl.Close()
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		fl.Close()
		return nil, false, &HeldError{Path: path, What: what, PID: holder(path)}
	}

	// The file may have been removed or replaced between opening and
	// locking (a holder removes its file on release): then the lock is on
	// a file nobody else will look at. Start again.
	held, err1 := fl.Stat()
	now, err2 := os.Lstat(path)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		fl.Close()
		return nil, true, nil
	}
	if err := stamp(path, held); err != nil {
		fl.Close()
		return nil, false, err
	}
	return &Lock{fl: fl, path: path, created: created}, false, nil
}

// stamp checks that the locked file at path (held) is empty or an
// enrollbatch lock, and writes this process's pid into it.
func stamp(path string, held os.FileInfo) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open lock %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, held) {
		return fmt.Errorf("lock %s: the file changed while it was being locked; try again", path)
	}
	if held.Size() > 0 {
		head := make([]byte, len(magic))
		if _, err := f.ReadAt(head, 1); (err != nil && !errors.Is(err, io.EOF)) || string(head) != magic {
			return &NotLockError{Path: path, Reason: fmt.Sprintf("exists (%d bytes)", held.Size())}
		}
	}
	rec := record(os.Getpid())
	if _, err := f.WriteAt(rec, 1); err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	// Only ever our own record is cut here; Windows may refuse, and the
	// fixed-width record makes that harmless.
	_ = f.Truncate(int64(1 + len(rec)))
	return nil
}

// holder reads the pid in the lock file at path; 0 when there is none yet.
// It reads from the second byte on: on Windows the holder's lock covers the
// first byte, which no other process can read.
func holder(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.ReadAt(buf, 1)
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if v, ok := strings.CutPrefix(line, "pid "); ok {
			if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && pid > 0 {
				return pid
			}
		}
	}
	return 0
}

// Release gives the lock up. A lock file this lock created is removed where
// that is safe (see removeOnRelease); a file that was there before is left,
// with its content.
func (l *Lock) Release() error {
	if l == nil || l.fl == nil {
		return nil
	}
	fl := l.fl
	l.fl = nil
	var rerr error
	if l.created && removeOnRelease {
		// Remove while still holding the lock: a run that opened the file
		// meanwhile finds, once it has locked it, that the path is gone
		// or another file, and starts again.
		if held, err := fl.Stat(); err == nil {
			if now, err := os.Lstat(l.path); err == nil && os.SameFile(held, now) {
				if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
					rerr = fmt.Errorf("remove lock %s: %w", l.path, err)
				}
			}
		}
	}
	if err := fl.Close(); err != nil && rerr == nil {
		rerr = fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return rerr
}

// TenantPath is the lock file for runs against tenant at graphHost, in the
// user's cache folder (os.UserCacheDir: ~/.cache on Linux, ~/Library/Caches
// on macOS, %LocalAppData% on Windows) under enrollbatch/locks, which is
// created with mode 0700. Without a cache folder (no HOME) the system's
// temporary folder is used. An empty tenant stands for every tenant at the
// host.
func TenantPath(graphHost, tenant string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "enrollbatch", "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create lock folder: %w", err)
	}
	if tenant == "" {
		tenant = "any-tenant"
	}
	return filepath.Join(dir, fileName(strings.ToLower(graphHost))+"_"+fileName(strings.ToLower(tenant))+".lock"), nil
}

// fileName keeps letters, digits, dots and hyphens of s, and replaces the
// rest (a port's colon, slashes) with '-', so the name is valid everywhere.
func fileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}
