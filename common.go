package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/console"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

// newFlagSet returns a flag set that reports errors instead of exiting.
func (m *Main) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: enrollbatch %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; --help prints the usage to stdout and ends the
// command. Arguments that are not flags are refused.
func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	pos, err := m.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q (see enrollbatch %s --help)", fs.Name(), pos[0], fs.Name())
	}
	return nil
}

// parseInput parses args like parse, and also takes the input file as the
// only argument that is not a flag ("enrollbatch run profiles.xlsx").
func (m *Main) parseInput(fs *flag.FlagSet, args []string, input *string) error {
	pos, err := m.parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
	case len(pos) > 1:
		return usagef("%s: unexpected argument %q: give one input file (see enrollbatch %s --help)", fs.Name(), pos[1], fs.Name())
	case *input != "" && *input != pos[0]:
		return usagef("%s: the input is given twice (--input %s and %s): give one", fs.Name(), *input, pos[0])
	default:
		*input = pos[0]
	}
	return nil
}

func (m *Main) parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	// Parse quietly: --help prints to stdout, and errors are reported once,
	// by the caller, with the exit code.
	pos, err := cliflag.Parse(fs, args)
	fs.SetOutput(m.Stderr)
	if err != nil {
		if errors.Is(err, cliflag.ErrHelp) {
			fs.SetOutput(m.Stdout)
			fs.Usage()
			return nil, errHelp
		}
		return nil, usagef("%s %w (see enrollbatch %s --help)", fs.Name(), err, fs.Name())
	}
	return pos, nil
}

// choice normalizes a flag value that names one of a fixed set of words:
// the words are lowercase, and people type A4, JSON or Skip.
func choice(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// parseDays parses a duration that may be given in days: "14d", "90d",
// "36h", "1h30m".
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (use 14d, 36h or 90m)", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration (use 14d, 36h or 90m)", s)
	}
	return v, nil
}

// daysFlag is a flag.Value for durations in days.
type daysFlag struct{ d *time.Duration }

func (f daysFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return "0"
	}
	if *f.d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", *f.d/(24*time.Hour))
	}
	return f.d.String()
}

