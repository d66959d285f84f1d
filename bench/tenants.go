package main

// The tenants scenario: one sheet over many customer tenants, run as the
// binary signed in as a multi-tenant app (client credentials through
// AZURE_AUTHORITY_HOST) against a simulated cloud that routes each request
// by its token's tenant, every tenant with Intune's documented window.

import (
	"bufio"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// certFile writes the certificate of a TLS test server as PEM to a file
// in dir, for SSL_CERT_FILE.
func certFile(srv *httptest.Server, dir string) (string, error) {
	p := filepath.Join(dir, "authority.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o600)
}

// tenantDomains names n tenants t01.example.com …, zero-padded to the
// width of n.
func tenantDomains(n int) []string {
	width := max(len(strconv.Itoa(n)), 2)
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("t%0*d.example.com", width, i+1)
	}
	return out
}

// writeTenantSheet writes a sheet of perTenant rows for each tenant, the
// tenants' rows taking turns, as a sheet of a fleet sorted by site would:
// a CSV, or an XLSX workbook when path ends in .xlsx (its expiry a date
// cell, as Excel stores a typed date).
func writeTenantSheet(path string, domains []string, perTenant int) error {
	headers := []string{"displayName", "tenant", "description", "tokenExpirationDateTime", "Site"}
	expires := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	if strings.HasSuffix(path, ".xlsx") {
		wb := excelize.NewFile()
		defer wb.Close()
		date, err := wb.NewStyle(&excelize.Style{NumFmt: 14})
		if err != nil {
			return err
		}
		sw, err := wb.NewStreamWriter("Sheet1")
		if err != nil {
			return err
		}
		row := make([]any, len(headers))
		for i, h := range headers {
			row[i] = h
		}
		if err := sw.SetRow("A1", row); err != nil {
			return err
		}
		n := 2
		for i := 1; i <= perTenant; i++ {
			for _, d := range domains {
				ref, _ := excelize.CoordinatesToCellName(1, n)
				row := []any{fmt.Sprintf("Scanner %04d", i), d, "Handheld scanner",
					excelize.Cell{StyleID: date, Value: expires}, fmt.Sprintf("Site %d", i%8)}
				if err := sw.SetRow(ref, row); err != nil {
					return err
				}
				n++
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		return wb.SaveAs(path)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString(strings.Join(headers, ",") + "\n")
	for i := 1; i <= perTenant; i++ {
		for _, d := range domains {
			fmt.Fprintf(w, "Scanner %04d,%s,Handheld scanner,%s,Site %d\n", i, d, expires.Format(time.DateOnly), i%8)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tenantsOptions are more arguments and environment of the binary in the
// tenants scenario (-args, -env).
type tenantsOptions struct {
	args    []string
	env     []string
	latency time.Duration // of every request; the bench's 50 ms unless -latency
	format  string        // of the sheet: csv or xlsx
}

var tenantOpts tenantsOptions

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// tenantsRun is what a run over several tenants did.
type tenantsRun struct {
	tenants, perTenant int
	wall               time.Duration
	maxRSS             int64         // KiB
	cpu                time.Duration // user and system CPU of the process
	simCPU             time.Duration // CPU of the bench process (the simulated cloud and authority) during the run
	exit               int
	requests           int // summed over tenants
	throttled          int
	inside             int // requests inside a Retry-After, summed over tenants
	created            int // profiles the tenants hold
	duplicates         int
	summaryDone        int // tenants the summary says are done with every row created
	tokenRequests      int
	stderr             string
}

// floor is the CPU the run took on both sides, enrollbatch's and the
// simulated cloud's, spread over every core: the wall time below which
// the run cannot go on this machine, whatever it waits for.
func (r tenantsRun) floor() time.Duration {
	return (r.cpu + r.simCPU) / time.Duration(runtime.NumCPU())
}

// rows is the sheet's row count.
func (r tenantsRun) rows() int { return r.tenants * r.perTenant }

// check says what the run missed of: exit 0, every row created once,
// every tenant done in the summary, nothing sent inside a Retry-After.
func (r tenantsRun) check() []string {
	var missed []string
	if r.exit != 0 {
		missed = append(missed, fmt.Sprintf("exit %d", r.exit))
	}
	if r.created != r.rows() || r.duplicates != 0 {
		missed = append(missed, fmt.Sprintf("%d created of %d, %d duplicates", r.created, r.rows(), r.duplicates))
	}
	if r.summaryDone != r.tenants {
		missed = append(missed, fmt.Sprintf("%d of %d tenants done in the summary", r.summaryDone, r.tenants))
	}
	if r.inside != 0 {
		missed = append(missed, fmt.Sprintf("%d requests inside Retry-After", r.inside))
	}
	return missed
}

// runTenants runs enrollbatch run over a sheet of perTenant rows in each
// of n tenants, signed in as the app to each, against a simulated cloud
// whose every tenant has Intune's documented window, with extra args.
func runTenants(bin, tmp string, n, perTenant int, args ...string) (tenantsRun, error) {
	r := tenantsRun{tenants: n, perTenant: perTenant}
	dir, err := os.MkdirTemp(tmp, "tenants")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	domains := tenantDomains(n)
	specs := make([]sim.TenantSpec, n)
	for i, d := range domains {
		specs[i] = sim.TenantSpec{Domain: d}
	}
	opts := intune()
	opts.Latency = tenantOpts.latency
	opts.OmitImage = true // the service renders images on its side, not on this machine
	cloud := sim.NewCloud(opts, specs...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	graphSrv := &http.Server{Handler: cloud}
	go graphSrv.Serve(ln)
	defer graphSrv.Close()
	authority := sim.NewAuthority(cloud)
	authSrv := httptest.NewTLSServer(authority)
	defer authSrv.Close()
	cert, err := certFile(authSrv, dir)
	if err != nil {
		return r, err
	}
	in := filepath.Join(dir, "fleet."+tenantOpts.format)
	if err := writeTenantSheet(in, domains, perTenant); err != nil {
		return r, err
	}
	home, err := os.MkdirTemp(dir, "home")
	if err != nil {
		return r, err
	}
	out := filepath.Join(dir, "out")
	full := append([]string{"run", "--input", in, "--auth", "env", "--graph-url", "http://" + ln.Addr().String() + "/beta",
		"--out", out, "--progress", "never", "--log-format", "text"}, append(args, tenantOpts.args...)...)
	cmd, rssFile := measured(dir, bin, full...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AZURE_CLIENT_ID=" + sim.SimulatedAppID, "AZURE_CLIENT_SECRET=x",
		"AZURE_AUTHORITY_HOST=" + authSrv.URL + "/", "SSL_CERT_FILE=" + cert}
	cmd.Env = append(cmd.Env, tenantOpts.env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start, self0 := time.Now(), selfCPU()
	err = cmd.Run()
	r.wall = time.Since(start)
	r.simCPU = selfCPU() - self0
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return r, err
	}
	r.exit = cmd.ProcessState.ExitCode()
	r.stderr = stderr.String()
	r.maxRSS = readRSS(rssFile)
	r.cpu = readCPU(rssFile)
	for _, d := range domains {
		srv, _ := cloud.Tenant(d)
		st := srv.Stats()
		r.requests += st.Requests
		r.throttled += st.Throttled
		r.inside += st.InsideRetryAfter
		r.duplicates += st.Duplicates
		r.created += len(srv.Profiles())
	}
	r.tokenRequests = len(authority.Asked())
	sum, err := output.ReadSummary(filepath.Join(out, output.SummaryFile))
	if err != nil {
		return r, fmt.Errorf("%w (stderr: %s)", err, tail(r.stderr))
	}
	for _, s := range sum {
		if s.State == output.TenantDone && s.Counts[results.Created] == perTenant {
			r.summaryDone++
		}
	}
	return r, nil
}

// tenantSize is a sheet of the tenants scenario: rows rows in each of n
// tenants.
type tenantSize struct{ n, per int }

// parseTenantSizes reads -sizes for the tenants scenario: TENANTSxROWS,
// comma-separated.
func parseTenantSizes(s string) ([]tenantSize, error) {
	if s == "" {
		s = "1x40,50x40,500x10"
	}
	var out []tenantSize
	for _, f := range splitList(s) {
		a, b, ok := strings.Cut(strings.ToLower(f), "x")
		n, err1 := strconv.Atoi(a)
		per, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || per < 1 {
			return nil, fmt.Errorf("-sizes %q: use TENANTSxROWS such as 1x40,50x40", s)
		}
		out = append(out, tenantSize{n, per})
	}
	return out, nil
}

// tenantsScenario runs the tenants scenario: by default 1 tenant × 40
// rows, 50 × 40 and 500 × 10, repeat times, and adds their rows to t; the
// ratio is to the last one-tenant run before. With profile set, it runs
// 50 × 40 (or the one size -sizes gives) once with --cpuprofile and
// --memprofile into that folder instead.
func tenantsScenario(bin, tmp, sizes string, repeat int, profile string, t *table) error {
	const goalRSS = 256 * 1024 // KiB
	if profile != "" {
		size := tenantSize{50, 40}
		if sizes != "" {
			ss, err := parseTenantSizes(sizes)
			if err != nil || len(ss) != 1 {
				return fmt.Errorf("-profile: give one size, such as -sizes 500x10")
			}
			size = ss[0]
		}
		if err := os.MkdirAll(profile, 0o755); err != nil {
			return err
		}
		cpu, _ := filepath.Abs(filepath.Join(profile, "cpu.pprof"))
		mem, _ := filepath.Abs(filepath.Join(profile, "mem.pprof"))
		r, err := runTenants(bin, tmp, size.n, size.per, "--cpuprofile", cpu, "--memprofile", mem)
		if err != nil {
			return err
		}
		fmt.Printf("profiled %d × %d: wall %s, peak RSS %d MiB, CPU %s, missed %v; profiles in %s\n", size.n, size.per, secs(r.wall), r.maxRSS/1024, secs(r.cpu), r.check(), profile)
		return nil
	}
	ss, err := parseTenantSizes(sizes)
	if err != nil {
		return err
	}
	flags := "default flags (`--tenant-concurrency 64`)"
	if len(tenantOpts.args) > 0 || len(tenantOpts.env) > 0 {
		flags = fmt.Sprintf("`%s` and environment %q", strings.Join(tenantOpts.args, " "), tenantOpts.env)
	}
	fmt.Printf("\n**tenants**: one %s sheet over many customer tenants (a `tenant` column, t01.example.com …), `enrollbatch run --auth env` with %s, signed in as a multi-tenant app to each tenant through a local TLS authority; every tenant of the simulated cloud allows %d writes and %d requests per sliding %v, %v latency. The simulator omits the QR image of each profile (the service renders it on Microsoft's CPU, not ours), and runs in the bench process on the same cores. Peak RSS and CPU (user and system) of the enrollbatch process; simulator CPU is the bench process's (the simulated cloud and its authority) during the run; CPU / cores is both over the machine's %d cores, the wall time no run can beat here; inside Retry-After summed over tenants.\n",
		tenantOpts.format, flags, intuneWrites, intuneRequests, intuneWindow, tenantOpts.latency, runtime.NumCPU())
	t.header("run", "tenants × rows", "wall", "N / 1 tenant", "peak RSS", "CPU", "CPU per tenant", "simulator CPU", "CPU / cores", "requests", "429s", "inside Retry-After", "created", "duplicates", "exit", "result")
	for i := 1; i <= repeat; i++ {
		var base time.Duration // the last one-tenant run's wall
		basePer := 0           // and its rows
		for _, c := range ss {
			r, err := runTenants(bin, tmp, c.n, c.per)
			if err != nil {
				return fmt.Errorf("tenants %d × %d: %w", c.n, c.per, err)
			}
			missed := r.check()
			ratio := ""
			switch {
			case c.n == 1:
				base, basePer = r.wall, c.per
			case base > 0 && c.per == basePer:
				q := r.wall.Seconds() / base.Seconds()
				ratio = fmt.Sprintf("%.2f", q)
				if c.n == 50 && q > 1.2 {
					missed = append(missed, "over 1.2 × one tenant")
				}
			}
			if c.n > 1 && r.maxRSS >= goalRSS {
				missed = append(missed, "256 MiB or more")
			}
			var merr error
			if len(missed) > 0 {
				merr = errors.New(strings.Join(missed, ", "))
			}
			t.row(merr, strconv.Itoa(i), fmt.Sprintf("%d × %d", c.n, c.per), secs(r.wall), ratio, fmt.Sprintf("%d MiB", r.maxRSS/1024),
				secs(r.cpu), fmt.Sprintf("%.0f ms", float64(r.cpu.Milliseconds())/float64(c.n)),
				secs(r.simCPU), secs(r.floor()),
				strconv.Itoa(r.requests), strconv.Itoa(r.throttled), strconv.Itoa(r.inside),
				fmt.Sprintf("%d / %d", r.created, r.rows()), strconv.Itoa(r.duplicates), strconv.Itoa(r.exit),
				fmt.Sprintf("%d sign-ins; load %s", r.tokenRequests, loadAvg()))
		}
	}
	return nil
}

// loadAvg is the 1-minute load average, or "?" where /proc has none.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
