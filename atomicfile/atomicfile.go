// Package atomicfile replaces files so that a reader sees either the old file
// or the complete new one, never part of a file, and so that a failed write
// leaves the old file as it was and no temporary file behind.
//
// A file is written to a temporary file in the same folder (so that the
// rename stays on one file system), created with mode 0600, filled, flushed,
// synced and closed, then renamed over the final name, and the folder is
// synced so that the rename survives a crash where the platform allows it.
// On any error the temporary file is removed. Files written here may hold
// enrollment secrets, hence mode 0600 for every file.
//
// The package imports only the standard library.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Mode is the permission of every file the package writes.
const Mode os.FileMode = 0o600

// Rename puts a finished temporary file in place of its final name. It is
// os.Rename; tests replace it to fail the way Windows does when the file is
// open in another program ("being used by another process"), which cannot
// be made to happen on Linux.
var Rename = os.Rename

// Write replaces path with what write writes. write gets a buffered writer
// onto the temporary file; an error from it, or from any step after it,
// leaves path as it was and removes the temporary file. Errors read
// "write PATH: cause".
func Write(path string, write func(w io.Writer) error) error {
	tmp, err := WriteTemp(path, write)
	if err != nil {
		return err
	}
	if err := Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	SyncDir(filepath.Dir(path))
	return nil
}

// WriteFile replaces path with data, as Write does.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// bufSize is the size of the buffer Write and WriteTemp write through.
const bufSize = 256 << 10

// WriteTemp is the first half of Write, for callers that put several files
// in place together: it writes a complete temporary file for path in path's
// folder (mode 0600, flushed, synced and closed) and returns its name. The
// caller renames it over path with Rename, then calls SyncDir, or removes
// it. On error nothing is left behind.
func WriteTemp(path string, write func(w io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		// Also on a panic in write: no temporary file is left behind.
		if !done {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(Mode); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, bufSize)
	if err := write(bw); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	return f.Name(), nil
}

// SyncDir syncs a folder so that renames into it survive a crash. Not every
// platform can sync a folder, so it is best effort.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
