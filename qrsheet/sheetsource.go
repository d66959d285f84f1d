package qrsheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/enrollbatch/enrollbatch/results"
)

// Outcome is what FromResults did.
type Outcome struct {
	Files   []string         // written, in order
	Labels  int              // labels printed
	Skipped []string         // rows not printed, one sentence each (as LabelsFromResults says)
	Notes   map[int][]string // by input row (0: labels without a row) as Writer.Notes
}

// maxGroupPasses is the most --split-by values whose sheets are each
// written from a range of their own over the results (a variable for
// tests).
var maxGroupPasses = 64

// FromResults writes the QR sheet of src's printable results.
//
// It writes what LabelsFromResults, ColumnValues and WriteSheets write for
// the same results: one sheet at path or, with splitBy, one sheet per value
// of that column (see WriteSheets); labelColumns and splitBy are matched as
// they are there. Tokens are judged expired against opts.Now (time.Now()
// when zero). When nothing is printable it writes nothing, removes a sheet
// left at path (see Remove) and returns ErrNoLabels with the rows
// skipped. With clean, earlier sheets next to path that this call did not
// write are removed as WriteSheets does. An error yielded by src fails the
// call; the sheet being written is dropped and the one at its path stays
// (with splitBy, the sheets of the values written before stay written).
//
// Without splitBy, src is ranged over once and each label goes straight to
// one Writer: only the skipped sentences and the notes of rows that
// have notes are kept. With splitBy, a first range finds the values, then
// each value's sheet is written from a range of its own over src, holding
// no more than without splitBy (a writer open per value instead would each
// hold up to MaxPages pages). With more than maxGroupPasses values, as when
// splitting by id, that many ranges would cost too much: the printable
// labels are then held, grouped by value, and written from one more range.
func FromResults(path string, src results.Source, extraHeaders, labelColumns []string,
	splitBy string, opts Options, clean bool) (Outcome, error) {
	out := Outcome{Notes: map[int][]string{}}
	m, err := newLabelMaker(extraHeaders, labelColumns)
	if err != nil {
		return out, err
	}
	var group func(*results.Result) string
	if splitBy != "" {
		if group, err = columnValue(extraHeaders, splitBy); err != nil {
			return out, err
		}
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	// each ranges over src and calls add with the label of every printable
	// result; the first range also gathers the skipped sentences and
	// counts the labels.
	first := true
	each := func(add func(lb Label, r *results.Result) error) error {
		defer func() { first = false }()
		read := 0
		for r, err := range src {
			if err != nil {
				return fmt.Errorf("read result %d: %w", read+1, err)
			}
			read++
			lb, skip, ok := m.label(r, opts.Now)
			if !ok {
				if skip != "" && first {
					out.Skipped = append(out.Skipped, skip)
				}
				continue
			}
			if first {
				out.Labels++
			}
			// The label outlives the yield by up to a batch: it must
			// not share a buffer the source may fill again.
			lb.Image = bytes.Clone(lb.Image)
			if err := add(lb, r); err != nil {
				return err
			}
		}
		return nil
	}
	var files []string
	switch {
	case group == nil:
		var sf sheetFiles
		err = sf.write(path, opts, func(w *Writer) error {
			return each(func(lb Label, _ *results.Result) error { return w.Add(lb) })
		})
		if err == nil {
			files, err = sf.finish(path, clean)
		}
		out.Notes = sf.notes
	default:
		// The values, in the order of their first printable row.
		seen := map[string]bool{}
		var order []string
		err = each(func(_ Label, r *results.Result) error {
			if len(order) > maxGroupPasses {
				return nil // too many to range for each: no need to know them all
			}
			if g := group(r); !seen[g] {
				seen[g] = true
				order = append(order, g)
			}
			return nil
		})
		if err != nil {
			break
		}
		if len(order) <= maxGroupPasses {
			files, out.Notes, err = writeGroups(path, order, splitBy, opts, clean, func(g string, w *Writer) error {
				return each(func(lb Label, r *results.Result) error {
					if group(r) != g {
						return nil
					}
					return w.Add(lb)
				})
			})
			break
		}
		var labels []Label
		var groups []string
		err = each(func(lb Label, r *results.Result) error {
			labels = append(labels, lb)
			groups = append(groups, group(r))
			return nil
		})
		if err == nil {
			files, out.Notes, err = WriteSheets(path, labels, groups, splitBy, opts, clean)
		}
	}
	if out.Notes == nil {
		out.Notes = map[int][]string{}
	}
	if errors.Is(err, ErrNoLabels) {
		out.Labels = 0
		if rerr := Remove(path); rerr != nil {
			return out, rerr
		}
		return out, ErrNoLabels
	}
	out.Files = files
	return out, err
}

// Spec is how the QR sheet is laid out: the page options, the input
// columns printed on each label, and the column whose values split it into
// one sheet each.
type Spec struct {
	Options Options
	Columns []string
	SplitBy string
}

// Write writes the QR sheet of src's printable results to path, one
// sheet per value with SplitBy, or removes a sheet left there when nothing
// is printable, so that the folder always matches the results. With clean
// (a folder the tool owns), earlier sheets and parts next to path that this
// run did not write go too. The outcome holds the labels' notes by row
// (characters drawn as markers, codes moved to larger labels), the files
// written and the rows not printed.
func Write(path string, spec Spec, src results.Source, extraHeaders []string, clean bool) (Outcome, error) {
	o, err := FromResults(path, src, extraHeaders, spec.Columns, spec.SplitBy, spec.Options, clean)
	if errors.Is(err, ErrNoLabels) {
		o.Files = nil
		return o, Remove(path)
	}
	return o, err
}

// WithNotes is src with the sheet's notes about each row's label added to
// the row's result.
func (o Outcome) WithNotes(src results.Source) results.Source {
	if len(o.Notes) == 0 {
		return src
	}
	return func(yield func(*results.Result, error) bool) {
		for r, err := range src {
			if err == nil && r.Row > 0 && len(o.Notes[r.Row]) > 0 {
				c := *r
				c.Notes = append(append([]string(nil), r.Notes...), o.Notes[r.Row]...)
				r = &c
			}
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// Report prints the notes about labels, the rows not printed and the files
// written.
func (o Outcome) Report(w io.Writer, src results.Source) {
	for _, n := range o.Notes[0] { // labels without an input row
		fmt.Fprintf(w, "label: %s\n", n)
	}
	if len(o.Notes) > 1 || len(o.Notes) == 1 && o.Notes[0] == nil {
		for r, err := range src {
			if err != nil {
				break
			}
			if r.Row == 0 {
				continue
			}
			for _, n := range o.Notes[r.Row] {
				fmt.Fprintf(w, "label: row %d, %s: %s\n", r.Row, r.DisplayName, n)
			}
		}
	}
	for _, s := range o.Skipped {
		fmt.Fprintf(w, "not printed: %s\n", s)
	}
	for i, f := range o.Files {
		switch {
		case len(o.Files) == 1:
			fmt.Fprintf(w, "wrote %s (%d label(s))\n", f, o.Labels)
		case i == len(o.Files)-1:
			fmt.Fprintf(w, "wrote %s (%d label(s) in %d files)\n", f, o.Labels, len(o.Files))
		default:
			fmt.Fprintf(w, "wrote %s\n", f)
		}
	}
}
