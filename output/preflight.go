package output

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/enrollbatch/enrollbatch/atomicfile"
)

// MaxColumns is the number of columns an Excel worksheet has (A to XFD).
const MaxColumns = 16384

// Expected sizes of the outputs per row, generous, for the free-space check:
// a results row with its QR content in the workbook and the CSV, and a label
// on the sheet (a vector code and its caption, compressed).
const (
	bytesPerResult = 4 << 10
	bytesPerLabel  = 16 << 10
	bytesBase      = 1 << 20
)

// Preflight proves, before anything is created, that a run's outputs can be
// written: so that no profile is created without a record.
type Preflight struct {
	Dir   string   // the output folder
	Files []string // names of the files to be written there, e.g. results.xlsx
	Extra int      // the input's extra columns, copied into the results
	Rows  int      // rows that may end up in the results and on the sheet
	// Free reports the bytes free for this user in a folder; nil for
	// FreeSpace.
	Free func(dir string) (uint64, error)
}

// Need is the free space the outputs need: twice their expected size, since
// a file is written beside the one it replaces.
func (p Preflight) Need() uint64 {
	return 2 * uint64(bytesBase+p.Rows*(bytesPerResult+bytesPerLabel))
}

// Check checks that the results fit Excel's columns, that each file can be
// created and renamed in Dir, and that Dir's disk has room for them. The
// error says what to do.
func (p Preflight) Check() error {
	if n := len(Columns) + p.Extra; n > MaxColumns {
		return fmt.Errorf("the results would have %d columns (%d fixed and the input's %d extra columns), more than Excel's %d: remove the input's unused columns (check for stray values far to the right), then run again; nothing was sent",
			n, len(Columns), p.Extra, MaxColumns)
	}
	for _, name := range p.Files {
		if err := tryWrite(p.Dir, name); err != nil {
			return fmt.Errorf("the output folder %s cannot take %s: %w; fix the folder or choose another --out, then run again; nothing was sent", p.Dir, name, err)
		}
	}
	free := p.Free
	if free == nil {
		free = FreeSpace
	}
	avail, err := free(p.Dir)
	if err != nil {
		// Not every file system says; the writes themselves were proved.
		return nil
	}
	if need := p.Need(); avail < need {
		return fmt.Errorf("the output folder %s has %s free, and the outputs of %d row(s) need about %s: free some space or choose another --out, then run again; nothing was sent",
			p.Dir, mib(avail), p.Rows, mib(need))
	}
	return nil
}

// tryWrite writes a temporary file for name in dir as atomicfile.Write
// does (a byte, mode 0600, synced), renames it once, and removes it.
func tryWrite(dir, name string) error {
	first, err := atomicfile.WriteTemp(filepath.Join(dir, name), func(w io.Writer) error {
		_, err := w.Write([]byte{0})
		return err
	})
	if err != nil {
		return err
	}
	second := filepath.Join(dir, "."+name+".tmp-check")
	if err := atomicfile.Rename(first, second); err != nil {
		os.Remove(first)
		return err
	}
	return os.Remove(second)
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
