package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/removal"
	"github.com/enrollbatch/enrollbatch/results"
	"github.com/enrollbatch/enrollbatch/tenant"
)

// runOptions are run's flags, the same for every tenant of a run.
type runOptions struct {
	inPath, sheet, out, onExists, progress, lockPath string
	concurrency                                      int
	strict, dryRun, qrExisting, resultsCSV           bool
	updateSecrets, prune, yes, force                 bool
	namePrefix                                       string
	renewWithin, deadline                            time.Duration
	tokenValidity                                    time.Duration
	cf                                               connFlags
	lf                                               logFlags
	sf                                               sheetFlags
	tf                                               tenantFlags
}

func (m *Main) runCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("run", "run [--input] FILE [flags]")
	o := &runOptions{tokenValidity: batch.DefaultTokenValidity, deadline: defaultDeadline}
	fs.StringVar(&o.inPath, "input", "", "profile definitions, .csv or .xlsx (required)")
	fs.StringVar(&o.sheet, "sheet", "", "XLSX sheet to read (needed when the workbook has several visible sheets)")
	fs.StringVar(&o.out, "out", "out", "folder for results.xlsx and qr-codes.pdf (created); with tenants, one folder per tenant in it and summary.xlsx")
	fs.IntVar(&o.concurrency, "concurrency", 16, "requests in flight at once, per tenant (the budgets bound how many leave per 20 s)")
	cliflag.ChoiceVar(fs, &o.onExists, "on-exists", "skip", "when a profile with the name exists: skip, update (patch what differs), create or fail", "skip", "update", "create", "fail")
	fs.BoolVar(&o.updateSecrets, "update-secrets", false, "with --on-exists update: send a row's wifiPassword even when no other Wi-Fi setting changed")
	fs.BoolVar(&o.strict, "strict", false, "post nothing when any row is invalid")
	fs.BoolVar(&o.prune, "prune", false, "also delete the tenant's profiles under --name-prefix that no row names (listed first)")
	fs.StringVar(&o.namePrefix, "name-prefix", "", "with --prune: the names (case ignored) the sheet manages, e.g. \"Site 12 \"")
	fs.BoolVar(&o.yes, "yes", false, "with --prune: delete without asking; needed when stdin is not a terminal, and with several tenants")
	fs.BoolVar(&o.force, "force", false, "with --prune: also delete profiles that devices enrolled with")
	fs.BoolVar(&o.dryRun, "dry-run", false, "a plan: validate, compare with the tenant and say what a run would do; change nothing")
	fs.BoolVar(&o.qrExisting, "qr-existing", false, "also print the QR codes of profiles that already exist")
	fs.Var(daysFlag{&o.renewWithin}, "renew-within", "renew tokens of existing profiles that expire within this time, e.g. 14d")
	fs.Var(daysFlag{&o.tokenValidity}, "token-validity", "token lifetime when a row gives no tokenExpirationDateTime")
	fs.BoolVar(&o.resultsCSV, "results-csv", false, "also write results.csv")
	cliflag.ChoiceVar(fs, &o.progress, "progress", "auto", "progress bar: auto (when stderr is a terminal), always or never", "auto", "always", "never")
	fs.DurationVar(&o.deadline, "deadline", defaultDeadline, "stop the run after this long as a stop signal would: nothing new is sent, results are written")
	fs.StringVar(&o.lockPath, "lock", "", "lock file that keeps two runs apart (default OUT/.enrollbatch.lock)")
	var cpuProfile, memProfile string
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	fs.StringVar(&memProfile, "memprofile", "", "write a heap profile at the end of the run to this file")
	o.cf.register(fs, m.Getenv)
	o.lf.register(fs)
	o.sf.register(fs)
	o.tf.register(fs)
	if err := m.parseInput(fs, args, &o.inPath); err != nil {
		return err
	}
	if o.inPath == "" {
		fs.Usage()
		return usagef("--input is required")
	}
	stopProfiles, err := startProfiles(cpuProfile, memProfile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	if o.prune && o.namePrefix == "" {
		return usagef("--prune needs --name-prefix P: pruning is limited to the profiles whose names start with P, never the whole tenant")
	}
	if err := checkNamePrefix(fs, o.namePrefix); err != nil {
		return err
	}
	if !o.prune && (o.namePrefix != "" || o.yes || o.force) {
		return usagef("--name-prefix, --yes and --force go with --prune")
	}
	if o.updateSecrets && batch.OnExists(o.onExists) != batch.Update {
		return usagef("--update-secrets works with --on-exists update only")
	}
	if o.concurrency < 1 {
		return usagef("--concurrency %d: use 1 or more", o.concurrency)
	}
	if o.deadline <= 0 {
		return usagef("--deadline %v: use a positive duration such as 6h", o.deadline)
	}
	if err := o.sf.check(); err != nil {
		return err
	}
	if err := o.tf.check(); err != nil {
		return err
	}
	runMemoryLimit(o.sf.pagesPerFile)
	var pacer atomic.Pointer[ratelimit.Pacer]
	prog := m.newProgress(o.progress, o.lf.format, func() time.Time {
		if p := pacer.Load(); p != nil {
			return p.PausedUntil()
		}
		return time.Time{}
	})
	defer prog.Finish()
	// Everything the command prints from here on goes above the bar.
	m.Stderr = prog.Writer()
	log, err := o.lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	// The input is read twice as a stream of rows: once here to validate
	// and count it (--strict and the preflight need the whole file before
	// anything is sent), once by the job, which holds only the rows in
	// flight.
	scan, err := batch.ScanFile(o.inPath, o.sheet, o.prune)
	if err != nil {
		return &usageError{err}
	}
	file := scan.File
	if scan.Census.Rows == 0 {
		return noRows(o.inPath)
	}
	if o.prune {
		if err := scan.UnnamedError(o.inPath); err != nil {
			return &usageError{err}
		}
	}
	for _, w := range file.Warnings {
		if o.lf.format == "json" { // keep stderr one JSON object per line
			log.Warn("input", "file", o.inPath, "warning", w)
			continue
		}
		fmt.Fprintf(m.Stderr, "warning: %s: %s\n", o.inPath, w)
	}
	// A wrong --label-columns must stop the run before anything is posted.
	if err := o.sf.checkColumns(file.ExtraHeaders); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o700); err != nil {
		return usagef("create output folder: %w", err)
	}
	if scan.Tenants != nil || len(o.tf.tenants) > 0 {
		return m.runTenants(ctx, o, scan, prog, log, start)
	}
	if o.tf.shard.N > 1 {
		return usagef("--shard splits the tenants of a sheet with a %s column (or --tenant); this sheet names none", tenant.Column)
	}
	if o.lockPath == "" {
		o.lockPath = filepath.Join(o.out, ".enrollbatch.lock")
	}

	_, groups := scan.Census.NamesNeeded()
	cf := o.cf
	cf.askFor(groups)
	if cf.simulate && cf.simTenant == "" {
		cf.simTenant = filepath.Join(o.out, simTenantFile)
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
	st := startStopper(ctx, m.Stderr, o.deadline)
	defer st.end()
	c.client.Pacer = ratelimit.NewGate(c.pacer, st.stop)
	if o.lf.format == "text" {
		go watchPauses(st.ctx, c.pacer, m.Stderr, 250*time.Millisecond)
	}
	locks, err := m.takeLocks(ctx, o.lockPath, o.out, c, &cf)
	if err != nil {
		return err
	}
	defer locks.release()
	t := &tenantJob{out: o.out, scan: scan, c: c, cf: &cf, st: st, log: log, start: start, sf: o.sf}
	// While the tenant is listed, the display counts its pages.
	var listing atomic.Bool
	t.progress = prog.Update
	t.state = func(s string) {
		listing.Store(s == batch.StateListing)
		prog.SetState(s)
	}
	c.client.Listed = func(pages int) {
		if listing.Load() {
			prog.SetState(fmt.Sprintf("%s (%d page(s) read)", batch.StateListing, pages))
		}
	}
	t.writing = func() { prog.SetState("writing outputs") }
	res, err := m.runOne(ctx, o, t)
	if err != nil {
		return err
	}
	if res.kept != nil {
		// The record is complete under another name: finish the report,
		// and name that file last.
		defer fmt.Fprintln(m.Stderr, "enrollbatch:", res.kept)
	}
	prog.Finish()
	m.summary(log, &o.lf, res.run, &res.tally)
	m.logPlan(log, o.lf.format, o.dryRun, res.tally.Plan)
	if res.runErr != nil {
		if graph.IsAuth(res.runErr) {
			return res.runErr
		}
		fmt.Fprintln(m.Stderr, "enrollbatch:", res.runErr)
	}
	if why := st.stopped(); why != "" {
		fmt.Fprintf(m.Stderr, "stopped (%s): rows never sent are not_attempted; run the same command again to finish them: the rerun's QR sheet will hold every profile this folder's runs created\n", why)
	}
	return res.exitError()
}

