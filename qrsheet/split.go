package qrsheet

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
	value, err := columnValue(extraHeaders, column)
	if err != nil {
		return nil, err
	}
	vals := make([]string, len(labels))
	for i := range labels {
		vals[i] = value(byRow[labels[i].Row])
	}
	return vals, nil
}

// columnValue returns the function that gives a result's value of column
// (see ColumnValues), BlankGroup for an empty value or a nil result.
func columnValue(extraHeaders []string, column string) (func(r *results.Result) string, error) {
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
	return func(r *results.Result) string {
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
		return v
	}, nil
}

// WriteSheets writes labels as one sheet at path, or, with groups (one
// value per label), one sheet per value at SplitPaths(path, values), each
// with its own page numbering and the value in its title. It returns the
// files written and the labels' notes by row. When nothing is printable it
// writes nothing and returns ErrNoLabels. With clean, earlier sheets at
// path and at PATH-*.pdf that this call did not write are removed, so that
// a folder the tool owns holds only this run's sheets.
func WriteSheets(path string, labels []Label, groups []string, column string, opts Options, clean bool) ([]string, map[int][]string, error) {
	var sf sheetFiles
	addAll := func(ls []Label) func(w *Writer) error {
		return func(w *Writer) error {
			for _, lb := range ls {
				if err := w.Add(lb); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if groups == nil {
		if err := sf.write(path, opts, addAll(labels)); err != nil {
			return nil, nil, err
		}
		files, err := sf.finish(path, clean)
		return files, sf.notes, err
	}
	var order []string
	by := map[string][]Label{}
	for i, g := range groups {
		if _, ok := by[g]; !ok {
			order = append(order, g)
		}
		by[g] = append(by[g], labels[i])
	}
	return writeGroups(path, order, column, opts, clean, func(g string, w *Writer) error {
		return addAll(by[g])(w)
	})
}

// writeGroups writes one sheet per value of column, in order, at
// SplitPaths(path, order), each titled with its value; fill adds the
// labels of value g to its sheet's writer. Then it cleans as WriteSheets
// does and returns the files written and the labels' notes by row.
func writeGroups(path string, order []string, column string, opts Options, clean bool,
	fill func(g string, w *Writer) error) ([]string, map[int][]string, error) {
	var sf sheetFiles
	paths := SplitPaths(path, order)
	for _, g := range order {
		o := opts
		if o.Title == "" {
			o.Title = DefaultTitle
		}
		o.Title += " · " + column + ": " + g
		if err := sf.write(paths[g], o, func(w *Writer) error { return fill(g, w) }); err != nil {
			return nil, nil, err
		}
	}
	files, err := sf.finish(path, clean)
	return files, sf.notes, err
}

// sheetFiles gathers the files and notes of the sheets that one call
// writes.
type sheetFiles struct {
	files []string
	notes map[int][]string
}

// write writes one sheet at p, fill adding its labels to w. A sheet with
// no printable label writes nothing and is no error here.
func (s *sheetFiles) write(p string, o Options, fill func(w *Writer) error) error {
	if s.notes == nil {
		s.notes = map[int][]string{}
	}
	w, err := NewWriter(p, o)
	if err != nil {
		return err
	}
	if err := fill(w); err != nil {
		w.Abort()
		return err
	}
	fs, err := w.Close()
	for row, ns := range w.Notes() {
		s.notes[row] = append(s.notes[row], ns...)
	}
	if errors.Is(err, ErrNoLabels) {
		return nil
	}
	s.files = append(s.files, fs...)
	return err
}

// finish removes, with clean, the earlier sheets at path and at
// PATH-*.pdf that were not written, and returns the files written, or
// ErrNoLabels when there are none.
func (s *sheetFiles) finish(path string, clean bool) ([]string, error) {
	if clean {
		for _, p := range append(siblings(path, "-"), path) {
			if containsPath(s.files, p) {
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return s.files, fmt.Errorf("remove old %s: %w", p, err)
			}
		}
	}
	if len(s.files) == 0 {
		return nil, ErrNoLabels
	}
	return s.files, nil
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
