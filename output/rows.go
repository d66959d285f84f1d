package output

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// sheetRows writes rows of worksheet XML to a temporary file, cell for cell
// as excelize's stream writer writes them (inline strings, the same
// escaping and the same limits), but without boxing a value or building a
// string per cell: for a large results workbook that writer spent most of
// the time there. The rows go into the sheet's part when the workbook is
// zipped (see spliceZip).
type sheetRows struct {
	f    *os.File
	w    *bufio.Writer
	b    []byte   // the row being built
	refs [][]byte // column letters, by column index from 0
	row  []byte   // the row number being built, as text
	rows int      // rows written
}

// newSheetRows starts the rows of a sheet of ncol columns.
func newSheetRows(ncol int) (*sheetRows, error) {
	f, err := os.CreateTemp("", "enrollbatch-rows-*")
	if err != nil {
		return nil, err
	}
	x := &sheetRows{f: f, w: bufio.NewWriterSize(f, 256<<10)}
	for i := range ncol {
		name, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			x.close()
			return nil, err
		}
		x.refs = append(x.refs, []byte(name))
	}
	return x, nil
}

// start begins row n (from 1).
func (x *sheetRows) start(n int) error {
	if n > excelize.TotalRows {
		return excelize.ErrMaxRows
	}
	x.row = strconv.AppendInt(x.row[:0], int64(n), 10)
	x.b = append(x.b[:0], `<row r="`...)
	x.b = append(x.b, x.row...)
	x.b = append(x.b, `">`...)
	return nil
}

// open appends a cell's start tag: its reference, style and type.
func (x *sheetRows) open(col, style int, typ string) {
	x.b = append(x.b, `<c r="`...)
	x.b = append(x.b, x.refs[col]...)
	x.b = append(x.b, x.row...)
	x.b = append(x.b, '"')
	if style != 0 {
		x.b = append(x.b, ` s="`...)
		x.b = strconv.AppendInt(x.b, int64(style), 10)
		x.b = append(x.b, '"')
	}
	if typ != "" {
		x.b = append(x.b, ` t="`...)
		x.b = append(x.b, typ...)
		x.b = append(x.b, '"')
	}
	x.b = append(x.b, '>')
}

// num appends a number cell.
func (x *sheetRows) num(col, v int) {
	x.open(col, 0, "")
	x.b = append(x.b, "<v>"...)
	x.b = strconv.AppendInt(x.b, int64(v), 10)
	x.b = append(x.b, "</v></c>"...)
}

// text appends an inline string cell.
func (x *sheetRows) text(col, style int, s string) {
	x.open(col, style, "inlineStr")
	x.b = append(x.b, "<is><t"...)
	if s != "" && (isXMLSpace(s[0]) || isXMLSpace(s[len(s)-1])) {
		x.b = append(x.b, ` xml:space="preserve"`...)
	}
	x.b = append(x.b, '>')
	x.b = appendCellString(x.b, s)
	x.b = append(x.b, "</t></is></c>"...)
}

// date appends a date cell: Excel's serial number of t, which carries no
// zone (t is taken as wall time).
func (x *sheetRows) date(col, style int, t time.Time) {
	serial, ok := excelSerial(t)
	if !ok { // before 1900: written as text, as excelize does
		x.text(col, style, t.Format(time.RFC3339Nano))
		return
	}
	x.open(col, style, "")
	x.b = append(x.b, "<v>"...)
	x.b = strconv.AppendFloat(x.b, serial, 'f', -1, 64)
	x.b = append(x.b, "</v></c>"...)
}

// end finishes the row and writes it.
func (x *sheetRows) end() error {
	x.b = append(x.b, "</row>"...)
	x.rows++
	_, err := x.w.Write(x.b)
	return err
}

// finish flushes the rows to their file.
func (x *sheetRows) finish() error {
	return x.w.Flush()
}

// copyTo writes the rows written so far to w.
func (x *sheetRows) copyTo(w io.Writer) error {
	if _, err := x.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, x.f)
	return err
}

// close removes the temporary file.
func (x *sheetRows) close() {
	_ = x.f.Close()
	_ = os.Remove(x.f.Name())
}

func isXMLSpace(c byte) bool { return c == 9 || c == 10 || c == 13 || c == 32 }

// excelMaxChars is how many UTF-16 code units excelize keeps in a cell.
const excelMaxChars = excelize.TotalCellChars

