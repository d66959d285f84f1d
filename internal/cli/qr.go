package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/qrsheet"
	"github.com/enrollbatch/enrollbatch/reprint"
	"github.com/enrollbatch/enrollbatch/results"
)

func (m *Main) qrCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("qr", "qr (--results FILE | --from-tenant --name-prefix P) --out FILE [flags]")
	var (
		resultsPath, out, only, prefix string
		fromTenant                     bool
		cf                             connFlags
		lf                             logFlags
		sf                             sheetFlags
	)
	fs.StringVar(&resultsPath, "results", "", "print from this results workbook (rows created or exists)")
	fs.BoolVar(&fromTenant, "from-tenant", false, "print from the tenant's profiles instead of a workbook")
	fs.StringVar(&prefix, "name-prefix", "", "with --from-tenant: profiles whose displayName starts with this")
	fs.StringVar(&only, "only", "", "print only these displayNames, separated by commas")
	fs.StringVar(&out, "out", "", "PDF file to write, ending in .pdf (required)")
	var force bool
	fs.BoolVar(&force, "force", false, "replace --out even when enrollbatch did not write it")
	var noCheck bool
	fs.BoolVar(&noCheck, "no-check", false, "with --results: print without checking the codes against the tenant (no sign-in; codes revoked or replaced since are printed too)")
	var tf tenantFlags
	cf.register(fs, m.Getenv)
	lf.register(fs)
	sf.register(fs)
	tf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := tf.check(); err != nil {
		return err
	}
	if len(tf.tenants) > 0 && !fromTenant {
		return usagef("--tenant goes with --from-tenant; a results workbook of a run over several tenants names its tenant itself")
	}
	if out == "" {
		return usagef("--out is required")
	}
	if !strings.EqualFold(filepath.Ext(out), ".pdf") {
		return usagef("--out %s: the QR sheet is a PDF: give a file name ending in .pdf", out)
	}
	if err := output.CheckReplace(out, force, resultsPath); err != nil {
		return usagef("--out: %w, or pass --force to replace it", err)
	}
	if (resultsPath == "") == !fromTenant {
		return usagef("give either --results FILE or --from-tenant")
	}
	if err := checkNamePrefix(fs, prefix); err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	var (
		rs        []results.Result
		extra     []string
		refused   int  // rows the tenant says are stale
		unchecked bool // the codes could not be checked against the tenant
	)
	if resultsPath != "" {
		run, got, err := output.ReadWorkbook(resultsPath)
		if err != nil {
			return &usageError{err}
		}
		rs, extra = got, run.ExtraHeaders
		if only != "" {
			rs = reprint.OnlyNamed(rs, only)
		}
		if !noCheck {
			stale, checked := m.checkCodes(ctx, &cf, log, rs, run.Tenant, filepath.Dir(resultsPath))
			refused += stale
			unchecked = !checked
		}
	} else if len(tf.tenants) > 0 {
		return m.qrFromTenants(ctx, &cf, &sf, tf.shard.Take(tf.tenants), tf.concurrency, out, force, prefix, only, log)
	} else {
		c, err := m.connect(ctx, &cf, log)
		if err != nil {
			return err
		}
		defer c.close()
		rs, err = reprint.FromTenant(ctx, c.client, prefix, log)
		if err != nil {
			return err
		}
		if only != "" {
			rs = reprint.OnlyNamed(rs, only)
		}
		for _, r := range rs {
			fmt.Fprintf(m.Stdout, "read %s (%s)\n", r.DisplayName, r.ID)
		}
		fmt.Fprintf(m.Stderr, "read %d profile(s) from the tenant whose name starts with %q\n", len(rs), prefix)
	}
	if err := sf.checkColumns(extra); err != nil {
		return err
	}
	// The sheet encodes the codes itself, on every core.
	sheet, err := qrsheet.Write(out, sf.spec(time.Now()), results.FromSlice(rs), extra, false)
	if err != nil {
		return fmt.Errorf("write QR sheet: %w", err)
	}
	sheet.Report(m.Stderr, results.FromSlice(rs))
	for _, r := range rs {
		for _, n := range r.Notes {
			if why, ok := strings.CutPrefix(n, "not printed: "); ok {
				fmt.Fprintf(m.Stderr, "not printed: %s (%s): %s\n", r.DisplayName, r.ID, why)
			}
		}
	}
	if sheet.Labels == 0 {
		fmt.Fprintln(m.Stderr, "nothing to print: no matching profile with a valid token")
		return &rowsError{n: len(sheet.Skipped) + refused}
	}
	if len(sheet.Skipped)+refused > 0 {
		return &rowsError{n: len(sheet.Skipped) + refused}
	}
	if unchecked {
		// The sheet is written, but nothing says its codes still enroll.
		return &rowsError{}
	}
	return nil
}

