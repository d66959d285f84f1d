package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/removal"
	"github.com/enrollbatch/enrollbatch/results"
	"github.com/enrollbatch/enrollbatch/typeset"
)

// sheetFlags shape the QR sheet.
type sheetFlags struct {
	paper         string
	labelsPerPage int
	labelColumns  string
	splitBy       string
	fontFile      string
	pagesPerFile  int
	fonts         *typeset.Fonts // the embedded fonts after --font's, set by check
}

func (s *sheetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.paper, "paper", "a4", "paper size of the QR sheet: a4 or letter")
	fs.IntVar(&s.labelsPerPage, "labels-per-page", 6, "labels per page: 1, 2, 4 or 6")
	fs.StringVar(&s.labelColumns, "label-columns", "", "input columns to print on each label, e.g. Site,Technician")
	fs.StringVar(&s.splitBy, "split-by", "", "write one QR sheet per value of this column, e.g. Site (qr-codes-<value>.pdf)")
	fs.StringVar(&s.fontFile, "font", "", "font file (.ttf, .otf, .ttc) tried first for label captions")
	fs.IntVar(&s.pagesPerFile, "pages-per-file", output.DefaultMaxPages, "pages per QR sheet file; a longer sheet is written in numbered parts")
}

func (s *sheetFlags) check() error {
	s.paper = choice(s.paper)
	if s.paper != "a4" && s.paper != "letter" {
		return usagef("--paper %q: use a4 or letter", s.paper)
	}
	switch s.labelsPerPage {
	case 1, 2, 4, 6:
	default:
		return usagef("--labels-per-page %d: use 1, 2, 4 or 6", s.labelsPerPage)
	}
	if s.pagesPerFile < 1 {
		return usagef("--pages-per-file %d: use 1 or more", s.pagesPerFile)
	}
	var files []string
	if s.fontFile != "" {
		files = append(files, s.fontFile)
	}
	fonts, err := typeset.NewFonts(files...)
	if err != nil {
		return usagef("--font: %w", err)
	}
	s.fonts = fonts
	return nil
}

// checkColumns refuses --label-columns that name no column of the input:
// the same usage error (exit 2) in every command that prints.
func (s *sheetFlags) checkColumns(extra []string) error {
	if _, _, err := output.LabelsFromResults(nil, extra, s.columns(), time.Now()); err != nil {
		return &usageError{fmt.Errorf("--label-columns: %w", err)}
	}
	if s.splitBy != "" {
		if _, err := output.ColumnValues(nil, nil, extra, s.splitBy); err != nil {
			return &usageError{fmt.Errorf("--split-by: %w", err)}
		}
	}
	return nil
}

