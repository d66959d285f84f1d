package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
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
	// unmatched are the names of profiles the spools of stopped runs
	// record that no row of this run has named yet.
	unmatched map[string]bool
}

// newRecord starts the record of a run in out. left are the results of
// spools stopped runs left there.
func newRecord(out string, carry *output.Carry, left []results.Result) (*record, error) {
	sp, err := results.CreateSpool(out)
	if err != nil {
		return nil, err
	}
	rec := &record{spool: sp, carry: carry, unmatched: map[string]bool{}}
	for _, r := range left {
		if r.ID != "" {
			rec.unmatched[profile.Key(r.DisplayName)] = true
		}
	}
	return rec, nil
}

// add records r; once the spool failed, r is held in memory.
func (rec *record) add(r *results.Result) error {
	if rec.carry != nil && rec.carry.Apply(r) {
		rec.carried++
	}
	if len(rec.unmatched) > 0 && r.Row > 0 && r.ID != "" {
		// A row this run settled holds what the earlier record knew of
		// its profile; a row never settled (not_attempted, failed before
		// the listing) does not, and the earlier spool stays.
		delete(rec.unmatched, profile.Key(r.DisplayName))
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

// intend records, in the spool only, that r's destructive request is about
// to be sent (see results.Result.InFlight).
func (rec *record) intend(r *results.Result) {
	if len(rec.unsaved) > 0 {
		return // the spool failed; the outcome is held in memory
	}
	c := *r
	c.InFlight, c.QR = true, nil
	rec.spool.Add(&c)
}

// EarlierActionNote marks a deletion or revocation that a stopped run in
// the same folder made and recorded only in its spool.
const EarlierActionNote = "done by an earlier run in this folder that was stopped before it wrote its results; recorded here from its spool"

// inFlightNote marks a deletion an earlier run sent but was killed before
// its answer arrived, found done by asking the tenant.
const inFlightNote = "deleted by an earlier run in this folder that was stopped before the answer arrived: the profile is gone from the tenant"

// addEarlier records the deletions and revocations of the stopped runs'
// spools (left): no later listing can show them, so this run's results
// carry them on. A DELETE such a run sent without an answer is settled by
// reading the profile: gone, it is recorded deleted; still there, it was
// not deleted, and nothing is recorded of it. It returns an
// authentication error, which leaves the spools in place.
func (rec *record) addEarlier(ctx context.Context, c *graph.Client, left []results.Result) error {
	settled := map[string]bool{}
	for _, r := range left {
		if !r.InFlight && r.ID != "" && r.Status != results.Planned {
			settled[r.ID] = true
		}
	}
	for i := range left {
		r := left[i]
		switch {
		case r.InFlight && !settled[r.ID] && r.Action == results.ActDelete:
			_, err := c.Get(ctx, r.ID, "id")
			if graph.IsNotFound(err) {
				r.InFlight, r.Status, r.ErrorMessage, r.Notes = false, results.Deleted, "", append(append([]string(nil), r.Notes...), inFlightNote)
				rec.add(&r)
				settled[r.ID] = true
			} else if err != nil {
				return fmt.Errorf("read a profile an earlier run may have deleted: %w", err)
			}
			delete(rec.unmatched, profile.Key(r.DisplayName))
		case r.Status == results.Deleted || r.Status == results.Revoked:
			r.Notes = append(append([]string(nil), r.Notes...), EarlierActionNote)
			rec.add(&r)
			delete(rec.unmatched, profile.Key(r.DisplayName))
		}
	}
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

// leftSpools reads the spools that runs stopped before they wrote their
// outputs (killed, or the machine went down) left in out: each is the only
// record of what such a run created. Their results complete this run's
// like an earlier results.xlsx does (output.Carry), and the spools are
// removed once this run's outputs hold them (removeLeftSpools). A spool
// that cannot be read is named and left alone.
func leftSpools(w io.Writer, out string) (earlier []results.Result, read []string) {
	paths, _ := filepath.Glob(filepath.Join(out, results.SpoolPattern))
	sort.Slice(paths, func(i, j int) bool { return modTime(paths[i]).Before(modTime(paths[j])) })
	for _, p := range paths {
		rs, torn, err := results.ReadSpool(p)
		if err != nil {
			fmt.Fprintf(w, "warning: %v: it is the record of an earlier run in this folder that was stopped before it wrote its results; keep it until you have checked what that run created (enrollbatch export)\n", err)
			continue
		}
		how := ""
		if torn {
			how = " (its last row was cut off; that row is settled by this run's listing)"
		}
		fmt.Fprintf(w, "found %s, the record of an earlier run in this folder that was stopped before it wrote its results: %d row(s)%s; this run's results take its QR codes over\n", p, len(rs), how)
		earlier = append(earlier, rs...)
		read = append(read, p)
	}
	return earlier, read
}

// removeLeftSpools removes the spools leftSpools read, once this run's
// results are written, unless they name profiles that no row of this run
// named: then they stay, the only record of those.
func (rec *record) removeLeftSpools(w io.Writer, paths []string) {
	if len(paths) == 0 {
		return
	}
	if n := len(rec.unmatched); n > 0 {
		fmt.Fprintf(w, "warning: kept %s: it records %d profile(s) that no row of this input names; keep it until you have checked them (enrollbatch export), then delete it\n", strings.Join(paths, ", "), n)
		return
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(w, "warning: remove %s: %v; delete it, it holds QR payloads\n", p, err)
		}
	}
}

func modTime(p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
