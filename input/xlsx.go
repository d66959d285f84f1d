package input

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// maxUnzip bounds how much a workbook may inflate to: 128 MiB of XML holds
// a few hundred thousand rows, far more than a profile list, and a zip bomb
// is refused at once instead of keeping the job busy.
const maxUnzip = 128 << 20

// readXLSX reads one sheet of a workbook with typed cells: a number cell
// with a date format is a date whatever the format shows, another number
// cell is a number, a boolean cell a boolean.
func readXLSX(path, sheet string) (file *File, err error) {
	// excelize parses untrusted XML; no input may crash the job.
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("the workbook cannot be read (%v); open it in Excel and save it again as .xlsx", r)
		}
	}()
	wb, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: maxUnzip})
	if err != nil {
		// excelize has no sentinel for its size limit.
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, fmt.Errorf("open workbook: it unpacks to more than 128 MiB; split the list into several files")
		}
		return nil, fmt.Errorf("open workbook: %w; is it an .xlsx file?", err)
	}
	defer wb.Close()

	sheets := wb.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("the workbook has no sheets")
	}
	name := sheets[0]
	if sheet != "" {
		name = ""
		for _, s := range sheets {
			if s == sheet || (name == "" && strings.EqualFold(s, sheet)) {
				name = s
			}
		}
		if name == "" {
			return nil, fmt.Errorf("no sheet named %q; the workbook has %s", sheet, quoteList(sheets))
		}
	}
	f := &File{Path: path, Sheet: name, Format: "xlsx"}

	shown, err := wb.GetRows(name)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	raw, err := wb.GetRows(name, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	if len(shown) == 0 {
		return nil, fmt.Errorf("sheet %q is empty; row 1 must hold the headers, e.g. displayName", name)
	}
	if err := f.setHeaders(shown[0], columnLetters); err != nil {
		return nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	typed := map[int]bool{} // columns whose cell types matter
	for prop, i := range f.Columns {
		switch prop {
		case "displayName", "description":
		default:
			typed[i] = true
		}
	}
	date1904 := false
	if props, err := wb.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		date1904 = *props.Date1904
	}
	r := &xlsxReader{wb: wb, sheet: name, date1904: date1904, dateStyle: map[int]bool{}}

	var raws []rawRow
	for n := 1; n < len(shown); n++ {
		line := n + 1
		rr := rawRow{line: line, cells: make([]cell, len(shown[n]))}
		for i, v := range shown[n] {
			rr.cells[i] = cell{text: strings.TrimSpace(v)}
		}
		if rr.blank() {
			continue
		}
		for i := range rr.cells {
			if rr.cells[i].text == "" || !typed[i] {
				continue
			}
			rawText := ""
			if n < len(raw) && i < len(raw[n]) {
				rawText = strings.TrimSpace(raw[n][i])
			}
			rr.cells[i] = r.typedCell(columnLetters(i)+strconv.Itoa(line), rr.cells[i].text, rawText)
		}
		if i := firstValue(rr.cells, len(f.Headers)); i >= 0 {
			rr.problems = append(rr.problems, Problem{File: path, Row: line,
				Message: fmt.Sprintf("has a value in column %s, which has no header; add a header or clear the cell", columnLetters(i))})
		}
		raws = append(raws, rr)
	}
	f.addRows(raws)
	return f, nil
}

// xlsxReader looks up cell types and number formats.
type xlsxReader struct {
	wb        *excelize.File
	sheet     string
	date1904  bool
	dateStyle map[int]bool // style index -> has a date format
}

// typedCell classifies one non-empty cell from its type and style.
func (r *xlsxReader) typedCell(ref, text, rawText string) cell {
	c := cell{text: text}
	typ, err := r.wb.GetCellType(r.sheet, ref)
	if err != nil {
		return c
	}
	switch typ {
	case excelize.CellTypeBool:
		c.typ = boolCell
		c.num, _ = strconv.ParseFloat(rawText, 64)
		if strings.EqualFold(rawText, "true") {
			c.num = 1
		}
	case excelize.CellTypeError:
		c.typ = errorCell
	case excelize.CellTypeDate:
		if t, ok := parseISOCell(rawText); ok {
			c.typ, c.date = dateCell, t
		}
	case excelize.CellTypeNumber, excelize.CellTypeUnset:
		v, err := strconv.ParseFloat(rawText, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return c
		}
		c.typ, c.num = numberCell, v
		if r.isDate(ref) {
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

// isDate reports whether the cell's number format shows a date or time.
func (r *xlsxReader) isDate(ref string) bool {
	idx, err := r.wb.GetCellStyle(r.sheet, ref)
	if err != nil {
		return false
	}
	if d, ok := r.dateStyle[idx]; ok {
		return d
	}
	d := false
	if st, err := r.wb.GetStyle(idx); err == nil && st != nil {
		if st.CustomNumFmt != nil {
			d = isDateFormat(*st.CustomNumFmt)
		} else {
			d = builtinDateFormat(st.NumFmt)
		}
	}
	r.dateStyle[idx] = d
	return d
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

// quoteList formats names as "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return "one sheet, " + q[0]
	}
	return "the sheets " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
