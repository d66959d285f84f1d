package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

// connFlags say where Graph is and how to sign in and pace requests.
type connFlags struct {
	graphURL   string
	cloud      string
	auth       string
	simulate   bool
	simContent string
	simTenant  string // --sim-tenant: where the simulated tenant is kept between runs
	simTenants string // --sim-tenants: the simulated tenants of a run over several
	keepSignIn bool   // --keep-sign-in: a person's sign-in is kept between commands
	// extraPermissions are the delegated permissions a person signing in
	// is asked for besides the Intune one (see askFor).
	extraPermissions []string
	rate             float64
	writeBudget      int
	requestBudget    int
	adaptive         bool
	maxRetries       int
	requestTimeout   time.Duration
}

func (c *connFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.graphURL, "graph-url", getenv("GRAPH_URL"), "Graph base URL (env GRAPH_URL); overrides --cloud")
	fs.StringVar(&c.cloud, "cloud", "public", "national cloud: public, usgov, usgovdod or china")
	cliflag.ChoiceVar(fs, &c.auth, "auth", "auto", "sign-in: auto, token, env, workload, managed, cli, or a person signing in: device-code or browser", auth.Modes()...)
	fs.BoolVar(&c.keepSignIn, "keep-sign-in", true, "with --auth device-code or browser: keep the sign-in between commands in the system's protected store (enrollbatch signout forgets it)")
	fs.BoolVar(&c.simulate, "simulate", false, "use the built-in Graph simulator; no credentials needed")
	fs.StringVar(&c.simTenant, "sim-tenant", "", "with --simulate: the file that keeps the simulated tenant's profiles between runs (default OUT/"+simTenantFile+" for commands with --out); with several tenants, the folder (an earlier run's OUT) whose <tenant>/ folders keep them")
	fs.StringVar(&c.simTenants, "sim-tenants", "", "with --simulate and tenants: a file describing the simulated tenants (ids, domains, names, consent, limits; see samples/tenants.json); default: each tenant the sheet names, created on first use")
	cliflag.ChoiceVar(fs, &c.simContent, "sim-content", sim.ContentJSON, "with --simulate: form of the simulator's qrCodeContent for AOSP profiles, json or base64", sim.ContentJSON, sim.ContentBase64)
	fs.Float64Var(&c.rate, "rate", 0, "an extra cap in requests per second on every request the job sends (the pacer stays 3% under it); 0 = none, the budgets alone pace the job")
	fs.IntVar(&c.writeBudget, "write-budget", ratelimit.IntuneWriteBudget, "most writes (POST, PATCH, DELETE) sent in any 20 s; 0 = none")
	fs.IntVar(&c.requestBudget, "request-budget", ratelimit.IntuneRequestBudget, "most requests of any kind sent in any 20 s; 0 = none")
	fs.BoolVar(&c.adaptive, "adaptive", true, "learn lower budgets and rates when the service throttles again and again, and recover once it stops")
	fs.IntVar(&c.maxRetries, "max-retries", 6, "retries of a request that failed in a transient way (503, 504, no answer); 429s slow the job down instead and allow up to 30 tries")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 30*time.Second, "time limit of one request")
}

// rateHeadroom is the share of --rate the pacer leaves unused, so that a
// --rate equal to the service's limit is never throttled for timing jitter.
const rateHeadroom = 0.03

// conn is a ready Graph client with its pacer.
type conn struct {
	url    string
	client *graph.Client
	pacer  *ratelimit.Pacer
	close  func()
}

// check refuses pacing and retry flags that cannot be used.
func (c *connFlags) check() error {
	if c.rate < 0 {
		return usagef("--rate %v: use a number of requests per second, or 0 for no limit", c.rate)
	}
	if c.requestTimeout <= 0 {
		return usagef("--request-timeout %v: use a positive time limit such as 30s (a request without one could wait for ever)", c.requestTimeout)
	}
	if c.maxRetries < 0 {
		return usagef("--max-retries %d: use 0 or more", c.maxRetries)
	}
	if c.writeBudget < 0 || c.requestBudget < 0 {
		return usagef("--write-budget and --request-budget: use a number of requests per 20 s, or 0 for none")
	}
	return nil
}

// newConn returns a Graph client over hc with a pacer of its own, the
// flags' budgets and retries; its base URL and tokens are the caller's to
// set. Each tenant of a run gets one: budgets are per tenant.
func (c *connFlags) newConn(hc *http.Client, log *slog.Logger) *conn {
	pacer := ratelimit.New(ratelimit.Config{
		Rate: c.rate, Headroom: rateHeadroom, Adaptive: c.adaptive, Logger: log,
		WriteBudget: c.writeBudget, RequestBudget: c.requestBudget,
	})
	cl := &graph.Client{HTTP: hc, Pacer: pacer, RequestTimeout: c.requestTimeout, MaxRetries: c.maxRetries, Log: log}
	return &conn{client: cl, pacer: pacer, close: func() {}}
}

