package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/tenant"
	"github.com/xuri/excelize/v2"
)

// maxUnzip bounds how much a workbook may inflate to. Sheets are read as a
// stream (parts above 16 MiB from a temporary file, not memory), so the
// limit bounds time and disk, not memory: 1 GiB holds the results workbook
// of a 100,000-row run (more than 128 MiB of XML, with its QR contents) several
// times over, and a zip bomb is still refused at once.
const maxUnzip = 1 << 30

// ErrUnzipLimit is wrapped by OpenWorkbook's error for a workbook that
// unpacks to more than the limit.
var ErrUnzipLimit = errors.New("the workbook unpacks to more than 1 GiB; split the list into several files")

// OpenWorkbook opens an .xlsx file with the limits that apply to every
// workbook the tool reads: at most 1 GiB unpacked, parts above 16 MiB
// read from a temporary file instead of memory. Files of other spreadsheet
// formats, whatever their extension, are refused with a message that says
// to save them as .xlsx.
func OpenWorkbook(path string) (*excelize.File, error) {
	if err := sniffSpreadsheet(path); err != nil {
		return nil, err
	}
	wb, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: maxUnzip, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		// excelize has no sentinel for its size limit.
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, fmt.Errorf("open workbook: %w", ErrUnzipLimit)
		}
		return nil, fmt.Errorf("open workbook: %w; is it an .xlsx file?", err)
	}
	return wb, nil
}

// sniffSpreadsheet refuses files that are another spreadsheet format under
// an .xlsx name: an Excel 97-2003 workbook (an OLE2 compound file) or an
// OpenDocument spreadsheet (a zip whose first member is its mimetype).
func sniffSpreadsheet(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	head := make([]byte, 90)
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return errors.New(xlsMessage)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) && bytes.Contains(head, []byte("application/vnd.oasis.opendocument")):
		return errors.New(odsMessage)
	}
	return nil
}

// The messages for spreadsheet formats the tool does not read.
const (
	xlsMessage = "this is an Excel 97-2003 workbook (.xls), which is not supported; open it in Excel and save it as .xlsx (File > Save As > Excel Workbook), or as CSV UTF-8"
	odsMessage = "this is an OpenDocument spreadsheet (.ods), which is not supported; save it as .xlsx (in LibreOffice: File > Save As > Excel 2007-365), or as CSV"
)