// checkCodes checks the codes of a results workbook against the tenant
// (see reprint.Check) and returns how many it held back, and whether the
// check could be made. When the tenant cannot be reached it says so once,
// with what to do, and holds back nothing.
//
// A workbook of a run over several tenants names its tenant: the check
// signs in to that tenant, and to no other.
func (m *Main) checkCodes(ctx context.Context, cf *connFlags, log *slog.Logger, rs []results.Result, tenant, folder string) (stale int, checked bool) {
	if !slices.ContainsFunc(rs, func(r results.Result) bool { return r.Printable() && r.ID != "" }) {
		return 0, true // nothing to check: no need to sign in
	}
	var c *conn
	var err error
	if tenant == "" {
		c, err = m.connect(ctx, cf, log)
	} else {
		var svc *service
		if svc, err = m.openService(ctx, cf, false, []string{tenant}); err == nil {
			defer svc.close()
			// Simulated, the tenant is the one kept beside the results.
			c, err = m.connectTo(ctx, svc, cf, tenant, log.With("tenant", tenant), filepath.Join(folder, simTenantFile))
		}
	}
	if err == nil {
		defer c.close()
		var n int
		if n, stale, err = reprint.Check(ctx, c.client, rs, log); err == nil {
			if n > 0 {
				fmt.Fprintf(m.Stderr, "checked %d code(s) against the tenant: %d stale\n", n, stale)
			}
			return stale, true
		}
	}
	log.Warn("the codes were not checked against the tenant, so any revoked or replaced since the run are printed anyway: sign in to check them (exit code 1 until then), pass --no-check to print without the check, or print with --from-tenant", "error", err.Error())
	return 0, false
}

// qrFromTenants prints the codes of several tenants' profiles, one sheet
// per tenant: --out DIR/NAME.pdf writes DIR/<tenant>/NAME.pdf, each headed
// with its tenant. A tenant that cannot be read fails alone.
func (m *Main) qrFromTenants(ctx context.Context, cf *connFlags, sf *sheetFlags, tenants []string, concurrency int, out string, force bool, prefix, only string, log *slog.Logger) error {
	svc, err := m.openService(ctx, cf, false, tenants)
	if err != nil {
		return err
	}
	defer svc.close()
	var failed, bad atomic.Int64
	g := new(errgroup.Group)
	g.SetLimit(concurrency)
	for _, t := range tenants {
		g.Go(func() error {
			path := filepath.Join(filepath.Dir(out), t, filepath.Base(out))
			err := m.qrOneTenant(ctx, svc, cf, *sf, t, path, force, prefix, only, log.With("tenant", t))
			var re *rowsError
			switch {
			case errors.As(err, &re):
				failed.Add(int64(re.n))
			case err != nil:
				bad.Add(1)
				fmt.Fprintf(m.Stderr, "enrollbatch: tenant %s: %v\n", t, err)
			}
			return nil
		})
	}
	g.Wait()
	if failed.Load() > 0 || bad.Load() > 0 {
		return &rowsError{n: int(failed.Load())}
	}
	return nil
}

// qrOneTenant prints one tenant's sheet at path.
func (m *Main) qrOneTenant(ctx context.Context, svc *service, cf *connFlags, sf sheetFlags, t, path string, force bool, prefix, only string, log *slog.Logger) error {
	if err := output.CheckReplace(path, force); err != nil {
		return fmt.Errorf("%w, or pass --force to replace it", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	c, err := m.connectTo(ctx, svc, cf, t, log, "")
	if err != nil {
		return err
	}
	defer c.close()
	rs, err := reprint.FromTenant(ctx, c.client, prefix, log)
	if err != nil {
		return err
	}
	if only != "" {
		rs = reprint.OnlyNamed(rs, only)
	}
	fmt.Fprintf(m.Stderr, "read %d profile(s) from tenant %s whose name starts with %q\n", len(rs), t, prefix)
	if sf.title == "" {
		sf.tenant = t
		if name, err := c.client.OrganizationName(ctx); err == nil && name != "" {
			sf.tenant = name + " (" + t + ")"
		}
	}
	sf.simulated = cf.simulate
	sheet, err := qrsheet.Write(path, sf.spec(time.Now()), results.FromSlice(rs), nil, false)
	if err != nil {
		return fmt.Errorf("write QR sheet: %w", err)
	}
	sheet.Report(m.Stderr, results.FromSlice(rs))
	if sheet.Labels == 0 {
		fmt.Fprintf(m.Stderr, "tenant %s: nothing to print: no matching profile with a valid token\n", t)
	}
	if n := len(sheet.Skipped); n > 0 || sheet.Labels == 0 {
		return &rowsError{n: n}
	}
	return nil
}
