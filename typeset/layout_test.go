package typeset

import (
	"strings"
	"testing"
	"time"
)

func newTypesetter(t *testing.T, system bool) *Typesetter {
	t.Helper()
	fs, err := NewFonts()
	if err != nil {
		t.Fatal(err)
	}
	fs.System = system
	return fs.New()
}

func layerText(b Block) string {
	var parts []string
	for _, t := range b.Texts {
		parts = append(parts, t.Text)
	}
	return strings.Join(parts, " ")
}

// TestEmbeddedScripts lays out text of every embedded script without system
// fonts: every character is drawn, and the text layer holds the words.
func TestEmbeddedScripts(t *testing.T) {
	ts := newTypesetter(t, false)
	tests := []struct {
		script, text, layer string
	}{
		{"latin", "Łódź magazyn główny", "Łódź magazyn główny"},
		{"vietnamese", "Hà Nội kho hàng", "Hà Nội kho hàng"},
		{"greek", "Αθήνα αποθήκη", "Αθήνα αποθήκη"},
		{"cyrillic", "Москва склад", "Москва склад"},
		{"hebrew", "מחסן תל אביב", ""},
		{"arabic", "مستودع الرياض", ""},
		{"thai", "คลังสินค้ากรุงเทพ", "คลังสินค้ากรุงเทพ"},
		{"devanagari", "मुंबई गोदाम", "मुंबई गोदाम"},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			b := ts.Layout([]Para{{Text: tc.text, Field: "displayName"}}, Options{Width: 250, Height: 60, Size: 10, MinSize: 5})
			if len(b.Missing) > 0 {
				t.Fatalf("missing %v", b.Missing)
			}
			if b.Shortened || b.Size != 10 {
				t.Errorf("size %v, shortened %v: a short name fits at the preferred size", b.Size, b.Shortened)
			}
			if n := strings.Count(string(b.Ops), " Q\n"); n < len([]rune(strings.ReplaceAll(tc.text, " ", "")))/2 {
				t.Errorf("%d glyphs drawn for %q", n, tc.text)
			}
			if tc.layer != "" && layerText(b) != tc.layer {
				t.Errorf("text layer %q, want %q", layerText(b), tc.layer)
			}
			for _, x := range b.Texts {
				if x.X < 0 || x.X+x.Width > 250+0.01 {
					t.Errorf("text %q spans %.2f to %.2f, outside the box of width 250", x.Text, x.X, x.X+x.Width)
				}
			}
		})
	}
}

// TestRightToLeftOrder checks that an Arabic paragraph is drawn right to
// left: its first word is the rightmost one, and the text layer gives each
// word in visual order (reversed), as PDF readers expect.
func TestRightToLeftOrder(t *testing.T) {
	ts := newTypesetter(t, false)
	b := ts.Layout([]Para{{Text: "مستودع الرياض"}}, Options{Width: 300, Height: 40, Size: 10})
	if len(b.Texts) != 2 {
		t.Fatalf("%d words in the text layer, want 2: %+v", len(b.Texts), b.Texts)
	}
	left, right := b.Texts[0], b.Texts[1]
	if left.X > right.X {
		left, right = right, left
	}
	if right.Text != "عدوتسم" || left.Text != "ضايرلا" {
		t.Errorf("words %q (left) and %q (right), want the first word on the right", left.Text, right.Text)
	}
}

// TestMissingCharacterMarker: a character no font has is reported with its
// field and code point, and the label shows a marker in its place.
func TestMissingCharacterMarker(t *testing.T) {
	ts := newTypesetter(t, false)
	b := ts.Layout([]Para{{Text: "Site \U0010FFFD one", Field: "Site"}}, Options{Width: 300, Height: 40, Size: 10})
	if len(b.Missing) != 1 || b.Missing[0].Rune != 0x10FFFD || b.Missing[0].Field != "Site" {
		t.Fatalf("missing %+v, want U+10FFFD in Site", b.Missing)
	}
	if got := layerText(b); got != "Site [U+10FFFD] one" {
		t.Errorf("text layer %q, want the marker in place of the character", got)
	}
	msg := b.Missing[0].String()
	for _, want := range []string{"Site", "U+10FFFD", "[U+10FFFD]", "--font"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if got := ts.Missing("a \U0010FFFD b \U0010FFFD \u200d", 0); len(got) != 1 || got[0] != 0x10FFFD {
		t.Errorf("Missing = %U, want [U+10FFFD] once (joiners draw nothing by design)", got)
	}
}

// TestShrinkThenEllipsis: text shrinks to fit, and below the minimum size
// it is shortened with an ellipsis, within the box, whatever its length; a
// 5 MB paragraph is laid out as fast as a short one.
func TestShrinkThenEllipsis(t *testing.T) {
	ts := newTypesetter(t, false)
	box := Options{Width: 240, Height: 60, Size: 9, MinSize: 5}
	huge := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 5<<20/57)
	tests := []struct {
		name      string
		paras     []Para
		shortened bool
		smaller   bool
	}{
		{"fits", []Para{{Text: "Leeds scanners"}, {Text: "Site: Leeds"}}, false, false},
		{"shrinks", []Para{{Text: "Leeds scanners"}, {Text: strings.Repeat("word ", 60)}}, false, true},
		{"1024-character description", []Para{{Text: "Leeds scanners", Scale: 1.15}, {Text: strings.Repeat("x", 1024)}, {Text: "Token valid until 2027-03-31"}, {Text: "Site: Leeds"}}, true, true},
		{"5 MB column", []Para{{Text: "Leeds"}, {Text: "Note: " + huge}, {Text: "Site: Leeds"}}, true, true},
		{"many paragraphs", func() []Para {
			var ps []Para
			for range 40 {
				ps = append(ps, Para{Text: "Field: value"})
			}
			return ps
		}(), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b := ts.Layout(tc.paras, box)
			took := time.Since(start)
			if b.Height > box.Height+0.01 {
				t.Errorf("height %.1f > box %.1f", b.Height, box.Height)
			}
			if b.Shortened != tc.shortened {
				t.Errorf("shortened %v, want %v", b.Shortened, tc.shortened)
			}
			if (b.Size < box.Size) != tc.smaller {
				t.Errorf("size %v (preferred %v)", b.Size, box.Size)
			}
			if b.Size < box.MinSize {
				t.Errorf("size %v under the minimum", b.Size)
			}
			if tc.shortened && !strings.Contains(layerText(b), "…") {
				t.Errorf("shortened text has no ellipsis: %q", layerText(b))
			}
			for _, x := range b.Texts {
				if x.X < -0.01 || x.X+x.Width > box.Width+0.01 || -x.Y > box.Height+0.01 {
					t.Errorf("text %q at (%.1f, %.1f) width %.1f leaves the box", x.Text, x.X, x.Y, x.Width)
				}
			}
			if took > 2*time.Second {
				t.Errorf("layout took %v", took)
			}
		})
	}
}
