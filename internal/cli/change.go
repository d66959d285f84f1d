package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/removal"
	"github.com/enrollbatch/enrollbatch/results"
)

// change is what delete and revoke share: the profiles a file names or a
// prefix selects, planned from the tenant's listing, listed and confirmed,
// then changed one at a time, each profile read again right before its
// request and each result recorded as it is settled. Like run, they hold
// the tenant's lock and stop on a signal: nothing new is sent, and every
// result is written.
type change struct {
	action        results.Action // delete or revoke
	inPath, sheet string
	prefix        string
	out           string
	dryRun, yes   bool
	force         bool
	concurrency   int
	cf            *connFlags
	lf            *logFlags
}

// words are how a change speaks of itself.
func (ch *change) words() (verb, done, question string) {
	if ch.action == results.ActRevoke {
		return "revoke", "revoked", "Revoke the tokens of %d profile(s)? Their printed codes stop working."
	}
	return "delete", "deleted", "Delete %d profile(s) from the tenant?"
}

func (m *Main) applyChange(ctx context.Context, ch *change) error {
	verb, done, question := ch.words()
	log, err := ch.lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	run := results.Run{Command: verb, Input: ch.inPath, Concurrency: ch.concurrency, Rate: ch.cf.rate, DryRun: ch.dryRun, Start: time.Now()}
	var names []removal.Name
	if ch.inPath != "" {
		file, err := input.Read(ch.inPath, input.Options{Sheet: ch.sheet})
		if err != nil {
			return &usageError{err}
		}
		run.Sheet, run.ExtraHeaders = file.Sheet, file.ExtraHeaders
		// Every row gets a result; one without a name is invalid.
		for _, r := range file.Rows {
			names = append(names, removal.Name{Row: r.Line, DisplayName: r.DisplayName, Extras: r.Extras})
		}
	} else {
		run.Input = fmt.Sprintf("name prefix %q", ch.prefix)
	}
	if err := os.MkdirAll(ch.out, 0o700); err != nil {
		return usagef("create output folder: %w", err)
	}
	xlsx := filepath.Join(ch.out, output.ResultsFile)
	if ch.dryRun {
		xlsx = filepath.Join(ch.out, output.PlanFile)
	}
	if err := output.CheckReplace(xlsx, false, ch.inPath); err != nil {
		return &usageError{err}
	}
	if ch.cf.simulate && ch.cf.simTenant == "" {
		ch.cf.simTenant = filepath.Join(ch.out, simTenantFile)
	}
	c, err := m.connect(ctx, ch.cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	run.GraphURL = c.url
	st := startStopper(ctx, m.Stderr, defaultDeadline)
	defer st.end()
	c.client.Pacer = ratelimit.NewGate(c.pacer, st.stop)
	locks, err := m.takeLocks(ctx, filepath.Join(ch.out, ".enrollbatch.lock"), ch.out, c, ch.cf)
	if err != nil {
		return err
	}
	defer locks.release()

	all, err := c.client.List(st.ctx, removal.Select...)
	if err != nil {
		if graph.IsAuth(err) {
			return err
		}
		return fmt.Errorf("list profiles: %w", err)
	}
	rs := removal.Plan(all, names, ch.prefix, nil, ch.force || ch.action == results.ActRevoke)
	for i := range rs {
		if removal.Pending(rs[i]) {
			rs[i].Action = ch.action
		}
	}
	n := m.listChanges(rs, verb, ch.dryRun)
	if n == 0 && ch.prefix != "" {
		fmt.Fprintf(m.Stderr, "no profile starts with %q\n", ch.prefix)
	}
	if !ch.dryRun {
		if err := m.confirm(fmt.Sprintf(question, n), done, n, ch.yes); err != nil {
			return err
		}
	}
	rec, err := output.OpenRecord(ch.out, false, time.Now(), m.Stderr)
	if err != nil {
		return err
	}
	var runErr error
	if ch.dryRun {
		removal.Log(log, rs)
		for i := range rs {
			rec.Add(&rs[i])
		}
	} else {
		opts := removal.Options{Concurrency: ch.concurrency, Log: log, Force: ch.force, Intend: rec.Intend,
			Record: func(r *results.Result) {
				rec.Add(r)
				m.printChange(r)
			},
			Keep: func(p profile.Profile) string { return stillSelected(p, ch.prefix, names) }}
		runErr = removal.Apply(st.ctx, c.client, rs, opts)
	}
	run.End = time.Now()
	run.Requests, run.Throttled, run.Paused = c.client.Requests(), c.client.ThrottledCount(), c.pacer.Stats().Paused
	run.Interrupted = st.stopped() != ""
	if runErr != nil {
		run.Aborted = runErr.Error()
	}
	if err := output.WriteWorkbookFrom(xlsx, run, rec.Source()); err != nil {
		return fmt.Errorf("write results: %w; %s", err, rec.Keep())
	}
	rec.Remove(m.Stderr)
	m.summary(log, ch.lf, run, &rec.Tally)
	if ch.lf.format != "json" {
		fmt.Fprintf(m.Stderr, "wrote %s\n", xlsx)
	}
	if why := st.stopped(); why != "" {
		fmt.Fprintf(m.Stderr, "stopped (%s): profiles not yet %s are not_attempted; run the same command again to finish them\n", why, done)
	}
	if runErr != nil {
		return runErr
	}
	if rec.Tally.NotOK > 0 {
		return &rowsError{n: rec.Tally.NotOK}
	}
	if run.Interrupted {
		return &rowsError{}
	}
	return nil
}

// stillSelected is why a profile, read again right before its request, is
// no longer one the command selects (renamed away from the prefix, or from
// every name the file gives), or "".
func stillSelected(p profile.Profile, prefix string, names []removal.Name) string {
	if prefix != "" {
		if !profile.HasNamePrefix(p.DisplayName, prefix) {
			return fmt.Sprintf("renamed to %q, which does not start with %q", p.DisplayName, prefix)
		}
		return ""
	}
	for _, n := range names {
		if profile.Key(n.DisplayName) == profile.Key(p.DisplayName) {
			return ""
		}
	}
	return fmt.Sprintf("renamed to %q, which no row of the file names", p.DisplayName)
}

// listChanges prints what will be (or in a dry run would be) deleted or
// revoked, what is kept for its enrolled devices and what is not in the
// tenant, and returns how many profiles will be changed.
func (m *Main) listChanges(rs []results.Result, verb string, dryRun bool) int {
	will := "will " + verb
	if dryRun {
		will = "would " + verb
	}
	n := 0
	for _, r := range rs {
		switch {
		case removal.Pending(r):
			n++
			fmt.Fprintf(m.Stdout, "%s %s\n", will, removal.Describe(r))
		case r.Status == results.Failed && r.ErrorCode == removal.CodeEnrolled:
			fmt.Fprintf(m.Stdout, "keep %s\n", removal.Describe(r))
		case r.Status == results.NotFound:
			fmt.Fprintf(m.Stdout, "not in the tenant: %s\n", r.DisplayName)
		}
	}
	if n == 0 {
		fmt.Fprintf(m.Stdout, "nothing to %s\n", verb)
	}
	return n
}

// printChange says what became of one profile as it is settled.
func (m *Main) printChange(r *results.Result) {
	switch r.Status {
	case results.Deleted, results.Revoked:
		fmt.Fprintf(m.Stdout, "%s %s (%s)\n", r.Status, r.DisplayName, r.ID)
	case results.Failed:
		fmt.Fprintf(m.Stdout, "failed %s (%s): %s\n", r.DisplayName, r.ID, r.ErrorMessage)
	case results.Exists, results.NotFound:
		if len(r.Notes) > 0 {
			fmt.Fprintf(m.Stdout, "left alone %s (%s): %s\n", r.DisplayName, r.ID, r.Notes[len(r.Notes)-1])
		}
	}
}
