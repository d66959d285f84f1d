package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/lock"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/tenant"
)

// This file is what every command shares about customer tenants: the
// --tenant flags, the service their connections come from (the simulator's
// tenants, or one sign-in for many), a tenant's connection with its locks,
// and how a tenant's share ended. run's use of it is in runtenants.go,
// delete's and revoke's in change.go.

// tenantFlags say which customer tenants a run works on, and how many at
// once.
type tenantFlags struct {
	tenantText  string   // --tenant as given
	tenants     []string // --tenant, each in tenant.Parse's form
	concurrency int
	shardText   string
	shard       tenant.Shard
}

// defaultTenantConcurrency is how many tenants a run works on at once.
// Each has its own budgets (100 writes per 20 s), so tenants run in the
// time of one until the machine or the app-wide limit is the bound: 64
// tenants of 16 requests in flight each stay far below the app's 130,000
// requests per 10 s.
const defaultTenantConcurrency = 64

func (t *tenantFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.tenantText, "tenant", "", "customer tenants (ids or verified domains, comma-separated): each gets every row of a sheet without a tenant column; with one, only their rows")
	fs.IntVar(&t.concurrency, "tenant-concurrency", defaultTenantConcurrency, "tenants worked on at once, each with its own budgets, lock and folder OUT/<tenant>")
	fs.StringVar(&t.shardText, "shard", "", "take every N-th tenant of the sheet, starting at K (counted from 0): K/N, e.g. a Kubernetes indexed Job's $(JOB_COMPLETION_INDEX)/N")
}

// check reads --tenant and --shard.
func (t *tenantFlags) check() error {
	seen := map[string]bool{}
	for _, s := range strings.Split(t.tenantText, ",") {
		if t.tenantText == "" {
			break
		}
		p, err := tenant.Parse(s)
		if err != nil {
			return usagef("--tenant: %v", err)
		}
		if !seen[p] {
			seen[p] = true
			t.tenants = append(t.tenants, p)
		}
	}
	if t.shardText != "" {
		s, err := tenant.ParseShard(t.shardText)
		if err != nil {
			return usagef("--shard %v", err)
		}
		t.shard = s
	}
	if t.concurrency < 1 {
		return usagef("--tenant-concurrency %d: use 1 or more", t.concurrency)
	}
	return nil
}

// service is where a run's tenants are: the built-in simulator's tenants,
// or the cloud's Graph with one sign-in that gives each tenant its own
// tokens. Every tenant's client shares one HTTP client.
type service struct {
	url   string
	http  *http.Client
	cloud *sim.Cloud // with --simulate
	// consent is the admin-consent page of the app in a tenant, or "".
	consent func(t string) string
	// keepDir, with --sim-tenant, is the folder whose <tenant>/ folders
	// keep the simulated tenants (an earlier run's OUT).
	keepDir string
	// simTenants is the --sim-tenants file that describes the simulated
	// tenants; without one, each tenant is created on first use.
	simTenants string
	signIn     *auth.Tenants // else
	closers    []func()
}

