package output

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocarina/gocsv"

	"github.com/enrollbatch/enrollbatch/results"
)

// csvRecord is one line of results.csv; the tags are the Columns.
type csvRecord struct {
	Row                     string `csv:"row"`
	DisplayName             string `csv:"displayName"`
	Status                  string `csv:"status"`
	ID                      string `csv:"id"`
	HTTPStatus              string `csv:"httpStatus"`
	Attempts                string `csv:"attempts"`
	ErrorCode               string `csv:"errorCode"`
	ErrorMessage            string `csv:"errorMessage"`
	RequestID               string `csv:"requestId"`
	TokenExpirationDateTime string `csv:"tokenExpirationDateTime"`
	QRCodeContent           string `csv:"qrCodeContent"`
	Description             string `csv:"description"`
	ErrorRaw                string `csv:"errorRaw"`
	ClientRequestID         string `csv:"clientRequestId"`
	Changes                 string `csv:"changes"`
	Notes                   string `csv:"notes"`
}

// extrasWriter appends the input's extra columns to each line gocsv writes
// (the headers to the first line, then each result's values in order), and
// defuses every cell a spreadsheet would run as a formula.
type extrasWriter struct {
	*gocsv.SafeCSVWriter
	headers []string
	rs      []results.Result
	line    int
	buf     []string
	header  []string // the whole header line, for naming defused columns
	notes   int      // index of the notes column
}

func (w *extrasWriter) Write(row []string) error {
	w.buf = append(w.buf[:0], row...)
	if w.line == 0 {
		w.buf = append(w.buf, w.headers...)
	} else {
		ex := w.rs[w.line-1].Extras
		for j := range w.headers {
			v := ""
			if j < len(ex) {
				v = ex[j]
			}
			w.buf = append(w.buf, v)
		}
	}
	var defused []string
	for i, v := range w.buf {
		if safe, changed := defuse(v); changed {
			w.buf[i] = safe
			if w.line > 0 {
				defused = append(defused, w.header[i])
			}
		}
	}
	if w.line == 0 {
		w.header = append([]string(nil), w.buf...)
		w.notes = slices.Index(row, "notes")
	} else if len(defused) > 0 && w.notes >= 0 {
		note := "results.csv: a ' was put before " + strings.Join(defused, ", ") +
			" so that a spreadsheet shows the text instead of running it as a formula"
		if w.buf[w.notes] != "" {
			note = w.buf[w.notes] + "\n" + note
		}
		w.buf[w.notes], _ = defuse(note)
	}
	w.line++
	return w.SafeCSVWriter.Write(w.buf)
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
	delim := run.Delimiter
	switch delim {
	case 0, '\r', '\n', '"', utf8.RuneError:
		delim = ','
	}
	if !utf8.ValidRune(delim) {
		delim = ','
	}
	recs := make([]csvRecord, len(rs))
	for i := range rs {
		r := &rs[i]
		rec := csvRecord{
			Row: strconv.Itoa(r.Row), DisplayName: r.DisplayName, Status: string(r.Status), ID: r.ID,
			Attempts: strconv.Itoa(r.Attempts), ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
			RequestID: r.RequestID, QRCodeContent: results.StoredContent(r.QRCodeContent), Description: r.Description,
			ErrorRaw: r.ErrorRaw, ClientRequestID: r.ClientRequestID,
			Changes: strings.Join(r.Changes, "\n"), Notes: strings.Join(r.Notes, "\n"),
		}
		if r.HTTPStatus != 0 {
			rec.HTTPStatus = strconv.Itoa(r.HTTPStatus)
		}
		if !r.TokenExpiration.IsZero() {
			rec.TokenExpirationDateTime = r.TokenExpiration.UTC().Format(time.RFC3339)
		}
		recs[i] = rec
	}
	return WriteFileAtomic(path, func(out io.Writer) error {
		if _, err := io.WriteString(out, utf8BOM); err != nil {
			return err
		}
		cw := csv.NewWriter(out)
		cw.Comma = delim
		w := &extrasWriter{SafeCSVWriter: gocsv.NewSafeCSVWriter(cw), headers: run.ExtraHeaders, rs: rs}
		return gocsv.MarshalCSV(recs, w)
	})
}
