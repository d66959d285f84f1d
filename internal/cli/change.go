package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/removal"
	"github.com/enrollbatch/enrollbatch/results"
	"github.com/enrollbatch/enrollbatch/tenant"
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
	tf            tenantFlags
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
	var byTenant map[string][]removal.Name // with a tenant column
	if ch.inPath != "" {
		file, err := input.Read(ch.inPath, input.Options{Sheet: ch.sheet})
		if err != nil {
			return &usageError{err}
		}
		run.Sheet, run.ExtraHeaders = file.Sheet, file.ExtraHeaders
		// Every row gets a result; one without a name is invalid.
		var noTenant []string
		for _, r := range file.Rows {
			n := removal.Name{Row: r.Line, DisplayName: r.DisplayName, Extras: r.Extras}
			names = append(names, n)
			if !file.HasTenants() {
				continue
			}
			if byTenant == nil {
				byTenant = map[string][]removal.Name{}
			}
			if r.Tenant == "" {
				noTenant = append(noTenant, strconv.Itoa(r.Line))
				continue
			}
			byTenant[r.Tenant] = append(byTenant[r.Tenant], n)
		}
		if len(noTenant) > 0 {
			return usagef("%s: row(s) %s in column %q name no tenant; give each row its tenant's id or verified domain, then run again; nothing was %s",
				ch.inPath, strings.Join(noTenant, ", "), tenant.Column, done)
		}
	} else {
		run.Input = fmt.Sprintf("name prefix %q", ch.prefix)
	}
	if byTenant != nil || len(ch.tf.tenants) > 0 {
		return m.applyChangeTenants(ctx, ch, run, names, byTenant, log)
	}
	if ch.tf.shard.N > 1 {
		return usagef("--shard splits tenants: give them with --tenant or a %s column", tenant.Column)
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

// tenantChange is one tenant's share of a delete or revoke over several
// tenants.
type tenantChange struct {
	state tenantState
	tc    *tenantConn
	names []removal.Name
	rs    []results.Result
	xlsx  string
}

// applyChangeTenants is delete or revoke over several tenants (a tenant
// column, or --tenant): every tenant is listed and planned first, the
// plan of all of them is shown, one question asked, then each tenant is
// changed in its own folder OUT/<tenant>, on its own lock and pacer. A
// tenant that cannot be signed in to or listed fails alone.
func (m *Main) applyChangeTenants(ctx context.Context, ch *change, run results.Run, names []removal.Name, byTenant map[string][]removal.Name, log *slog.Logger) error {
	verb, done, question := ch.words()
	var list []string
	switch {
	case byTenant == nil:
		list = ch.tf.tenants
	case len(ch.tf.tenants) > 0:
		for _, t := range ch.tf.tenants {
			if byTenant[t] == nil {
				return usagef("--tenant %s: no row of %s names that tenant", t, ch.inPath)
			}
		}
		list = ch.tf.tenants
	default:
		for t := range byTenant {
			list = append(list, t)
		}
	}
	slices.Sort(list)
	list = ch.tf.shard.Take(list)
	if err := os.MkdirAll(ch.out, 0o700); err != nil {
		return usagef("create output folder: %w", err)
	}
	svc, err := m.openService(ctx, ch.cf, true, list)
	if err != nil {
		return err
	}
	defer svc.close()
	st := startStopper(ctx, m.Stderr, defaultDeadline)
	defer st.end()
	app := ratelimit.NewApp(ratelimit.AppRequestBudget, ratelimit.AppWindow, rateHeadroom)
	tcs := make([]*tenantChange, len(list))
	for i, t := range list {
		x := &tenantChange{state: tenantState{tenant: t, out: filepath.Join(ch.out, t)}, names: names}
		if byTenant != nil {
			x.names = byTenant[t]
		}
		tcs[i] = x
		x.state.rows = len(x.names)
		x.xlsx = filepath.Join(x.state.out, output.ResultsFile)
		if ch.dryRun {
			x.xlsx = filepath.Join(x.state.out, output.PlanFile)
		}
	}
	// Plan every tenant: sign in, lock, list.
	g := new(errgroup.Group)
	g.SetLimit(ch.tf.concurrency)
	for _, x := range tcs {
		g.Go(func() error {
			t := x.state.tenant
			if err := output.CheckReplace(x.xlsx, false, ch.inPath); err != nil {
				x.state.state, x.state.message = output.TenantNotRun, err.Error()
				return nil
			}
			tc, err := m.connectTenant(svc, ch.cf, t, log.With("tenant", t), st, app, x.state.out)
			if err != nil {
				x.state.state, x.state.message = output.TenantNotRun, err.Error()
				return nil
			}
			x.tc = tc
			if tc.failure != "" {
				x.state.state, x.state.message = output.TenantFailed, tc.failure
				return nil
			}
			all, err := tc.c.client.List(st.ctx, removal.Select...)
			if err != nil {
				x.state.state, x.state.message = output.TenantFailed, fmt.Sprintf("tenant %s: list profiles: %v", t, err)
				return nil
			}
			x.rs = removal.Plan(all, x.names, ch.prefix, nil, ch.force || ch.action == results.ActRevoke)
			for i := range x.rs {
				if removal.Pending(x.rs[i]) {
					x.rs[i].Action = ch.action
				}
			}
			return nil
		})
	}
	g.Wait()
	defer func() {
		for _, x := range tcs {
			if x.tc != nil {
				x.tc.release()
			}
		}
	}()
	n := 0
	for _, x := range tcs {
		fmt.Fprintf(m.Stdout, "tenant %s:\n", x.state.tenant)
		if x.state.state != "" {
			fmt.Fprintf(m.Stdout, "  not %s: %s\n", done, x.state.message)
			continue
		}
		n += m.listChanges(x.rs, verb, ch.dryRun)
	}
	if !ch.dryRun {
		q := strings.Replace(question, "%d profile(s)", fmt.Sprintf("%%d profile(s) in %d tenant(s)", len(list)), 1)
		if err := m.confirm(fmt.Sprintf(q, n), done, n, ch.yes); err != nil {
			return err
		}
	}
	// Change each tenant, each recording as it goes.
	g = new(errgroup.Group)
	g.SetLimit(ch.tf.concurrency)
	for _, x := range tcs {
		g.Go(func() error {
			m.changeTenant(ch, run, x, st, log.With("tenant", x.state.tenant))
			return nil
		})
	}
	g.Wait()
	states := make([]tenantState, len(tcs))
	for i, x := range tcs {
		states[i] = x.state
		m.reportTenant(log.With("tenant", x.state.tenant), ch.lf, &x.state)
	}
	notOK, bad := m.writeTenantSummary(ch.out, ch.lf, states)
	if why := st.stopped(); why != "" {
		fmt.Fprintf(m.Stderr, "stopped (%s): profiles not yet %s are not_attempted; run the same command again to finish them\n", why, done)
	}
	if notOK > 0 || bad > 0 {
		return &rowsError{n: notOK}
	}
	return nil
}

// changeTenant deletes or revokes in one planned tenant and writes its
// results; a tenant that could not be planned gets its rows failed with
// why, when a file named them.
func (m *Main) changeTenant(ch *change, run results.Run, x *tenantChange, st *stopper, log *slog.Logger) {
	if x.state.state == output.TenantNotRun {
		return
	}
	run.Tenant = x.state.tenant
	rec, err := output.OpenRecord(x.state.out, false, time.Now(), m.Stderr)
	if err != nil {
		x.state.state, x.state.message = output.TenantNotRun, err.Error()
		return
	}
	var runErr error
	switch {
	case x.state.state == output.TenantFailed:
		for _, n := range x.names {
			r := results.Result{Row: n.Row, DisplayName: n.DisplayName, Extras: n.Extras, Status: results.Failed, ErrorMessage: "not sent: " + x.state.message}
			rec.Add(&r)
		}
		runErr = errors.New(x.state.message)
	case ch.dryRun:
		removal.Log(log, x.rs)
		for i := range x.rs {
			rec.Add(&x.rs[i])
		}
	default:
		c := x.tc.c
		opts := removal.Options{Concurrency: ch.concurrency, Log: log, Force: ch.force, Intend: rec.Intend,
			Record: func(r *results.Result) {
				rec.Add(r)
				m.printChange(r)
			},
			Keep: func(p profile.Profile) string { return stillSelected(p, ch.prefix, x.names) }}
		runErr = removal.Apply(st.ctx, c.client, x.rs, opts)
	}
	run.End = time.Now()
	if x.tc != nil {
		run.GraphURL = x.tc.c.url
		run.Requests, run.Throttled, run.Paused = x.tc.c.client.Requests(), x.tc.c.client.ThrottledCount(), x.tc.c.pacer.Stats().Paused
	}
	run.Interrupted = st.stopped() != ""
	if runErr != nil {
		run.Aborted = runErr.Error()
	}
	if err := output.WriteWorkbookFrom(x.xlsx, run, rec.Source()); err != nil {
		x.state.state, x.state.message = output.TenantFailed, fmt.Sprintf("write results: %v; %s", err, rec.Keep())
		return
	}
	rec.Remove(m.Stderr)
	x.state.res = &runOutcome{run: run, tally: rec.Tally, runErr: runErr}
	switch {
	case x.state.state != "":
	case run.Interrupted:
		x.state.state = output.TenantStopped
	case runErr != nil:
		x.state.state, x.state.message = output.TenantFailed, runErr.Error()
	default:
		x.state.state = output.TenantDone
	}
}