// tenantJob is one tenant's share of a run: its rows (scan), its output
// folder, its Graph connection and the run's stopper. A run without
// tenants has one, for the whole sheet.
type tenantJob struct {
	tenant   string // "" for a run without tenants
	out      string
	scan     *batch.Scan
	c        *conn
	cf       *connFlags
	st       *stopper
	log      *slog.Logger
	start    time.Time
	sf       sheetFlags // this tenant's copy: its header names the tenant
	progress func(done, total int)
	state    func(string)
	writing  func()
	// printMu keeps one tenant's printed plan together.
	printMu *sync.Mutex
	// writeSlots, in a run over several tenants, bounds how many tenants
	// write their outputs at once; nil for one.
	writeSlots chan struct{}
	// notices is where the job's notices go (wrote, carried over); the
	// command's stderr when nil.
	notices io.Writer
	// failAll, when set, is why nothing can be sent to the tenant (its
	// sign-in failed): every row is recorded failed with it.
	failAll string
}

// runOutcome is what one tenant's job did.
type runOutcome struct {
	run    results.Run
	tally  results.Tally
	runErr error                      // why the job ended early, if it did
	kept   *output.KeptElsewhereError // the results were written under another name
}

// exitError is the error a run with this outcome ends with: a *rowsError
// (exit 1) when a row was not done, the job ended early, the run was
// stopped or its results went elsewhere; else nil.
func (r *runOutcome) exitError() error {
	if r.tally.NotOK > 0 {
		return &rowsError{n: r.tally.NotOK}
	}
	if r.runErr != nil || r.run.Interrupted || r.kept != nil {
		return &rowsError{n: 0}
	}
	return nil
}

