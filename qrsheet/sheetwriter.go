package qrsheet

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/typeset"
)

// Writer writes a QR sheet from labels given one by one, in order, so
// that a run can print as its results arrive without holding every page:
// labels are laid out in batches on every core and placed in order, and a
// sheet longer than MaxPages pages is written in parts of at most MaxPages
// pages, each compressed and written while the next is laid out. A sheet
// that fits one part is the single file at the path given; otherwise the
// parts are PATH-part-01-of-NN.pdf and so on (numbered once the last is
// known). Labels whose code does not fit the sheet's cells at MinModuleMM go
// on pages of larger cells, in their place in the order.
type Writer struct {
	path  string
	opts  Options
	lays  map[int]layout
	fonts *pooledFonts

	batch  []Label
	next   int // index of the next label given
	placed int // labels put on pages

	part    *sheetPart
	parts   []string // temporary files of finished parts, in order
	writing sync.WaitGroup
	mu      sync.Mutex
	werr    error
	notes   map[int][]string
	closed  bool
}

// sheetPart is one PDF file being filled.
type sheetPart struct {
	pdf     *gofpdf.Fpdf
	number  int
	pages   int
	per     int // layout of the current page
	inPage  int // labels on the current page
	imageNo int
	forms   map[any]string // glyph forms in this file: typeset.Glyph.Key -> XObject name
	zip     *zlib.Writer   // compresses the glyph forms, reset for each
}

// batchSize is how many labels are laid out together.
const batchSize = 48

// NewWriter starts a sheet at path. Nothing is written before Close.
func NewWriter(path string, opts Options) (*Writer, error) {
	lays, err := layouts(opts)
	if err != nil {
		return nil, fmt.Errorf("qr sheet: %w", err)
	}
	if opts.LabelsPerPage == 0 {
		opts.LabelsPerPage = 6
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
	if opts.Tenant != "" {
		opts.Title += " · " + opts.Tenant
	}
	if opts.Simulated {
		opts.Title = SimulatedMark + " · " + opts.Title
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.Workers <= 0 {
		opts.Workers = runtimeWorkers()
	}
	fonts, err := sheetFonts(opts)
	if err != nil {
		return nil, fmt.Errorf("qr sheet: %w", err)
	}
	return &Writer{path: path, opts: opts, lays: lays, fonts: fonts, notes: map[int][]string{}}, nil
}

// Add puts the next label on the sheet. A label whose token has expired is
// skipped. A label needs Content (or Code) or an Image.
func (w *Writer) Add(lb Label) error {
	if w.closed {
		return errors.New("qr sheet: add after close")
	}
	if w.opts.Simulated {
		lb.Fields = append([][2]string{{"Simulation", "not a real code: it enrolls nothing"}}, lb.Fields...)
	}
	if Expired(lb.Expires, w.opts.Now) {
		return nil
	}
	if lb.Content == "" && lb.Code == nil && len(lb.Image) == 0 {
		return fmt.Errorf("qr sheet: label %q has no QR content or image", lb.DisplayName)
	}
	w.batch = append(w.batch, lb)
	if len(w.batch) >= batchSize {
		return w.flush()
	}
	return nil
}

// flush lays out the pending labels and places them.
func (w *Writer) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	ps, err := renderAll(w.opts, w.lays, w.fonts, w.batch, w.next)
	if err != nil {
		return fmt.Errorf("qr sheet: %w", err)
	}
	for i, p := range ps {
		switch lb := &w.batch[i]; {
		case len(p.notes) == 0:
		case lb.Row > 0:
			w.notes[lb.Row] = append(w.notes[lb.Row], p.notes...)
		default: // no input row (a reprint from the tenant): named instead
			for _, n := range p.notes {
				w.notes[0] = append(w.notes[0], lb.DisplayName+": "+n)
			}
		}
		if err := w.place(p); err != nil {
			return fmt.Errorf("qr sheet: %w", err)
		}
	}
	w.next += len(w.batch)
	w.batch = w.batch[:0]
	return w.writeErr()
}

// Notes returns what the labels laid out so far had said about them, by
// input row (see LabelNotes); labels without a row have theirs under 0,
// each prefixed with the label's displayName.
func (w *Writer) Notes() map[int][]string { return w.notes }

func (w *Writer) writeErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.werr
}

// newPart starts the next file.
func (w *Writer) newPart() error {
	lay := w.lays[w.opts.LabelsPerPage]
	pdf := gofpdf.NewCustom(&gofpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: lay.sizeStr})
	pdf.AliasNbPages("{nb}")
	pdf.SetCreationDate(w.opts.Date)
	pdf.SetModificationDate(w.opts.Date)
	pdf.SetTitle(w.opts.Title, true)
	pdf.SetCreator("enrollbatch", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(marginMM, marginMM, marginMM)
	pdf.SetCellMargin(0)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("load fonts: %w", err)
	}
	w.part = &sheetPart{pdf: pdf, number: len(w.parts) + 1, forms: map[any]string{}}
	return nil
}

