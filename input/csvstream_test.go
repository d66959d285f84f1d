package input

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sameAsWholeText checks that a CSV file read as a stream (what Read does
// for plain UTF-8) gives the rows and metadata of the same bytes decoded
// whole (what Read does for any other encoding).
func sameAsWholeText(t *testing.T, path string, data []byte, got *File) {
	t.Helper()
	plain, err := plainUTF8(path)
	if err != nil {
		t.Fatal(err)
	}
	f, src, err := parseCSV(path, data)
	if err != nil {
		t.Fatalf("read as a stream, refused whole: %v", err)
	}
	r := &Reader{file: f, src: src, state: fileState{now: testNow, seen: map[nameKey]int32{}}}
	rows := nextAll(t, r)
	r.Close()
	want := *f
	want.Rows = rows
	if !reflect.DeepEqual(got.Rows, want.Rows) || !reflect.DeepEqual(got.Warnings, want.Warnings) ||
		!reflect.DeepEqual(got.Headers, want.Headers) || got.Delimiter != want.Delimiter ||
		!reflect.DeepEqual(got.ExtraHeaders, want.ExtraHeaders) {
		t.Fatalf("plain UTF-8 %v: the file read by Read differs from its text decoded whole:\n%+v\nwant\n%+v", plain, got, want)
	}
}

// TestCSVStreamMatchesWholeText reads CSV files both ways: as a stream,
// when the file is plain UTF-8, and decoded whole. Characters cut by the
// 64 KiB blocks the encoding check reads, and a Windows-1252 byte far into
// the file, must not change the result.
func TestCSVStreamMatchesWholeText(t *testing.T) {
	long := func(row func(i int) string, n int) string {
		var b strings.Builder
		b.WriteString("displayName,description,Site\n")
		for i := 1; i <= n; i++ {
			b.WriteString(row(i))
		}
		return b.String()
	}
	cases := map[string]struct {
		text  string
		plain bool
	}{
		"multibyte across blocks": {long(func(i int) string {
			return "Kassa ✓ " + strings.Repeat("é", i%7) + string(rune('A'+i%26)) + itoa(i) + ",Großhandel 日本,Zürich\n"
		}, 4000), true},
		"emoji across blocks":  {long(func(i int) string { return "Till 🧾" + itoa(i) + ",🙂🙂🙂,S\n" }, 5000), true},
		"windows-1252 late":    {long(func(i int) string { return "Till " + itoa(i) + ",x,S\n" }, 9000) + "Caf\xe9 1,x,S\n", false},
		"cut character at end": {"displayName\nA\xe2\x9c", false},
		"sep line":             {"sep=;\ndisplayName;Site\nA;1\n", true},
		"bom":                  {"\ufeffdisplayName,Site\r\nA,1\r\n", true},
	}
	dir := t.TempDir()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".csv")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			plain, err := plainUTF8(path)
			if err != nil || plain != tc.plain {
				t.Fatalf("plainUTF8 %v, %v; want %v", plain, err, tc.plain)
			}
			f, err := Read(path, Options{Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Rows) == 0 {
				t.Fatal("no rows")
			}
			sameAsWholeText(t, path, []byte(tc.text), f)
		})
	}
	files, _ := filepath.Glob("testdata/*.csv")
	more, _ := filepath.Glob("../samples/*.csv")
	for _, path := range append(files, more...) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(path, Options{Now: func() time.Time { return testNow }})
		if err != nil {
			continue
		}
		sameAsWholeText(t, path, data, f)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
