package input

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gocarina/gocsv"
)

// openCSV opens a CSV file: UTF-8 with or without a byte order mark,
// UTF-16 with or without one, or Windows-1252 (see decodeText), the
// delimiter detected from the header line, RFC 4180 quoting, LF or CRLF
// line ends. It reads the header row; the records after it are parsed one
// by one as the rows are asked for. Records are decoded by gocsv over an
// encoding/csv reader set up here, so headers are matched by this package
// (case- and spacing-insensitive) rather than by gocsv's exact struct tags,
// and no global gocsv setting is touched.
func openCSV(path string) (*File, rowSource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return parseCSV(path, data)
}

// parseCSV does the work of openCSV on the file's bytes.
//
// The decoded text of the whole file stays in memory while it is read:
// decodeText needs all of it to tell the encoding apart (a Windows-1252
// reading is refused on counts over the whole file). That is about the
// file's size; the records are parsed from it one at a time as the rows are
// asked for, and none is kept.
func parseCSV(path string, data []byte) (*File, rowSource, error) {
	f := &File{Path: path, Format: "csv"}
	data, _, notice, err := decodeText(data)
	if err != nil {
		return nil, nil, err
	}
	if notice != "" {
		f.Warnings = append(f.Warnings, notice)
	}
	// Excel honours a first line "sep=;" naming the delimiter; so do we.
	lineOffset := 0
	var delim rune
	if first, rest, ok := cutLine(data); ok && len(first) == 5 && strings.EqualFold(string(first[:4]), "sep=") {
		if r := rune(first[4]); r == ',' || r == ';' || r == '\t' || r == '|' {
			delim, data, lineOffset = r, rest, 1
		}
	}
	if delim == 0 {
		delim = detectDelimiter(data)
	}
	f.Delimiter = delim

	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delim
	r.FieldsPerRecord = -1 // ragged rows are reported per row
	r.TrimLeadingSpace = delim != '\t'
	r.ReuseRecord = true // every field is copied into a cell
	dec := gocsv.NewSimpleDecoderFromCSVReader(r)

	header, err := dec.GetCSVRow()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty; row 1 must hold the headers, e.g. displayName")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("header row: %w", err)
	}
	width := len(header)
	if err := f.setHeaders(header, columnNumber); err != nil {
		return nil, nil, err
	}
	return f, &csvRows{path: path, r: r, dec: dec, lineOffset: lineOffset, width: width, headers: len(f.Headers), delim: delim}, nil
}

// csvRows parses the records of a CSV file after its header row, one at a
// time.
type csvRows struct {
	path       string
	r          *csv.Reader
	dec        gocsv.SimpleDecoder
	lineOffset int  // lines before the header row (a "sep=" line)
	width      int  // fields in the header row
	headers    int  // fields with a header (trailing empty ones dropped)
	delim      rune // for messages
}

func (s *csvRows) next() (rawRow, error) {
	for {
		rec, err := s.dec.GetCSVRow()
		if errors.Is(err, io.EOF) {
			return rawRow{}, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return rawRow{}, err
			}
			line := pe.StartLine + s.lineOffset
			return rawRow{line: line, problems: []Problem{{
				File: s.path, Row: line,
				Message: fmt.Sprintf("the record cannot be read (%v); a quote inside a value must be doubled and the whole value quoted", pe.Err),
			}}}, nil
		}
		line, _ := s.r.FieldPos(0)
		rr := rawRow{line: line + s.lineOffset, cells: make([]cell, len(rec))}
		for i, v := range rec {
			rr.cells[i] = cell{text: strings.TrimSpace(v)}
		}
		if rr.blank() {
			continue
		}
		switch {
		case len(rec) < s.headers || !blankFrom(rr.cells, s.width):
			rr.problems = append(rr.problems, Problem{File: s.path, Row: rr.line,
				Message: fmt.Sprintf("has %d fields but the header row has %d; check the delimiters (%s) and quotes", len(rec), s.width, delimName(s.delim))})
		case !blankFrom(rr.cells, s.headers):
			rr.problems = append(rr.problems, Problem{File: s.path, Row: rr.line,
				Message: fmt.Sprintf("has a value in field %d, which has no header; add a header or remove the value", firstValue(rr.cells, s.headers)+1)})
		}
		return rr, nil
	}
}

// close lets go of the decoded text; the file itself was read whole and
// closed by openCSV.
func (s *csvRows) close() error {
	s.r, s.dec = nil, nil
	return nil
}

// blankFrom reports whether every cell from index i on is empty.
func blankFrom(cells []cell, i int) bool { return firstValue(cells, i) < 0 }

// firstValue returns the index of the first non-empty cell from i on, or -1.
func firstValue(cells []cell, i int) int {
	for ; i < len(cells); i++ {
		if cells[i].text != "" {
			return i
		}
	}
	return -1
}

// delimName names a delimiter for messages.
func delimName(d rune) string {
	switch d {
	case ',':
		return "commas"
	case ';':
		return "semicolons"
	case '\t':
		return "tabs"
	}
	return fmt.Sprintf("%q", d)
}

// cutLine splits off the first line, without its line end.
func cutLine(data []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return nil, nil, false
	}
	return bytes.TrimSuffix(data[:i], []byte("\r")), data[i+1:], true
}

// detectDelimiter picks comma, semicolon or tab, whichever occurs most
// often outside quotes in the header line (the first record). A header
// without any of them is a single column; comma is as good as any then.
func detectDelimiter(data []byte) rune {
	counts := map[byte]int{}
	inQuotes := false
	for _, b := range data {
		if b == '"' {
			inQuotes = !inQuotes
			continue
		}
		if inQuotes {
			continue
		}
		if b == '\n' {
			break
		}
		counts[b]++
	}
	best, n := byte(','), counts[',']
	for _, b := range []byte{';', '\t'} {
		if counts[b] > n {
			best, n = b, counts[b]
		}
	}
	return rune(best)
}
