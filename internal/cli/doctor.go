package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/doctor"
)

// doctorCommand checks a tenant without changing it: it signs in with the
// same flags as run and reports what the tenant allows.
func (m *Main) doctorCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("doctor", "doctor [flags]  (the sign-in and Graph flags of run)")
	var (
		cf            connFlags
		lf            logFlags
		inPath, sheet string
	)
	fs.StringVar(&inPath, "input", "", "also check what this sheet needs: reading scope tags when roleScopeTagIds gives names, reading groups when deviceGroup names groups")
	fs.StringVar(&sheet, "sheet", "", "with --input: XLSX sheet to read (default the first)")
	var tf tenantFlags
	cf.register(fs, m.Getenv)
	lf.register(fs)
	tf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := tf.check(); err != nil {
		return err
	}
	var tags, groups bool
	tenants := tf.tenants
	if inPath != "" {
		scan, err := batch.ScanFile(inPath, sheet, false)
		if err != nil {
			return &usageError{err}
		}
		tags, groups = scan.Census.NamesNeeded()
		cf.askFor(groups)
		if len(tenants) == 0 && scan.Tenants != nil {
			tenants = scan.TenantList() // the sheet's tenants
		}
	} else if sheet != "" {
		return usagef("--sheet goes with --input")
	}
	// Only problems are logged, as text; --log-format json turns the
	// report itself into one JSON object.
	log, err := (&logFlags{format: "text", verbose: lf.verbose}).logger(m.Stderr)
	if err != nil {
		return err
	}
	if len(tenants) > 0 {
		return m.doctorTenants(ctx, &cf, &lf, tf.shard.Take(tenants), tf.concurrency, tags, groups, log)
	}
	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	rep, err := m.doctorOne(ctx, c, &cf, tags, groups)
	if err != nil {
		return err
	}

	if lf.format == "json" {
		err = rep.WriteJSON(m.Stdout)
	} else {
		err = rep.WriteText(m.Stdout)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return doctorOutcome(rep)
}

// doctorOne checks one tenant through c.
func (m *Main) doctorOne(ctx context.Context, c *conn, cf *connFlags, tags, groups bool) (*doctor.Report, error) {
	rec := doctor.NewRecorder(c.client.HTTP.Transport)
	hc := *c.client.HTTP // a tenant's own recorder, even on a shared client
	hc.Transport = rec
	c.client.HTTP = &hc
	o := doctor.Options{Client: c.client, GraphURL: c.url, Cloud: cf.cloud, Recorder: rec, ScopeTags: tags, Groups: groups,
		Delegated:         cf.auth == auth.ModeDeviceCode || cf.auth == auth.ModeBrowser,
		SignInUnreachable: func(err error) bool { return !isSignInFailure(err) && !isNoCredentials(err) }}
	switch {
	case cf.simulate:
		o.Cloud, o.SignIn = "simulator", "the built-in simulator (--simulate)"
	case cf.graphURL != "":
		o.Cloud += ", Graph URL from --graph-url or GRAPH_URL"
	}
	if d, ok := c.client.Tokens.(interface{ Describe() string }); ok {
		o.SignIn = d.Describe()
	}
	return doctor.Run(ctx, o)
}

// doctorOutcome is the error a report ends the command with: nil when
// ready, exit 3 for a sign-in or permission failure, else exit 1.
func doctorOutcome(rep *doctor.Report) error {
	switch {
	case rep.Ready:
		return nil
	case rep.AuthFailed:
		return &exitError{code: exitAborted, err: fmt.Errorf("doctor: sign-in or permission failure: %s", rep.Advice)}
	}
	var failed []string
	for _, ch := range rep.Checks {
		if ch.Result == doctor.Fail {
			failed = append(failed, ch.Name)
		}
	}
	return &exitError{code: exitRows, err: fmt.Errorf("doctor: %s failed: %s", strings.Join(failed, ", "), rep.Advice)}
}

// exitError ends a command with a given exit code and message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// doctorTenant is one tenant's line of doctor over several tenants.
type doctorTenant struct {
	Tenant string         `json:"tenant"`
	Error  string         `json:"error,omitempty"` // the tenant could not be signed in to
	Report *doctor.Report `json:"report,omitempty"`
}

// doctorChecks are the checks doctor over several tenants shows as
// columns, one row per tenant.
var doctorChecks = []string{"sign-in", "list", "read back", "permission", "throttling"}

// doctorTenants checks each tenant as doctor checks one, and prints one
// row per tenant: signed in, listing, reading back, permission,
// throttling, and whether it is ready, then what to do for each tenant
// that is not. One tenant's failure never stops the others.
func (m *Main) doctorTenants(ctx context.Context, cf *connFlags, lf *logFlags, tenants []string, concurrency int, tags, groups bool, log *slog.Logger) error {
	svc, err := m.openService(ctx, cf, false, tenants)
	if err != nil {
		return err
	}
	defer svc.close()
	lines := make([]doctorTenant, len(tenants))
	g := new(errgroup.Group)
	g.SetLimit(concurrency)
	for i, t := range tenants {
		g.Go(func() error {
			lines[i].Tenant = t
			c, err := m.connectTo(ctx, svc, cf, t, log.With("tenant", t), "")
			if err != nil {
				lines[i].Error = err.Error()
				return nil
			}
			defer c.close()
			rep, err := m.doctorOne(ctx, c, cf, tags, groups)
			if err != nil {
				lines[i].Error = err.Error()
				return nil
			}
			lines[i].Report = rep
			return nil
		})
	}
	g.Wait()
	var notReady []string
	for _, l := range lines {
		if l.Report == nil || !l.Report.Ready {
			notReady = append(notReady, l.Tenant)
		}
	}
	if lf.format == "json" {
		if err := json.NewEncoder(m.Stdout).Encode(map[string]any{"tenants": lines, "ready": len(notReady) == 0}); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else {
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "tenant\t"+strings.Join(doctorChecks, "\t")+"\tready")
		for _, l := range lines {
			cells := []string{l.Tenant}
			for _, name := range doctorChecks {
				cells = append(cells, l.result(name))
			}
			ready := "yes"
			if l.Report == nil || !l.Report.Ready {
				ready = "no"
			}
			fmt.Fprintln(tw, strings.Join(append(cells, ready), "\t"))
		}
		tw.Flush()
		for _, l := range lines {
			switch {
			case l.Error != "":
				fmt.Fprintf(m.Stdout, "\n%s: %s\n", l.Tenant, l.Error)
			case !l.Report.Ready:
				fmt.Fprintf(m.Stdout, "\n%s: %s\n", l.Tenant, l.Report.Advice)
			}
		}
	}
	if len(notReady) > 0 {
		return &exitError{code: exitRows, err: fmt.Errorf("doctor: %d of %d tenant(s) not ready: %s", len(notReady), len(lines), strings.Join(notReady, ", "))}
	}
	return nil
}

// result is the result of the check named name, or "failed" when the
// tenant could not be signed in to (sign-in) and "-" for the others then.
func (l doctorTenant) result(name string) string {
	if l.Report == nil {
		if name == "sign-in" {
			return doctor.Fail
		}
		return "-"
	}
	for _, c := range l.Report.Checks {
		if c.Name == name {
			return c.Result
		}
	}
	return "-"
}
