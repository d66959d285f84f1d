package output

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/results"
)

// maxNameValue is the most bytes of a --split-by value kept in a file name:
// with the sheet's own name and a hash it stays well under the 255 bytes
// that common file systems allow.
const maxNameValue = 100

// SafeFileName turns a value into a part of a file name that every common
// file system accepts: the characters Windows forbids (<>:"/\|?*) and
// control characters become "_", leading and trailing spaces and trailing
// dots are dropped, Windows' reserved device names (CON, NUL, COM1, ...)
// get a "_", and a long value is cut at maxNameValue bytes with a short hash
// of the whole value, so different long values keep different names. An
// empty result is "_".
func SafeFileName(v string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), strings.ContainsRune(`<>:"/\|?*`, r):
			return '_'
		}
		return r
	}, v)
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, ". ")
	if len(s) > maxNameValue {
		sum := sha256.Sum256([]byte(v))
		cut := maxNameValue - 9
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], ". ") + "-" + hex.EncodeToString(sum[:4])
	}
	if s == "" {
		return "_"
	}
	base := strings.ToUpper(s)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		s += "_"
	}
	return s
}

// SplitPaths returns the sheet path of every value of a --split-by column:
// PATH-<value>.pdf, with the value made safe (see SafeFileName). Values that
// would share a file name on a file system that ignores case get a short
// hash of the value each, so no sheet overwrites another.
func SplitPaths(path string, values []string) map[string]string {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	byFold := map[string][]string{}
	for _, v := range values {
		k := strings.ToLower(SafeFileName(v))
		if !containsString(byFold[k], v) {
			byFold[k] = append(byFold[k], v)
		}
	}
	out := map[string]string{}
	for _, vs := range byFold {
		for _, v := range vs {
			name := SafeFileName(v)
			if len(vs) > 1 {
				sum := sha256.Sum256([]byte(v))
				name += "-" + hex.EncodeToString(sum[:4])
			}
			out[v] = stem + "-" + name + ext
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BlankGroup is the --split-by value of rows whose column is empty.
const BlankGroup = "(blank)"

// ColumnValues returns, for each label, the value of column in its result
// (an extra input column, or description, id, row or status, matched as
// --label-columns are), or BlankGroup when empty. byRow finds a label's
// result by its row.
func ColumnValues(labels []Label, byRow map[int]*results.Result, extraHeaders []string, column string) ([]string, error) {
	k := headerKey(column)
	extra := -1
	for i, h := range extraHeaders {
		if headerKey(h) == k {
			extra = i
			break
		}
	}
	field := labelFields[k]
	if extra < 0 && field == nil {
		return nil, fmt.Errorf("split-by column %q is not a column of the input: use one of %s",
			column, strings.Join(append(append([]string(nil), extraHeaders...), "description", "id", "row", "status"), ", "))
	}
	vals := make([]string, len(labels))
	for i := range labels {
		r := byRow[labels[i].Row]
		v := ""
		switch {
		case r == nil:
		case extra >= 0:
			if extra < len(r.Extras) {
				v = r.Extras[extra]
			}
		default:
			_, v = field(r)
		}
		if v = strings.TrimSpace(v); v == "" {
			v = BlankGroup
		}
		vals[i] = v
	}
	return vals, nil
}

// WriteSheets writes labels as one sheet at path, or, with groups (one
// value per label), one sheet per value at SplitPaths(path, values), each
// with its own page numbering and the value in its title. It returns the
// files written and the labels' notes by row. When nothing is printable it
// writes nothing and returns ErrNoLabels. With clean, earlier sheets at
// path and at PATH-*.pdf that this call did not write are removed, so that
// a folder the tool owns holds only this run's sheets.
func WriteSheets(path string, labels []Label, groups []string, column string, opts SheetOptions, clean bool) ([]string, map[int][]string, error) {
	var files []string
	notes := map[int][]string{}
	write := func(p string, ls []Label, o SheetOptions) error {
		w, err := NewSheetWriter(p, o)
		if err != nil {
			return err
		}
		for _, lb := range ls {
			if err := w.Add(lb); err != nil {
				w.Abort()
				return err
			}
		}
		fs, err := w.Close()
		for row, ns := range w.Notes() {
			notes[row] = append(notes[row], ns...)
		}
		if errors.Is(err, ErrNoLabels) {
			return nil
		}
		files = append(files, fs...)
		return err
	}
	if groups == nil {
		if err := write(path, labels, opts); err != nil {
			return nil, nil, err
		}
	} else {
		var order []string
		by := map[string][]Label{}
		for i, g := range groups {
			if _, ok := by[g]; !ok {
				order = append(order, g)
			}
			by[g] = append(by[g], labels[i])
		}
		paths := SplitPaths(path, order)
		for _, g := range order {
			o := opts
			if o.Title == "" {
				o.Title = DefaultTitle
			}
			o.Title += " · " + column + ": " + g
			if err := write(paths[g], by[g], o); err != nil {
				return nil, nil, err
			}
		}
	}
	if clean {
		for _, p := range append(siblings(path, "-"), path) {
			if containsPath(files, p) {
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return files, notes, fmt.Errorf("remove old %s: %w", p, err)
			}
		}
	}
	if len(files) == 0 {
		return nil, notes, ErrNoLabels
	}
	return files, notes, nil
}

// siblings lists the files next to path whose names are path's name without
// its extension, then prefix, then anything, then the extension.
func siblings(path, prefix string) []string {
	dir, name := filepath.Split(path)
	ext := filepath.Ext(name)
	start := strings.TrimSuffix(name, ext) + prefix
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && len(n) > len(start)+len(ext) && strings.HasPrefix(n, start) && strings.HasSuffix(n, ext) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}
