package input

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
)

// scannedCell is what the worksheet XML says about one cell: its column
// (0-based), type attribute, style index, saved value, and whether it holds
// a formula.
type scannedCell struct {
	col     int
	typ     string // t attribute: "" or n (number), s (shared string), b, e, d, str, inlineStr
	style   int
	value   string // the <v> text
	inline  string // the text of an inline string (<is>)
	formula bool
}

// sheetCells streams the cells of one worksheet part, row by row: each
// cell's type, style, saved value and whether it holds a formula.
type sheetCells struct {
	dec     *xml.Decoder
	lr      *io.LimitedReader
	rc      io.Closer
	pending int // number of the row read last
	cells   []scannedCell
	last    int // number of the last row read
	done    bool
}

// workbookPkg is an opened .xlsx package: the parts that every sheet
// needs (sheet list, shared strings, styles), read once.
type workbookPkg struct {
	zr       *zip.ReadCloser
	files    map[string]*zip.File
	sheets   []sheetEntry
	date1904 bool
	sst      []string
	styles   []cellStyle
}

// sheetEntry is one sheet of the workbook.
type sheetEntry struct {
	name   string
	hidden bool // state hidden or veryHidden
	part   string
}

// cellStyle is what a cell style says about numbers.
type cellStyle struct {
	date   bool   // the number format shows a date or time
	format string // the format code, for custom formats
}

