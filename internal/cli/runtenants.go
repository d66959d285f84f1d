package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/console"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// This file is run's share of a sheet over several tenants; what every
// command shares about tenants (sign-in, locks, the summary) is in
// tenants.go.

// runTenants runs a sheet over several tenants (a tenant column, or
// --tenant): each tenant is its own job, with its own sign-in, pacer,
// lock, listing and folder OUT/<tenant>; --tenant-concurrency of them at
// once under the app-wide budget. One tenant failing never stops the
// others. It ends with OUT/summary.xlsx, one row per tenant.
func (m *Main) runTenants(ctx context.Context, o *runOptions, scan *batch.Scan, prog *console.Progress, log *slog.Logger, start time.Time) error {
	scans := scan.Tenants
	if scans != nil {
		if err := scan.NoTenantError(o.inPath); err != nil {
			return &usageError{err}
		}
	}
	var names []string
	switch {
	case scans == nil: // --tenant for a sheet without the column: every row to each
		names, scans = o.tf.tenants, map[string]*batch.Scan{}
		for _, t := range names {
			scans[t] = scan
		}
	case len(o.tf.tenants) > 0:
		for _, t := range o.tf.tenants {
			if scans[t] == nil {
				return usagef("--tenant %s: no row of %s names that tenant (it names %s)", t, o.inPath, strings.Join(scan.TenantList(), ", "))
			}
		}
		names = slices.Sorted(slices.Values(o.tf.tenants))
	default:
		names = scan.TenantList()
	}
	if o.strict && scan.Census.Invalid > 0 {
		// --strict holds the whole sheet back, every tenant's rows, when
		// any row of it is invalid: each tenant's job sees the sheet's
		// invalid rows.
		held := make(map[string]*batch.Scan, len(scans))
		for t, ts := range scans {
			c := *ts
			c.Census.Invalid, c.Census.InvalidLines = scan.Census.Invalid, scan.Census.InvalidLines
			held[t] = &c
		}
		scans = held
	}
	names = o.tf.shard.Take(names)
	if len(names) == 0 {
		fmt.Fprintf(m.Stderr, "shard %s: no tenant of the sheet falls to it; nothing to do\n", o.tf.shard)
		return nil
	}
	if o.lockPath != "" {
		return usagef("--lock names one lock; with tenants each tenant's folder OUT/<tenant> has its own")
	}
	if o.prune && !o.yes && !o.dryRun && len(names) > 1 {
		return usagef("--prune over several tenants needs --yes (questions for many tenants at once could not be told apart): run with --dry-run first to see what each tenant would prune")
	}
	if scan.Tenants != nil && len(names) > 1 {
		// Each tenant's pass reads its own rows, put aside in one pass
		// over the sheet, not the whole sheet again. Without them (the
		// sheet changed, no room for the spool) each tenant reads the
		// sheet itself, as before, and finds any change.
		if err := os.MkdirAll(o.out, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", o.out, err)
		}
		release, err := batch.SplitFile(o.inPath, o.sheet, o.out, scans, names)
		if err != nil {
			log.Warn("each tenant reads the whole sheet", "why", err.Error())
		} else {
			defer release()
		}
	}
	groups := false
	rows := 0
	for _, t := range names {
		_, g := scans[t].Census.NamesNeeded()
		groups = groups || g
		rows += scans[t].Census.Rows
	}
	cf := o.cf
	cf.askFor(groups)
	svc, err := m.openService(ctx, &cf, true, names)
	if err != nil {
		return err
	}
	defer svc.close()
	st := startStopper(ctx, m.Stderr, o.deadline)
	defer st.end()
	app := ratelimit.NewApp(ratelimit.AppRequestBudget, ratelimit.AppWindow, rateHeadroom)
	writeSlots := make(chan struct{}, runtime.GOMAXPROCS(0))
	tenantsMemoryLimit(o.sf.pagesPerFile, cap(writeSlots), min(o.tf.concurrency, len(names)))

	var (
		done, running, finished atomic.Int64
		printMu                 sync.Mutex
		states                  = make([]tenantState, len(names))
	)
	showState := func() {
		prog.SetState(fmt.Sprintf("%d of %d tenant(s) done, %d running", finished.Load(), len(names), running.Load()))
	}
	prog.Update(0, rows)
	g := new(errgroup.Group)
	g.SetLimit(o.tf.concurrency)
	for i, t := range names {
		g.Go(func() error {
			running.Add(1)
			showState()
			var last int64
			tlog := log.With("tenant", t)
			states[i] = m.runTenant(ctx, o, &cf, svc, st, app, writeSlots, t, scans[t], tlog, start, &printMu, func(d, _ int) {
				done.Add(int64(d) - last)
				last = int64(d)
				prog.Update(int(done.Load()), rows)
			})
			running.Add(-1)
			finished.Add(1)
			showState()
			m.reportTenant(tlog, &o.lf, &states[i])
			return nil
		})
	}
	g.Wait()
	prog.SetState("writing the summary")
	notOK, bad := m.writeTenantSummary(o.out, &o.lf, states)
	prog.Finish()
	var plan results.Plan
	for _, s := range states {
		if s.res != nil {
			plan.Merge(s.res.tally.Plan)
		}
	}
	m.logPlan(log, o.lf.format, o.dryRun, plan)
	if why := st.stopped(); why != "" {
		fmt.Fprintf(m.Stderr, "stopped (%s): rows never sent are not_attempted; run the same command again to finish them\n", why)
	}
	if notOK > 0 || bad > 0 {
		return &rowsError{n: notOK}
	}
	return nil
}