// appendCellString appends s as excelize writes an inline string's text:
// cut to excelMaxChars UTF-16 code units, XML-escaped with line breaks
// kept, and with Excel's _xHHHH_ escapes protected.
func appendCellString(b []byte, s string) []byte {
	if len(s) > excelMaxChars {
		n := 0
		for i, r := range s {
			if n += utf16.RuneLen(r); n > excelMaxChars {
				s = s[:i]
				break
			}
		}
	}
	start := len(b)
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\'' && c != '&' && c != '<' && c != '>' {
			i++
			continue
		}
		r, width := rune(c), 1
		if c >= utf8.RuneSelf {
			r, width = utf8.DecodeRuneInString(s[i:])
		}
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "\n"
		case '\r':
			esc = "&#xD;"
		default:
			if !xmlChar(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			i += width
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	b = append(b, s[last:]...)
	if bytes.Contains(b[start:], []byte("_x")) {
		escaped := bstrEscape(string(b[start:]))
		b = append(b[:start], escaped...)
	}
	return b
}

// xmlChar reports whether r may appear in XML text.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

var (
	bstrPattern       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapePattern = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// bstrEscape protects text that Excel would read as an _xHHHH_ escape of
// a character, the way excelize does for every string it writes.
func bstrEscape(s string) string {
	var out strings.Builder
	cursor := 0
	for _, m := range bstrPattern.FindAllStringIndex(s, -1) {
		out.WriteString(s[cursor:m[0]])
		sub := s[m[0]:m[1]]
		cursor = m[1]
		if sub == "_x005F_" {
			if m[1]+6 <= len(s) && bstrEscapePattern.MatchString(s[m[1]:m[1]+6]) {
				if _, err := strconv.Unquote(`"\u` + s[m[1]+1:m[1]+5] + `"`); err == nil {
					out.WriteString(sub + "x005F" + sub)
					continue
				}
			}
			out.WriteString(sub + "x005F_")
			continue
		}
		if _, err := strconv.Unquote(`"\u` + s[m[0]+2:m[1]-1] + `"`); err == nil {
			out.WriteString("_x005F" + sub)
		}
	}
	out.WriteString(s[cursor:])
	return out.String()
}

var (
	excelEpoch      = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelLeapBugEnd = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC)
)

// excelSerial is t's Excel serial date (days since 1900, counting Excel's
// 29 February 1900), computed as excelize computes it; false before 1900.
func excelSerial(t time.Time) (float64, bool) {
	_, offset := t.Zone()
	t = t.Add(time.Duration(offset) * time.Second)
	if t.Before(excelEpoch) {
		return 0, false
	}
	const day = 24 * time.Hour
	const span = 290 * 364 * day // within what a time.Duration holds
	tt, diff, serial := t, t.Sub(excelEpoch), 0.0
	for diff >= span {
		serial += float64(span / day)
		tt = tt.Add(-span)
		diff = tt.Sub(excelEpoch)
	}
	rem := diff % day
	serial += float64(diff-rem)/float64(day) + float64(rem)/float64(day)
	if !t.Before(excelLeapBugEnd) {
		serial++
	}
	return serial, serial > 0
}

// spliceZip zips a workbook as zip.Writer does, putting the rows of one
// sheet part, written apart by sheetRows, before the end of the sheet's
// data in the part excelize writes.
type spliceZip struct {
	*zip.Writer
	part    string        // the sheet's part, such as xl/worksheets/sheet1.xml
	rows    *sheetRows    // its rows
	pending *bytes.Buffer // excelize's text of the part, until the next part starts
	done    bool
}

// Create starts the next part; the sheet's part is held until then.
func (z *spliceZip) Create(name string) (io.Writer, error) {
	if err := z.splice(); err != nil {
		return nil, err
	}
	if name == z.part {
		z.pending = new(bytes.Buffer)
		return z.pending, nil
	}
	return z.Writer.Create(name)
}

// Close writes what is held and ends the archive.
func (z *spliceZip) Close() error {
	if err := z.splice(); err != nil {
		return err
	}
	if !z.done {
		return fmt.Errorf("no %s in the workbook for its rows", z.part)
	}
	return z.Writer.Close()
}

// splice writes the held sheet part with its rows.
func (z *spliceZip) splice() error {
	if z.pending == nil {
		return nil
	}
	data := z.pending.Bytes()
	z.pending = nil
	end := bytes.LastIndex(data, []byte("</sheetData>"))
	if end < 0 {
		return errors.New(z.part + " has no sheet data for its rows")
	}
	w, err := z.Writer.Create(z.part)
	if err != nil {
		return err
	}
	if _, err := w.Write(data[:end]); err != nil {
		return err
	}
	if err := z.rows.copyTo(w); err != nil {
		return err
	}
	if _, err := w.Write(data[end:]); err != nil {
		return err
	}
	z.done = true
	return nil
}
