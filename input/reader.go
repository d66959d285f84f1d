package input

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/tenant"
)

// Reader reads a CSV or XLSX input file row by row. Each row Next returns
// is validated exactly as Read validates it, including the checks that
// look back at earlier rows (a repeated displayName, a second Teams
// profile) and those against the clock (token expiries). Apart from the
// names seen so far, which the duplicate check needs, the reader keeps
// nothing per row, so a file can be read twice, once to check and once to
// send, without its rows being held in memory.
type Reader struct {
	file   *File
	src    rowSource
	state  fileState
	tenant string // Options.Tenant
	err    error  // sticky: the error Next returned, or errClosed
}

// rowSource yields the raw rows of one file after its header row.
type rowSource interface {
	// next returns the next row that is not blank or has a problem, and
	// io.EOF after the last.
	next() (rawRow, error)
	// close releases the file.
	close() error
}

// errClosed is returned by Next after Close.
var errClosed = errors.New("the reader is closed")

// Open opens the CSV or XLSX file at path (chosen by the extension) and
// reads its header row. It fails, with the same errors as Read, when the
// file cannot be used at all: unreadable, an unknown extension, no header
// row or no displayName column, a sheet that does not exist, or no sheet
// named for a workbook with several visible sheets. The error names the
// path. The clock opts.Now is read once, here: every row is
// checked against the same instant.
func Open(path string, opts Options) (*Reader, error) {
	var (
		f   *File
		src rowSource
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv", ".txt", ".tsv": // .txt: Excel's "Unicode Text" (UTF-16, tab-separated)
		f, src, err = openCSV(path)
	case ".xlsx", ".xlsm":
		f, src, err = openXLSX(path, opts.Sheet)
	case ".xls":
		err = errors.New(xlsMessage)
	case ".ods":
		err = errors.New(odsMessage)
	default:
		err = fmt.Errorf("unknown file type %q; use a .csv or .xlsx file", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return newReader(f, src, opts), nil
}

// newReader returns a Reader of src's rows of f, its clock read now.
func newReader(f *File, src rowSource, opts Options) *Reader {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return &Reader{file: f, src: src, state: fileState{now: now(), seen: make(map[nameKey]int32)}, tenant: opts.Tenant}
}

// File returns the file's metadata: Path, Sheet, Format, Delimiter,
// Headers, Columns, ExtraHeaders and Warnings, all known once Open
// returned. Its Rows stay nil; the rows come from Next. The File is the
// reader's own and must not be changed.
func (r *Reader) File() *File { return r.file }

// Next returns the next non-blank row, with every problem Read would put on
// it, or io.EOF after the last row. Any other error means the rest of the
// file cannot be read (a damaged workbook, a CSV record whose quotes leave
// its end in doubt); it names the path and the line, and Next returns it
// again on every later call. The rows already returned are then not the
// whole file: a caller must not act on the file as a whole (a prune).
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		rr, err := r.src.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("read %s: %w", r.file.Path, err)
			}
			r.err = err
			return Row{}, err
		}
		if rr.blank() && len(rr.problems) == 0 {
			continue
		}
		if r.tenant != "" && !r.ofTenant(rr) {
			// Another tenant's row: the checks that look back count
			// each tenant apart, so skipping it changes none of them.
			continue
		}
		row := r.file.validate(rr)
		r.state.check(r.file, &row)
		if r.tenant != "" && row.Tenant != r.tenant {
			continue
		}
		return row, nil
	}
}

// Close releases the file. Next returns an error after it.
func (r *Reader) Close() error {
	if errors.Is(r.err, errClosed) {
		return nil
	}
	r.err = fmt.Errorf("read %s: %w", r.file.Path, errClosed)
	if err := r.src.close(); err != nil {
		return fmt.Errorf("close %s: %w", r.file.Path, err)
	}
	return nil
}

// ofTenant reports whether the raw row's tenant cell, read as validate
// reads it, names the reader's tenant; rows it does not are never
// validated, so that each tenant's pass over a sheet of many costs about
// its own rows.
func (r *Reader) ofTenant(rr rawRow) bool {
	i, ok := r.file.Columns[tenant.Column]
	if !ok || i >= len(rr.cells) {
		return false
	}
	t, err := tenant.Parse(rr.cells[i].text)
	return err == nil && t == r.tenant
}