// place puts a laid-out label in the next free cell, starting a page (of
// the label's layout) or a part when needed.
func (w *Writer) place(p *placed) error {
	if w.part == nil {
		if err := w.newPart(); err != nil {
			return err
		}
	}
	pt := w.part
	if pt.pages == 0 || pt.per != p.per || pt.inPage == p.per {
		if pt.pages == w.opts.MaxPages {
			w.finishPart(true)
			if err := w.newPart(); err != nil {
				return err
			}
			pt = w.part
		}
		pt.pdf.AddPage()
		pt.pages++
		pt.per, pt.inPage = p.per, 0
		w.frame(pt)
	}
	lay := w.lays[p.per]
	col, row := pt.inPage%lay.grid.cols, pt.inPage/lay.grid.cols
	// The cell's corner goes on the printing grid, so that the code's
	// modules, laid out on the grid from there, fall on it too.
	x := snap(marginMM + float64(col)*lay.cellW)
	y := snap(lay.gridTop + float64(row)*lay.cellH)
	pt.inPage++
	pdf := pt.pdf
	var b []byte
	b = append(b, "q 1 0 0 1 "...)
	b = appendNum(b, x*mmToPt)
	b = append(b, ' ')
	b = appendNum(b, (lay.pageH-y)*mmToPt)
	b = append(b, " cm\n"...)
	b = w.expand(pt, b, p.ops, p.glyphs)
	b = append(b, "Q"...)
	pdf.RawWriteStr(string(b))
	if p.img != nil {
		if err := w.drawImage(pt, p, x, y); err != nil {
			return err
		}
	}
	// The text layer: the caption's real characters, invisible (render
	// mode 3), spread over the glyphs they stand for.
	for _, t := range p.texts {
		w.layer(pdf, x+t.x, y+t.y, t.size, t.width, t.text)
	}
	w.placed++
	return pdf.Error()
}

// layer writes invisible text (render mode 3) with its baseline starting at
// (x, y) millimetres, scaled to span width points, so
// that search, copy and text extraction find it where its glyphs are drawn.
func (w *Writer) layer(pdf *gofpdf.Fpdf, x, y, size, width float64, text string) {
	txt := clean(text)
	n := float64(len([]rune(txt)))
	if n == 0 {
		return
	}
	pdf.SetFont("go", "", size)
	// Horizontal scaling, not character spacing: readers measure each
	// character by its scaled width, so the words keep the gaps between
	// them (with spacing, characters wider in this font than in the drawn
	// one would cover the gaps, and right-to-left words would run together).
	natural := float64(pdf.GetStringSymbolWidth(txt)) * size / 1000
	if natural <= 0 {
		natural = width
	}
	pdf.RawWriteStr("3 Tr " + strconv.FormatFloat(100*width/natural, 'f', 3, 64) + " Tz")
	pdf.Text(x, y, txt)
	pdf.RawWriteStr("100 Tz 0 Tr")
}

// expand appends ops to b with each glyph placeholder replaced by the
// glyph's form XObject, created in this file at its first use: a glyph's
// outline is stored once per file however often it is drawn.
func (w *Writer) expand(pt *sheetPart, b, ops []byte, glyphs []typeset.Glyph) []byte {
	for {
		i := bytes.IndexByte(ops, 0)
		if i < 0 {
			return append(b, ops...)
		}
		b = append(b, ops[:i]...)
		ops = ops[i+1:]
		j := bytes.IndexByte(ops, 0)
		idx, err := strconv.Atoi(string(ops[:j]))
		ops = ops[j+1:]
		if err != nil || idx < 0 || idx >= len(glyphs) {
			continue
		}
		g := glyphs[idx]
		name, ok := pt.forms[g.Key]
		if !ok {
			name = "/G" + strconv.Itoa(len(pt.forms)+1)
			pt.forms[g.Key] = name
			pt.addForm(name, g.Form)
		}
		b = append(b, name...)
		b = append(b, " Do"...)
	}
}

