package typeset

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// Para is one paragraph of a caption.
type Para struct {
	Text  string
	Scale float64    // size relative to the caption's size
	Bold  bool       // drawn with a thin outline stroke that thickens the glyphs
	Color [3]float64 // fill colour, each 0 to 1
	Field string     // what the text is, for warnings: "displayName", "Site", ...
}

// Missing is a character that no font could draw. The label shows
// MarkerFor(Rune) in its place.
type Missing struct {
	Field string
	Rune  rune
}

// String words the problem for notes and logs.
func (m Missing) String() string {
	return fmt.Sprintf("%s: character %U cannot be drawn with the fonts available; the label shows %s instead (add a font that has it with --font)",
		m.Field, m.Rune, MarkerFor(m.Rune))
}

// MarkerFor is the visible mark printed in place of a character no font has.
func MarkerFor(r rune) string {
	return "[" + fmt.Sprintf("%U", r) + "]"
}

// Text is one piece of the text layer: invisible text laid over the glyphs it
// stands for, so that the PDF can be searched and copied.
type Text struct {
	X, Y  float64 // start of its baseline, in points from the box's top-left corner, y up
	Size  float64 // font size in points
	Width float64 // width it spans on the page, in points
	Text  string  // the characters, in visual order (right-to-left runs reversed)
}

// Block is a caption laid out in its box.
type Block struct {
	Ops       []byte    // PDF operators that place the glyphs, in points, origin at the box's top-left, y up (see Glyph)
	Glyphs    []Glyph   // the glyph forms Ops refer to
	Texts     []Text    // the text layer
	Missing   []Missing // characters drawn as markers
	Shortened bool      // some text did not fit and ends in an ellipsis
	Size      float64   // the caption size chosen, in points
	Height    float64   // height used, in points
}

// Options bound a layout.
type Options struct {
	Width, Height float64 // the box, in points
	Size          float64 // preferred caption size, in points
	MinSize       float64 // the size below which text is shortened instead
	Step          float64 // size decrement; default 0.5
	MaxRunes      int     // characters of each paragraph laid out at most; default DefaultMaxRunes
	Start         bool    // lines start at the box's left edge (right edge for right-to-left text) instead of being centred
}

// DefaultMaxRunes caps the characters laid out per paragraph, so that the
// time to lay out a label is bounded whatever the input: more than this
// never fits a label at the minimum size, and the text is shortened with an
// ellipsis.
const DefaultMaxRunes = 2000

// LineGap is the line height as a multiple of the font size. The baseline
// sits one size below the line's top, leaving room for descenders.
const LineGap = 1.32

// unit is the size text is shaped at: one em is unit, so shaped advances are
// in thousandths of an em, and scale linearly to any size.
const unit = 1000

// Typesetter lays out text. It is not safe for concurrent use: make one
// per goroutine with Fonts.New.
type Typesetter struct {
	fonts  *Fonts
	fm     *fontmap
	shaper shaping.HarfbuzzShaper
	seg    shaping.Segmenter
	wrap   shaping.LineWrapper
	cover  map[rune]bool
	dots   shaping.Output      // the ellipsis
	used   map[glyphKey]int    // glyph forms of the Block being laid out
	forms  map[glyphKey][]byte // glyph forms made so far, for the next Blocks
}

// New returns a Typesetter drawing with these fonts.
func (fs *Fonts) New() *Typesetter {
	t := &Typesetter{fonts: fs, fm: &fontmap{fonts: fs}, cover: map[rune]bool{}}
	for _, f := range fs.fonts {
		t.fm.faces = append(t.fm.faces, font.NewFace(f))
	}
	ell := []rune("…")
	t.dots = t.shaper.Shape(shaping.Input{Text: ell, RunEnd: len(ell), Direction: di.DirectionLTR,
		Face: t.fm.faces[len(fs.fonts)-len(embeddedFonts)], Size: fixed.I(unit)})
	return t
}

