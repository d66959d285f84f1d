package output

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/enrollbatch/enrollbatch/qr"
)

// Label is one QR label on the sheet.
type Label struct {
	DisplayName string
	Description string
	Expires     time.Time   // token expiry; zero = unknown
	Content     string      // exact qrCodeContent to encode
	Code        *qr.Code    // Content pre-encoded; WritePDF encodes Content when nil
	Image       []byte      // PNG from the service, used when there is no Content
	Fields      [][2]string // extra lines such as {"Site", "Leeds"} from --label-columns
	Replaces    bool        // the profile's QR payload changed: this label replaces codes printed before
}

// ReplacesNote is printed on a label whose code replaces earlier ones.
const ReplacesNote = "REPLACES EARLIER CODES: settings changed; destroy the old sheet"

// SheetOptions lays out the QR sheet.
type SheetOptions struct {
	Paper         string    // "a4" (default) or "letter"
	LabelsPerPage int       // 1, 2, 4 or 6 (default 6, a 2 x 3 grid)
	Title         string    // header line; default DefaultTitle
	Date          time.Time // the run's date shown in the header; default Now
	Now           time.Time // the clock for expiry decisions; default time.Now()
}

// DefaultTitle is the header line when SheetOptions.Title is empty.
const DefaultTitle = "Android enrollment QR codes"

// SecurityNote is printed at the foot of every page.
const SecurityNote = "Anyone who scans these codes can enroll a device into your tenant. Destroy this sheet after use."

// ExpiryWarning is how close to its expiry a token gets a visible mark.
const ExpiryWarning = 7 * 24 * time.Hour

// MinCodeMM is the smallest width of a printed code, its quiet zone included.
const MinCodeMM = 50.0

// GridMM is the printing grid: module sides are whole multiples of it and
// codes start on it. At 1/100 inch every module edge falls on a dot boundary
// of 300, 600 and 1200 dpi printers (and on a pixel edge at 100 or 200 dpi),
// so all modules print the same width and no edge is smeared over two dots.
const GridMM = 25.4 / 100

// ErrNoLabels is returned by WritePDF when no label is left to print (none
// given, or every token expired). No file is written then.
var ErrNoLabels = errors.New("no QR labels to print")

// Page geometry in millimetres.
const (
	marginMM  = 8.0
	headerMM  = 10.0
	footerMM  = 9.0
	padMM     = 3.0
	minFontPt = 5.0
	ptToMM    = 25.4 / 72
	lineGap   = 1.22 // line height as a multiple of the font size
)

type grid struct{ cols, rows int }

var grids = map[int]grid{1: {1, 1}, 2: {1, 2}, 4: {2, 2}, 6: {2, 3}}

// layout is the resolved geometry of one sheet.
type layout struct {
	sizeStr      string
	pageW, pageH float64
	grid         grid
	cellW, cellH float64
	gridTop      float64
	box          float64 // preferred side of the code with its quiet zone
	basePt       float64 // caption font size
}

func newLayout(opts SheetOptions) (layout, error) {
	var l layout
	switch strings.ToLower(strings.TrimSpace(opts.Paper)) {
	case "", "a4":
		l.sizeStr, l.pageW, l.pageH = "A4", 210, 297
	case "letter":
		l.sizeStr, l.pageW, l.pageH = "Letter", 215.9, 279.4
	default:
		return l, fmt.Errorf("paper %q: use a4 or letter", opts.Paper)
	}
	per := opts.LabelsPerPage
	if per == 0 {
		per = 6
	}
	g, ok := grids[per]
	if !ok {
		return l, fmt.Errorf("labels per page %d: use 1, 2, 4 or 6", opts.LabelsPerPage)
	}
	l.grid = g
	l.gridTop = marginMM + headerMM
	l.cellW = (l.pageW - 2*marginMM) / float64(g.cols)
	l.cellH = (l.pageH - 2*marginMM - headerMM - footerMM) / float64(g.rows)
	// Keep about a quarter of the cell for the caption, the rest for the code.
	l.box = math.Min(l.cellW-2*padMM, (l.cellH-2*padMM)*0.78)
	l.box = math.Min(l.box, 150)
	l.basePt = map[int]float64{1: 16, 2: 13, 4: 11, 6: 9}[per]
	return l, nil
}

