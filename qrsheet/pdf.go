package qrsheet

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

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/qr"
	"github.com/enrollbatch/enrollbatch/typeset"
)

// Label is one QR label on the sheet.
type Label struct {
	Row         int // input row, for warnings; 0 = unknown
	DisplayName string
	Description string
	Expires     time.Time   // token expiry; zero = unknown
	Content     string      // exact qrCodeContent to encode
	Code        *qr.Code    // Content pre-encoded; the sheet encodes Content when nil
	Image       []byte      // PNG from the service, used when there is no Content
	Fields      [][2]string // extra lines such as {"Site", "Leeds"} from --label-columns
	Replaces    bool        // the profile's QR payload changed: this label replaces codes printed before
}

// ReplacesNote is printed on a label whose code replaces earlier ones.
const ReplacesNote = "REPLACES EARLIER CODES: settings changed; destroy the old sheet"

// Options lays out the QR sheet.
type Options struct {
	Paper         string         // "a4" (default) or "letter"
	LabelsPerPage int            // 1, 2, 4 or 6 (default 6, a 2 x 3 grid)
	Title         string         // header line; default DefaultTitle
	Date          time.Time      // the run's date shown in the header; default Now
	Now           time.Time      // the clock for expiry decisions; default time.Now()
	Fonts         *typeset.Fonts // caption fonts; nil = the embedded ones, then the system's
	MaxPages      int            // pages per file; a longer sheet is written in parts. 0 = DefaultMaxPages
	Workers       int            // labels laid out at once; 0 = GOMAXPROCS
	// Tenant names the tenant whose codes these are, after the title in
	// every page's header: the sheets of several tenants look alike
	// otherwise. Empty for none.
	Tenant string
	// Simulated marks a sheet of codes a simulator made: every page carries
	// SimulatedMark across it and every label says so, so that such a code
	// is never handed to a technician.
	Simulated bool
}

// SimulatedMark is written across every page of a simulated sheet, and on
// each of its labels.
const SimulatedMark = "SIMULATION - NOT A REAL CODE"

// DefaultTitle is the header line when Options.Title is empty.
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

// MinModuleMM is the smallest module side printed: 2/100 inch, three pixels
// of a 150 dpi scan or rendering, which decoders read reliably (one and a
// half pixels, at 1/100 inch, they do not). A code that does not fit its
// label at this size moves to a larger label.
const MinModuleMM = 2 * GridMM

// DefaultMaxPages is the number of pages per file before the sheet is
// written in parts (qr-codes-part-01-of-03.pdf, ...). gofpdf keeps every
// page of a file in memory until the file is written, so this bounds the
// memory of the sheet whatever the size of the run.
const DefaultMaxPages = 50

// ErrNoLabels is returned when no label is left to print (none given, or
// every token expired). No file is written then.
var ErrNoLabels = errors.New("no QR labels to print")

// Page geometry in millimetres.
const (
	marginMM     = 8.0
	headerMM     = 10.0
	footerMM     = 9.0
	padMM        = 3.0
	minFontPt    = 5.0
	minCaptionMM = 10.0 // caption room kept under a code at the least
	ptToMM       = 25.4 / 72
	mmToPt       = 72 / 25.4
)

type grid struct{ cols, rows int }

var grids = map[int]grid{1: {1, 1}, 2: {1, 2}, 4: {2, 2}, 6: {2, 3}}

// larger lists the layouts a code moves to, in order, when it does not fit.
var larger = []int{6, 4, 2, 1}

// layout is the resolved geometry of one sheet.
type layout struct {
	per          int
	sizeStr      string
	pageW, pageH float64
	grid         grid
	cellW, cellH float64
	gridTop      float64
	box          float64 // preferred side of the code with its quiet zone
	basePt       float64 // caption font size
}