// addForm adds a glyph's form XObject to the file under name (with its
// leading slash), listed in the pages' resources. Its content paints the
// outline and sets its own colour; its resources are empty, as it uses
// none. (gofpdf's templates list every font of the file in each template's
// resources, and PDF readers such as poppler load those fonts again for
// every form they draw: a sheet then took seconds per page to render.)
// gofpdf writes such objects as they are given, numbered, with the
// resources dictionary of the pages naming them.
func (pt *sheetPart) addForm(name string, form []byte) {
	var z bytes.Buffer
	if pt.zip == nil {
		// One compressor for the file: each new one allocates and clears
		// a megabyte of state, more than a glyph's outline takes to
		// compress.
		pt.zip, _ = zlib.NewWriterLevel(&z, zlib.BestSpeed)
	} else {
		pt.zip.Reset(&z)
	}
	pt.zip.Write(form)
	pt.zip.Close()
	side := strconv.Itoa(typeset.FormSize)
	var obj bytes.Buffer
	obj.WriteString("<</Type /XObject /Subtype /Form /BBox [0 0 " + side + " " + side + "] /Resources <<>>")
	obj.WriteString(" /Filter /FlateDecode /Length " + strconv.Itoa(z.Len()) + ">>\nstream\n")
	obj.Write(z.Bytes())
	obj.WriteString("\nendstream\nendobj")
	key := name[1:]
	pt.pdf.ImportObjects(map[string][]byte{key: obj.Bytes()})
	pt.pdf.ImportTemplates(map[string]string{name: key})
}

// drawImage places a service image that could not be traced, enlarged by
// whole pixels so that it is never smoothed.
func (w *Writer) drawImage(pt *sheetPart, p *placed, x, y float64) error {
	data, err := upscalePNG(p.img)
	if err != nil {
		return fmt.Errorf("qr image: %w", err)
	}
	pt.imageNo++
	name := "qr-image-" + strconv.Itoa(pt.imageNo)
	opt := gofpdf.ImageOptions{ImageType: "PNG"}
	pt.pdf.RegisterImageOptionsReader(name, opt, bytes.NewReader(data))
	pt.pdf.ImageOptions(name, x+p.imgAt[0], y+p.imgAt[1], p.imgAt[2], p.imgAt[3], false, opt, 0, "")
	return pt.pdf.Error()
}