// WritePDF writes the QR sheet to path (atomically, mode 0600). Labels whose
// token has expired by opts.Now are skipped; when none is left it returns
// ErrNoLabels and writes nothing. A label needs Content (or Code) or an Image.
func WritePDF(path string, labels []Label, opts SheetOptions) error {
	lay, err := newLayout(opts)
	if err != nil {
		return fmt.Errorf("qr sheet: %w", err)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Date.IsZero() {
		opts.Date = opts.Now
	}
	if opts.Title == "" {
		opts.Title = DefaultTitle
	}
	live := make([]Label, 0, len(labels))
	for _, lb := range labels {
		if Expired(lb.Expires, opts.Now) {
			continue
		}
		if lb.Content == "" && lb.Code == nil && len(lb.Image) == 0 {
			return fmt.Errorf("qr sheet: label %q has no QR content or image", lb.DisplayName)
		}
		live = append(live, lb)
	}
	if len(live) == 0 {
		return ErrNoLabels
	}
	if err := encodeMissing(live); err != nil {
		return fmt.Errorf("qr sheet: %w", err)
	}
	doc, err := renderSheet(lay, live, opts)
	if err != nil {
		return fmt.Errorf("qr sheet: %w", err)
	}
	return WriteFileAtomic(path, doc.Output)
}

// Expired reports whether a token with the given expiry is no longer usable at
// now. An unknown (zero) expiry is not expired.
func Expired(expires, now time.Time) bool {
	return !expires.IsZero() && !expires.After(now)
}

// encodeMissing encodes, in parallel, the labels that have Content but no Code.
func encodeMissing(labels []Label) error {
	var todo []int
	for i := range labels {
		if labels[i].Code == nil && labels[i].Content != "" {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	errs := make([]error, len(labels))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				labels[i].Code, errs[i] = qr.Encode(labels[i].Content)
			}
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("label %q: %w", labels[i].DisplayName, err)
		}
	}
	return nil
}

// sheet carries the document being drawn.
type sheet struct {
	pdf  *gofpdf.Fpdf
	lay  layout
	opts SheetOptions
	k    float64    // points per millimetre
	buf  []byte     // scratch for path operators
	rows []openRect // scratch for codeOps
	runs []openRect
	next []openRect
}

func renderSheet(lay layout, labels []Label, opts SheetOptions) (*gofpdf.Fpdf, error) {
	pdf := gofpdf.NewCustom(&gofpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: lay.sizeStr})
	pdf.SetCreationDate(opts.Date)
	pdf.SetModificationDate(opts.Date)
	pdf.SetTitle(opts.Title, true)
	pdf.SetCreator("enrollbatch", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(marginMM, marginMM, marginMM)
	pdf.SetCellMargin(0)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("load fonts: %w", err)
	}
	s := &sheet{pdf: pdf, lay: lay, opts: opts, k: pdf.GetConversionRatio()}
	per := lay.grid.cols * lay.grid.rows
	pages := (len(labels) + per - 1) / per
	for p := 0; p < pages; p++ {
		pdf.AddPage()
		s.frame(p+1, pages)
		for i := 0; i < per && p*per+i < len(labels); i++ {
			col, row := i%lay.grid.cols, i/lay.grid.cols
			x := marginMM + float64(col)*lay.cellW
			y := lay.gridTop + float64(row)*lay.cellH
			if err := s.label(p*per+i, &labels[p*per+i], x, y); err != nil {
				return nil, err
			}
		}
		if err := pdf.Error(); err != nil {
			return nil, err
		}
	}
	return pdf, nil
}

