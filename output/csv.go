package output

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/results"
)

// csvLines writes the lines of results.csv: the header line, then one line
// per result with the input's extra columns after the fixed ones. Every cell
// a spreadsheet would run as a formula is defused, and the row's notes say
// which columns were.
type csvLines struct {
	cw      *csv.Writer
	extras  int      // number of extra columns
	header  []string // the whole header line, for naming defused columns
	notes   int      // index of the notes column
	buf     []string // the line being written, reused
	defused []string // columns defused on the line, reused
}

func newCSVLines(cw *csv.Writer, extraHeaders []string) *csvLines {
	header := append(append([]string(nil), Columns...), extraHeaders...)
	for i, h := range header {
		header[i], _ = defuse(h)
	}
	return &csvLines{cw: cw, extras: len(extraHeaders), header: header, notes: slices.Index(Columns, "notes"),
		buf: make([]string, len(header))}
}

// writeHeader writes the header line.
func (w *csvLines) writeHeader() error {
	return w.cw.Write(w.header)
}

// writeResult writes the line of r.
func (w *csvLines) writeResult(r *results.Result) error {
	b := w.buf[:0]
	httpStatus, expiry := "", ""
	if r.HTTPStatus != 0 {
		httpStatus = strconv.Itoa(r.HTTPStatus)
	}
	if !r.TokenExpiration.IsZero() {
		expiry = r.TokenExpiration.UTC().Format(time.RFC3339)
	}
	b = append(b, strconv.Itoa(r.Row), r.DisplayName, string(r.Status), r.ID, httpStatus,
		strconv.Itoa(r.Attempts), r.ErrorCode, r.ErrorMessage, r.RequestID, expiry,
		results.StoredContent(r.QRCodeContent), r.Description, r.ErrorRaw, r.ClientRequestID,
		strings.Join(r.Changes, "\n"), strings.Join(r.Notes, "\n"), r.EnrollmentMode)
	for j := range w.extras {
		v := ""
		if j < len(r.Extras) {
			v = r.Extras[j]
		}
		b = append(b, v)
	}
	w.buf = b
	w.defused = w.defused[:0]
	for i, v := range b {
		if safe, changed := defuse(v); changed {
			b[i] = safe
			w.defused = append(w.defused, w.header[i])
		}
	}
	if len(w.defused) > 0 && w.notes >= 0 {
		note := "results.csv: a ' was put before " + strings.Join(w.defused, ", ") +
			" so that a spreadsheet shows the text instead of running it as a formula"
		if b[w.notes] != "" {
			note = b[w.notes] + "\n" + note
		}
		b[w.notes], _ = defuse(note)
	}
	return w.cw.Write(b)
}

// defuse protects a cell against formula injection (CSV injection, as
// OWASP describes it): a spreadsheet runs a cell that starts with =, +, -
// or @ as a formula, and one that starts with a tab or carriage return can
// hide such a start. Those cells get a single quote in front, which Excel
// and LibreOffice show as part of the text and never run.
func defuse(s string) (string, bool) {
	if s == "" {
		return s, false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s, true
	}
	return s, false
}

// utf8BOM starts results.csv so that Excel reads it as UTF-8 rather than
// in the ANSI code page.
const utf8BOM = "\ufeff"

// WriteCSV writes results.csv to path (atomically, mode 0600) for opening
// in Excel: UTF-8 with a byte order mark, fields separated by the input's
// delimiter (run.Delimiter: semicolon for a semicolon input, tab for tab;
// comma otherwise), a header line with the Results sheet's columns and the
// input's extra columns, dates in RFC 3339 (UTC), one line per result.
// Cells a spreadsheet would run as formulas start with a single quote (see
// defuse), and the row's notes say so.
func WriteCSV(path string, run results.Run, rs []results.Result) error {
	return WriteCSVFrom(path, run, results.FromSlice(rs))
}

// WriteCSVFrom writes results.csv to path as WriteCSV does, from the
// results src yields, one line as each comes: no result is held. An error
// yielded by src fails the write, and the file at path is left as it was.
func WriteCSVFrom(path string, run results.Run, src results.Source) error {
	delim := run.Delimiter
	switch delim {
	case 0, '\r', '\n', '"', utf8.RuneError:
		delim = ','
	}
	if !utf8.ValidRune(delim) {
		delim = ','
	}
	return atomicfile.Write(path, func(out io.Writer) error {
		if _, err := io.WriteString(out, utf8BOM); err != nil {
			return err
		}
		cw := csv.NewWriter(out)
		cw.Comma = delim
		w := newCSVLines(cw, run.ExtraHeaders)
		if err := w.writeHeader(); err != nil {
			return err
		}
		n := 0
		for r, err := range src {
			if err != nil {
				return fmt.Errorf("read result %d: %w", n+1, err)
			}
			if err := w.writeResult(r); err != nil {
				return err
			}
			n++
		}
		cw.Flush()
		return cw.Error()
	})
}