// openService starts the simulator's tenants (--simulate) or prepares the
// sign-in for the tenants; it sends nothing to Microsoft. folders says
// the command keeps each simulated tenant in its folder OUT/<tenant>. A
// sign-in that serves one tenant only (GRAPH_ACCESS_TOKEN, a managed
// identity) is refused here, once, as a usage error.
func (m *Main) openService(ctx context.Context, c *connFlags, folders bool, tenants []string) (*service, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	svc := &service{http: newHTTPClient()}
	if !c.simulate {
		ao, err := m.signInOptions(c)
		if err != nil {
			return nil, err
		}
		svc.url = ao.GraphURL
		if svc.signIn, err = auth.NewTenants(ctx, ao); err != nil {
			return nil, &usageError{err}
		}
		if len(tenants) > 0 {
			if _, err := svc.signIn.For(tenants[0]); errors.Is(err, auth.ErrSingleTenant) {
				return nil, &usageError{err}
			}
		}
		client := m.Getenv(auth.EnvClientID)
		if client == "" && (c.auth == auth.ModeDeviceCode || c.auth == auth.ModeBrowser) {
			client = auth.DefaultPublicClientID
		}
		svc.consent = func(t string) string {
			if client == "" {
				return ""
			}
			return auth.ConsentURL(ao.AuthorityHost, t, client)
		}
		return svc, nil
	}
	if c.simTenant != "" {
		if fi, err := os.Stat(c.simTenant); err != nil || !fi.IsDir() {
			return nil, usagef("--sim-tenant %s: with several tenants, name the folder (an earlier run's OUT) whose <tenant>/%s files keep the simulated tenants", c.simTenant, simTenantFile)
		}
		svc.keepDir = c.simTenant
	}
	var specs []sim.TenantSpec
	if c.simTenants != "" {
		var err error
		if specs, err = sim.LoadTenants(c.simTenants); err != nil {
			return nil, &usageError{err}
		}
	}
	svc.simTenants = c.simTenants
	svc.consent = func(t string) string { return auth.ConsentURL("", t, sim.SimulatedAppID) }
	svc.cloud = sim.NewCloud(sim.Options{Content: c.simContent}, specs...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	hs := &http.Server{Handler: svc.cloud, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	svc.closers = append(svc.closers, func() { hs.Close() })
	svc.url = "http://" + ln.Addr().String() + "/beta"
	where := "each tenant is created on first use"
	if c.simTenants != "" {
		where = "the tenants are those of " + c.simTenants
	}
	kept := ""
	switch {
	case folders:
		kept = "; each tenant's profiles are kept in OUT/<tenant>/" + simTenantFile
	case svc.keepDir != "":
		kept = "; each tenant's profiles are those kept in " + filepath.Join(svc.keepDir, "<tenant>", simTenantFile)
	}
	fmt.Fprintf(m.Stderr, "simulation: nothing is sent to Microsoft; the codes enroll nothing (%s%s)\n", where, kept)
	return svc, nil
}

// close stops the simulator, if one runs.
func (s *service) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// conn connects to one tenant: its own pacer and budgets, and tokens for
// that tenant only. keep is where the simulated tenant's profiles are
// kept between runs.
func (m *Main) tenantConn(s *service, t string, c *connFlags, log *slog.Logger, keep string) (*conn, error) {
	out := c.newConn(s.http, log)
	out.url = s.url
	out.client.BaseURL = s.url
	if s.signIn != nil {
		ts, err := s.signIn.For(t)
		if err != nil {
			return nil, err
		}
		out.client.Tokens = ts
		return out, nil
	}
	out.client.Tokens = simSignIn{cloud: s.cloud, tenant: t}
	if keep == "" && s.keepDir != "" {
		keep = filepath.Join(s.keepDir, t, simTenantFile)
	}
	if s.simTenants == "" {
		s.cloud.Add(simSpecOf(t))
	}
	if srv, ok := s.cloud.Tenant(t); ok && keep != "" {
		if err := loadSimTenant(srv, keep); err != nil {
			return nil, &usageError{err}
		}
		out.close = func() {
			if err := saveSimTenant(srv, keep); err != nil {
				fmt.Fprintf(m.Stderr, "warning: %v\n", err)
			}
		}
	}
	return out, nil
}

// simSpecOf is the simulated tenant a run creates on first use for t, as
// tenant.Parse gives it: a domain, or an id.
func simSpecOf(t string) sim.TenantSpec {
	if strings.Contains(t, ".") {
		return sim.TenantSpec{Domain: t}
	}
	return sim.TenantSpec{ID: t}
}

// simSignIn is the sign-in to one tenant of the simulator.
type simSignIn struct {
	cloud  *sim.Cloud
	tenant string
}

func (s simSignIn) Token(_ context.Context, _ bool) (string, error) {
	tok, err := s.cloud.Token(s.tenant)
	var se *sim.SignInError
	if errors.As(err, &se) {
		if hint := auth.TenantHint(se.Code, s.tenant, sim.SimulatedAppID, ""); hint != "" {
			return "", fmt.Errorf("tenant %s refused the sign-in (%s): %s", s.tenant, se.Code, hint)
		}
	}
	if err != nil {
		return "", fmt.Errorf("sign in to tenant %s: %w", s.tenant, err)
	}
	return tok, nil
}

func (s simSignIn) Describe() string { return "the simulator's sign-in to tenant " + s.tenant }

// tenantState is how one tenant's share of a run ended, for the terminal
// and summary.xlsx.
type tenantState struct {
	tenant  string
	state   string // output.TenantDone, TenantFailed, ...
	message string
	out     string
	res     *runOutcome
	rows    int // the sheet's rows for the tenant
}

// tenantConn is one tenant's connection, signed in and locked.
type tenantConn struct {
	c *conn
	// failure, when set, is why nothing can be sent to the tenant (its
	// sign-in failed, it refused access, another run holds its lock), as
	// its rows say it.
	failure string
	release func()
}

// connectTenant connects to tenant t for a command writing in folder out
// (created): it takes the folder's lock, builds the tenant's client (its
// own pacer, under the app's budget, shut by st), signs in, and takes the
// tenant's lock named by the token's tenant id. An error means the tenant
// cannot be worked on at all (its folder is locked or cannot be made); a
// sign-in that fails, a refusal, or a tenant another run holds is the
// conn's failure instead, so that its rows, in its folder, can say so.
func (m *Main) connectTenant(svc *service, cf *connFlags, t string, log *slog.Logger, st *stopper, app *ratelimit.App, out string) (*tenantConn, error) {
	var undo []func()
	undoAll := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (*tenantConn, error) {
		undoAll()
		return nil, err
	}
	tc := &tenantConn{release: undoAll}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fail(fmt.Errorf("create output folder: %w", err))
	}
	folder, err := lock.Acquire(filepath.Join(out, ".enrollbatch.lock"), "the output folder "+out)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { folder.Release() })
	c, err := m.tenantConn(svc, t, cf, log, filepath.Join(out, simTenantFile))
	if err != nil {
		return fail(err)
	}
	undo = append(undo, c.close)
	tc.c = c
	gate := ratelimit.NewGate(c.pacer, st.stop)
	gate.App = app
	c.client.Pacer = gate
	// Sign in first: a tenant whose sign-in fails fails alone.
	tok, err := c.client.Tokens.Token(st.ctx, false)
	if err != nil {
		tc.failure = "not sent: " + signInProblem(t, err)
	} else {
		tid := auth.TokenTenant(tok)
		if tid == "" {
			tid = t
		}
		host := lockHost(c.url)
		if cf.simulate {
			host = "simulator"
		}
		tl, save, err := lockTenant(c, cf, host, tid, "tenant "+t+" at "+host+" (does the sheet name it both by id and by domain?)")
		var held *lock.HeldError
		switch {
		case errors.As(err, &held):
			// Another run works on the tenant: nothing is sent, and the
			// rows, in this run's folder, say which run holds it.
			tc.failure = "not sent: " + err.Error() + "; run again once it is done"
		case err != nil:
			return fail(err)
		default:
			undo = append(undo, func() { tl.Release() }, save)
			// One read before the job: a tenant that refuses access (no
			// permission granted there, no Intune licence) fails alone,
			// its rows saying what to do, before anything is sent.
			if err := probeTenant(st.ctx, c); err != nil {
				tc.failure = tenantRefusal(t, err, svc.consent(t))
			}
		}
	}
	return tc, nil
}

