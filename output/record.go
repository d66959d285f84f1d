package output

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

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// Record is what a command keeps in its output folder of the rows it
// settles: the results, in order, in a spool on disk (one JSON line each,
// written before the next row is taken), their counts, and the codes
// carried over from earlier runs in the folder. Results the spool could
// not take (a full disk) are held in memory instead, so that none is lost.
//
// A record is opened over what earlier runs left in the folder: their
// results.xlsx and the spools of runs stopped before they wrote it (killed,
// or the machine went down). Their codes complete this run's rows (Carry),
// their deletions and revocations go on into this run's results
// (AddEarlier), and their spools are removed once this run's results,
// written, hold what they recorded (RemoveLeft).
type Record struct {
	Tally   results.Tally
	Carried int // rows completed with a code from an earlier run

	spool   *results.Spool
	carry   *Carry // nil: nothing to carry over
	unsaved []results.Result
	// left are the results the spools of stopped runs hold, leftPaths
	// those spools, and unmatched the names of the profiles they record
	// that no row of this run has settled yet.
	left      []results.Result
	leftPaths []string
	unmatched map[string]bool
}

// OpenRecord starts the record of a run in dir. With earlier (a real run,
// not a plan), it is opened over what earlier runs left there: the codes
// of the folder's results.xlsx and of the spools stopped runs left complete
// this run's rows, and what it finds is reported on w.
func OpenRecord(dir string, earlier bool, now time.Time, w io.Writer) (*Record, error) {
	rec := &Record{unmatched: map[string]bool{}}
	if earlier {
		rec.left, rec.leftPaths = leftSpools(w, dir)
		for _, r := range rec.left {
			if r.ID != "" {
				rec.unmatched[profile.Key(r.DisplayName)] = true
			}
		}
		_, earlier, err := ReadWorkbook(filepath.Join(dir, ResultsFile))
		if err != nil {
			earlier = nil
		}
		if earlier = append(earlier, rec.left...); len(earlier) > 0 {
			rec.carry = NewCarry(earlier, now)
		}
	}
	sp, err := results.CreateSpool(dir)
	if err != nil {
		return nil, err
	}
	rec.spool = sp
	return rec, nil
}

// Add records r; once the spool failed, r is held in memory. It never
// fails (its error is for the callers that take a func returning one).
func (rec *Record) Add(r *results.Result) error {
	if rec.carry != nil && rec.carry.Apply(r) {
		rec.Carried++
	}
	if len(rec.unmatched) > 0 && r.Row > 0 && r.ID != "" {
		// A row this run settled holds what the earlier record knew of
		// its profile; a row never settled (not_attempted, failed before
		// the listing) does not, and the earlier spool stays.
		delete(rec.unmatched, profile.Key(r.DisplayName))
	}
	rec.Tally.Add(r)
	if len(rec.unsaved) == 0 {
		if err := rec.spool.Add(r); err == nil {
			return nil
		}
	}
	rec.unsaved = append(rec.unsaved, *r)
	return nil
}

// Intend records, in the spool only, that r's destructive request is about
// to be sent (see results.Result.InFlight).
func (rec *Record) Intend(r *results.Result) {
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

// AddEarlier records the deletions and revocations of the stopped runs'
// spools: no later listing can show them, so this run's results carry them
// on. A DELETE such a run sent without an answer is settled by asking gone
// whether the profile is still there: gone, it is recorded deleted; still
// there, it was not deleted, and nothing is recorded of it. An error from
// gone is returned, and leaves the spools in place.
func (rec *Record) AddEarlier(ctx context.Context, gone func(ctx context.Context, id string) (bool, error)) error {
	settled := map[string]bool{}
	for _, r := range rec.left {
		if !r.InFlight && r.ID != "" && r.Status != results.Planned {
			settled[r.ID] = true
		}
	}
	for i := range rec.left {
		r := rec.left[i]
		switch {
		case r.InFlight && !settled[r.ID] && r.Action == results.ActDelete:
			g, err := gone(ctx, r.ID)
			if err != nil {
				rec.leftPaths = nil // they hold what this run could not settle
				return fmt.Errorf("read a profile an earlier run may have deleted: %w", err)
			}
			if g {
				r.InFlight, r.Status, r.ErrorMessage = false, results.Deleted, ""
				r.Notes = append(append([]string(nil), r.Notes...), inFlightNote)
				rec.Add(&r)
				settled[r.ID] = true
			}
			delete(rec.unmatched, profile.Key(r.DisplayName))
		case r.Status == results.Deleted || r.Status == results.Revoked:
			r.Notes = append(append([]string(nil), r.Notes...), EarlierActionNote)
			rec.Add(&r)
			delete(rec.unmatched, profile.Key(r.DisplayName))
		}
	}
	return nil
}

// Source yields every result recorded, in order.
func (rec *Record) Source() results.Source {
	return rec.spool.Source().Then(rec.unsaved)
}

// Keep is the sentence that names the spool when no output could be
// written: it is the run's record then.
func (rec *Record) Keep() string {
	return "the results of this run are kept as JSON lines in " + rec.spool.Path() + ": keep that file, it is the only record of what was created"
}

// Remove deletes the spool once the outputs hold its results.
func (rec *Record) Remove(w io.Writer) {
	if err := rec.spool.Remove(); err != nil {
		fmt.Fprintf(w, "warning: %v: delete %s, it holds QR payloads\n", err, rec.spool.Path())
	}
}

// RemoveLeft removes the spools of stopped runs the record was opened
// over, once this run's results are written, unless they name profiles
// that no row of this run settled: then they stay, the only record of
// those.
func (rec *Record) RemoveLeft(w io.Writer) {
	paths := rec.leftPaths
	rec.left = nil
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

// leftSpools reads the spools that runs stopped before they wrote their
// outputs left in dir. A spool that cannot be read is named and left
// alone.
func leftSpools(w io.Writer, dir string) (earlier []results.Result, read []string) {
	paths, _ := filepath.Glob(filepath.Join(dir, results.SpoolPattern))
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

func modTime(p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
