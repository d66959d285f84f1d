package input

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

// The encodings a CSV file is read in. Excel writes the first four: "CSV
// UTF-8" (with a byte order mark), "Unicode Text" (UTF-16LE with a byte
// order mark, tab-separated) and, on Western European Windows, plain "CSV"
// in the ANSI code page Windows-1252. UTF-16 without a byte order mark comes
// from other tools and is recognised by its NUL bytes.
const (
	encUTF8        = "UTF-8"
	encUTF16LE     = "UTF-16LE"
	encUTF16BE     = "UTF-16BE"
	encWindows1252 = "Windows-1252"
)

// saveAsUTF8 says what to do when a file cannot be read safely.
const saveAsUTF8 = `in Excel, use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)" and run again`

// decodeText returns the file's text as UTF-8 without a byte order mark,
// the name of the encoding it was read in, and a notice for the file's
// warnings when that encoding was a guess (Windows-1252). It never replaces
// a character: a file that cannot be read without loss is refused with a
// message naming the line and saying how to save the file as UTF-8. Only a
// file without a single character written in UTF-8 is read as
// Windows-1252: one with both is refused at its first byte that is not
// UTF-8.
func decodeText(data []byte) (text []byte, enc, notice string, err error) {
	utf8BOM := bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	switch {
	case utf8BOM:
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		text, err = decodeUTF16(data[2:], false)
		return text, encUTF16LE, "", err
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		text, err = decodeUTF16(data[2:], true)
		return text, encUTF16BE, "", err
	default:
		if big, ok := utf16ByNULs(data); ok {
			enc = encUTF16LE
			if big {
				enc = encUTF16BE
			}
			text, err = decodeUTF16(data, big)
			return text, enc, "", err
		}
	}
	if utf8.Valid(data) {
		return data, encUTF8, "", nil
	}
	if utf8BOM {
		bad := invalidUTF8At(data)
		return nil, "", "", fmt.Errorf("%s: the file starts with a UTF-8 byte order mark but byte 0x%02X there is not UTF-8; the file may be damaged or pieced together from files in different encodings: %s",
			bytePlace(data, bad), data[bad], saveAsUTF8)
	}
	// Text with a character written in UTF-8 is UTF-8 text: read as
	// Windows-1252, each of its accented letters would turn into two
	// ("Café" into "CafÃ©"), and a name would reach the tenant wrongly. So
	// a byte that is not UTF-8 in it is refused, wherever it is.
	if at := utf8MultiByteAt(data); at >= 0 {
		bad := invalidUTF8At(data)
		return nil, "", "", fmt.Errorf("%s: byte 0x%02X is not UTF-8, but the file is UTF-8 (line %d has a character written in UTF-8), so it cannot be read safely in any one encoding; it may have been pieced together from files saved in different encodings. Correct the character there in a text editor and save the file as UTF-8, or save the list again from its workbook: %s",
			bytePlace(data, bad), data[bad], lineAt(data, at), saveAsUTF8)
	}
	text, err = decodeWindows1252(data)
	if err != nil {
		return nil, "", "", err
	}
	return text, encWindows1252, `the file is not UTF-8, so it was read as Windows-1252 (Western European), the encoding Excel uses for plain "CSV" on Western European Windows; ` +
		`if a name looks wrong in the results, save the file as "CSV UTF-8" and run again`, nil
}

// invalidUTF8At returns the offset of the first byte that is not part of a
// valid UTF-8 sequence.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// utf8MultiByteAt returns the offset of the first character written in
// UTF-8 with more than one byte (a valid sequence), or -1.
func utf8MultiByteAt(data []byte) int {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || n > 1 {
			return i
		}
		i += n
	}
	return -1
}

// lineAt is the 1-based line of byte offset i.
func lineAt(data []byte, i int) int { return 1 + bytes.Count(data[:i], []byte("\n")) }

// bytePlace names where byte offset i is for a person: "line 4, column 9
// (byte 12 of the line)". The column counts the UTF-8 characters before it
// in its line, as an editor does.
func bytePlace(data []byte, i int) string {
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	col := 1
	for j := start; j < i; {
		_, n := utf8.DecodeRune(data[j:i])
		j += n
		col++
	}
	return fmt.Sprintf("line %d, column %d (byte %d of the line)", lineAt(data, i), col, i-start+1)
}