// probeTenant reads one profile of the tenant, as the job's listing would:
// its error, when the tenant refuses access (graph.IsAuth), or nil.
func probeTenant(ctx context.Context, c *conn) error {
	_, err := c.client.Do(ctx, http.MethodGet, profile.CollectionPath+"?$top=1&$select=id", nil)
	if graph.IsAuth(err) {
		return err
	}
	return nil // anything else is the job's to meet, and to record per row
}

// tenantRefusal is the message of every row of a tenant that refused
// access: the tenant, the service's answer, and what to do.
func tenantRefusal(t string, err error, consent string) string {
	msg := fmt.Sprintf("not sent: tenant %s refused access (%v): the app needs %s there", t, err, graph.Permission)
	if consent != "" {
		msg += ", granted by an administrator of the tenant at " + consent
	}
	return msg + ", and the tenant an Intune licence; then run again"
}

// signInProblem says why tenant t could not be signed in to, naming it,
// and what to do.
func signInProblem(t string, err error) string {
	msg := err.Error()
	if !strings.Contains(strings.ToLower(msg), t) {
		msg = "tenant " + t + ": " + msg
	}
	return msg
}

// summary is the tenant's row of summary.xlsx.
func (s *tenantState) summary() output.TenantSummary {
	ts := output.TenantSummary{Tenant: s.tenant, State: s.state, Message: s.message, Rows: s.rows}
	if s.res != nil {
		ts.Counts = s.res.tally.Counts
		ts.Rows = s.res.tally.Rows
		ts.Requests, ts.Throttled = s.res.run.Requests, s.res.run.Throttled
		ts.Results = filepath.Join(s.tenant, output.ResultsFile)
		if s.res.run.DryRun {
			ts.Results = filepath.Join(s.tenant, output.PlanFile)
		} else if s.res.tally.Printable > 0 {
			ts.Sheet = filepath.Join(s.tenant, output.SheetFile)
		}
	}
	return ts
}