// Missing lists the characters of text (within the first maxRunes) that no
// font can draw, each once. It is cheap: no shaping.
func (t *Typesetter) Missing(text string, maxRunes int) []rune {
	if maxRunes <= 0 {
		maxRunes = DefaultMaxRunes
	}
	var out []rune
	n := 0
	for _, r := range text {
		if n++; n > maxRunes {
			break
		}
		if !t.covered(r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// covered reports whether r is drawable or draws nothing by design.
func (t *Typesetter) covered(r rune) bool {
	if r < 0x80 || ignorable(r) || unicode.IsControl(r) {
		return true
	}
	ok, seen := t.cover[r]
	if !seen {
		ok = t.fm.lookup(r) != nil
		t.cover[r] = ok
	}
	return ok
}

// para is a paragraph shaped at the unit size.
type para struct {
	Para
	runes   []rune
	runs    []shaping.Output
	dir     di.Direction
	advance fixed.Int26_6 // total, for quick bounds
	capped  bool          // text was cut at MaxRunes
}

// prepare cleans, caps, marks and shapes one paragraph.
func (t *Typesetter) prepare(p Para, maxRunes int, missing *[]Missing) para {
	out := para{Para: p, dir: di.DirectionLTR}
	if out.Scale == 0 {
		out.Scale = 1
	}
	n := 0
	strong := false
	s := p.Text
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if n++; n > maxRunes {
			out.capped = true
			break
		}
		switch {
		case r == utf8.RuneError && size == 1:
			r = '\uFFFD'
		case unicode.IsControl(r):
			r = ' '
		}
		if !t.covered(r) {
			if !slices.Contains(*missing, Missing{p.Field, r}) {
				*missing = append(*missing, Missing{p.Field, r})
			}
			out.runes = append(out.runes, []rune(MarkerFor(r))...)
			continue
		}
		if !strong {
			switch {
			case unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko):
				out.dir, strong = di.DirectionRTL, true
			case unicode.IsLetter(r):
				strong = true
			}
		}
		out.runes = append(out.runes, r)
	}
	if len(out.runes) == 0 {
		return out
	}
	t.fm.script = 0
	in := shaping.Input{Text: out.runes, RunEnd: len(out.runes), Direction: out.dir, Face: t.fm.faces[0], Size: fixed.I(unit)}
	for _, seg := range t.seg.Split(in, t.fm) {
		run := t.shaper.Shape(seg)
		out.advance += run.Advance
		out.runs = append(out.runs, run)
	}
	return out
}

// wrapConfig returns the wrapping settings of a paragraph shortened to lines
// (0: not shortened).
func (t *Typesetter) wrapConfig(p *para, lines int) shaping.WrapConfig {
	cfg := shaping.WrapConfig{Direction: p.dir, BreakPolicy: shaping.WhenNecessary}
	if lines > 0 {
		cfg.TruncateAfterLines = lines
		cfg.Truncator = t.dots
		cfg.TextContinues = p.capped
	}
	return cfg
}

// countLines wraps p at size and returns its number of lines.
func (t *Typesetter) countLines(p *para, size, width float64) int {
	if len(p.runs) == 0 {
		return 0
	}
	lines, _ := t.wrap.WrapParagraphF(t.wrapConfig(p, 0), toUnits(width, size*p.Scale), p.runes, shaping.NewSliceIterator(p.runs))
	return len(lines)
}

// toUnits converts a width in points at a font size to shaped units.
func toUnits(pt, size float64) fixed.Int26_6 {
	v := pt / size * unit * 64
	return fixed.Int26_6(math.Min(v, math.MaxInt32/2))
}

// toPt converts shaped units to points at a font size.
func toPt(v fixed.Int26_6, size float64) float64 {
	return float64(v) / 64 / unit * size
}

// Layout fits the paragraphs into the box: at the preferred size when they
// fit, else at the largest size down to MinSize at which they fit, else at
// MinSize with the longest paragraphs shortened to end in an ellipsis (and
// trailing paragraphs dropped when even one line each is too many). Lines
// are centred.
func (t *Typesetter) Layout(paras []Para, o Options) Block {
	if o.Step <= 0 {
		o.Step = 0.5
	}
	if o.MaxRunes <= 0 {
		o.MaxRunes = DefaultMaxRunes
	}
	if o.MinSize <= 0 || o.MinSize > o.Size {
		o.MinSize = o.Size
	}
	var b Block
	t.used = map[glyphKey]int{}
	ps := make([]para, 0, len(paras))
	for _, p := range paras {
		if pp := t.prepare(p, o.MaxRunes, &b.Missing); len(pp.runs) > 0 {
			ps = append(ps, pp)
		}
	}
	counts := make([]int, len(ps))
	height := func(size float64) float64 {
		h := 0.0
		for i := range ps {
			h += float64(counts[i]) * size * ps[i].Scale * LineGap
		}
		return h
	}
	size := o.Size
	fits := false
	for ; size > o.MinSize-1e-9; size -= o.Step {
		// A lower bound first: the total advance over the width.
		for i := range ps {
			counts[i] = int(math.Ceil(toPt(ps[i].advance, size*ps[i].Scale) / o.Width))
		}
		if height(size) > o.Height {
			continue
		}
		for i := range ps {
			counts[i] = t.countLines(&ps[i], size, o.Width)
		}
		if height(size) <= o.Height && !anyCapped(ps) {
			fits = true
			break
		}
		if size-o.Step < o.MinSize-1e-9 {
			break
		}
	}
	if !fits {
		size = o.MinSize
		for i := range ps {
			counts[i] = t.countLines(&ps[i], size, o.Width)
		}
	}
	limit := make([]int, len(ps)) // 0: as many lines as it needs
	if !fits {
		for i := range ps {
			if ps[i].capped {
				limit[i] = counts[i]
			}
		}
		// Take lines from the longest paragraph until the rest fit.
		for height(size) > o.Height {
			longest := -1
			for i := range ps {
				if counts[i] > 1 && (longest < 0 || counts[i] >= counts[longest]) {
					longest = i
				}
			}
			if longest < 0 {
				break
			}
			counts[longest]--
			limit[longest] = counts[longest]
		}
		// Still too high with one line each: drop paragraphs from the end,
		// and end the last one kept with an ellipsis.
		for len(ps) > 1 && height(size) > o.Height {
			ps, counts, limit = ps[:len(ps)-1], counts[:len(counts)-1], limit[:len(limit)-1]
			last := len(ps) - 1
			ps[last].capped = true
			limit[last] = counts[last]
		}
	}
	b.Size = size
	top := 0.0
	for i := range ps {
		if limit[i] > 0 {
			b.Shortened = true
		}
		top = t.draw(&b, &ps[i], limit[i], size, o.Width, top, o.Start)
	}
	b.Height = top
	return b
}

func anyCapped(ps []para) bool {
	for i := range ps {
		if ps[i].capped {
			return true
		}
	}
	return false
}

// draw wraps p (to at most lines lines, 0 for no limit) and appends its
// glyphs and text layer to b, starting at top points below the box's top.
// It returns the top of the next paragraph.
func (t *Typesetter) draw(b *Block, p *para, lines int, size, width, top float64, start bool) float64 {
	fs := size * p.Scale
	wrapped, _ := t.wrap.WrapParagraphF(t.wrapConfig(p, lines), toUnits(width, fs), p.runes, shaping.NewSliceIterator(p.runs))
	color := p.Color
	b.Ops = append(b.Ops, "q "...)
	for _, c := range color {
		b.Ops = appendNum(b.Ops, c)
		b.Ops = append(b.Ops, ' ')
	}
	b.Ops = append(b.Ops, "rg "...)
	for _, c := range color {
		b.Ops = appendNum(b.Ops, c)
		b.Ops = append(b.Ops, ' ')
	}
	b.Ops = append(b.Ops, "RG 1 j\n"...)
	for _, line := range wrapped {
		var lineW fixed.Int26_6
		for _, run := range line {
			lineW += run.Advance
		}
		x := (width - toPt(lineW, fs)) / 2
		if start {
			x = 0
			if p.dir == di.DirectionRTL {
				x = width - toPt(lineW, fs)
			}
		}
		baseline := -(top + fs)
		order := make([]int, len(line))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, c int) int { return int(line[a].VisualIndex) - int(line[c].VisualIndex) })
		for _, ri := range order {
			run := &line[ri]
			if isTruncatorRun(run, &t.dots) {
				runX := x
				for _, g := range run.Glyphs {
					t.glyph(b, run.Face, g.GlyphID, x+toPt(g.XOffset, fs), baseline+toPt(g.YOffset, fs), fs, p.Bold, p.Color)
					x += toPt(g.Advance, fs)
				}
				b.Texts = append(b.Texts, Text{X: runX, Y: baseline, Size: fs, Width: x - runX, Text: "…"})
				continue
			}
			// The text layer goes word by word, each word over its glyphs,
			// so that readers find the spaces between them.
			rtl := run.Direction.Progression() == di.TowardTopLeft
			word := wordSpan{lo: -1}
			flush := func() {
				if word.lo >= 0 && word.x1 > word.x0 {
					text := slices.Clone(p.runes[word.lo:word.hi])
					if rtl {
						slices.Reverse(text)
					}
					b.Texts = append(b.Texts, Text{X: word.x0, Y: baseline, Size: fs, Width: word.x1 - word.x0, Text: string(text)})
				}
				word = wordSpan{lo: -1}
			}
			for _, g := range run.Glyphs {
				t.glyph(b, run.Face, g.GlyphID, x+toPt(g.XOffset, fs), baseline+toPt(g.YOffset, fs), fs, p.Bold, p.Color)
				adv := toPt(g.Advance, fs)
				lo := max(0, min(g.ClusterIndex, len(p.runes)))
				hi := max(lo, min(g.ClusterIndex+max(g.RuneCount, 1), len(p.runes)))
				if allSpace(p.runes[lo:hi]) {
					flush()
				} else {
					if word.lo < 0 {
						word = wordSpan{lo: lo, hi: hi, x0: x}
					}
					word.lo, word.hi = min(word.lo, lo), max(word.hi, hi)
					word.x1 = x + adv
				}
				x += adv
			}
			flush()
		}
		top += fs * LineGap
	}
	b.Ops = append(b.Ops, "Q\n"...)
	return top
}

