package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// recordReader splits CSV text into records the way Excel reads a CSV file,
// and refuses any record whose quoting leaves its end in doubt, so a record
// is never merged into another nor dropped:
//
//   - A field that starts with a quote (after leading spaces, unless the
//     delimiter is a tab) is quoted: it runs to the next single quote, may
//     hold delimiters and line breaks, and "" in it is one quote. Only
//     spaces may follow its closing quote before the delimiter or the line
//     end; anything else is an error, because the quote that closed it may
//     have been meant as part of the text, and the record's end is then a
//     guess. A quoted field still open at the end of the file is an error
//     too: its quote swallowed every line after it.
//   - In a field that does not start with a quote, a quote is a character
//     like any other: `27" monitor` reads as 27" monitor. This is how Excel
//     reads it, and it is never ambiguous, since such a field cannot hold a
//     delimiter or a line break.
//
// Lines end in LF or CRLF; a CRLF inside a quoted field reads as LF, as
// Excel writes a line break in a cell. Empty lines are skipped but counted.
type recordReader struct {
	br       *bufio.Reader
	comma    byte // an ASCII delimiter: , ; tab or |
	trimLead bool // skip spaces before a field (not for tabs)
	line     int  // lines read so far
	eof      bool
	text     []byte // the current record's field values, one after another
	ends     []int  // where each field ends in text
	fields   []string
}

func newRecordReader(r io.Reader, comma rune) *recordReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &recordReader{br: br, comma: byte(comma), trimLead: comma != '\t'}
}

// quoteError is a record whose quoting cannot be read without guessing.
type quoteError struct {
	start     int // line where the record starts
	field     int // 0-based field of the quote
	openLine  int // line and 1-based character column of the opening quote
	openCol   int
	closeLine int // line and column of the closing quote; 0 when never closed
	closeCol  int
	comma     byte // the delimiter
}

// shift moves the lines down by n, for lines before the text read (a
// "sep=" line).
func (e *quoteError) shift(n int) {
	e.start += n
	e.openLine += n
	if e.closeLine > 0 {
		e.closeLine += n
	}
}

func (e *quoteError) Error() string { return e.describe(columnNumber) }

// describe says what is wrong and what to do, naming the field with name
// (given its 0-based index).
func (e *quoteError) describe(name func(int) string) string {
	switch {
	case e.closeLine == 0:
		return fmt.Sprintf(`line %d: a quote opened in line %d at column %d, in %s, is never closed, so every line after it would be read into that one value: close it, or double it as "" inside a quoted field`,
			e.start, e.openLine, e.openCol, name(e.field))
	case e.closeLine == e.openLine:
		return fmt.Sprintf(`line %d: %s starts with a quote, and the quote that closes it at column %d is followed by more text instead of %s or the line end: inside a quoted field write a quote as "", or remove the quotes around the field`,
			e.start, name(e.field), e.closeCol, delimOne(rune(e.comma)))
	}
	return fmt.Sprintf(`line %d: a quote opened in line %d at column %d, in %s, is closed only in line %d at column %d, by a quote followed by more text instead of %s or the line end, so the lines between would be read into that one value: close the quote in line %d, or double it as "" inside a quoted field`,
		e.start, e.openLine, e.openCol, name(e.field), e.closeLine, e.closeCol, delimOne(rune(e.comma)), e.openLine)
}

// errLongLine is returned for a line longer than maxLine.
var errLongLine = errors.New("a line is longer than 64 MiB; is this a CSV file?")

// maxLine bounds one line, so that a file without line breaks cannot take
// all memory.
const maxLine = 64 << 20

// readLine returns the next line without its line end (LF or CRLF), and
// whether it had one. At the end of the file it returns io.EOF.
func (r *recordReader) readLine() ([]byte, bool, error) {
	if r.eof {
		return nil, false, io.EOF
	}
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long) > maxLine {
				return nil, false, errLongLine
			}
			line, err = r.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	if err == io.EOF {
		r.eof = true
		if len(line) == 0 {
			return nil, false, io.EOF
		}
	}
	r.line++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, true, nil
	}
	// The last line, without a line end: a CR there ends it.
	return bytes.TrimSuffix(line, []byte{'\r'}), false, nil
}

// read returns the next record and the line it starts in, or io.EOF. The
// fields are valid until the next call.
func (r *recordReader) read() ([]string, int, error) {
	var (
		line []byte
		nl   bool
		err  error
	)
	for {
		line, nl, err = r.readLine()
		if err != nil {
			return nil, 0, r.lineError(err)
		}
		if len(line) > 0 {
			break
		}
		if !nl {
			return nil, 0, io.EOF
		}
	}
	start := r.line
	r.text, r.ends = r.text[:0], r.ends[:0]
	pos := 0
	for {
		if r.trimLead {
			pos += len(line[pos:]) - len(bytes.TrimLeftFunc(line[pos:], unicode.IsSpace))
		}
		if pos < len(line) && line[pos] == '"' {
			qe := &quoteError{start: start, field: len(r.ends), openLine: r.line, openCol: column(line, pos), comma: r.comma}
			pos++
			for {
				i := bytes.IndexByte(line[pos:], '"')
				if i < 0 {
					// The field goes on in the next line.
					r.text = append(r.text, line[pos:]...)
					if !nl {
						return nil, 0, qe
					}
					r.text = append(r.text, '\n')
					if line, nl, err = r.readLine(); err != nil {
						if errors.Is(err, io.EOF) {
							return nil, 0, qe
						}
						return nil, 0, r.lineError(err)
					}
					pos = 0
					continue
				}
				r.text = append(r.text, line[pos:pos+i]...)
				pos += i + 1
				if pos < len(line) && line[pos] == '"' {
					r.text = append(r.text, '"')
					pos++
					continue
				}
				closeCol := column(line, pos-1)
				for pos < len(line) && (line[pos] == ' ' || line[pos] == '\t' && r.comma != '\t') {
					pos++
				}
				if pos < len(line) && line[pos] != r.comma {
					qe.closeLine, qe.closeCol = r.line, closeCol
					return nil, 0, qe
				}
				break
			}
		} else {
			i := bytes.IndexByte(line[pos:], r.comma)
			if i < 0 {
				i = len(line) - pos
			}
			r.text = append(r.text, line[pos:pos+i]...)
			pos += i
		}
		r.ends = append(r.ends, len(r.text))
		if pos >= len(line) {
			break
		}
		pos++ // the delimiter
	}
	all := string(r.text)
	r.fields = r.fields[:0]
	from := 0
	for _, end := range r.ends {
		r.fields = append(r.fields, all[from:end])
		from = end
	}
	return r.fields, start, nil
}

// lineError names the line a read failed in; io.EOF stays as it is.
func (r *recordReader) lineError(err error) error {
	if errors.Is(err, io.EOF) {
		return err
	}
	return fmt.Errorf("line %d: %w", r.line+1, err)
}

// column is the 1-based character column of byte offset i in line.
func column(line []byte, i int) int { return utf8.RuneCount(line[:i]) + 1 }