// openXLSX opens one sheet of a workbook and reads its header row. The
// rows after it are read with typed cells: a number cell with a date format
// is a date whatever the format shows, another number cell is a number, a
// boolean cell a boolean. The sheet's XML is streamed row by row as the
// rows are asked for, so memory does not grow with the number of rows or
// with how far to the right a stray value sits; only the shared strings and
// the styles are held. Without a sheet name the workbook's one visible
// sheet is read; a workbook with several is refused (see Options.Sheet).
func openXLSX(path, sheet string) (file *File, src rowSource, err error) {
	var (
		wb    *workbookPkg
		cells *sheetCells
	)
	defer func() {
		// The XML is untrusted; no input may crash the job.
		if r := recover(); r != nil {
			file, src, err = nil, nil, brokenWorkbook(r)
		}
		if err != nil {
			if cells != nil {
				cells.close()
			}
			if wb != nil {
				wb.close()
			}
		}
	}()
	if err := sniffSpreadsheet(path); err != nil {
		return nil, nil, err
	}
	wb, err = openPackage(path)
	if err != nil {
		return nil, nil, err
	}
	if len(wb.sheets) == 0 {
		return nil, nil, errors.New("the workbook has no sheets")
	}
	names := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		names[i] = s.name
	}
	var warnings []string
	var chosen *sheetEntry
	if sheet != "" {
		for i := range wb.sheets {
			if s := &wb.sheets[i]; s.name == sheet || (chosen == nil && strings.EqualFold(s.name, sheet)) {
				chosen = s
			}
		}
		if chosen == nil {
			return nil, nil, fmt.Errorf("no sheet named %q; the workbook has %s", sheet, quoteList(names))
		}
	} else {
		// Without --sheet, the workbook must leave no doubt: one visible
		// sheet. Reading the first of several would silently leave out the
		// rows of the others, and --prune would delete their profiles.
		var visible, hidden []string
		for i := range wb.sheets {
			if s := &wb.sheets[i]; s.hidden {
				hidden = append(hidden, s.name)
			} else {
				if chosen == nil {
					chosen = s
				}
				visible = append(visible, s.name)
			}
		}
		switch {
		case chosen == nil:
			return nil, nil, fmt.Errorf("every sheet is hidden (%s); unhide the sheet to read, or name it with --sheet", joinQuoted(names))
		case len(visible) > 1:
			return nil, nil, fmt.Errorf("the workbook has %d visible sheets, %s, and only one can be read; pass --sheet NAME to say which (e.g. --sheet %s)",
				len(visible), joinQuoted(visible), shellQuote(visible[0]))
		}
		if len(hidden) > 0 {
			warnings = append(warnings, skippedHidden(hidden))
		}
	}
	name := chosen.name
	f := &File{Path: path, Sheet: name, Format: "xlsx"}
	cells, err = wb.openSheet(chosen)
	if err != nil {
		return nil, nil, fmt.Errorf("sheet %q: %w", name, err)
	}

	line, scanned, err := cells.next()
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("sheet %q: %w", name, err)
	case line == 0:
		return nil, nil, fmt.Errorf("sheet %q is empty; row 1 must hold the headers, e.g. displayName", name)
	case line != 1:
		return nil, nil, fmt.Errorf("sheet %q: row 1 is empty; it must hold the headers, e.g. displayName", name)
	}
	headers := []string{}
	for _, sc := range scanned {
		for len(headers) < sc.col {
			headers = append(headers, "")
		}
		headers = append(headers, wb.shown(sc))
	}
	if err := f.setHeaders(headers, columnLetters); err != nil {
		return nil, nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	typed := map[int]bool{} // columns whose cell types matter
	for prop, i := range f.Columns {
		switch prop {
		case "displayName", "description", DeviceGroupColumn, tenant.Column:
		default:
			typed[i] = true
		}
	}
	f.Warnings = append(warnings, f.Warnings...)
	return f, &xlsxRows{path: path, sheet: name, wb: wb, cells: cells, width: len(f.Headers), typed: typed}, nil
}

// brokenWorkbook is the error for a workbook whose XML made the reader
// panic.
func brokenWorkbook(r any) error {
	return fmt.Errorf("the workbook cannot be read (%v); open it in Excel and save it again as .xlsx", r)
}

// xlsxRows reads the rows of a sheet after its header row, one at a time,
// from the sheet's XML stream.
type xlsxRows struct {
	path, sheet string
	wb          *workbookPkg
	cells       *sheetCells
	width       int          // columns with a header
	typed       map[int]bool // columns whose cell types matter
}

func (s *xlsxRows) next() (rr rawRow, err error) {
	defer func() {
		if r := recover(); r != nil {
			rr, err = rawRow{}, brokenWorkbook(r)
		}
	}()
	for {
		line, scanned, err := s.cells.next()
		if err != nil {
			return rawRow{}, fmt.Errorf("sheet %q: %w", s.sheet, err)
		}
		if line == 0 {
			return rawRow{}, io.EOF
		}
		rr := rawRow{line: line}
		stray := -1
		for _, sc := range scanned {
			text := strings.TrimSpace(s.wb.shown(sc))
			if sc.col >= s.width {
				if text != "" && stray < 0 {
					stray = sc.col
				}
				continue
			}
			if rr.cells == nil {
				rr.cells = make([]cell, s.width)
			}
			c := cell{text: text}
			switch {
			case text == "" && sc.formula:
				c.unsaved = true
			case text != "" && s.typed[sc.col]:
				c = s.wb.typedCell(sc, text)
			case sc.typ == "e":
				// An error value such as #NAME? is no name nor description.
				c.typ = errorCell
			}
			rr.cells[sc.col] = c
		}
		if stray >= 0 {
			rr.problems = append(rr.problems, Problem{File: s.path, Row: line,
				Message: fmt.Sprintf("has a value in column %s, which has no header; add a header or clear the cell", columnLetters(stray))})
		}
		if rr.blank() && len(rr.problems) == 0 {
			continue
		}
		return rr, nil
	}
}

// close closes the sheet's stream and the zip.
func (s *xlsxRows) close() error {
	s.cells.close()
	return s.wb.close()
}

