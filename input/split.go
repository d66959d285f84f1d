package input

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/enrollbatch/enrollbatch/tenant"
)

// Split holds the rows of a file with a tenant column put aside by
// tenant, read in one pass, so that each tenant's Reader reads its own
// rows and not the whole file again: with many tenants, a pass per tenant
// over the whole file made the reading grow with the tenants times the
// rows (a sheet of 10,000 rows over 500 tenants spent most of its CPU
// parsing the workbook 500 times).
//
// The rows are kept as read, before validation, in a spool file of mode
// 0600 (the cells may hold Wi-Fi passwords), removed as soon as it is
// created where the system allows it and at Close otherwise; only their
// offsets are held in memory. A tenant's Reader validates them exactly as
// a Reader of the file with Options.Tenant does.
type Split struct {
	file   *File
	spool  *os.File
	path   string // the spool's path while it is still to be removed
	byTen  map[string][]spoolRef
	closed bool
}

// spoolRef is where a row is in the spool.
type spoolRef struct {
	off int64
	n   int32
}

// SplitTenants reads the file at path once (with opts.Sheet) and puts the
// rows of each of the tenants given (in the form tenant.Parse gives)
// aside in a spool file in dir; the rows of other tenants, and rows whose
// tenant cell cannot be read, are left out. The file must have a tenant
// column.
func SplitTenants(path string, opts Options, tenants []string, dir string) (*Split, error) {
	r, err := Open(path, Options{Sheet: opts.Sheet})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	col, ok := r.file.Columns[tenant.Column]
	if !ok {
		return nil, fmt.Errorf("read %s: no %s column to split the rows by", path, tenant.Column)
	}
	want := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		want[t] = true
	}
	removeStaleSpools(dir)
	f, err := os.CreateTemp(dir, spoolPattern)
	if err != nil {
		return nil, fmt.Errorf("put the rows aside by tenant: %w", err)
	}
	s := &Split{file: r.file, spool: f, path: f.Name(), byTen: map[string][]spoolRef{}}
	if os.Remove(f.Name()) == nil {
		s.path = "" // gone from the folder already; the open file stays readable
	}
	fail := func(err error) (*Split, error) {
		s.Close()
		return nil, err
	}
	var (
		buf []byte
		off int64
	)
	w := bufio.NewWriterSize(f, 64<<10)
	for {
		rr, err := r.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read %s: %w", path, err))
		}
		if rr.blank() && len(rr.problems) == 0 || col >= len(rr.cells) {
			continue
		}
		t, err := tenant.Parse(rr.cells[col].text)
		if err != nil || !want[t] {
			continue
		}
		buf = appendRawRow(buf[:0], rr)
		if _, err := w.Write(buf); err != nil {
			return fail(fmt.Errorf("put the rows aside by tenant: %w", err))
		}
		s.byTen[t] = append(s.byTen[t], spoolRef{off: off, n: int32(len(buf))})
		off += int64(len(buf))
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("put the rows aside by tenant: %w", err))
	}
	return s, nil
}

// spoolPattern names the spool files in their folder.
const spoolPattern = ".enrollbatch-rows-*"

// removeStaleSpools removes the spools that runs stopped at once (killed,
// or a power cut) left in dir. None is in use: a spool is gone from its
// folder as soon as it is made, except on Windows, which refuses to
// remove a file a running process has open.
func removeStaleSpools(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, spoolPattern))
	for _, p := range stale {
		os.Remove(p)
	}
}

// Rows is the number of rows put aside for tenant t.
func (s *Split) Rows(t string) int { return len(s.byTen[t]) }

// Open returns a Reader of tenant t's rows, as Open(path, Options{Sheet:
// …, Tenant: t, Now: opts.Now}) would read them. Readers of several
// tenants may be used at once.
func (s *Split) Open(t string, opts Options) *Reader {
	return newReader(s.file, &spoolRows{s: s, refs: s.byTen[t]}, Options{Tenant: t, Now: opts.Now})
}

