package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// keptElsewhereError says results.xlsx could not be put in place and the
// complete record was kept under another name: exit 1, and the message,
// printed last, names that file.
type keptElsewhereError struct {
	path  string // where the results belonged
	cause error
	kept  string // where they are
}

func (e *keptElsewhereError) Error() string {
	return fmt.Sprintf("%s could not be written (%v; on Windows: is it open in Excel?); the complete results of this run are in %s", e.path, e.cause, e.kept)
}

// keepRecord writes the run's record when results.xlsx cannot be put in
// place (a full disk, or on Windows a results.xlsx open in Excel): first as
// results-TIME.xlsx in the output folder, then as results-TIME.csv there,
// then the same two in the user's temporary folder. It returns the file
// written.
func keepRecord(out string, run results.Run, src results.Source, now time.Time) (string, error) {
	stamp := now.UTC().Format("20060102T150405")
	var errs []error
	for _, dir := range []string{out, os.TempDir()} {
		prefix := "results-"
		if dir != out {
			prefix = "enrollbatch-results-"
		}
		for _, try := range []struct {
			ext   string
			write func(string, results.Run, results.Source) error
		}{{".xlsx", output.WriteWorkbookFrom}, {".csv", output.WriteCSVFrom}} {
			p := filepath.Join(dir, prefix+stamp+try.ext)
			if err := try.write(p, run, src); err != nil {
				errs = append(errs, err)
				continue
			}
			return p, nil
		}
	}
	return "", errors.Join(errs...)
}

// removeSheetAfterFailure removes the QR sheet an earlier run left at path
// when this run's sheet could not be written, so that the folder never
// holds codes that do not match the results.
func removeSheetAfterFailure(w io.Writer, path string, cause error) {
	if _, err := os.Stat(path); err != nil {
		return
	}
	if err := output.RemoveSheet(path); err != nil {
		fmt.Fprintf(w, "warning: the QR sheet could not be written (%v), and the earlier %s could not be removed either (%v): delete it, its codes do not match these results\n", cause, path, err)
		return
	}
	fmt.Fprintf(w, "removed the earlier %s: this run's sheet could not be written, and the folder must match the results\n", path)
}

// record is what a run keeps of its rows as they are settled: the results,
// in input order, in a spool on disk, their counts, and the codes carried
// over from an earlier run in the folder. Results the spool could not take
// (a full disk) are held in memory instead, so that none is lost.
type record struct {
	spool   *results.Spool
	tally   results.Tally
	carry   *output.Carry // nil: nothing to carry over
	carried int
	unsaved []results.Result
}

func newRecord(out string, carry *output.Carry) (*record, error) {
	sp, err := results.CreateSpool(out)
	if err != nil {
		return nil, err
	}
	return &record{spool: sp, carry: carry}, nil
}

// add records r; once the spool failed, r is held in memory.
func (rec *record) add(r *results.Result) error {
	if rec.carry != nil && rec.carry.Apply(r) {
		rec.carried++
	}
	rec.tally.Add(r)
	if len(rec.unsaved) == 0 {
		if err := rec.spool.Add(r); err == nil {
			return nil
		}
	}
	rec.unsaved = append(rec.unsaved, *r)
	return nil
}

// source yields every result recorded, in order.
func (rec *record) source() results.Source {
	return rec.spool.Source().Then(rec.unsaved)
}

// keep is the sentence that names the spool when no output could be
// written: it is the run's record then.
func (rec *record) keep() string {
	return "the results of this run are kept as JSON lines in " + rec.spool.Path() + ": keep that file, it is the only record of what was created"
}

// remove deletes the spool once the outputs hold its results.
func (rec *record) remove(w io.Writer) {
	if err := rec.spool.Remove(); err != nil {
		fmt.Fprintf(w, "warning: %v: delete %s, it holds QR payloads\n", err, rec.spool.Path())
	}
}

// warnLeftSpools names the spools that runs killed before they wrote their
// outputs left in out: each is the only record of what such a run created.
func warnLeftSpools(w io.Writer, out string) {
	left, _ := filepath.Glob(filepath.Join(out, results.SpoolPattern))
	for _, p := range left {
		fmt.Fprintf(w, "warning: %s is the record of an earlier run in this folder that was stopped before it wrote its results (JSON lines, one row each); keep it until you have checked what it created (enrollbatch export), then delete it\n", p)
	}
}
