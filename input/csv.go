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

// readCSV reads a CSV file: UTF-8 with or without a byte order mark, UTF-16
// with or without one, or Windows-1252 (see decodeText), the delimiter
// detected from the header line, RFC 4180 quoting, LF or CRLF line ends. Records are decoded by gocsv over
// an encoding/csv reader set up here, so headers are matched by this
// package (case- and spacing-insensitive) rather than by gocsv's exact
// struct tags, and no global gocsv setting is touched.
func readCSV(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCSV(path, data)
}

// parseCSV does the work of readCSV on the file's bytes.
func parseCSV(path string, data []byte) (*File, error) {
	f := &File{Path: path, Format: "csv"}
	data, _, notice, err := decodeText(data)
	if err != nil {
		return nil, err
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
	dec := gocsv.NewSimpleDecoderFromCSVReader(r)

	header, err := dec.GetCSVRow()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty; row 1 must hold the headers, e.g. displayName")
	}
	if err != nil {
		return nil, fmt.Errorf("header row: %w", err)
	}
	if err := f.setHeaders(header, columnNumber); err != nil {
		return nil, err
	}
	width := len(header)

	var raws []rawRow
	for {
		rec, err := dec.GetCSVRow()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, err
			}
			raws = append(raws, rawRow{line: pe.StartLine + lineOffset, problems: []Problem{{
				File: path, Row: pe.StartLine + lineOffset,
				Message: fmt.Sprintf("the record cannot be read (%v); a quote inside a value must be doubled and the whole value quoted", pe.Err),
			}}})
			continue
		}
		line, _ := r.FieldPos(0)
		rr := rawRow{line: line + lineOffset, cells: make([]cell, len(rec))}
		for i, v := range rec {
			rr.cells[i] = cell{text: strings.TrimSpace(v)}
		}
		if rr.blank() {
			continue
		}
		switch {
		case len(rec) < len(f.Headers) || !blankFrom(rr.cells, width):
			rr.problems = append(rr.problems, Problem{File: path, Row: rr.line,
				Message: fmt.Sprintf("has %d fields but the header row has %d; check the delimiters (%s) and quotes", len(rec), width, delimName(delim))})
		case !blankFrom(rr.cells, len(f.Headers)):
			rr.problems = append(rr.problems, Problem{File: path, Row: rr.line,
				Message: fmt.Sprintf("has a value in field %d, which has no header; add a header or remove the value", firstValue(rr.cells, len(f.Headers))+1)})
		}
		raws = append(raws, rr)
	}
	f.addRows(raws)
	return f, nil
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