func newLayout(opts Options) (layout, error) {
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
	l.per = per
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

// codeLimit is the widest code, quiet zone included, that a cell holds with
// room for its caption.
func (l layout) codeLimit() float64 {
	return math.Min(l.cellW-2*padMM, l.cellH-2*padMM-minCaptionMM)
}

// fits reports whether a code of n modules fits the cell at MinModuleMM.
func (l layout) fits(n int) bool {
	return float64(n+2*qr.QuietZone)*MinModuleMM <= l.codeLimit()+1e-9
}

// WritePDF writes the QR sheet to path (atomically, mode 0600) through a
// Writer: see there for parts, labels that move to larger cells and
// expired tokens. When no label is printable it returns ErrNoLabels and
// writes nothing.
func WritePDF(path string, labels []Label, opts Options) error {
	w, err := NewWriter(path, opts)
	if err != nil {
		return err
	}
	for i := range labels {
		if err := w.Add(labels[i]); err != nil {
			w.Abort()
			return err
		}
	}
	_, err = w.Close()
	return err
}

// Expired reports whether a token with the given expiry is no longer usable at
// now. An unknown (zero) expiry is not expired.
func Expired(expires, now time.Time) bool {
	return !expires.IsZero() && !expires.After(now)
}

// placed is a label laid out in its cell, ready to be put on a page. Its
// operators use the cell's top-left corner as origin, in points, y up.
type placed struct {
	per    int // the layout of the page it goes on
	ops    []byte
	glyphs []typeset.Glyph // the glyph forms ops refer to
	texts  []layerText
	img    image.Image // a service image that could not be traced
	imgAt  [4]float64  // x, y, w, h in millimetres from the cell's corner
	idx    int
	notes  []string
}

// layerText is one piece of the invisible text layer, in millimetres from the
// cell's top-left corner (y down) for the baseline start.
type layerText struct {
	x, y, size, width float64
	text              string
}

// renderer lays out labels; one per goroutine.
type renderer struct {
	opts    Options
	lays    map[int]layout
	ts      *typeset.Typesetter
	k       float64
	scratch codeScratch
}

// codeScratch holds the buffers of codeOps.
type codeScratch struct {
	buf              []byte
	rows, runs, next []openRect
}

// chooseLayout returns the layout a code of n modules is printed with: the
// sheet's own when it fits, else the first larger cell where it does.
func chooseLayout(lays map[int]layout, per, n int) layout {
	l := lays[per]
	if l.fits(n) {
		return l
	}
	for _, p := range larger {
		if p < per && lays[p].fits(n) {
			return lays[p]
		}
	}
	return lays[1]
}

// movedNote words why a label is printed in a larger cell.
func movedNote(n int, from, to layout) string {
	return fmt.Sprintf("QR code of %d modules (version %d) is %.0f mm wide at the smallest module that scans (%.3f mm), more than a label of a %d-per-page sheet holds; printed on a page of %d per page instead",
		n, (n-17)/4, float64(n+2*qr.QuietZone)*MinModuleMM, MinModuleMM, from.per, to.per)
}

// render lays out one label.
func (r *renderer) render(lb *Label, idx int) (*placed, error) {
	var code modules
	var img image.Image
	if lb.Code != nil {
		code = lb.Code
	} else if lb.Content != "" {
		c, err := qr.Encode(lb.Content)
		if err != nil {
			return nil, fmt.Errorf("label %q: %w", lb.DisplayName, err)
		}
		code = c
	} else {
		var err error
		if img, err = png.Decode(bytes.NewReader(lb.Image)); err != nil {
			return nil, fmt.Errorf("label %q: qr image: %w", lb.DisplayName, err)
		}
		if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
			return nil, fmt.Errorf("label %q: qr image is empty", lb.DisplayName)
		}
		if g, err := traceQR(img); err == nil {
			code, img = g, nil
		}
	}
	n := 97 // an untraced image's modules are unknown: size it like a typical payload
	if code != nil {
		n = code.Size()
	}
	base := r.lays[r.opts.LabelsPerPage]
	lay := chooseLayout(r.lays, r.opts.LabelsPerPage, n)
	p := &placed{per: lay.per, idx: idx}
	if lay.per != base.per {
		p.notes = append(p.notes, movedNote(n, base, lay))
	}
	box := moduleMM(lay.box, lay.codeLimit(), n) * float64(n+2*qr.QuietZone)
	bx := snap((lay.cellW - box) / 2)
	by := snap(padMM)
	// Clip to the cell, so that nothing ever crosses its cut line.
	p.ops = append(p.ops, "q 0 0 "...)
	p.ops = appendNum(p.ops, lay.cellW*r.k)
	p.ops = append(p.ops, ' ')
	p.ops = appendNum(p.ops, -lay.cellH*r.k)
	p.ops = append(p.ops, " re W n\n"...)
	if code != nil {
		p.ops = append(p.ops, r.codeOps(code, bx, by, box)...)
	} else {
		iw, ih := box, box
		b := img.Bounds()
		if b.Dx() > b.Dy() {
			ih = box * float64(b.Dy()) / float64(b.Dx())
		} else if b.Dy() > b.Dx() {
			iw = box * float64(b.Dx()) / float64(b.Dy())
		}
		p.img, p.imgAt = img, [4]float64{bx + (box-iw)/2, by + (box-ih)/2, iw, ih}
	}
	textTop := by + box
	cw, ch := lay.cellW-2*padMM, lay.cellH-padMM/2-textTop
	blk := r.ts.Layout(captionParas(lb, r.opts.Now), typeset.Options{
		Width: cw * mmToPt, Height: ch * mmToPt, Size: lay.basePt, MinSize: minFontPt,
	})
	for _, m := range blk.Missing {
		p.notes = append(p.notes, "label caption: "+m.String())
	}
	p.ops = append(p.ops, "q 1 0 0 1 "...)
	p.ops = appendNum(p.ops, padMM*r.k)
	p.ops = append(p.ops, ' ')
	p.ops = appendNum(p.ops, -textTop*r.k)
	p.ops = append(p.ops, " cm\n"...)
	p.ops = append(p.ops, blk.Ops...)
	p.ops = append(p.ops, "Q\nQ\n"...)
	p.glyphs = blk.Glyphs
	for _, t := range blk.Texts {
		p.texts = append(p.texts, layerText{
			x: padMM + t.X*ptToMM, y: textTop - t.Y*ptToMM, size: t.Size, width: t.Width, text: t.Text,
		})
	}
	return p, nil
}