// frame draws the header, the footer and the cut lines of a page.
func (s *sheet) frame(page, pages int) {
	pdf, lay := s.pdf, s.lay
	w := lay.pageW - 2*marginMM
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont("go", "B", 12)
	pdf.SetXY(marginMM, marginMM)
	pdf.CellFormat(w*0.7, 6, clean(s.opts.Title), "", 0, "L", false, 0, "")
	pdf.SetFont("go", "", 10)
	pdf.SetXY(marginMM+w*0.7, marginMM)
	pdf.CellFormat(w*0.3, 6, s.opts.Date.Format("2006-01-02"), "", 0, "R", false, 0, "")

	foot := lay.pageH - marginMM - 4
	pdf.SetFont("go", "", 7.5)
	pdf.SetTextColor(90, 90, 90)
	pdf.SetXY(marginMM, foot)
	pdf.CellFormat(w*0.8, 4, SecurityNote, "", 0, "L", false, 0, "")
	pdf.SetFont("go", "", 9)
	pdf.SetTextColor(0, 0, 0)
	pdf.SetXY(marginMM+w*0.8, foot)
	pdf.CellFormat(w*0.2, 4, "Page "+strconv.Itoa(page)+" of "+strconv.Itoa(pages), "", 0, "R", false, 0, "")

	// Light dashed cut lines between the labels, and along the grid's edges.
	pdf.SetDrawColor(175, 175, 175)
	pdf.SetLineWidth(0.2)
	pdf.SetDashPattern([]float64{2, 1.5}, 0)
	top, bottom := lay.gridTop, lay.gridTop+float64(lay.grid.rows)*lay.cellH
	left, right := marginMM, marginMM+float64(lay.grid.cols)*lay.cellW
	for c := 0; c <= lay.grid.cols; c++ {
		x := left + float64(c)*lay.cellW
		pdf.Line(x, top, x, bottom)
	}
	for r := 0; r <= lay.grid.rows; r++ {
		y := top + float64(r)*lay.cellH
		pdf.Line(left, y, right, y)
	}
	pdf.SetDashPattern(nil, 0)
}

// label draws one label in the cell whose top-left corner is (x, y).
func (s *sheet) label(idx int, lb *Label, x, y float64) error {
	lay := s.lay
	var code modules
	var img image.Image
	if lb.Code != nil {
		code = lb.Code
	} else {
		var err error
		if img, err = png.Decode(bytes.NewReader(lb.Image)); err != nil {
			return fmt.Errorf("label %q: qr image: %w", lb.DisplayName, err)
		}
		if g, err := traceQR(img); err == nil {
			code = g
		}
	}
	n := 97 // an untraced image's modules are unknown: size it like a typical payload
	if code != nil {
		n = code.Size()
	}
	box := moduleMM(lay.box, lay.cellW-2*padMM, n) * float64(n+2*qr.QuietZone)
	bx := snap(x + (lay.cellW-box)/2)
	by := snap(y + padMM)
	if code != nil {
		s.drawCode(code, bx, by, box)
	} else if err := s.drawImage(idx, img, bx, by, box); err != nil {
		return fmt.Errorf("label %q: %w", lb.DisplayName, err)
	}
	textTop := by + box
	s.caption(lb, x+padMM, textTop, lay.cellW-2*padMM, y+lay.cellH-padMM/2-textTop)
	return nil
}

// moduleMM chooses the module side for a code of n modules (quiet zone
// excluded): a whole multiple of GridMM, as large as fits the preferred box,
// never so small that the code is under MinCodeMM, and within limit.
func moduleMM(prefer, limit float64, n int) float64 {
	total := float64(n + 2*qr.QuietZone)
	k := math.Floor(prefer / total / GridMM)
	k = math.Max(k, math.Ceil(MinCodeMM/total/GridMM))
	for k > 1 && k*GridMM*total > limit {
		k--
	}
	return math.Max(k, 1) * GridMM
}

// snap rounds a page coordinate to the printing grid.
func snap(mm float64) float64 {
	return math.Round(mm/GridMM) * GridMM
}

// openRect is a rectangle of dark modules being grown downwards.
type openRect struct{ x0, x1, y0, h int }

