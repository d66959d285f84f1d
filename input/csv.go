package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// openCSV opens a CSV file: UTF-8 with or without a byte order mark,
// UTF-16 with or without one, or Windows-1252 (see decodeText), the
// delimiter detected from the header line, LF or CRLF line ends. It reads
// the header row; the records after it are parsed one by one as the rows
// are asked for. A plain UTF-8 file (the common case, see plainUTF8) is
// parsed as it is read from disk; any other is decoded whole first (see
// parseCSV). Records are split by recordReader, which reads quotes as
// Excel does and stops at a record whose quoting leaves its end in doubt,
// so no record is ever lost or merged into another.
func openCSV(path string) (*File, rowSource, error) {
	plain, err := plainUTF8(path)
	if err != nil {
		return nil, nil, err
	}
	if plain {
		return streamCSV(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return parseCSV(path, data)
}

// plainUTF8 reports whether the file at path can be parsed as it is read:
// valid UTF-8 throughout (after a UTF-8 byte order mark, if any), and not
// UTF-16 by its byte order mark or its NUL bytes, as decodeText decides. It
// reads the file once in blocks; nothing of it is kept.
func plainUTF8(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return false, err
	}
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		br.Discard(len(utf8BOM))
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return false, nil
	default:
		if _, ok := utf16ByNULs(head); ok {
			return false, nil
		}
	}
	chunk := make([]byte, 64<<10)
	held := 0 // bytes of a character cut at the end of the last block
	for {
		n, err := io.ReadFull(br, chunk[held:])
		data := chunk[:held+n]
		last := err != nil
		if last && err != io.EOF && err != io.ErrUnexpectedEOF {
			return false, err
		}
		end := len(data)
		if !last {
			// Hold back a character cut by the end of the block.
			for k := end - 1; k >= 0 && k >= end-utf8.UTFMax; k-- {
				if utf8.RuneStart(data[k]) {
					if !utf8.FullRune(data[k:]) {
						end = k
					}
					break
				}
			}
		}
		if !utf8.Valid(data[:end]) {
			return false, nil
		}
		if last {
			return true, nil
		}
		held = copy(chunk, data[end:])
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// streamCSV opens a file plainUTF8 accepted and parses it as it is read:
// only a block of the file is in memory at a time. The header line is
// looked at in the first MiB (for "sep=" and the delimiter), as parseCSV
// looks at it in the whole text.
func streamCSV(path string) (*File, rowSource, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(fh, 1<<20)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	head, err := br.Peek(1 << 20)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		fh.Close()
		return nil, nil, err
	}
	f, src, err := newCSVRows(path, head, br, func(n int) { br.Discard(n) })
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	src.file = fh
	return f, src, nil
}

// parseCSV does the work of openCSV on the file's bytes.
//
// The decoded text of the whole file stays in memory while it is read:
// decodeText needs all of it to convert it (and a Windows-1252 reading is
// refused on counts over the whole file). That is about the file's size;
// the records are parsed from it one at a time as the rows are asked for,
// and none is kept.
func parseCSV(path string, data []byte) (*File, rowSource, error) {
	data, _, notice, err := decodeText(data)
	if err != nil {
		return nil, nil, err
	}
	rd := bytes.NewReader(data)
	f, src, err := newCSVRows(path, data, rd, func(n int) { rd.Seek(int64(n), io.SeekCurrent) })
	if err != nil {
		return nil, nil, err
	}
	if notice != "" {
		f.Warnings = append([]string{notice}, f.Warnings...)
	}
	return f, src, nil
}

// newCSVRows reads the header row of the text that body yields, UTF-8
// without a byte order mark. head is the start of that text, for the
// "sep=" line and the delimiter; skip drops n bytes from body (the "sep="
// line).
func newCSVRows(path string, head []byte, body io.Reader, skip func(n int)) (*File, *csvRows, error) {
	f := &File{Path: path, Format: "csv"}
	// Excel honours a first line "sep=;" naming the delimiter; so do we.
	lineOffset := 0
	var delim rune
	if first, rest, ok := cutLine(head); ok && len(first) == 5 && strings.EqualFold(string(first[:4]), "sep=") {
		if r := rune(first[4]); r == ',' || r == ';' || r == '\t' || r == '|' {
			delim, lineOffset = r, 1
			skip(len(head) - len(rest))
			head = rest
		}
	}
	if delim == 0 {
		delim = detectDelimiter(head)
	}
	f.Delimiter = delim

	r := newRecordReader(body, delim)
	header, _, err := r.read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty; row 1 must hold the headers, e.g. displayName")
	}
	if err != nil {
		var qe *quoteError
		if errors.As(err, &qe) {
			qe.shift(lineOffset)
		}
		return nil, nil, fmt.Errorf("header row: %w", err)
	}
	width := len(header)
	if err := f.setHeaders(header, columnNumber); err != nil {
		return nil, nil, err
	}
	return f, &csvRows{path: path, r: r, lineOffset: lineOffset, width: width, headers: len(f.Headers), delim: delim, names: f.Headers}, nil
}

type csvRows struct {
	file       io.Closer // the open file, when the rows are parsed as it is read
	path       string
	r          *recordReader
	lineOffset int      // lines before the header row (a "sep=" line)
	width      int      // fields in the header row
	headers    int      // fields with a header (trailing empty ones dropped)
	delim      rune     // for messages
	names      []string // the headers, for messages
}

// next returns the next record that is not blank. A record whose quoting
// cannot be read (see recordReader) is an error that ends the file: the
// records after it cannot be told apart with certainty.
func (s *csvRows) next() (rawRow, error) {
	for {
		rec, line, err := s.r.read()
		if errors.Is(err, io.EOF) {
			return rawRow{}, io.EOF
		}
		if err != nil {
			var qe *quoteError
			if errors.As(err, &qe) {
				qe.shift(s.lineOffset)
				return rawRow{}, errors.New(qe.describe(s.fieldName))
			}
			return rawRow{}, err
		}
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

// fieldName names a field for messages: its number and header.
func (s *csvRows) fieldName(i int) string {
	if i < len(s.names) && s.names[i] != "" {
		return fmt.Sprintf("%s (%s)", columnNumber(i), s.names[i])
	}
	return columnNumber(i)
}

// close lets go of the text, and closes the file when it is read as a
// stream.
func (s *csvRows) close() error {
	s.r = nil
	if s.file != nil {
		err := s.file.Close()
		s.file = nil
		return err
	}
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

// delimOne names one delimiter for messages: "a comma".
func delimOne(d rune) string {
	switch d {
	case ',':
		return "a comma"
	case ';':
		return "a semicolon"
	case '\t':
		return "a tab"
	}
	return fmt.Sprintf("the delimiter %q", d)
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