// runTenant is one tenant's share of a run, in its folder OUT/<tenant>:
// its folder's lock, its sign-in, its tenant lock, then the job. A tenant
// that cannot be signed in to has every row failed, naming the tenant and
// what to do; nothing of it stops the other tenants.
func (m *Main) runTenant(ctx context.Context, o *runOptions, cf *connFlags, svc *service, st *stopper, app *ratelimit.App, writeSlots chan struct{},
	t string, scan *batch.Scan, log *slog.Logger, start time.Time, printMu *sync.Mutex, progress func(done, total int)) tenantState {
	out := filepath.Join(o.out, t)
	s := tenantState{tenant: t, out: out, rows: scan.Census.Rows}
	notRun := func(err error) tenantState {
		s.state, s.message = output.TenantNotRun, err.Error()
		return s
	}
	tcf := *cf
	_, groups := scan.Census.NamesNeeded()
	tcf.askFor(groups)
	tc, err := m.connectTenant(svc, &tcf, t, log, st, app, out)
	if err != nil {
		return notRun(err)
	}
	defer tc.release()
	job := &tenantJob{tenant: t, out: out, scan: scan, c: tc.c, cf: &tcf, st: st, log: log, start: start, sf: o.sf,
		progress: progress, printMu: printMu, failAll: tc.failure, writeSlots: writeSlots}
	if o.lf.format == "json" {
		jl := &console.JSONLines{W: m.Stderr, Tenant: t}
		defer jl.Flush()
		job.notices = jl
	}
	if title := o.sf.title; title == "" {
		job.sf.tenant = t // until the organization's name is known
	}
	res, err := m.runOne(ctx, o, job)
	if err != nil {
		return notRun(err)
	}
	s.res = res
	switch {
	case job.failAll != "":
		s.state, s.message = output.TenantFailed, job.failAll
	case res.run.Interrupted:
		s.state = output.TenantStopped
	case res.runErr != nil:
		s.state, s.message = output.TenantFailed, res.runErr.Error()
	case res.kept != nil:
		s.state, s.message = output.TenantDone, res.kept.Error()
	default:
		s.state = output.TenantDone
	}
	return s
}