// moduleMM chooses the module side for a code of n modules (quiet zone
// excluded): a whole multiple of GridMM, as large as fits the preferred box,
// never so small that the code is under MinCodeMM, never under MinModuleMM,
// and within limit where MinModuleMM allows.
func moduleMM(prefer, limit float64, n int) float64 {
	total := float64(n + 2*qr.QuietZone)
	minK := MinModuleMM / GridMM
	k := math.Floor(prefer / total / GridMM)
	k = math.Max(k, math.Ceil(MinCodeMM/total/GridMM))
	for k > minK && k*GridMM*total > limit {
		k--
	}
	return math.Max(k, minK) * GridMM
}

// snap rounds a length to the printing grid.
func snap(mm float64) float64 {
	return math.Round(mm/GridMM) * GridMM
}

// openRect is a rectangle of dark modules being grown downwards.
type openRect struct{ x0, x1, y0, h int }

// codeOps returns the operators that draw the symbol with its quiet zone in
// the square box of side boxMM whose corner is (x, y) millimetres right of
// and below the origin, as one path of rectangles filled once. Each
// rectangle is a horizontal run of dark modules, merged with identical runs
// in the rows below. Coordinates are whole modules under a transformation
// matrix, so adjacent rectangles share exact edges and the single fill leaves
// no seams.
func (r *renderer) codeOps(c modules, x, y, boxMM float64) []byte {
	s := &r.scratch
	n := c.Size()
	m := boxMM / float64(n+2*qr.QuietZone) // module side in mm
	ox, oy := x+m*qr.QuietZone, y+m*qr.QuietZone
	b := s.buf[:0]
	b = append(b, "q 0 g "...)
	b = appendNum(b, m*r.k)
	b = append(b, " 0 0 "...)
	b = appendNum(b, -m*r.k)
	b = append(b, ' ')
	b = appendNum(b, ox*r.k)
	b = append(b, ' ')
	b = appendNum(b, -oy*r.k)
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
	b = append(b, "f\nQ\n"...)
	s.buf = b
	return b
}

// appendNum appends v with up to four decimals and no trailing zeros.
func appendNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// textLine is one paragraph of a caption.
type textLine struct {
	text  string
	field string
	bold  bool
	scale float64 // font size relative to the caption's base size
	red   bool
}

// captionLines lists what goes under the code.
func captionLines(lb *Label, now time.Time) []textLine {
	lines := []textLine{{text: lb.DisplayName, field: "displayName", bold: true, scale: 1.15}}
	if lb.Replaces {
		lines = append(lines, textLine{text: ReplacesNote, bold: true, red: true, scale: 0.95})
	}
	if d := strings.TrimSpace(lb.Description); d != "" {
		lines = append(lines, textLine{text: d, field: "description", scale: 1})
	}
	if lb.Expires.IsZero() {
		lines = append(lines, textLine{text: "Token expiry unknown", scale: 0.95})
	} else {
		lines = append(lines, textLine{text: ValidText(lb.Expires), scale: 0.95})
		if left := lb.Expires.Sub(now); left < ExpiryWarning {
			lines = append(lines, textLine{text: ExpiresIn(left), bold: true, red: true, scale: 0.95})
		}
	}
	for _, f := range lb.Fields {
		if strings.TrimSpace(f[1]) == "" {
			continue
		}
		lines = append(lines, textLine{text: f[0] + ": " + f[1], field: f[0], scale: 0.95})
	}
	return lines
}