// typedCell classifies one non-empty cell from its type and style.
func (r *workbookPkg) typedCell(sc scannedCell, text string) cell {
	c := cell{text: text}
	rawText := strings.TrimSpace(sc.value)
	switch sc.typ {
	case "b":
		c.typ = boolCell
		c.num, _ = strconv.ParseFloat(rawText, 64)
		if strings.EqualFold(rawText, "true") {
			c.num = 1
		}
	case "e":
		c.typ = errorCell
	case "d":
		if t, ok := parseISOCell(rawText); ok {
			c.typ, c.date = dateCell, t
		}
	case "", "n":
		v, err := strconv.ParseFloat(rawText, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return c
		}
		c.typ, c.num = numberCell, v
		if r.isDate(sc.style) {
			if t, ok := serialToTime(v, r.date1904); ok {
				c.typ, c.date = dateCell, t
			}
		}
		if c.typ == numberCell {
			c.text = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return c
}

// isDate reports whether the number format of style idx shows a date or
// time.
func (r *workbookPkg) isDate(idx int) bool {
	if idx < 0 || idx >= len(r.styles) {
		return false
	}
	return r.styles[idx].date
}

// builtinDateFormat reports whether a built-in number format id is a date
// or time format (including the East Asian and Thai ones).
func builtinDateFormat(id int) bool {
	return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
		(id >= 50 && id <= 58) || (id >= 71 && id <= 81)
}

// isDateFormat reports whether a custom number format code shows a date or
// a time: it has y, m, d, h or s outside quoted text, escapes and
// [brackets] (except elapsed time such as [h]).
func isDateFormat(code string) bool {
	// Only the first section, the one for positive numbers, matters.
	if strings.EqualFold(strings.TrimSpace(code), "general") {
		return false
	}
	inQuote, inBracket := false, false
	bracket := ""
	rs := []rune(code)
	for i := 0; i < len(rs); i++ {
		ch := rs[i]
		switch {
		case inQuote:
			if ch == '"' {
				inQuote = false
			}
		case inBracket:
			if ch == ']' {
				inBracket = false
				b := strings.ToLower(bracket)
				if b != "" && strings.Trim(b, "hms") == "" {
					return true // elapsed time
				}
			} else {
				bracket += string(ch)
			}
		case ch == '"':
			inQuote = true
		case ch == '[':
			inBracket, bracket = true, ""
		case ch == '\\' || ch == '_' || ch == '*':
			i++ // escaped or padding character
		case ch == ';':
			return false
		default:
			switch ch {
			case 'y', 'Y', 'm', 'M', 'd', 'D', 'h', 'H', 's', 'S':
				return true
			}
		}
	}
	return false
}

// serialToTime converts an Excel serial date to a time in UTC: whole
// numbers are midnight, fractions are the time of day rounded to the
// second. Spreadsheets store no time zone; UTC is the only reading that
// gives every reader of the file the same instant.
func serialToTime(v float64, date1904 bool) (time.Time, bool) {
	if v < 1 || v >= 2958466 { // before 1900-01-01 or after 9999-12-31
		return time.Time{}, false
	}
	days := math.Floor(v)
	secs := math.Round((v - days) * 86400)
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days == 60:
		return time.Time{}, false // 1900-02-29, which never was
	case days < 60:
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	return base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), true
}

// parseISOCell reads the value of an ISO 8601 date cell (t="d").
func parseISOCell(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// skippedHidden is the warning for hidden sheets left out: skipped hidden
// sheet "Old" (name it with --sheet to read it).
func skippedHidden(hidden []string) string {
	if len(hidden) == 1 {
		return fmt.Sprintf("skipped hidden sheet %q (name it with --sheet to read it)", hidden[0])
	}
	q := make([]string, len(hidden))
	for i, n := range hidden {
		q[i] = strconv.Quote(n)
	}
	return fmt.Sprintf("skipped %d hidden sheets: %s (name one with --sheet to read it)", len(hidden), strings.Join(q, ", "))
}

// joinQuoted formats names as "a", "b" and "c".
func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// shellQuote quotes a sheet name for a command line when it needs it.
func shellQuote(name string) string {
	if name != "" && strings.IndexFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) < 0 {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `\"`) + `"`
}

// quoteList formats names as one sheet, "a" or the sheets "a", "b" and "c".
func quoteList(names []string) string {
	if len(names) == 1 {
		return "one sheet, " + strconv.Quote(names[0])
	}
	return "the sheets " + joinQuoted(names)
}