// writeTenantSummary writes OUT/summary.xlsx, one row per tenant, says on
// the terminal how many tenants ended done, and returns the rows and the
// tenants not done, which make the exit code.
func (m *Main) writeTenantSummary(out string, lf *logFlags, states []tenantState) (notOK, bad int) {
	sum := make([]output.TenantSummary, len(states))
	for i := range states {
		sum[i] = states[i].summary()
		if states[i].res != nil {
			notOK += states[i].res.tally.NotOK
		}
		if states[i].state != output.TenantDone {
			bad++
		}
	}
	if err := output.WriteSummary(out, sum); err != nil {
		fmt.Fprintf(m.Stderr, "enrollbatch: %v\n", err)
	}
	if lf.format != "json" {
		fmt.Fprintf(m.Stderr, "%d tenant(s): %d done, %d not; see %s\n", len(states), len(states)-bad, bad, filepath.Join(out, output.SummaryFile))
	}
	return notOK, bad
}

// reportTenant says how a tenant ended, as it ends: one line for people,
// one "tenant" event in JSON.
func (m *Main) reportTenant(log *slog.Logger, lf *logFlags, s *tenantState) {
	sum := s.summary()
	if lf.format == "json" {
		attrs := []any{"state", s.state, "rows", sum.Rows, "folder", s.out}
		for st, n := range sum.Counts {
			attrs = append(attrs, string(st), n)
		}
		if s.message != "" {
			attrs = append(attrs, "message", s.message)
		}
		log.Info("tenant", attrs...)
		return
	}
	line := fmt.Sprintf("tenant %s: %s", s.tenant, s.state)
	if c := sum.CountsText(); c != "" {
		line += ", " + c
	}
	if s.message != "" {
		line += ": " + s.message
	}
	fmt.Fprintln(m.Stderr, line)
}

// connectTo connects to one customer tenant for a command that reads it
// (export, qr, doctor): the run's sign-in for several tenants, asked for
// that tenant's token only, with a pacer of its own. Without a tenant it
// is connect. The sign-in is tried at once, so that a tenant that cannot
// be signed in to says so, naming it.
//
// keep, with --simulate, is the file that keeps the simulated tenant (""
// for the --sim-tenants file's tenant as it is).
func (m *Main) connectTo(ctx context.Context, svc *service, cf *connFlags, t string, log *slog.Logger, keep string) (*conn, error) {
	c, err := m.tenantConn(svc, t, cf, log, keep)
	if err != nil {
		return nil, err
	}
	if _, err := c.client.Tokens.Token(ctx, false); err != nil {
		c.close()
		return nil, errors.New(signInProblem(t, err))
	}
	return c, nil
}