// runOne runs one tenant's rows, from proving its outputs can be written
// to writing them: the locks are held and the client is connected. The
// error is one that stopped it before the job (the outputs cannot be
// written, the prune was not confirmed) or while writing the outputs.
func (m *Main) runOne(ctx context.Context, o *runOptions, t *tenantJob) (*runOutcome, error) {
	c, st, log, out := t.c, t.st, t.log, t.out
	w := t.notices
	if w == nil {
		w = m.Stderr
	}
	hard, stop := st.ctx, st.stop
	scan, file := t.scan, t.scan.File
	// No profile is created without a record: prove the outputs can be
	// written before the first request that could create one.
	files := []string{output.ResultsFile, output.SheetFile}
	if o.resultsCSV {
		files = append(files, output.CSVFile)
	}
	if o.dryRun {
		// A plan is a file of its own: it never replaces or removes what
		// a real run wrote.
		files = []string{output.PlanFile}
	}
	for _, f := range files {
		if err := output.CheckReplace(filepath.Join(out, f), false, o.inPath); err != nil {
			return nil, &usageError{err}
		}
	}
	if err := (output.Preflight{Dir: out, Files: files, Extra: len(file.ExtraHeaders), Rows: scan.Census.Rows}).Check(); err != nil {
		return nil, &usageError{err}
	}
	var pruned []results.Result
	if o.prune && t.failAll == "" {
		var err error
		if pruned, err = m.planPrune(ctx, c, scan.Names, o.namePrefix, o.force, o.dryRun, o.yes); err != nil {
			return nil, err
		}
	}

	job := &batch.Job{Client: c.client, Options: batch.Options{
		Concurrency: o.concurrency, MaxRetries: t.cf.maxRetries, OnExists: batch.OnExists(o.onExists),
		Strict: o.strict, DryRun: o.dryRun, QRExisting: o.qrExisting, RenewWithin: o.renewWithin,
		TokenValidity: o.tokenValidity, Log: log, Stop: stop,
		UpdateSecrets: o.updateSecrets,
	}}
	job.Progress = t.progress
	job.State = t.state
	// A rerun into the same folder prints again the codes the earlier
	// runs created there, so the sheet holds them all.
	rec, err := output.OpenRecord(out, !o.dryRun, time.Now(), w)
	if err != nil {
		return nil, err
	}
	var runErr error
	if t.failAll != "" {
		if runErr = batch.FailFile(o.inPath, o.sheet, scan, t.failAll, rec.Add); runErr == nil {
			runErr = errors.New(t.failAll)
		}
	} else {
		runErr = job.StreamFile(hard, o.inPath, o.sheet, scan, rec.Add)
	}
	if !o.dryRun && runErr == nil {
		// What stopped runs in this folder deleted or revoked goes on in
		// this run's record, before this run's prune acts.
		runErr = rec.AddEarlier(hard, c.client.Gone)
	}
	if o.prune && t.failAll == "" {
		held := runErr != nil || st.stopped() != "" || job.Strict && scan.Census.Invalid > 0
		opts := removal.Options{Concurrency: o.concurrency, Log: log}
		if err := m.applyPrune(hard, c, pruned, o.namePrefix, scan.Names, o.force, opts, o.dryRun, held, rec); err != nil && runErr == nil {
			runErr = err
		}
	}
	if rec.Carried > 0 {
		fmt.Fprintf(w, "carried over %d QR code(s) from the earlier results in %s\n", rec.Carried, out)
	}
	if t.writing != nil {
		t.writing()
	}
	ps := c.pacer.Stats()
	run := results.Run{
		Command: "run", Input: o.inPath, Sheet: file.Sheet, Start: t.start, End: time.Now(),
		GraphURL: c.url, Concurrency: o.concurrency, Rate: t.cf.rate, DryRun: o.dryRun,
		Interrupted: st.stopped() != "", ExtraHeaders: file.ExtraHeaders, Delimiter: file.Delimiter,
		Requests: c.client.Requests(), Throttled: c.client.ThrottledCount(), Paused: ps.Paused,
		Tenant: t.tenant,
	}
	if t.cf.simulate {
		run.GraphURL = "simulator (" + c.url + ")"
	}
	if runErr != nil {
		run.Aborted = runErr.Error()
	}
	sf := t.sf
	if o.dryRun {
		if t.printMu != nil {
			t.printMu.Lock()
			if o.lf.format != "json" {
				fmt.Fprintf(m.Stderr, "tenant %s:\n", t.tenant)
			}
		}
		m.printChanges(log, o.lf.format, rec.Source())
		if t.printMu != nil {
			t.printMu.Unlock()
		}
	} else {
		sf.simulated = t.cf.simulate
		if sf.title == "" && rec.Tally.Printable > 0 && t.failAll == "" {
			if name := m.tenantName(hard, c, t.cf, log); name != "" {
				sf.tenant = name
				if t.tenant != "" && !strings.EqualFold(name, t.tenant) {
					sf.tenant = name + " (" + t.tenant + ")" // whose sheet, as the folder names it
				}
			}
		}
	}
	res := &runOutcome{run: run, runErr: runErr}
	if t.writeSlots != nil {
		// Writing a sheet is CPU work: more at once than there are cores
		// only adds memory.
		t.writeSlots <- struct{}{}
		defer func() { <-t.writeSlots }()
	}
	err = output.WriteRun(output.RunFiles{Dir: out, CSV: o.resultsCSV, Plan: o.dryRun, Sheet: sf.spec(t.start), Report: w}, run, rec)
	if err == nil || errors.As(err, &res.kept) {
		// This run's results hold what the spools of stopped runs held,
		// unless they name profiles this run's input does not.
		rec.RemoveLeft(w)
	} else {
		return nil, err
	}
	res.tally = rec.Tally
	return res, nil
}

