package input

import (
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// FuzzRecordReaderMatchesStrictCSV checks recordReader against Go's
// encoding/csv in its strict mode: text that encoding/csv reads without
// an error (RFC 4180 quoting) must give the same records, starting in the
// same lines. recordReader differs only where encoding/csv refuses: a
// bare quote in an unquoted field, spaces after a closing quote.
func FuzzRecordReaderMatchesStrictCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\nc,d\n",
		"a,\"b\nc\",d\r\ne,f",
		"\"a\"\"b\",\"\"\n\n\n,\n",
		" a, \"b\" ,c\n",
		"a;b\r\n\r\n\"c;d\";e\r",
		"a\tb\n\"c\td\"\t e\n",
		"\"\"\"\"\n\"x\ny\"",
		"a,b,\n,,\n",
	} {
		f.Add(s, byte(','))
		f.Add(s, byte(';'))
		f.Add(s, byte('\t'))
	}
	f.Fuzz(func(t *testing.T, text string, comma byte) {
		if comma != ',' && comma != ';' && comma != '\t' && comma != '|' {
			return
		}
		std := csv.NewReader(strings.NewReader(text))
		std.Comma = rune(comma)
		std.FieldsPerRecord = -1
		std.TrimLeadingSpace = comma != '\t'
		var want [][]string
		var wantLines []int
		for {
			rec, err := std.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return // encoding/csv refuses it; recordReader may read it
			}
			line, _ := std.FieldPos(0)
			want = append(want, rec)
			wantLines = append(wantLines, line)
		}
		r := newRecordReader(strings.NewReader(text), rune(comma))
		var got [][]string
		var gotLines []int
		for {
			rec, line, err := r.read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%q: %v; encoding/csv reads %q", text, err, want)
			}
			got = append(got, append([]string(nil), rec...))
			gotLines = append(gotLines, line)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotLines, wantLines) {
			t.Fatalf("%q:\n got %q in lines %v\nwant %q in lines %v", text, got, gotLines, want, wantLines)
		}
	})
}
