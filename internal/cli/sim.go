package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

func (m *Main) simCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("sim", "sim [--listen ADDR] [flags]")
	var (
		listen       string
		o            sim.Options
		seed         int
		forbidden    bool
		existingMode string
		tenantsFile  string
	)
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve on")
	fs.DurationVar(&o.Latency, "latency", 0, "added to every response")
	fs.IntVar(&o.Limit, "limit", 0, "requests allowed per --window before answering 429 (0 = no limit)")
	fs.DurationVar(&o.Window, "window", 20*time.Second, "sliding window of --limit")
	fs.IntVar(&o.WriteLimit, "write-limit", 0, "creates allowed per --window (Intune: 100 per 20s)")
	fs.StringVar(&o.RetryAfter, "retry-after", "seconds", "Retry-After format: seconds, fractional or date")
	fs.Float64Var(&o.Fail503, "fail-503", 0, "fraction of requests answered 503")
	fs.Float64Var(&o.Fail504AfterCreate, "fail-504-after-create", 0, "fraction of creates answered 504 after creating")
	fs.Float64Var(&o.DropAfterCreate, "drop-after-create", 0, "fraction of creates whose connection drops after creating")
	fs.BoolVar(&o.OmitToken, "omit-token", false, "answer creates without token and QR content")
	cliflag.ChoiceVar(fs, &o.Content, "content", sim.ContentJSON, "form of qrCodeContent for AOSP profiles: json or base64 (as Microsoft's AOSP sample reads it)", sim.ContentJSON, sim.ContentBase64)
	fs.BoolVar(&forbidden, "forbidden", false, "answer every request 403, as Graph answers an app without "+graph.Permission)
	fs.IntVar(&seed, "existing", 0, "profiles already in the tenant at start (named \"Existing 1\" ...)")
	fs.StringVar(&existingMode, "existing-mode", "corporateOwnedDedicatedDevice", "enrollmentMode of the --existing profiles")
	fs.StringVar(&tenantsFile, "tenants", "", "serve the tenants of this JSON file on one URL, each request acting on the tenant named by its token's tid claim (see samples/tenants.json); the other flags apply to every tenant, and a token is printed for each")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if forbidden {
		o.Authorize = func(string) int { return http.StatusForbidden }
	}
	existing := make([]profile.Profile, seed)
	for i := range existing {
		existing[i] = profile.Profile{DisplayName: fmt.Sprintf("Existing %d", i+1), EnrollmentMode: existingMode}
	}
	var (
		handler http.Handler
		cloud   *sim.Cloud
		single  *sim.Server
	)
	if tenantsFile != "" {
		specs, err := sim.LoadTenants(tenantsFile)
		if err != nil {
			return usagef("--tenants %s: %w", tenantsFile, err)
		}
		cloud = sim.NewCloud(o, specs...)
		// A quick start outlasts Entra's hour; the printed tokens last a day.
		cloud.TokenLifetime = 24 * time.Hour
		for _, t := range cloud.Tenants() {
			s, _ := cloud.Tenant(t.ID)
			s.SeedProfiles(existing...)
		}
		handler = cloud
	} else {
		single = sim.New(o)
		single.SeedProfiles(existing...)
		handler = single
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usagef("listen on %s: %w", listen, err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	addr := dialAddr(ln.Addr())
	if cloud == nil {
		fmt.Fprintf(m.Stderr, "Graph simulator on http://%s/beta; try:\n  enrollbatch run --input samples/profiles.csv --graph-url http://%s/beta\n(set GRAPH_ACCESS_TOKEN to any value). Ctrl-C stops it.\n", addr, addr)
	} else {
		m.announceTenants(cloud, addr)
	}
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	if cloud == nil {
		st := single.Stats()
		fmt.Fprintf(m.Stderr, "served %d request(s): %d created, %d throttled\n", st.Requests, st.Created, st.Throttled)
		return nil
	}
	for _, t := range cloud.Tenants() {
		s, _ := cloud.Tenant(t.ID)
		st := s.Stats()
		fmt.Fprintf(m.Stderr, "%s: served %d request(s): %d created, %d throttled\n", tenantName(t), st.Requests, st.Created, st.Throttled)
	}
	fmt.Fprintf(m.Stderr, "refused %d request(s) whose token named no tenant\n", cloud.Refused())
	return nil
}

// announceTenants prints where a cloud of simulated tenants listens and,
// for each tenant, its id, domain and a token that acts on it.
func (m *Main) announceTenants(cloud *sim.Cloud, addr string) {
	tenants := cloud.Tenants()
	fmt.Fprintf(m.Stderr, "Graph simulator on http://%s/beta; %d tenant(s), each request acting on the one its token's tid names:\n", addr, len(tenants))
	example := ""
	for _, t := range tenants {
		fmt.Fprintf(m.Stderr, "  %s\n    id      %s\n", t.Organization, t.ID)
		if t.Domain != "" {
			fmt.Fprintf(m.Stderr, "    domain  %s\n", t.Domain)
		}
		tok, err := cloud.Token(t.ID)
		if err != nil {
			fmt.Fprintf(m.Stderr, "    no token: %v\n", err)
			continue
		}
		fmt.Fprintf(m.Stderr, "    token   %s\n", tok)
		if example == "" {
			example = tok
		}
	}
	if example != "" {
		fmt.Fprintf(m.Stderr, "try (with the token of the tenant to act on):\n  GRAPH_ACCESS_TOKEN=%s enrollbatch run --input samples/profiles.csv --graph-url http://%s/beta\n", example, addr)
	}
	fmt.Fprintf(m.Stderr, "Clients send Authorization: Bearer TOKEN. Ctrl-C stops it.\n")
}

// tenantName names a simulated tenant in the closing counts.
func tenantName(t sim.TenantSpec) string {
	if t.Domain != "" {
		return t.Domain
	}
	return t.ID
}

// dialAddr is the address to give clients of a listener: a listener on
// every interface (0.0.0.0 or ::) is reached on this machine through
// loopback, the only plain-http Graph address the client accepts.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}