// newHTTPClient is the HTTP client of a run's requests to Graph.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// connect builds the Graph client: against the simulator on a loopback port
// with --simulate, else against the cloud's Graph with a token from the
// sign-in chain.
func (m *Main) connect(ctx context.Context, c *connFlags, log *slog.Logger) (*conn, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	out := c.newConn(newHTTPClient(), log)
	cl := out.client
	if c.simulate {
		srv := sim.New(sim.Options{Content: c.simContent})
		if err := loadSimTenant(srv, c.simTenant); err != nil {
			return nil, &usageError{err}
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start simulator: %w", err)
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		fmt.Fprintf(m.Stderr, "simulation: nothing is sent to Microsoft; the codes enroll nothing%s\n", simTenantNote(c.simTenant))
		out.close = func() {
			hs.Close()
			if err := saveSimTenant(srv, c.simTenant); err != nil {
				fmt.Fprintf(m.Stderr, "warning: %v\n", err)
			}
		}
		out.url = "http://" + ln.Addr().String() + "/beta"
		cl.BaseURL = out.url
		return out, nil
	}
	ao, err := m.signInOptions(c)
	if err != nil {
		return nil, err
	}
	out.url = ao.GraphURL
	cl.BaseURL = out.url
	ts, err := auth.New(ctx, ao)
	if err != nil {
		return nil, &usageError{err}
	}
	cl.Tokens = ts
	return out, nil
}

// signInOptions are the sign-in the flags ask for, at the Graph URL of
// the cloud (or --graph-url).
func (m *Main) signInOptions(c *connFlags) (auth.Options, error) {
	cloud, err := auth.LookupCloud(strings.ToLower(strings.TrimSpace(c.cloud)))
	if err != nil {
		return auth.Options{}, &usageError{err}
	}
	url := cloud.GraphURL
	if c.graphURL != "" {
		url = strings.TrimRight(c.graphURL, "/")
	}
	if err := graph.CheckBaseURL(url); err != nil {
		return auth.Options{}, &usageError{fmt.Errorf("--graph-url: %w", err)}
	}
	return auth.Options{Mode: c.auth, GraphURL: url, AuthorityHost: cloud.AuthorityHost, Getenv: m.Getenv, Prompt: m.Stderr,
		ExtraPermissions: c.extraPermissions, KeepSignIn: c.keepSignIn,
		KeepNote: func(s string) { fmt.Fprintf(m.Stderr, "note: %s\n", s) }}, nil
}

// isSignInFailure reports a sign-in the identity provider refused.
func isSignInFailure(err error) bool { return auth.IsAuthFailure(err) }

// isNoCredentials reports that no sign-in method is set up: a
// configuration problem (exit 2), not a rejected sign-in.
func isNoCredentials(err error) bool { return errors.Is(err, auth.ErrNoCredentials) }

// simTenantFile is where a command with an output folder keeps the
// simulated tenant between runs, so that a rerun meets the profiles the
// first run created, as it would in a tenant.
const simTenantFile = ".enrollbatch-simulated-tenant.json"

// simTenantNote says where the simulated tenant is kept.
func simTenantNote(path string) string {
	if path == "" {
		return " (an empty simulated tenant: --sim-tenant FILE keeps one between runs)"
	}
	return " (the simulated tenant is kept in " + path + "; delete it to start from an empty one)"
}

// loadSimTenant seeds srv with the profiles kept at path, if any.
func loadSimTenant(srv *sim.Server, path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the simulated tenant: %w", err)
	}
	var ps []profile.Profile
	if err := json.Unmarshal(data, &ps); err != nil {
		return fmt.Errorf("read the simulated tenant %s: %w (delete it to start from an empty one)", path, err)
	}
	srv.ReplaceProfiles(ps...) // the kept tenant, not the seeds it started with
	return nil
}

// saveSimTenant keeps srv's profiles at path.
func saveSimTenant(srv *sim.Server, path string) error {
	if path == "" {
		return nil
	}
	data, err := json.Marshal(srv.Profiles())
	if err != nil {
		return fmt.Errorf("keep the simulated tenant: %w", err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("keep the simulated tenant: %w", err)
	}
	return nil
}

// askFor asks a person signing in for what the sheet needs besides the
// Intune permission, and only then: reading groups when it names device
// groups. (Scope tags are readable with the Intune permission.)
func (c *connFlags) askFor(groups bool) {
	if groups {
		c.extraPermissions = []string{graph.PermissionGroups}
	}
}