// drawCode draws the symbol with its quiet zone in the square box of side
// boxMM at (x, y), as one path of rectangles filled once. Each rectangle is a
// horizontal run of dark modules, merged with identical runs in the rows below.
// Coordinates are whole modules under a transformation matrix, so adjacent
// rectangles share exact edges and the single fill leaves no seams.
func (s *sheet) drawCode(c modules, x, y, boxMM float64) {
	s.pdf.RawWriteStr(s.codeOps(c, x, y, boxMM))
}

// codeOps returns the content-stream operators that drawCode writes.
func (s *sheet) codeOps(c modules, x, y, boxMM float64) string {
	n := c.Size()
	m := boxMM / float64(n+2*qr.QuietZone) // module side in mm
	ox, oy := x+m*qr.QuietZone, y+m*qr.QuietZone
	b := s.buf[:0]
	b = append(b, "q 0 g "...)
	b = appendNum(b, m*s.k)
	b = append(b, " 0 0 "...)
	b = appendNum(b, -m*s.k)
	b = append(b, ' ')
	b = appendNum(b, ox*s.k)
	b = append(b, ' ')
	b = appendNum(b, (s.lay.pageH-oy)*s.k)
	b = append(b, " cm\n"...)
	emit := func(b []byte, r openRect) []byte {
		b = strconv.AppendInt(b, int64(r.x0), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.y0), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.x1-r.x0), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.h), 10)
		return append(b, " re\n"...)
	}
	open := s.rows[:0]
	for row := 0; row <= n; row++ {
		runs := s.runs[:0]
		for col := 0; row < n && col < n; {
			if !c.Black(col, row) {
				col++
				continue
			}
			start := col
			for col < n && c.Black(col, row) {
				col++
			}
			runs = append(runs, openRect{x0: start, x1: col, y0: row, h: 1})
		}
		// Runs identical to an open rectangle extend it; the rest close.
		i := 0
		next := s.next[:0]
		for _, r := range runs {
			for i < len(open) && open[i].x0 < r.x0 {
				b = emit(b, open[i])
				i++
			}
			if i < len(open) && open[i].x0 == r.x0 && open[i].x1 == r.x1 {
				r = open[i]
				r.h++
				i++
			}
			next = append(next, r)
		}
		for ; i < len(open); i++ {
			b = emit(b, open[i])
		}
		open = append(open[:0], next...)
		s.runs, s.next = runs, next
	}
	s.rows = open
	b = append(b, "f\nQ"...)
	s.buf = b
	return string(b)
}

// appendNum appends v with up to four decimals and no trailing zeros.
func appendNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// drawImage places a QR image from the service in the box of side boxMM.
// A clean symbol is traced back to its modules and drawn like an encoded
// code; anything else is placed as an image enlarged by whole pixels, so it is
// never smoothed.
func (s *sheet) drawImage(idx int, img image.Image, x, y, boxMM float64) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return errors.New("qr image is empty")
	}
	data, err := upscalePNG(img)
	if err != nil {
		return fmt.Errorf("qr image: %w", err)
	}
	name := "qr-image-" + strconv.Itoa(idx)
	opt := gofpdf.ImageOptions{ImageType: "PNG"}
	s.pdf.RegisterImageOptionsReader(name, opt, bytes.NewReader(data))
	// Keep the image's aspect ratio inside the square box.
	iw, ih := boxMM, boxMM
	if w > h {
		ih = boxMM * float64(h) / float64(w)
	} else if h > w {
		iw = boxMM * float64(w) / float64(h)
	}
	s.pdf.ImageOptions(name, x+(boxMM-iw)/2, y+(boxMM-ih)/2, iw, ih, false, opt, 0, "")
	return s.pdf.Error()
}

// textLine is one paragraph of a caption before wrapping.
type textLine struct {
	text  string
	bold  bool
	scale float64 // font size relative to the caption's base size
	red   bool
}