func (f daysFlag) Set(s string) error {
	d, err := parseDays(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// logFlags are the logging flags every command that talks to Graph has.
type logFlags struct {
	format  string
	verbose bool
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.BoolVar(&l.verbose, "verbose", false, "log every request and rate change (debug level)")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	l.format = choice(l.format)
	// Text logs are for people watching a terminal: only what went wrong,
	// unless --verbose. JSON logs are for collectors: one event per row.
	lvl := slog.LevelWarn
	if l.format == "json" {
		lvl = slog.LevelInfo
	}
	if l.verbose {
		lvl = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: use text or json", l.format)
}

// connFlags say where Graph is and how to sign in and pace requests.
type connFlags struct {
	graphURL       string
	cloud          string
	auth           string
	simulate       bool
	simContent     string
	rate           float64
	writeBudget    int
	requestBudget  int
	adaptive       bool
	maxRetries     int
	requestTimeout time.Duration
}

func (c *connFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.graphURL, "graph-url", getenv("GRAPH_URL"), "Graph base URL (env GRAPH_URL); overrides --cloud")
	fs.StringVar(&c.cloud, "cloud", "public", "national cloud: public, usgov, usgovdod or china")
	fs.StringVar(&c.auth, "auth", "auto", "sign-in: auto, token, env, workload, managed, cli, or a person signing in: device-code or browser")
	fs.BoolVar(&c.simulate, "simulate", false, "use the built-in Graph simulator; no credentials needed")
	fs.StringVar(&c.simContent, "sim-content", sim.ContentJSON, "with --simulate: form of the simulator's qrCodeContent for AOSP profiles, json or base64")
	fs.Float64Var(&c.rate, "rate", 0, "an extra cap in requests per second on every request the job sends (the pacer stays 3% under it); 0 = none, the budgets alone pace the job")
	fs.IntVar(&c.writeBudget, "write-budget", ratelimit.IntuneWriteBudget, "most writes (POST, PATCH, DELETE) sent in any 20 s; 0 = none")
	fs.IntVar(&c.requestBudget, "request-budget", ratelimit.IntuneRequestBudget, "most requests of any kind sent in any 20 s; 0 = none")
	fs.BoolVar(&c.adaptive, "adaptive", true, "learn lower budgets and rates when the service throttles, and recover slowly")
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

// connect builds the Graph client: against the simulator on a loopback port
// with --simulate, else against the cloud's Graph with a token from the
// sign-in chain.
func (m *Main) connect(ctx context.Context, c *connFlags, log *slog.Logger) (*conn, error) {
	if c.rate < 0 {
		return nil, usagef("--rate %v: use a number of requests per second, or 0 for no limit", c.rate)
	}
	if c.requestTimeout <= 0 {
		return nil, usagef("--request-timeout %v: use a positive time limit such as 30s (a request without one could wait for ever)", c.requestTimeout)
	}
	if c.maxRetries < 0 {
		return nil, usagef("--max-retries %d: use 0 or more", c.maxRetries)
	}
	if c.writeBudget < 0 || c.requestBudget < 0 {
		return nil, usagef("--write-budget and --request-budget: use a number of requests per 20 s, or 0 for none")
	}
	pacer := ratelimit.New(ratelimit.Config{
		Rate: c.rate, Headroom: rateHeadroom, Adaptive: c.adaptive, Logger: log,
		WriteBudget: c.writeBudget, RequestBudget: c.requestBudget,
	})
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	cl := &graph.Client{HTTP: hc, Pacer: pacer, RequestTimeout: c.requestTimeout, MaxRetries: c.maxRetries, Log: log}
	out := &conn{client: cl, pacer: pacer, close: func() {}}
	c.simContent = choice(c.simContent)
	if c.simContent != sim.ContentJSON && c.simContent != sim.ContentBase64 {
		return nil, usagef("--sim-content %q: use %s or %s", c.simContent, sim.ContentJSON, sim.ContentBase64)
	}
	if c.simulate {
		srv := sim.New(sim.Options{Content: c.simContent})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start simulator: %w", err)
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		out.close = func() { hs.Close() }
		out.url = "http://" + ln.Addr().String() + "/beta"
		cl.BaseURL = out.url
		return out, nil
	}
	cloud, err := auth.LookupCloud(choice(c.cloud))
	if err != nil {
		return nil, &usageError{err}
	}
	out.url = cloud.GraphURL
	if c.graphURL != "" {
		out.url = strings.TrimRight(c.graphURL, "/")
	}
	cl.BaseURL = out.url
	if err := graph.CheckBaseURL(out.url); err != nil {
		return nil, &usageError{fmt.Errorf("--graph-url: %w", err)}
	}
	ts, err := auth.New(ctx, auth.Options{Mode: choice(c.auth), GraphURL: out.url, AuthorityHost: cloud.AuthorityHost, Getenv: m.Getenv, Prompt: m.Stderr})
	if err != nil {
		return nil, &usageError{err}
	}
	cl.Tokens = ts
	return out, nil
}

// isSignInFailure reports a sign-in the identity provider refused.
func isSignInFailure(err error) bool { return auth.IsAuthFailure(err) }

// isNoCredentials reports that no sign-in method is set up: a
// configuration problem (exit 2), not a rejected sign-in.
func isNoCredentials(err error) bool { return errors.Is(err, auth.ErrNoCredentials) }

// newProgress returns the progress display --progress asks for: a bar on
// a terminal, plain status lines when stderr is not one but --progress
// always is given (and in JSON mode, where a bar would not be JSON), or
// nothing. pausedUntil tells the Retry-After countdown.
func (m *Main) newProgress(mode, logFormat string, pausedUntil func() time.Time) *console.Progress {
	term := console.IsTerminal(m.Stderr)
	opts := console.ProgressOptions{PausedUntil: pausedUntil}
	switch {
	case mode == "never", mode == "auto" && !term:
		opts.Mode = console.Off
	case term && logFormat != "json":
		opts.Mode = console.Bar
		opts.ANSI = console.EnableANSI(m.Stderr)
	default:
		opts.Mode = console.Lines
	}
	return console.NewProgress(m.Stderr, opts)
}

// startProfiles starts a CPU profile and arranges a heap profile, for
// finding where a run's time and memory go. The returned func ends both.
func startProfiles(cpu, mem string) (func(), error) {
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, usagef("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("start cpu profile: %w", err)
		}
		cpuFile = f
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			if f, err := os.Create(mem); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}, nil
}