// captionParas turns the caption's lines into paragraphs to lay out.
func captionParas(lb *Label, now time.Time) []typeset.Para {
	lines := captionLines(lb, now)
	ps := make([]typeset.Para, len(lines))
	for i, l := range lines {
		ps[i] = typeset.Para{Text: l.text, Scale: l.scale, Bold: l.bold, Field: l.field}
		if l.red {
			ps[i].Color = [3]float64{0.78, 0, 0}
		}
	}
	return ps
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

// clean makes text safe for the text layer's font tables: control
// characters become spaces and characters outside the Basic Multilingual
// Plane, which the tables cannot index, become a replacement mark.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return '\uFFFD'
		case unicode.IsControl(r):
			return ' '
		case r > 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

// LabelNotes returns what the results should say about printing a label:
// characters of its caption that no font can draw (the label shows a marker
// instead), and a code too large for the sheet's labels that moves to a
// larger cell. It is cheap: nothing is shaped or drawn.
func LabelNotes(lb *Label, opts Options) ([]string, error) {
	lays, err := layouts(opts)
	if err != nil {
		return nil, err
	}
	if opts.LabelsPerPage == 0 {
		opts.LabelsPerPage = 6
	}
	fonts, err := sheetFonts(opts)
	if err != nil {
		return nil, err
	}
	ts := fonts.borrow()
	defer fonts.give(ts)
	var notes []string
	if lb.Code != nil || lb.Content != "" {
		n := 0
		if lb.Code != nil {
			n = lb.Code.Size()
		} else {
			// The version is that of the smallest symbol at level M.
			c, err := qr.Encode(lb.Content)
			if err != nil {
				return nil, fmt.Errorf("label %q: %w", lb.DisplayName, err)
			}
			n = c.Size()
		}
		base := lays[opts.LabelsPerPage]
		if to := chooseLayout(lays, opts.LabelsPerPage, n); to.per != base.per {
			notes = append(notes, movedNote(n, base, to))
		}
	}
	for _, p := range captionParas(lb, time.Time{}) {
		for _, r := range ts.Missing(p.Text, 0) {
			notes = append(notes, "label caption: "+typeset.Missing{Field: p.Field, Rune: r}.String())
		}
	}
	return notes, nil
}

// layouts resolves the geometry of every layout on the sheet's paper.
func layouts(opts Options) (map[int]layout, error) {
	if _, err := newLayout(opts); err != nil {
		return nil, err
	}
	lays := map[int]layout{}
	for per := range grids {
		o := opts
		o.LabelsPerPage = per
		l, err := newLayout(o)
		if err != nil {
			return nil, err
		}
		lays[per] = l
	}
	return lays, nil
}

// pooledFonts hands out Typesetters of one font set to goroutines.
type pooledFonts struct {
	fonts *typeset.Fonts
	pool  sync.Pool
}

func (p *pooledFonts) borrow() *typeset.Typesetter {
	if t, ok := p.pool.Get().(*typeset.Typesetter); ok {
		return t
	}
	return p.fonts.New()
}

func (p *pooledFonts) give(t *typeset.Typesetter) { p.pool.Put(t) }

var (
	fontPools   sync.Map // *typeset.Fonts -> *pooledFonts
	defaultOnce sync.Once
	defaultSet  *typeset.Fonts
	defaultErr  error
)

// sheetFonts returns the pool of the options' fonts, or of the default set.
func sheetFonts(opts Options) (*pooledFonts, error) {
	fs := opts.Fonts
	if fs == nil {
		defaultOnce.Do(func() { defaultSet, defaultErr = typeset.NewFonts() })
		if defaultErr != nil {
			return nil, fmt.Errorf("caption fonts: %w", defaultErr)
		}
		fs = defaultSet
	}
	p, _ := fontPools.LoadOrStore(fs, &pooledFonts{fonts: fs})
	return p.(*pooledFonts), nil
}

// renderAll lays out a batch of labels on every worker, results in order.
func renderAll(opts Options, lays map[int]layout, fonts *pooledFonts, labels []Label, first int) ([]*placed, error) {
	out := make([]*placed, len(labels))
	var g errgroup.Group
	g.SetLimit(max(1, opts.Workers))
	k := mmToPt
	chunk := (len(labels) + opts.Workers - 1) / max(1, opts.Workers)
	for start := 0; start < len(labels); start += chunk {
		end := min(len(labels), start+chunk)
		g.Go(func() error {
			ts := fonts.borrow()
			defer fonts.give(ts)
			r := &renderer{opts: opts, lays: lays, ts: ts, k: k}
			for i := start; i < end; i++ {
				p, err := r.render(&labels[i], first+i)
				if err != nil {
					return err
				}
				out[i] = p
			}
			return nil
		})
	}
	return out, g.Wait()
}

// runtimeWorkers is the default number of labels laid out at once.
func runtimeWorkers() int { return runtime.GOMAXPROCS(0) }