// Close removes the spool. Readers of it fail after.
func (s *Split) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.spool.Close()
	if s.path != "" {
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// spoolRows is the rowSource of one tenant's rows in a Split.
type spoolRows struct {
	s    *Split
	refs []spoolRef
	buf  []byte
}

func (r *spoolRows) next() (rawRow, error) {
	if len(r.refs) == 0 {
		return rawRow{}, io.EOF
	}
	ref := r.refs[0]
	r.refs = r.refs[1:]
	if cap(r.buf) < int(ref.n) {
		r.buf = make([]byte, ref.n)
	}
	b := r.buf[:ref.n]
	if _, err := r.s.spool.ReadAt(b, ref.off); err != nil {
		return rawRow{}, fmt.Errorf("read the rows put aside: %w", err)
	}
	rr, err := readRawRow(b)
	if err != nil {
		return rawRow{}, fmt.Errorf("read the rows put aside: %w", err)
	}
	return rr, nil
}

func (r *spoolRows) close() error { return nil }

// The spool's encoding of a raw row: the line; the cells, each its text,
// type, number, date (time.MarshalBinary, empty for none) and unsaved
// mark; the problems, each its fields. Integers are unsigned varints (a
// negative one comes back as it went, through its two's complement),
// strings and dates length-prefixed.

func appendRawRow(b []byte, rr rawRow) []byte {
	b = binary.AppendUvarint(b, uint64(rr.line))
	b = binary.AppendUvarint(b, uint64(len(rr.cells)))
	for _, c := range rr.cells {
		b = appendString(b, c.text)
		b = binary.AppendUvarint(b, uint64(c.typ))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.num))
		var d []byte
		if !c.date.IsZero() {
			d, _ = c.date.MarshalBinary() // fails only for offsets of fractional minutes, which no cell has
		}
		b = appendString(b, string(d))
		b = appendBool(b, c.unsaved)
	}
	b = binary.AppendUvarint(b, uint64(len(rr.problems)))
	for _, p := range rr.problems {
		b = appendString(b, p.File)
		b = binary.AppendUvarint(b, uint64(p.Row))
		b = appendString(b, p.Column)
		b = appendString(b, p.Message)
		b = appendBool(b, p.ForNew)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// errSpool is a row in the spool that does not decode.
var errSpool = errors.New("a row put aside is damaged")

// spoolReader decodes one row's bytes.
type spoolReader struct {
	b   []byte
	err error
}

func (d *spoolReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errSpool
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spoolReader) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errSpool
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *spoolReader) u64() uint64 {
	if len(d.b) < 8 {
		d.err = errSpool
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *spoolReader) bool() bool {
	if len(d.b) < 1 {
		d.err = errSpool
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func readRawRow(b []byte) (rawRow, error) {
	d := &spoolReader{b: b}
	var rr rawRow
	rr.line = int(d.uvarint())
	n := d.uvarint()
	if d.err != nil || n > uint64(len(b)) {
		return rawRow{}, errSpool
	}
	rr.cells = make([]cell, n)
	for i := range rr.cells {
		c := &rr.cells[i]
		c.text = string(d.bytes())
		c.typ = cellType(d.uvarint())
		c.num = math.Float64frombits(d.u64())
		if t := d.bytes(); len(t) > 0 {
			if err := c.date.UnmarshalBinary(t); err != nil {
				return rawRow{}, errSpool
			}
		}
		c.unsaved = d.bool()
	}
	n = d.uvarint()
	if d.err != nil || n > uint64(len(b)) {
		return rawRow{}, errSpool
	}
	if n > 0 {
		rr.problems = make([]Problem, n)
	}
	for i := range rr.problems {
		p := &rr.problems[i]
		p.File = string(d.bytes())
		p.Row = int(d.uvarint())
		p.Column = string(d.bytes())
		p.Message = string(d.bytes())
		p.ForNew = d.bool()
	}
	if d.err != nil || len(d.b) != 0 {
		return rawRow{}, errSpool
	}
	return rr, nil
}