// openPackage opens the workbook at p and reads its sheet list, shared
// strings and styles. Every part is read through the 1 GiB unzip limit.
func openPackage(p string) (*workbookPkg, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("open workbook: %w; is it an .xlsx file?", err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > maxUnzip {
		zr.Close()
		return nil, fmt.Errorf("open workbook: %w", ErrUnzipLimit)
	}
	wb := &workbookPkg{zr: zr, files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		wb.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	if err := wb.readParts(); err != nil {
		zr.Close()
		return nil, err
	}
	return wb, nil
}

// close closes the zip.
func (wb *workbookPkg) close() error { return wb.zr.Close() }

func (wb *workbookPkg) readParts() error {
	wbPath := "xl/workbook.xml"
	var rootRels relationships
	if err := wb.decode("_rels/.rels", &rootRels); err == nil {
		for _, r := range rootRels.Rel {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	var book struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"`
			RID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := wb.decode(wbPath, &book); err != nil {
		return fmt.Errorf("open workbook: %w; is it an .xlsx file?", err)
	}
	wb.date1904 = book.Pr.Date1904 == "1" || strings.EqualFold(book.Pr.Date1904, "true")
	dir, base := path.Split(wbPath)
	var rels relationships
	if err := wb.decode(dir+"_rels/"+base+".rels", &rels); err != nil {
		return fmt.Errorf("open workbook: %w", err)
	}
	target := func(t string) string {
		if strings.HasPrefix(t, "/") {
			return strings.TrimPrefix(t, "/")
		}
		return path.Join(dir, t)
	}
	byID := map[string]string{}
	sstPath, stylesPath := "", ""
	for _, r := range rels.Rel {
		byID[r.ID] = target(r.Target)
		switch {
		case strings.HasSuffix(r.Type, "/sharedStrings"):
			sstPath = target(r.Target)
		case strings.HasSuffix(r.Type, "/styles"):
			stylesPath = target(r.Target)
		}
	}
	for _, s := range book.Sheets {
		wb.sheets = append(wb.sheets, sheetEntry{name: s.Name, hidden: s.State == "hidden" || s.State == "veryHidden", part: byID[s.RID]})
	}
	if sstPath != "" {
		if err := wb.readSharedStrings(sstPath); err != nil {
			return err
		}
	}
	if stylesPath != "" {
		var st struct {
			NumFmts []struct {
				ID   int    `xml:"numFmtId,attr"`
				Code string `xml:"formatCode,attr"`
			} `xml:"numFmts>numFmt"`
			Xfs []struct {
				NumFmt int `xml:"numFmtId,attr"`
			} `xml:"cellXfs>xf"`
		}
		if err := wb.decode(stylesPath, &st); err == nil {
			custom := map[int]string{}
			for _, n := range st.NumFmts {
				custom[n.ID] = n.Code
			}
			for _, x := range st.Xfs {
				cs := cellStyle{}
				if code, ok := custom[x.NumFmt]; ok {
					cs.date, cs.format = isDateFormat(code), code
				} else {
					cs.date = builtinDateFormat(x.NumFmt)
				}
				wb.styles = append(wb.styles, cs)
			}
		}
	}
	return nil
}

type relationships struct {
	Rel []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// open opens a part through the unzip limit.
func (wb *workbookPkg) open(name string) (io.ReadCloser, *io.LimitedReader, error) {
	f, ok := wb.files[name]
	if !ok {
		return nil, nil, fmt.Errorf("the workbook has no %s", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, err
	}
	return rc, &io.LimitedReader{R: rc, N: maxUnzip + 1}, nil
}

// decode decodes a whole part into v.
func (wb *workbookPkg) decode(name string, v any) error {
	rc, lr, err := wb.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := xml.NewDecoder(lr).Decode(v); err != nil {
		if lr.N <= 0 {
			return ErrUnzipLimit
		}
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// readSharedStrings reads the shared string table, joining rich-text runs
// and leaving out phonetic guides.
func (wb *workbookPkg) readSharedStrings(name string) error {
	rc, lr, err := wb.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(lr)
	var cur strings.Builder
	inT, inPh := false, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if lr.N <= 0 {
				return ErrUnzipLimit
			}
			return fmt.Errorf("read the shared strings: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "si":
				wb.sst = append(wb.sst, cur.String())
			case "t":
				inT = false
			case "rPh":
				inPh--
			}
		case xml.CharData:
			if inT && inPh == 0 {
				cur.Write(el)
			}
		}
	}
}

// openSheet starts streaming the cells of sheet s.
func (wb *workbookPkg) openSheet(s *sheetEntry) (*sheetCells, error) {
	rc, lr, err := wb.open(s.part)
	if err != nil {
		return nil, err
	}
	return &sheetCells{dec: xml.NewDecoder(lr), lr: lr, rc: rc}, nil
}

// shown returns a cell's value as a person sees it in Excel, close enough
// for names, descriptions and messages: shared and inline strings as they
// are, booleans as TRUE or FALSE, numbers in the General format or their
// date, zero-padded or percent format.
func (wb *workbookPkg) shown(sc scannedCell) string {
	switch sc.typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(sc.value))
		if err != nil || i < 0 || i >= len(wb.sst) {
			return ""
		}
		return wb.sst[i]
	case "inlineStr":
		return sc.inline
	case "b":
		switch strings.TrimSpace(sc.value) {
		case "1", "true":
			return "TRUE"
		case "0", "false":
			return "FALSE"
		}
		return sc.value
	case "", "n":
		v, err := strconv.ParseFloat(strings.TrimSpace(sc.value), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return sc.value
		}
		var st cellStyle
		if sc.style >= 0 && sc.style < len(wb.styles) {
			st = wb.styles[sc.style]
		}
		return formatNumber(v, st, wb.date1904)
	}
	return sc.value
}

// formatNumber renders v as a cell of style st shows it.
func formatNumber(v float64, st cellStyle, date1904 bool) string {
	if st.date {
		if t, ok := serialToTime(v, date1904); ok {
			if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
				return t.Format("2006-01-02")
			}
			return t.Format("2006-01-02 15:04:05")
		}
	}
	code := strings.SplitN(st.format, ";", 2)[0]
	switch {
	case code != "" && strings.Trim(code, "0") == "" && v == math.Trunc(v) && v >= 0:
		// "0000": zero-padded whole numbers, as site and store codes are.
		s := strconv.FormatFloat(v, 'f', 0, 64)
		for len(s) < len(code) {
			s = "0" + s
		}
		return s
	case strings.HasSuffix(code, "%") && strings.Trim(strings.TrimSuffix(code, "%"), "0.") == "":
		decimals := 0
		if i := strings.IndexByte(code, '.'); i >= 0 {
			decimals = len(code) - i - 2
		}
		return strconv.FormatFloat(v*100, 'f', decimals, 64) + "%"
	}
	// General: at most 15 significant digits, as Excel keeps.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// next returns the next row that has cells: its number (1-based) and its
// cells; the number is 0 at the end of the sheet.
func (s *sheetCells) next() (int, []scannedCell, error) {
	if s.done {
		return 0, nil, nil
	}
	if err := s.readRow(); err != nil {
		return 0, nil, err
	}
	if s.done {
		return 0, nil, nil
	}
	return s.pending, s.cells, nil
}

// close closes the sheet part.
func (s *sheetCells) close() error { return s.rc.Close() }

// readRow reads the next <row> element into s.cells and s.pending.
func (s *sheetCells) readRow() error {
	for {
		tok, err := s.dec.Token()
		if err == io.EOF {
			s.done = true
			return nil
		}
		if err != nil {
			if s.lr.N <= 0 {
				return ErrUnzipLimit
			}
			return fmt.Errorf("read the sheet: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		num := s.last + 1
		if v := attr(se, "r"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				num = n
			}
		}
		s.last, s.pending = num, num
		s.cells = s.cells[:0]
		return s.readCells(num)
	}
}

// readCells reads the <c> elements of the current row up to </row>.
func (s *sheetCells) readCells(rowNum int) error {
	col := -1
	for {
		tok, err := s.dec.Token()
		if err != nil {
			if s.lr.N <= 0 {
				return ErrUnzipLimit
			}
			if err == io.EOF {
				return errors.New("read the sheet: it ends inside a row")
			}
			return fmt.Errorf("read the sheet: %w", err)
		}
		switch el := tok.(type) {
		case xml.EndElement:
			if el.Name.Local == "row" {
				return nil
			}
		case xml.StartElement:
			if el.Name.Local != "c" {
				continue
			}
			col++
			c := scannedCell{col: col, typ: attr(el, "t")}
			if ref := attr(el, "r"); ref != "" {
				if i := refColumn(ref); i >= 0 {
					c.col, col = i, i
				}
			}
			if v := attr(el, "s"); v != "" {
				c.style, _ = strconv.Atoi(v)
			}
			if err := s.readCell(&c); err != nil {
				return err
			}
			s.cells = append(s.cells, c)
		}
	}
}

// readCell reads a <c> element's children: <v>, <f> and <is>.
func (s *sheetCells) readCell(c *scannedCell) error {
	var v, is strings.Builder
	var stack []string
	inPh := 0
	for {
		tok, err := s.dec.Token()
		if err != nil {
			if s.lr.N <= 0 {
				return ErrUnzipLimit
			}
			return fmt.Errorf("read the sheet: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name.Local)
			switch el.Name.Local {
			case "f":
				c.formula = true
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			if len(stack) == 0 {
				c.value, c.inline = v.String(), is.String()
				return nil
			}
			if el.Name.Local == "rPh" {
				inPh--
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch {
			case len(stack) == 1 && stack[0] == "v" && v.Len() < 1<<16:
				v.Write(el)
			case stack[0] == "is" && stack[len(stack)-1] == "t" && inPh == 0 && is.Len() < 1<<16:
				is.Write(el)
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// refColumn returns the 0-based column of a cell reference such as "B7",
// or -1.
func refColumn(ref string) int {
	col := 0
	i := 0
	for ; i < len(ref); i++ {
		ch := ref[i]
		switch {
		case ch >= 'A' && ch <= 'Z':
			col = col*26 + int(ch-'A'+1)
		case ch >= 'a' && ch <= 'z':
			col = col*26 + int(ch-'a'+1)
		default:
			if i == 0 || col > 16384 {
				return -1
			}
			return col - 1
		}
	}
	return -1
}
