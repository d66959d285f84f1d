// Package output writes what a run leaves behind: the results workbook
// (results.xlsx), its CSV twin (results.csv) and the printable sheet of QR
// codes (qr-codes.pdf). It also reads a results workbook back so that a sheet
// can be reprinted. Every file is written atomically with mode 0600: the QR
// codes enroll devices into the tenant.
package output

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileMode is the permission of every file this package writes.
const FileMode os.FileMode = 0o600

// Rename puts a finished temporary file in place of its final name. It is
// os.Rename; tests replace it to fail the way Windows does when the file is
// open in Excel ("being used by another process"), a path that cannot be
// made to fail on Linux.
var Rename = os.Rename

// WriteFileAtomic writes path through a temporary file in the same directory:
// write fills it, then it is synced, closed and renamed over path, so a reader
// sees either the old file or the complete new one, never a partial file. The
// file gets mode 0600. On any error the temporary file is removed and path is
// left as it was.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err = tmp.Chmod(FileMode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err = write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = Rename(name, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename durable too; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