// captionLines lists what goes under the code.
func captionLines(lb *Label, now time.Time) []textLine {
	lines := []textLine{{text: lb.DisplayName, bold: true, scale: 1.15}}
	if lb.Replaces {
		lines = append(lines, textLine{text: ReplacesNote, bold: true, red: true, scale: 0.95})
	}
	if d := strings.TrimSpace(lb.Description); d != "" {
		lines = append(lines, textLine{text: d, scale: 1})
	}
	if lb.Expires.IsZero() {
		lines = append(lines, textLine{text: "Token expiry unknown", scale: 0.95})
	} else {
		lines = append(lines, textLine{text: "Token valid until " + FormatTime(lb.Expires), scale: 0.95})
		if left := lb.Expires.Sub(now); left < ExpiryWarning {
			lines = append(lines, textLine{text: ExpiresIn(left), bold: true, red: true, scale: 0.95})
		}
	}
	for _, f := range lb.Fields {
		if strings.TrimSpace(f[1]) == "" {
			continue
		}
		lines = append(lines, textLine{text: f[0] + ": " + f[1], scale: 0.95})
	}
	return lines
}

// ExpiresIn words the time left on a token that is about to expire, in
// whole days rounded down so that it never promises more time than is left.
func ExpiresIn(left time.Duration) string {
	days := int(left / (24 * time.Hour))
	switch {
	case days < 1:
		return "EXPIRES WITHIN 24 HOURS"
	case days == 1:
		return "EXPIRES IN 1 DAY"
	}
	return "EXPIRES IN " + strconv.Itoa(days) + " DAYS"
}

// caption wraps the label's text into the area under the code, shrinking the
// font until everything fits; nothing is ever cut off.
func (s *sheet) caption(lb *Label, x, y, w, h float64) {
	pdf := s.pdf
	paras := captionLines(lb, s.opts.Now)
	type wrapped struct {
		textLine
		lines []string
	}
	var out []wrapped
	var size float64
	for size = s.lay.basePt; ; size -= 0.5 {
		out = out[:0]
		total := 0.0
		for _, p := range paras {
			style := ""
			if p.bold {
				style = "B"
			}
			pdf.SetFont("go", style, size*p.scale)
			ls := wrap(pdf, clean(p.text), w)
			total += float64(len(ls)) * size * p.scale * lineGap * ptToMM
			out = append(out, wrapped{p, ls})
		}
		if total <= h || size <= minFontPt {
			break
		}
	}
	cy := y
	for _, p := range out {
		style := ""
		if p.bold {
			style = "B"
		}
		pdf.SetFont("go", style, size*p.scale)
		if p.red {
			pdf.SetTextColor(200, 0, 0)
		} else {
			pdf.SetTextColor(0, 0, 0)
		}
		lh := size * p.scale * lineGap * ptToMM
		for _, l := range p.lines {
			pdf.SetXY(x, cy)
			pdf.CellFormat(w, lh, l, "", 0, "C", false, 0, "")
			cy += lh
		}
	}
	pdf.SetTextColor(0, 0, 0)
}

// wrap breaks text into lines no wider than w in the current font: at spaces
// where it can, inside a word where a word alone is too wide.
func wrap(pdf *gofpdf.Fpdf, text string, w float64) []string {
	if text == "" {
		return nil
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if pdf.GetStringWidth(cand) <= w {
			line = cand
			continue
		}
		if line != "" {
			lines = append(lines, line)
			line = ""
		}
		// The word alone may still be too wide: break it by characters.
		for pdf.GetStringWidth(word) > w {
			cut := 0
			for i := range word {
				if i > 0 && pdf.GetStringWidth(word[:i]) > w {
					break
				}
				cut = i
			}
			if cut == 0 {
				_, cut = utf8.DecodeRuneInString(word)
			}
			lines = append(lines, word[:cut])
			word = word[cut:]
		}
		line = word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// clean makes text safe for the embedded fonts: control characters become
// spaces and characters outside the Basic Multilingual Plane, which the
// font tables cannot index, become a replacement mark.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return '?'
		case unicode.IsControl(r):
			return ' '
		case r > 0xFFFF:
			return '?'
		}
		return r
	}, s)
}