// utf16ByNULs recognises UTF-16 without a byte order mark: in text whose
// characters are mostly ASCII, as a header row is, every other byte is NUL,
// the odd ones in little-endian order and the even ones in big-endian order.
// UTF-8 and Windows-1252 text has no NUL bytes at all.
func utf16ByNULs(data []byte) (bigEndian, ok bool) {
	sample := data[:min(len(data), 4096)&^1]
	units := len(sample) / 2
	if units < 2 {
		return false, false
	}
	var even, odd int
	for i, b := range sample {
		if b == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	switch {
	case odd*2 > units && even*10 < odd:
		return false, true
	case even*2 > units && odd*10 < even:
		return true, true
	}
	return false, false
}

// decodeUTF16 converts UTF-16 (without its byte order mark) to UTF-8. An odd
// number of bytes or a lone surrogate is refused rather than replaced.
func decodeUTF16(data []byte, bigEndian bool) ([]byte, error) {
	if len(data)%2 != 0 {
		return nil, fmt.Errorf("the file is UTF-16 but ends in the middle of a character (an odd number of bytes); it may be cut off: %s", saveAsUTF8)
	}
	unit := func(i int) uint16 {
		if bigEndian {
			return uint16(data[2*i])<<8 | uint16(data[2*i+1])
		}
		return uint16(data[2*i+1])<<8 | uint16(data[2*i])
	}
	line := 1
	for i, n := 0, len(data)/2; i < n; i++ {
		u := unit(i)
		switch {
		case u == '\n':
			line++
		case u >= 0xD800 && u < 0xDC00: // high surrogate: a low one must follow
			if i+1 < n {
				if next := unit(i + 1); next >= 0xDC00 && next < 0xE000 {
					i++
					continue
				}
			}
			fallthrough
		case u >= 0xDC00 && u < 0xE000:
			return nil, fmt.Errorf("line %d: the file is UTF-16 but holds a broken character (lone surrogate 0x%04X): %s", line, u, saveAsUTF8)
		}
	}
	order := xunicode.LittleEndian
	if bigEndian {
		order = xunicode.BigEndian
	}
	text, err := xunicode.UTF16(order, xunicode.IgnoreBOM).NewDecoder().Bytes(data)
	if err != nil {
		return nil, fmt.Errorf("decode UTF-16: %w", err)
	}
	return text, nil
}

// decodeWindows1252 converts Windows-1252 text to UTF-8, refusing text that
// this code page cannot be what it was written in:
//   - a byte Windows-1252 does not define (0x81, 0x8D, 0x8F, 0x90, 0x9D);
//   - a symbol such as ³, ¹ or ¿ between two letters ("Wroc³aw"), which is
//     how Central European text (Windows-1250) reads in Windows-1252;
//   - mostly accented letters, which is how Cyrillic or Greek text saved in
//     its own code page reads.
func decodeWindows1252(data []byte) ([]byte, error) {
	var b strings.Builder
	b.Grow(len(data) + len(data)/8)
	line, letters, high := 1, 0, 0
	prev := rune(0)
	for i, c := range data {
		r := charmap.Windows1252.DecodeByte(c)
		if c == '\n' {
			line++
		}
		if c >= 0x80 {
			if r == utf8.RuneError {
				return nil, fmt.Errorf("line %d: the file is not UTF-8, and byte 0x%02X is not a character in Windows-1252 either, so its encoding is unknown: %s", line, c, saveAsUTF8)
			}
			if suspectSymbol(c, r) && unicode.IsLetter(prev) && i+1 < len(data) && unicode.IsLetter(charmap.Windows1252.DecodeByte(data[i+1])) {
				return nil, fmt.Errorf("line %d: the file is not UTF-8, and read as Windows-1252 (Western European) it would have %q between two letters (%q), so it was probably saved in another code page, such as Windows-1250 (Central European): %s",
					line, r, string(prev)+string(r)+string(charmap.Windows1252.DecodeByte(data[i+1])), saveAsUTF8)
			}
		}
		if unicode.IsLetter(r) {
			letters++
			if c >= 0x80 {
				high++
			}
		}
		b.WriteRune(r)
		prev = r
	}
	if high >= 8 && high*3 > letters {
		return nil, fmt.Errorf("the file is not UTF-8, and read as Windows-1252 (Western European) %d of its %d letters would be accented, as happens to Cyrillic or Greek text saved in its own code page: %s", high, letters, saveAsUTF8)
	}
	return []byte(b.String()), nil
}

// suspectSymbol reports whether Windows-1252 byte c, decoding to r, is a
// symbol that Western European text never has inside a word. Apostrophes
// and quotes, dashes, the middle dot (Catalan l·l), the soft hyphen and the
// no-break space can be there; letters are never suspect.
func suspectSymbol(c byte, r rune) bool {
	switch c {
	case 0x91, 0x92, 0x93, 0x94, 0x96, 0x97, 0xA0, 0xAD, 0xB7:
		return false
	}
	return !unicode.IsLetter(r)
}
