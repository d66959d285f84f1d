package input

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestReadExcelEncodings reads files with the bytes Excel (and other tools)
// write: German "CSV (Trennzeichen-getrennt)" in Windows-1252 with
// semicolons, "Unicode Text" (UTF-16LE with a byte order mark, tabs), and
// UTF-16 without a byte order mark in both byte orders. Every character must
// arrive intact, the delimiter must be found, and only the Windows-1252
// guess is worth a warning.
func TestReadExcelEncodings(t *testing.T) {
	unicodeRows := []wantRow{
		{line: 2, name: "Łódź Magazyn – skanery",
			body:   map[string]any{"displayName": "Łódź Magazyn – skanery", "description": "Hala 2\nrampa załadunkowa", "enrollmentMode": "corporateOwnedDedicatedDevice", "configureWifi": true, "wifiSsid": "Magazyn-WiFi"},
			extras: []string{"Łódź"}},
		{line: 4, name: "東京倉庫 スキャナー",
			body:   map[string]any{"displayName": "東京倉庫 スキャナー", "description": "📦 出荷", "enrollmentMode": "corporateOwnedDedicatedDevice", "configureWifi": false},
			extras: []string{"東京"}},
		{line: 5, name: "Zürich Kasse 5 €",
			body:   map[string]any{"displayName": "Zürich Kasse 5 €", "description": "VRAI", "enrollmentMode": "corporateOwnedDedicatedDevice", "configureWifi": false},
			extras: []string{"Zürich"}},
	}
	tests := []struct {
		file      string
		delimiter rune
		warning   string // a substring of the only warning; "" for none
		extra     []string
		rows      []wantRow
	}{
		{
			file: "testdata/excel-de-ansi.csv", delimiter: ';', warning: "read as Windows-1252 (Western European)",
			extra: []string{"Site", "Technician"},
			rows: []wantRow{
				{line: 2, name: "Lager Süd – Scanner",
					body:   map[string]any{"displayName": "Lager Süd – Scanner", "description": "Größe M, Preis 5 €", "enrollmentMode": "corporateOwnedDedicatedDevice", "configureWifi": true, "wifiSsid": "Lager-WLAN", "wifiHidden": false},
					extras: []string{"München Süd", "Jürgen Weiß"}},
				{line: 3, name: "Büro Köln Kiosk",
					body:   map[string]any{"displayName": "Büro Köln Kiosk", "description": "Empfang; Straße 1", "enrollmentMode": "corporateOwnedDedicatedDevice", "configureWifi": false},
					extras: []string{"Köln", "Zoë Dupré"}},
				{line: 4, name: `=HYPERLINK("http://example.com/x";"Klick")`,
					body:   map[string]any{"displayName": `=HYPERLINK("http://example.com/x";"Klick")`, "description": "-Formel im Namen", "enrollmentMode": "corporateOwnedDedicatedDevice", "configureWifi": false},
					extras: []string{"Düsseldorf", "@Ärger"}},
			},
		},
		{file: "testdata/excel-unicode-text.txt", delimiter: '\t', extra: []string{"Site"}, rows: unicodeRows},
		{file: "testdata/utf16le-nobom.csv", delimiter: '\t', extra: []string{"Site"}, rows: unicodeRows},
		{file: "testdata/utf16be-nobom.csv", delimiter: '\t', extra: []string{"Site"}, rows: unicodeRows},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := Read(tt.file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Delimiter != tt.delimiter {
				t.Errorf("delimiter %q, want %q", f.Delimiter, tt.delimiter)
			}
			switch {
			case tt.warning == "" && len(f.Warnings) > 0:
				t.Errorf("warnings %q, want none", f.Warnings)
			case tt.warning != "" && (len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], tt.warning)):
				t.Errorf("warnings %q, want one containing %q", f.Warnings, tt.warning)
			}
			if strings.Join(f.ExtraHeaders, "|") != strings.Join(tt.extra, "|") {
				t.Errorf("extra headers %q, want %q", f.ExtraHeaders, tt.extra)
			}
			checkRows(t, f, tt.rows)
		})
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func TestDecodeText(t *testing.T) {
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    string // the text, when err is ""
		enc     string
		notice  bool
		wantErr string // a substring of the error
	}{
		{name: "ASCII", in: []byte("displayName\r\nA\r\n"), want: "displayName\r\nA\r\n", enc: "UTF-8"},
		{name: "UTF-8 without BOM", in: []byte("displayName\nMünchen €\n"), want: "displayName\nMünchen €\n", enc: "UTF-8"},
		{name: "UTF-8 with BOM", in: []byte("\xEF\xBB\xBFdisplayName\nŁódź\n"), want: "displayName\nŁódź\n", enc: "UTF-8"},
		{name: "UTF-16LE with BOM", in: cat([]byte{0xFF, 0xFE}, utf16le("displayName\n📦 €\n")), want: "displayName\n📦 €\n", enc: "UTF-16LE"},
		{name: "UTF-16BE with BOM", in: cat([]byte{0xFE, 0xFF}, utf16be("displayName\n📦 €\n")), want: "displayName\n📦 €\n", enc: "UTF-16BE"},
		{name: "UTF-16LE without BOM", in: utf16le("displayName\nGroß\n"), want: "displayName\nGroß\n", enc: "UTF-16LE"},
		{name: "UTF-16BE without BOM", in: utf16be("displayName\nGroß\n"), want: "displayName\nGroß\n", enc: "UTF-16BE"},
		{name: "UTF-16LE without BOM, mostly CJK after an ASCII header", in: utf16le("displayName,description\n東京倉庫,出荷\n"), want: "displayName,description\n東京倉庫,出荷\n", enc: "UTF-16LE"},
		{name: "Windows-1252 umlauts, euro, sharp s, dashes and quotes", in: []byte("displayName;Site\nLager S\xfcd \x96 5 \x80;Gro\xdfe \x84Halle\x93 Don\x92t\n"),
			want: "displayName;Site\nLager Süd – 5 €;Große „Halle“ Don’t\n", enc: "Windows-1252", notice: true},
		{name: "Windows-1252 French and Catalan", in: []byte("displayName\n\xc9quipe s\xe9curit\xe9 \xe9t\xe9, Col\xb7legi l\xb7l\n"),
			want: "displayName\nÉquipe sécurité été, Col·legi l·l\n", enc: "Windows-1252", notice: true},
		{name: "a byte Windows-1252 does not define", in: []byte("displayName\nA\nB \x81\n"), wantErr: "line 3: the file is not UTF-8, and byte 0x81 is not a character in Windows-1252"},
		{name: "Windows-1250 Polish (ł reads as ³)", in: []byte("displayName\nWroc\xb3aw\n"), wantErr: `line 2: the file is not UTF-8, and read as Windows-1252 (Western European) it would have '³' between two letters ("c³a")`},
		{name: "Windows-1251 Cyrillic", in: []byte("displayName\n\xcc\xee\xf1\xea\xe2\xe0 \xf1\xea\xeb\xe0\xe4\n"), wantErr: "11 of its 22 letters would be accented"},
		{name: "UTF-8 BOM but not UTF-8", in: []byte("\xEF\xBB\xBFdisplayName\nok\nM\xfcnchen\n"), wantErr: "line 3, column 2 (byte 2 of the line): the file starts with a UTF-8 byte order mark but byte 0xFC there is not UTF-8"},
		{name: "UTF-16 with an odd number of bytes", in: cat([]byte{0xFF, 0xFE}, utf16le("displayName\n"), []byte{'A'}), wantErr: "ends in the middle of a character"},
		{name: "UTF-16 with a lone surrogate", in: cat([]byte{0xFF, 0xFE}, utf16le("displayName\nA\n"), []byte{0x3D, 0xD8, 'B', 0}), wantErr: "line 3: the file is UTF-16 but holds a broken character (lone surrogate 0xD83D)"},
		{name: "UTF-16 with a lone low surrogate", in: cat(utf16be("displayName\n"), []byte{0xDC, 0x00}), wantErr: "line 2: the file is UTF-16 but holds a broken character (lone surrogate 0xDC00)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, enc, notice, err := decodeText(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), `"CSV UTF-8 (Comma delimited) (*.csv)"`) {
					t.Errorf("error %q does not say how to save the file as UTF-8", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != tt.want || enc != tt.enc {
				t.Errorf("got %q in %s, want %q in %s", text, enc, tt.want, tt.enc)
			}
			if (notice != "") != tt.notice {
				t.Errorf("notice %q, want one: %v", notice, tt.notice)
			}
			if tt.notice && !strings.Contains(notice, "Windows-1252") {
				t.Errorf("notice %q does not name the encoding", notice)
			}
		})
	}
}

// TestReadRefusesUnreadableEncoding checks that Read fails as a whole (the
// run exits 2) for a file it cannot decode without loss, naming the file.
func TestReadRefusesUnreadableEncoding(t *testing.T) {
	path := writeTemp(t, "polish.csv", []byte("displayName;Site\nMagazyn;Wroc\xb3aw\n"))
	_, err := Read(path, Options{})
	if err == nil || !strings.Contains(err.Error(), path+": line 2: the file is not UTF-8") {
		t.Fatalf("error %v, want one naming %s and line 2", err, path)
	}
}

// writeTemp writes data to a file called name in a fresh folder.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