// frame draws the header, the footer and the cut lines of a page.
func (w *Writer) frame(pt *sheetPart) {
	pdf, lay := pt.pdf, w.lays[pt.per]
	width := lay.pageW - 2*marginMM
	pdf.SetTextColor(0, 0, 0)
	// The title may name a site in any script (--split-by): it is laid out
	// like the captions. The part number follows it.
	ts := w.fonts.borrow()
	blk := ts.Layout([]typeset.Para{{Text: w.opts.Title, Bold: true}}, typeset.Options{
		Width: width * 0.62 * mmToPt, Height: 7 * mmToPt, Size: 12, MinSize: 7, Start: true,
	})
	w.fonts.give(ts)
	var b []byte
	b = append(b, "q 1 0 0 1 "...)
	b = appendNum(b, marginMM*mmToPt)
	b = append(b, ' ')
	b = appendNum(b, (lay.pageH-marginMM+0.5)*mmToPt)
	b = append(b, " cm\n"...)
	b = w.expand(pt, b, blk.Ops, blk.Glyphs)
	b = append(b, "Q"...)
	pdf.RawWriteStr(string(b))
	for _, t := range blk.Texts {
		w.layer(pdf, marginMM+t.X*ptToMM, marginMM-0.5-t.Y*ptToMM, t.Size, t.Width, t.Text)
	}
	pdf.SetFont("go", "B", 10)
	pdf.SetXY(marginMM+width*0.62, marginMM)
	pdf.CellFormat(width*0.13, 6, "{part}", "", 0, "L", false, 0, "")
	pdf.SetFont("go", "", 10)
	pdf.SetXY(marginMM+width*0.7, marginMM)
	pdf.CellFormat(width*0.3, 6, w.opts.Date.Format("2006-01-02"), "", 0, "R", false, 0, "")

	foot := lay.pageH - marginMM - 4
	pdf.SetFont("go", "", 7.5)
	pdf.SetTextColor(90, 90, 90)
	pdf.SetXY(marginMM, foot)
	pdf.CellFormat(width*0.8, 4, SecurityNote, "", 0, "L", false, 0, "")
	pdf.SetFont("go", "", 9)
	pdf.SetTextColor(0, 0, 0)
	pdf.SetXY(marginMM+width*0.8, foot)
	pdf.CellFormat(width*0.2, 4, "Page "+strconv.Itoa(pt.pages)+" of {nb}", "", 0, "R", false, 0, "")

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
	if w.opts.Simulated {
		// A red frame in the margin and the mark under the grid: seen at
		// a glance, and never over a code, which must stay legible.
		pdf.SetDrawColor(200, 30, 30)
		pdf.SetLineWidth(1.2)
		pdf.Rect(marginMM/2, marginMM/2, lay.pageW-marginMM, lay.pageH-marginMM, "D")
		pdf.SetFont("go", "B", 11)
		pdf.SetTextColor(200, 30, 30)
		pdf.SetXY(marginMM, bottom+0.5)
		pdf.CellFormat(width, 4.5, SimulatedMark+": these codes enroll nothing; never hand them to a technician", "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetDrawColor(0, 0, 0)
	}
}

// finishPart writes the current part to a temporary file, in the
// background when async (so the next part is laid out meanwhile).
func (w *Writer) finishPart(async bool) {
	pt := w.part
	w.part = nil
	label := ""
	if async || pt.number > 1 {
		label = "part " + strconv.Itoa(pt.number)
	}
	pt.pdf.RegisterAlias("{part}", label)
	// Under the lock: the part before may still be recording its name.
	w.mu.Lock()
	w.parts = append(w.parts, "")
	slot := len(w.parts) - 1
	w.mu.Unlock()
	write := func() {
		name, err := writePart(w.path, pt.pdf)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.parts[slot] = name
		if err != nil && w.werr == nil {
			w.werr = err
		}
	}
	// One part is written while the next is laid out, never more: when
	// writing is slower than layout (a loaded machine), parts waiting to be
	// written would otherwise pile up in memory, each up to MaxPages pages.
	w.writing.Wait()
	if !async {
		write()
		return
	}
	w.writing.Add(1)
	go func() {
		defer w.writing.Done()
		write()
	}()
}

// writePart writes a finished part; tests replace it to hold writes back.
var writePart = writeTemp

// writeTemp writes a finished part next to path, as atomicfile.WriteTemp
// does: mode 0600, synced, nothing left behind on error.
func writeTemp(path string, pdf *gofpdf.Fpdf) (string, error) {
	return atomicfile.WriteTemp(path, pdf.Output)
}

// PartName is the file name of part i (from 1) of n of the sheet at path.
func PartName(path string, i, n int) string {
	ext := filepath.Ext(path)
	width := max(2, len(strconv.Itoa(n)))
	return fmt.Sprintf("%s-part-%0*d-of-%0*d%s", strings.TrimSuffix(path, ext), width, i, width, n, ext)
}

// Close lays out what is left, writes the last part and moves the files into
// place: the single file at path, or the numbered parts. It returns the files
// written, and ErrNoLabels (writing nothing) when no label was printable.
// Parts of an earlier sheet at the same path that this one does not
// replace are removed, so the folder holds one sheet.
func (w *Writer) Close() ([]string, error) {
	if w.closed {
		return nil, errors.New("qr sheet: closed twice")
	}
	err := w.flush()
	w.closed = true
	if err == nil && w.part != nil {
		w.finishPart(false)
	}
	w.writing.Wait()
	if err == nil {
		err = w.writeErr()
	}
	if err != nil {
		w.removeTemps()
		return nil, err
	}
	if w.placed == 0 {
		return nil, ErrNoLabels
	}
	var files []string
	if len(w.parts) == 1 {
		files = []string{w.path}
	} else {
		for i := range w.parts {
			files = append(files, PartName(w.path, i+1, len(w.parts)))
		}
	}
	for i, tmp := range w.parts {
		if err := atomicfile.Rename(tmp, files[i]); err != nil {
			w.removeTemps()
			return nil, fmt.Errorf("write %s: %w", files[i], err)
		}
		w.parts[i] = ""
	}
	if err := Remove(w.path, files...); err != nil {
		return files, err
	}
	atomicfile.SyncDir(filepath.Dir(w.path))
	return files, nil
}

// Abort drops the sheet: nothing is written, temporary files are removed.
func (w *Writer) Abort() {
	w.closed = true
	w.writing.Wait()
	w.removeTemps()
}

func (w *Writer) removeTemps() {
	for _, p := range w.parts {
		if p != "" {
			_ = os.Remove(p)
		}
	}
}

// Remove removes the sheet at path and its parts (PATH-part-*-of-*),
// except the files named in keep. A run that prints nothing calls it so that
// the folder matches the results.
func Remove(path string, keep ...string) error {
	var matches []string
	for _, m := range siblings(path, "-part-") {
		if strings.Contains(filepath.Base(m), "-of-") {
			matches = append(matches, m)
		}
	}
	matches = append(matches, path)
	for _, m := range matches {
		if containsPath(keep, m) {
			continue
		}
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old %s: %w", m, err)
		}
	}
	return nil
}

func containsPath(list []string, p string) bool {
	for _, q := range list {
		if filepath.Clean(q) == filepath.Clean(p) {
			return true
		}
	}
	return false
}