// wordSpan is a word of the text layer: its runes and where it is drawn.
type wordSpan struct {
	lo, hi int
	x0, x1 float64
}

func allSpace(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// isTruncatorRun reports whether run is the ellipsis the wrapper appended.
func isTruncatorRun(run *shaping.Output, dots *shaping.Output) bool {
	// The wrapper appends a copy of the truncator, which shares its glyphs.
	return len(run.Glyphs) > 0 && len(dots.Glyphs) > 0 && &run.Glyphs[0] == &dots.Glyphs[0]
}

// glyph appends one glyph, its origin at (x, y) points, at size points: a
// transformation to font units and a placeholder for the glyph's form (see
// Glyph), which the caller replaces so that every use of a glyph shares one
// copy of its outline.
func (t *Typesetter) glyph(b *Block, face *font.Face, gid font.GID, x, y, size float64, bold bool, color [3]float64) {
	key := glyphKey{face.Font, gid, bold, color}
	idx, ok := t.used[key]
	if !ok {
		form, made := t.forms[key]
		if !made {
			form = t.form(face, gid, bold, color)
			if t.forms == nil {
				t.forms = map[glyphKey][]byte{}
			}
			t.forms[key] = form
		}
		if form == nil {
			t.used[key] = -1
			return
		}
		idx = len(b.Glyphs)
		b.Glyphs = append(b.Glyphs, Glyph{Key: key, Form: form})
		t.used[key] = idx
	}
	if idx < 0 {
		return
	}
	s := size / float64(face.Upem())
	b.Ops = append(b.Ops, "q "...)
	b.Ops = strconv.AppendFloat(b.Ops, s, 'f', 6, 64)
	b.Ops = append(b.Ops, " 0 0 "...)
	b.Ops = strconv.AppendFloat(b.Ops, s, 'f', 6, 64)
	b.Ops = append(b.Ops, ' ')
	b.Ops = appendNum(b.Ops, x-FormOrigin*s)
	b.Ops = append(b.Ops, ' ')
	b.Ops = appendNum(b.Ops, y-FormOrigin*s)
	b.Ops = append(b.Ops, " cm "...)
	b.Ops = append(b.Ops, 0)
	b.Ops = strconv.AppendInt(b.Ops, int64(idx), 10)
	b.Ops = append(b.Ops, 0)
	b.Ops = append(b.Ops, " Q\n"...)
}

// form returns the content of a glyph's form (see Glyph), or nil for a
// glyph without an outline.
func (t *Typesetter) form(face *font.Face, gid font.GID, bold bool, color [3]float64) []byte {
	path := t.fonts.outline(face, gid)
	if len(path) == 0 {
		return nil
	}
	var form []byte
	for _, op := range []string{"rg ", "RG "} {
		for _, c := range color {
			form = appendNum(form, c)
			form = append(form, ' ')
		}
		form = append(form, op...)
	}
	form = append(form, "1 0 0 1 "...)
	form = strconv.AppendInt(form, FormOrigin, 10)
	form = append(form, ' ')
	form = strconv.AppendInt(form, FormOrigin, 10)
	form = append(form, " cm\n"...)
	if bold {
		form = strconv.AppendInt(form, int64(face.Upem())*4/100, 10)
		form = append(form, " w 1 j\n"...)
	}
	form = append(form, path...)
	if bold {
		form = append(form, "B\n"...)
	} else {
		form = append(form, "f\n"...)
	}
	return form
}

// glyphKey identifies a glyph form: outline and style.
type glyphKey struct {
	f     *font.Font
	gid   font.GID
	bold  bool
	color [3]float64
}

// FormOrigin is where a glyph's origin sits in its form: glyph forms span
// [0, FormSize] in font units on both axes, so outlines within FormOrigin
// font units of their origin fit.
const (
	FormOrigin = 5000
	FormSize   = 2 * FormOrigin
)

// Glyph is a glyph a Block draws. Block.Ops refer to it by a placeholder:
// a zero byte, its index in Block.Glyphs in decimal, a zero byte. The
// caller replaces each placeholder with operators that paint Form (for a
// PDF, "/Name Do" of a form XObject whose content is Form and whose
// bounding box is [0 0 FormSize FormSize]). The form sets its colour.
type Glyph struct {
	Key  any    // equal for equal glyph forms, across Blocks of one Fonts
	Form []byte // the form's content: the outline in font units, filled; shared by the Blocks of a Typesetter, read only
}

// appendOutline appends a glyph outline as path operators in font units;
// quadratic segments become the equivalent cubic ones.
func appendOutline(b []byte, o font.GlyphOutline) []byte {
	var cx, cy float32 // current point
	pt := func(x, y float32) {
		b = strconv.AppendFloat(b, math.Round(float64(x)), 'f', -1, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, math.Round(float64(y)), 'f', -1, 64)
		b = append(b, ' ')
	}
	for _, s := range o.Segments {
		a := s.Args
		switch s.Op {
		case 0: // move: close the contour before
			if len(b) > 0 {
				b = append(b, "h "...)
			}
			pt(a[0].X, a[0].Y)
			b = append(b, "m "...)
			cx, cy = a[0].X, a[0].Y
		case 1: // line
			pt(a[0].X, a[0].Y)
			b = append(b, "l "...)
			cx, cy = a[0].X, a[0].Y
		case 2: // quadratic: control a[0], end a[1]
			pt(cx+2.0/3*(a[0].X-cx), cy+2.0/3*(a[0].Y-cy))
			pt(a[1].X+2.0/3*(a[0].X-a[1].X), a[1].Y+2.0/3*(a[0].Y-a[1].Y))
			pt(a[1].X, a[1].Y)
			b = append(b, "c "...)
			cx, cy = a[1].X, a[1].Y
		case 3: // cubic
			pt(a[0].X, a[0].Y)
			pt(a[1].X, a[1].Y)
			pt(a[2].X, a[2].Y)
			b = append(b, "c "...)
			cx, cy = a[2].X, a[2].Y
		}
	}
	if len(b) > 0 {
		b = append(b, "h\n"...)
	}
	return b
}

// appendNum appends v with at most two decimals and no trailing zeros.
func appendNum(b []byte, v float64) []byte {
	v = math.Round(v*100) / 100
	if v == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