// printChanges says what a dry run would do, row by row as terraform plan
// does ("+ row 3, Kasse 3: create", "~ row 4, Kasse 4: update" with each
// "property: old → new"); the profiles a prune would delete were listed
// before. With JSON logs it is one "change" event per row.
func (m *Main) printChanges(log *slog.Logger, format string, src results.Source) {
	for r, err := range src {
		if err != nil {
			return
		}
		if r.Status != results.Planned || r.Row == 0 || r.Action == "" {
			continue
		}
		if format == "json" {
			log.Info("change", "row", r.Row, "displayName", r.DisplayName, "action", string(r.Action), "changes", r.Changes)
			continue
		}
		mark := map[results.Action]string{results.ActCreate: "+", results.ActUpdate: "~", results.ActDelete: "-"}[r.Action]
		fmt.Fprintf(m.Stderr, "  %s row %d, %s: %s\n", mark, r.Row, r.DisplayName, r.Action)
		for _, c := range r.Changes {
			fmt.Fprintf(m.Stderr, "      %s\n", strings.ReplaceAll(c, "\n", "\n      "))
		}
	}
}

// logPlan says what a dry run would do, in counts ("plan: 3 to create, 7 to
// update, 30 unchanged, 1 invalid"); with JSON logs it is one "plan" event
// with the same counts, or after a real run one "done" event (in text mode
// the summary says what a run did).
func (m *Main) logPlan(log *slog.Logger, format string, dryRun bool, p results.Plan) {
	event, text := "done", p.Done()
	if dryRun {
		event, text = "plan", p.String()
	}
	if format != "json" {
		if dryRun {
			fmt.Fprintf(m.Stderr, "%s: %s\n", event, text)
		}
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
func (m *Main) applyPrune(ctx context.Context, c *conn, rs []results.Result, prefix string, keep map[string]bool, force bool, opts removal.Options, dryRun, held bool, rec *output.Record) error {
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
			rec.Add(&rs[i])
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
	opts.Record = func(r *results.Result) { rec.Add(r) }
	opts.Intend = rec.Intend
	return removal.Apply(ctx, c.client, rs, opts)
}