func (s *sheetFlags) columns() []string {
	var cols []string
	for _, c := range strings.Split(s.labelColumns, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}

// writeSheet writes the QR sheet of src's printable results to path, one
// sheet per value with --split-by, or removes a sheet left there when
// nothing is printable, so the folder always matches the results. With
// clean (a folder the tool owns), earlier sheets and parts next to path that
// this run did not write go too. The labels' notes (characters drawn as
// markers, codes moved to larger labels) are returned by row, with the
// files written and the rows not printed: withNotes adds them to the
// results.
func writeSheet(path string, sf *sheetFlags, src results.Source, extra []string, start time.Time, clean bool) (sheetOutcome, error) {
	o, err := output.SheetFromResults(path, src, extra, sf.columns(), sf.splitBy, output.SheetOptions{
		Paper: sf.paper, LabelsPerPage: sf.labelsPerPage,
		Title: output.DefaultTitle, Date: start, Now: time.Now(),
		Fonts: sf.fonts, MaxPages: sf.pagesPerFile,
	}, clean)
	out := sheetOutcome{files: o.Files, labels: o.Labels, skipped: o.Skipped, notes: o.Notes}
	if errors.Is(err, output.ErrNoLabels) {
		out.files = nil
		return out, output.RemoveSheet(path)
	}
	return out, err
}

// sheetOutcome is what writeSheet did.
type sheetOutcome struct {
	files   []string         // written, in order
	labels  int              // labels printed
	skipped []string         // rows not printed, one sentence each
	notes   map[int][]string // by row: what the results say about the labels
}

// withNotes is src with the sheet's notes about each row's label added to
// the row's result.
func (o sheetOutcome) withNotes(src results.Source) results.Source {
	if len(o.notes) == 0 {
		return src
	}
	return func(yield func(*results.Result, error) bool) {
		for r, err := range src {
			if err == nil && r.Row > 0 && len(o.notes[r.Row]) > 0 {
				c := *r
				c.Notes = append(append([]string(nil), r.Notes...), o.notes[r.Row]...)
				r = &c
			}
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// report prints the notes, the rows not printed and the files written.
func (o sheetOutcome) report(w io.Writer, src results.Source) {
	printSheetNotes(w, src, o.notes)
	for _, s := range o.skipped {
		fmt.Fprintf(w, "not printed: %s\n", s)
	}
	for i, f := range o.files {
		switch {
		case len(o.files) == 1:
			fmt.Fprintf(w, "wrote %s (%d label(s))\n", f, o.labels)
		case i == len(o.files)-1:
			fmt.Fprintf(w, "wrote %s (%d label(s) in %d files)\n", f, o.labels, len(o.files))
		default:
			fmt.Fprintf(w, "wrote %s\n", f)
		}
	}
}

// printSheetNotes logs what the sheet said about labels, row by row.
func printSheetNotes(w io.Writer, src results.Source, notes map[int][]string) {
	for _, n := range notes[0] { // labels without an input row
		fmt.Fprintf(w, "label: %s\n", n)
	}
	if len(notes) == 0 || len(notes) == 1 && notes[0] != nil {
		return
	}
	for r, err := range src {
		if err != nil {
			return
		}
		if r.Row == 0 {
			continue
		}
		for _, n := range notes[r.Row] {
			fmt.Fprintf(w, "label: row %d, %s: %s\n", r.Row, r.DisplayName, n)
		}
	}
}

// removeStale removes a QR sheet an earlier run left, so that the folder
// matches the results.
func removeStale(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove old %s: %w", path, err)
	}
	return nil
}

func (m *Main) runCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("run", "run [--input] FILE [flags]")
	var (
		inPath, sheet, out, onExists, progress, lockPath string
		concurrency                                      int
		strict, dryRun, qrExisting, resultsCSV           bool
		updateSecrets, prune, yes, force                 bool
		namePrefix                                       string
		renewWithin                                      time.Duration
		tokenValidity                                    = batch.DefaultTokenValidity
		cf                                               connFlags
		lf                                               logFlags
		sf                                               sheetFlags
	)
	fs.StringVar(&inPath, "input", "", "profile definitions, .csv or .xlsx (required)")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default the first)")
	fs.StringVar(&out, "out", "out", "folder for results.xlsx and qr-codes.pdf (created)")
	fs.IntVar(&concurrency, "concurrency", 16, "requests in flight at once (the budgets bound how many leave per 20 s)")
	fs.StringVar(&onExists, "on-exists", "skip", "when a profile with the name exists: skip, update (patch what differs), create or fail")
	fs.BoolVar(&updateSecrets, "update-secrets", false, "with --on-exists update: send a row's wifiPassword even when no other Wi-Fi setting changed")
	fs.BoolVar(&strict, "strict", false, "post nothing when any row is invalid")
	fs.BoolVar(&prune, "prune", false, "also delete the tenant's profiles under --name-prefix that no row names (listed first)")
	fs.StringVar(&namePrefix, "name-prefix", "", "with --prune: the names (case ignored) the sheet manages, e.g. \"Site 12 \"")
	fs.BoolVar(&yes, "yes", false, "with --prune: delete without asking; needed when stdin is not a terminal")
	fs.BoolVar(&force, "force", false, "with --prune: also delete profiles that devices enrolled with")
	fs.BoolVar(&dryRun, "dry-run", false, "a plan: validate, compare with the tenant and say what a run would do; change nothing")
	fs.BoolVar(&qrExisting, "qr-existing", false, "also print the QR codes of profiles that already exist")
	fs.Var(daysFlag{&renewWithin}, "renew-within", "renew tokens of existing profiles that expire within this time, e.g. 14d")
	fs.Var(daysFlag{&tokenValidity}, "token-validity", "token lifetime when a row gives no tokenExpirationDateTime")
	fs.BoolVar(&resultsCSV, "results-csv", false, "also write results.csv")
	fs.StringVar(&progress, "progress", "auto", "progress bar: auto (when stderr is a terminal), always or never")
	deadline := defaultDeadline
	fs.DurationVar(&deadline, "deadline", defaultDeadline, "stop the run after this long as a stop signal would: nothing new is sent, results are written")
	fs.StringVar(&lockPath, "lock", "", "lock file that keeps two runs apart (default OUT/.enrollbatch.lock)")
	var cpuProfile, memProfile string
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	fs.StringVar(&memProfile, "memprofile", "", "write a heap profile at the end of the run to this file")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	sf.register(fs)
	if err := m.parseInput(fs, args, &inPath); err != nil {
		return err
	}
	if inPath == "" {
		fs.Usage()
		return usagef("--input is required")
	}
	stopProfiles, err := startProfiles(cpuProfile, memProfile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	onExists, progress = choice(onExists), choice(progress)
	switch batch.OnExists(onExists) {
	case batch.Skip, batch.Create, batch.Fail, batch.Update:
	default:
		return usagef("--on-exists %q: use skip, update, create or fail", onExists)
	}
	if prune && namePrefix == "" {
		return usagef("--prune needs --name-prefix P: pruning is limited to the profiles whose names start with P, never the whole tenant")
	}
	if err := checkNamePrefix(fs, namePrefix); err != nil {
		return err
	}
	if !prune && (namePrefix != "" || yes || force) {
		return usagef("--name-prefix, --yes and --force go with --prune")
	}
	if updateSecrets && batch.OnExists(onExists) != batch.Update {
		return usagef("--update-secrets works with --on-exists update only")
	}
	if progress != "auto" && progress != "always" && progress != "never" {
		return usagef("--progress %q: use auto, always or never", progress)
	}
	if concurrency < 1 {
		return usagef("--concurrency %d: use 1 or more", concurrency)
	}
	if deadline <= 0 {
		return usagef("--deadline %v: use a positive duration such as 6h", deadline)
	}
	if err := sf.check(); err != nil {
		return err
	}
	runMemoryLimit(sf.pagesPerFile)
	var pacer atomic.Pointer[ratelimit.Pacer]
	prog := m.newProgress(progress, choice(lf.format), func() time.Time {
		if p := pacer.Load(); p != nil {
			return p.PausedUntil()
		}
		return time.Time{}
	})
	defer prog.Finish()
	// Everything the command prints from here on goes above the bar.
	m.Stderr = prog.Writer()
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	// The input is read twice as a stream of rows: once here to validate
	// and count it (--strict and the preflight need the whole file before
	// anything is sent), once by the job, which holds only the rows in
	// flight.
	scan, err := scanInput(inPath, sheet, prune)
	if err != nil {
		return &usageError{err}
	}
	file := scan.file
	if scan.census.Rows == 0 {
		return noRows(inPath)
	}
	if prune {
		if err := scan.unnamedError(inPath); err != nil {
			return err
		}
	}
	for _, w := range file.Warnings {
		if lf.format == "json" { // keep stderr one JSON object per line
			log.Warn("input", "file", inPath, "warning", w)
			continue
		}
		fmt.Fprintf(m.Stderr, "warning: %s: %s\n", inPath, w)
	}
	// A wrong --label-columns must stop the run before anything is posted.
	if err := sf.checkColumns(file.ExtraHeaders); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return usagef("create output folder: %w", err)
	}
	if lockPath == "" {
		lockPath = filepath.Join(out, ".enrollbatch.lock")
	}

	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	pacer.Store(c.pacer)
	// First signal, or the deadline: nothing new leaves (the pacer's gate
	// shuts, also on rows waiting out a Retry-After), requests in flight
	// may finish for a while. Second signal: cancel them too.
	st := startStopper(ctx, m.Stderr, deadline)
	defer st.end()
	hard, stop := st.ctx, st.stop
	c.client.Pacer = ratelimit.NewGate(c.pacer, stop)
	if lf.format == "text" {
		go watchPauses(hard, c.pacer, m.Stderr, 250*time.Millisecond)
	}
	locks, err := m.takeLocks(ctx, lockPath, out, c, &cf)
	if err != nil {
		return err
	}
	defer locks.release()
	// No profile is created without a record: prove the outputs can be
	// written before the first request that could create one.
	files := []string{output.ResultsFile, output.SheetFile}
	if resultsCSV {
		files = append(files, output.CSVFile)
	}
	if dryRun {
		// A plan is a file of its own: it never replaces or removes what
		// a real run wrote.
		files = []string{output.PlanFile}
	}
	for _, f := range files {
		if err := output.CheckReplace(filepath.Join(out, f), false, inPath); err != nil {
			return &usageError{err}
		}
	}
	if err := (output.Preflight{Dir: out, Files: files, Extra: len(file.ExtraHeaders), Rows: scan.census.Rows}).Check(); err != nil {
		return &usageError{err}
	}
	left, leftPaths := leftSpools(m.Stderr, out)

	var pruned []results.Result
	if prune {
		if pruned, err = m.planPrune(ctx, c, scan.names, namePrefix, force, dryRun, yes); err != nil {
			return err
		}
	}
	// A rerun into the same folder prints again the codes the earlier run
	// created there, so the sheet holds them all.
	var carry *output.Carry
	if !dryRun {
		_, earlier, err := output.ReadWorkbook(filepath.Join(out, "results.xlsx"))
		if err != nil {
			earlier = nil
		}
		if earlier = append(earlier, left...); len(earlier) > 0 {
			carry = output.NewCarry(earlier, time.Now())
		}
		earlier = nil
	}

	job := &batch.Job{Client: c.client, Options: batch.Options{
		Concurrency: concurrency, MaxRetries: cf.maxRetries, OnExists: batch.OnExists(onExists),
		Strict: strict, DryRun: dryRun, QRExisting: qrExisting, RenewWithin: renewWithin,
		TokenValidity: tokenValidity, Log: log, Stop: stop,
		UpdateSecrets: updateSecrets,
	}}
	// While the tenant is listed, the display counts its pages.
	var listing atomic.Bool
	job.Progress = prog.Update
	job.State = func(s string) {
		listing.Store(s == batch.StateListing)
		prog.SetState(s)
	}
	c.client.Listed = func(pages int) {
		if listing.Load() {
			prog.SetState(fmt.Sprintf("%s (%d page(s) read)", batch.StateListing, pages))
		}
	}
	rec, err := newRecord(out, carry, left)
	if err != nil {
		return err
	}
	runErr := m.stream(hard, job, inPath, sheet, scan, rec)
	if !dryRun && runErr == nil {
		// What stopped runs in this folder deleted or revoked goes on in
		// this run's record, before this run's prune acts.
		if err := rec.addEarlier(hard, c.client, left); err != nil {
			runErr = err
			leftPaths = nil // their spools stay: they hold what this run could not settle
		}
	}
	left = nil
	if prune {
		held := runErr != nil || st.stopped() != "" || job.Strict && scan.census.Invalid > 0
		opts := removal.Options{Concurrency: concurrency, Log: log}
		if err := m.applyPrune(hard, c, pruned, namePrefix, scan.names, force, opts, dryRun, held, rec); err != nil && runErr == nil {
			runErr = err
		}
	}
	left = nil
	if rec.carried > 0 {
		fmt.Fprintf(m.Stderr, "carried over %d QR code(s) from the earlier results in %s\n", rec.carried, out)
	}
	prog.SetState("writing outputs")

	ps := c.pacer.Stats()
	run := results.Run{
		Command: "run", Input: inPath, Sheet: file.Sheet, Start: start, End: time.Now(),
		GraphURL: c.url, Concurrency: concurrency, Rate: cf.rate, DryRun: dryRun,
		Interrupted: st.stopped() != "", ExtraHeaders: file.ExtraHeaders, Delimiter: file.Delimiter,
		Requests: c.client.Requests(), Throttled: c.client.ThrottledCount(), Paused: ps.Paused,
	}
	if cf.simulate {
		run.GraphURL = "simulator (" + c.url + ")"
	}
	if runErr != nil {
		run.Aborted = runErr.Error()
	}
	var kept *keptElsewhereError
	err = m.writeOutputs(out, run, rec, &sf, resultsCSV, dryRun)
	if (err == nil || errors.As(err, &kept)) && !dryRun {
		// This run's record holds what the spools of stopped runs held,
		// unless they name profiles this run's input does not.
		rec.removeLeftSpools(m.Stderr, leftPaths)
	}
	if errors.As(err, &kept) {
		// The record is complete under another name: finish the report,
		// and name that file last.
		defer fmt.Fprintln(m.Stderr, "enrollbatch:", kept)
	} else if err != nil {
		return err
	}
	prog.Finish()
	m.summary(log, choice(lf.format), run, &rec.tally)
	m.logPlan(log, choice(lf.format), dryRun, rec.tally.Plan)
	if runErr != nil {
		if graph.IsAuth(runErr) {
			return runErr
		}
		fmt.Fprintln(m.Stderr, "enrollbatch:", runErr)
	}
	if why := st.stopped(); why != "" {
		fmt.Fprintf(m.Stderr, "stopped (%s): rows never sent are not_attempted; run the same command again to finish them: the rerun's QR sheet will hold every profile this folder's runs created\n", why)
	}
	if rec.tally.NotOK > 0 {
		return &rowsError{n: rec.tally.NotOK}
	}
	if runErr != nil || run.Interrupted || kept != nil {
		return &rowsError{n: 0}
	}
	return nil
}

// writeOutputs writes results.xlsx, results.csv when asked, and the QR
// sheet (or removes a stale one), from the record; the record's spool is
// removed once they are written, or kept, and named, when even the
// fallbacks failed.
func (m *Main) writeOutputs(out string, run results.Run, rec *record, sf *sheetFlags, csv, dryRun bool) error {
	src := rec.source()
	if dryRun {
		p := filepath.Join(out, output.PlanFile)
		if err := output.WriteWorkbookFrom(p, run, src); err != nil {
			return fmt.Errorf("write plan: %w", err)
		}
		fmt.Fprintf(m.Stderr, "wrote %s\n", p)
		rec.remove(m.Stderr)
		return nil
	}
	// The sheet first: its notes about labels go into the results.
	pdf := filepath.Join(out, "qr-codes.pdf")
	sheet, sheetErr := writeSheet(pdf, sf, src, run.ExtraHeaders, run.Start, true)
	noted := sheet.withNotes(src)
	xlsx := filepath.Join(out, "results.xlsx")
	if err := output.WriteWorkbookFrom(xlsx, run, noted); err != nil {
		kept, kerr := keepRecord(out, run, noted, time.Now())
		if kerr != nil {
			return fmt.Errorf("write results: %w; keeping them elsewhere failed too: %w; %s", err, kerr, rec.keep())
		}
		rec.remove(m.Stderr)
		if sheetErr != nil {
			removeSheetAfterFailure(m.Stderr, pdf, sheetErr)
		} else {
			sheet.report(m.Stderr, noted)
		}
		return &keptElsewhereError{path: xlsx, cause: err, kept: kept}
	}
	fmt.Fprintf(m.Stderr, "wrote %s\n", xlsx)
	if csv {
		p := filepath.Join(out, "results.csv")
		if err := output.WriteCSVFrom(p, run, noted); err != nil {
			rec.remove(m.Stderr)
			return fmt.Errorf("write results: %w", err)
		}
		fmt.Fprintf(m.Stderr, "wrote %s\n", p)
	}
	if sheetErr != nil {
		rec.remove(m.Stderr)
		removeSheetAfterFailure(m.Stderr, pdf, sheetErr)
		return fmt.Errorf("write QR sheet: %w; the results are complete: print the codes with enrollbatch qr --results %s", sheetErr, xlsx)
	}
	sheet.report(m.Stderr, noted)
	rec.remove(m.Stderr)
	return nil
}

// logPlan prints what a dry run would do ("plan: 3 to create, 7 to update,
// 30 unchanged, 1 invalid") or what a run did; with JSON logs it is one
// event with the same counts instead.
func (m *Main) logPlan(log *slog.Logger, format string, dryRun bool, p results.Plan) {
	event, text := "done", p.Done()
	if dryRun {
		event, text = "plan", p.String()
	}
	if format != "json" {
		fmt.Fprintf(m.Stderr, "%s: %s\n", event, text)
		return
	}
	log.Info(event, "create", p.Create, "update", p.Update, "delete", p.Delete,
		"unchanged", p.Unchanged, "invalid", p.Invalid, "other", p.Other, "summary", text)
}

// planPrune lists the tenant's profiles under prefix that no row names
// (keep holds the profile.Key of every row's name, valid or not: a row
// that names a profile keeps it), prints them, and
// asks for confirmation unless this is a dry run or yes is given.
func (m *Main) planPrune(ctx context.Context, c *conn, keep map[string]bool, prefix string, force, dryRun, yes bool) ([]results.Result, error) {
	all, err := c.client.List(ctx, removal.Select...)
	if err != nil {
		if graph.IsAuth(err) {
			return nil, err
		}
		return nil, fmt.Errorf("list profiles to prune: %w", err)
	}
	rs := removal.Plan(all, nil, prefix, keep, force)
	for i := range rs {
		rs[i].Notes = append(rs[i].Notes, fmt.Sprintf("pruned: its name starts with %q and no row of the sheet names it", prefix))
	}
	n := m.listChanges(rs, "delete", dryRun)
	if dryRun {
		return rs, nil
	}
	return rs, m.confirm(fmt.Sprintf("Delete %d profile(s) under %q that no row names?", n, prefix), "posted nor deleted", n, yes)
}

// applyPrune deletes the planned profiles after the run, unless this is a
// dry run or the run did not finish (held is true), when they are left
// not_attempted. Each profile is read again right before its DELETE and
// kept if its name no longer starts with prefix or a row of the sheet
// (keep) names it now; each result goes to the record as it is settled.
func (m *Main) applyPrune(ctx context.Context, c *conn, rs []results.Result, prefix string, keep map[string]bool, force bool, opts removal.Options, dryRun, held bool, rec *record) error {
	if held && !dryRun {
		for i := range rs {
			if removal.Pending(rs[i]) {
				rs[i].Status = results.NotAttempted
				rs[i].ErrorMessage = "not deleted: the run did not finish, so nothing was pruned; run again to prune"
			}
		}
	}
	if dryRun || held {
		removal.Log(opts.Log, rs)
		for i := range rs {
			rec.add(&rs[i])
		}
		return nil
	}
	opts.Force = force
	opts.Keep = func(p profile.Profile) string {
		if !profile.HasNamePrefix(p.DisplayName, prefix) {
			return fmt.Sprintf("its name no longer starts with %q", prefix)
		}
		if keep[profile.Key(p.DisplayName)] {
			return "a row of the sheet names it"
		}
		return ""
	}
	opts.Record = func(r *results.Result) { rec.add(r) }
	opts.Intend = rec.intend
	return removal.Apply(ctx, c.client, rs, opts)
}
