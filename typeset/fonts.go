// Package typeset lays out label captions in any script and draws them as
// PDF vector paths. Text is shaped by go-text/typesetting (a Go port of
// HarfBuzz): Arabic joins and runs right to left, Indic clusters reorder,
// Vietnamese marks stack. Glyphs come from the Noto fonts embedded in the
// binary for the common scripts (Latin, Greek, Cyrillic, Vietnamese, Arabic,
// Hebrew, Thai, Devanagari), from fonts given with --font, and from the
// system's font folders for the rest (CJK above all). A character no font
// can draw is reported and replaced by a visible marker, never a blank box.
package typeset

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync"
	"unicode"

	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/fontscan"
	"github.com/go-text/typesetting/language"
)

//go:embed fonts/*.ttf
var embedded embed.FS

// embeddedFonts lists the fonts built into the binary, in the order they
// are tried: Noto Sans first, as it covers Latin, Greek, Cyrillic and
// Vietnamese and holds the ellipsis and the marker's characters.
var embeddedFonts = []string{
	"NotoSans-Regular.ttf",
	"NotoSansArabic-Regular.ttf",
	"NotoSansHebrew-Regular.ttf",
	"NotoSansThai-Regular.ttf",
	"NotoSansDevanagari-Regular.ttf",
}

// Fonts is the set of fonts captions are drawn with: user fonts first, then
// the embedded ones, then the system's. It is safe for concurrent use; each
// goroutine lays out text through its own Typesetter (see New).
type Fonts struct {
	fonts []*font.Font // user fonts, then embedded ones
	names []string
	// System controls whether the system's font folders are searched for
	// characters the other fonts lack. Tests turn it off to check markers.
	System bool
	// CacheDir holds the index of the system fonts; empty means the user's
	// cache folder (or the temporary folder when there is none).
	CacheDir string

	paths sync.Map // pathKey -> []byte: glyph outlines as path operators
}

type pathKey struct {
	f   *font.Font
	gid font.GID
}

var (
	defaultOnce  sync.Once
	defaultFonts []*font.Font
	defaultErr   error
)

// loadEmbedded parses the embedded fonts once per process.
func loadEmbedded() ([]*font.Font, error) {
	defaultOnce.Do(func() {
		for _, name := range embeddedFonts {
			data, err := embedded.ReadFile("fonts/" + name)
			if err != nil {
				defaultErr = fmt.Errorf("embedded font %s: %w", name, err)
				return
			}
			face, err := font.ParseTTF(bytes.NewReader(data))
			if err != nil {
				defaultErr = fmt.Errorf("embedded font %s: %w", name, err)
				return
			}
			defaultFonts = append(defaultFonts, face.Font)
		}
	})
	return defaultFonts, defaultErr
}

// NewFonts returns the embedded fonts, preceded by the font files given
// (TrueType, OpenType or collections), with the system fonts as fallback.
func NewFonts(files ...string) (*Fonts, error) {
	emb, err := loadEmbedded()
	if err != nil {
		return nil, err
	}
	fs := &Fonts{System: true}
	for _, path := range files {
		faces, err := parseFile(path)
		if err != nil {
			return nil, err
		}
		for _, f := range faces {
			fs.fonts = append(fs.fonts, f.Font)
			fs.names = append(fs.names, path)
		}
	}
	for i, f := range emb {
		fs.fonts = append(fs.fonts, f)
		fs.names = append(fs.names, embeddedFonts[i])
	}
	return fs, nil
}

// parseFile reads a font file or collection.
func parseFile(path string) ([]*font.Face, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read font: %w", err)
	}
	faces, err := font.ParseTTC(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("font %s: %w (give a .ttf, .otf or .ttc file)", path, err)
	}
	return faces, nil
}

// fontmap resolves the face of each rune for one Typesetter: the listed
// fonts in order, then the system fonts, searched by script.
type fontmap struct {
	fonts  *Fonts
	faces  []*font.Face
	system *fontscan.FontMap // nil until a rune needs it
	failed bool              // the system fonts could not be indexed
	script language.Script
	// drawn caches drawable: the segmenter resolves the face of every
	// rune it splits, and reading a glyph's outline to tell whether it is
	// drawable costs more than the rest of the lookup.
	drawn map[pathKey]bool
}

func (m *fontmap) SetScript(s language.Script) { m.script = s }

// ResolveFace returns the first face with a glyph for r, or the first face
// when none has one (the caller checks coverage with covers).
func (m *fontmap) ResolveFace(r rune) *font.Face {
	if f := m.lookup(r); f != nil {
		return f
	}
	return m.faces[0]
}

// lookup returns a face that has a drawable glyph for r, or nil.
func (m *fontmap) lookup(r rune) *font.Face {
	for _, f := range m.faces {
		if gid, ok := f.NominalGlyph(r); ok && m.drawable(f, gid) {
			return f
		}
	}
	if !m.fonts.System || m.failed {
		return nil
	}
	if m.system == nil {
		fm := fontscan.NewFontMap(log.New(io.Discard, "", 0))
		if err := fm.UseSystemFonts(indexDir(m.fonts.CacheDir)); err != nil {
			m.failed = true
			return nil
		}
		fm.SetQuery(fontscan.Query{Families: []string{"sans-serif"}})
		m.system = fm
	}
	m.system.SetScript(m.script)
	f := m.system.ResolveFace(r)
	if f == nil {
		return nil
	}
	if gid, ok := f.NominalGlyph(r); ok && m.drawable(f, gid) {
		return f
	}
	return nil
}

// drawable is drawable, remembered for each glyph.
func (m *fontmap) drawable(f *font.Face, gid font.GID) bool {
	key := pathKey{f.Font, gid}
	ok, seen := m.drawn[key]
	if !seen {
		ok = drawable(f, gid)
		if m.drawn == nil {
			m.drawn = map[pathKey]bool{}
		}
		m.drawn[key] = ok
	}
	return ok
}

// indexDir is where the index of the system fonts is kept: dir when
// given, else the user's cache folder, else (a service account without a
// home, for one) the temporary folder, so that system fonts are found
// wherever the tool runs.
func indexDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "enrollbatch", "fonts")
	}
	return filepath.Join(os.TempDir(), "enrollbatch-fonts")
}

// drawable reports whether the glyph has a vector outline (colour bitmaps
// such as those of emoji fonts cannot be drawn as paths).
func drawable(f *font.Face, gid font.GID) bool {
	_, ok := f.GlyphData(gid).(font.GlyphOutline)
	return ok
}

// ignorable reports whether r draws nothing by design: white space and the
// default-ignorable code points (joiners, variation selectors, bidi marks).
func ignorable(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	switch {
	case r == 0xAD, r == 0x34F, r == 0x61C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		r >= 0x180B && r <= 0x180F, r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F, r == 0x3164, r >= 0xFE00 && r <= 0xFE0F, r == 0xFEFF,
		r == 0xFFA0, r >= 0xFFF0 && r <= 0xFFF8, r >= 0x1BCA0 && r <= 0x1BCA3,
		r >= 0x1D173 && r <= 0x1D17A, r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return false
}

// outline returns the glyph's outline as PDF path operators in font units,
// cached for the process.
func (fs *Fonts) outline(f *font.Face, gid font.GID) []byte {
	key := pathKey{f.Font, gid}
	if p, ok := fs.paths.Load(key); ok {
		return p.([]byte)
	}
	var b []byte
	if o, ok := f.GlyphData(gid).(font.GlyphOutline); ok {
		b = appendOutline(nil, o)
	}
	fs.paths.Store(key, b)
	return b
}
