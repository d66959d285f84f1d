package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/provisioning"
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
	cf.register(fs, m.Getenv)
	lf.register(fs)
	sf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
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
		rs      []results.Result
		extra   []string
		refused int // rows the tenant says are stale
	)
	if resultsPath != "" {
		run, got, err := output.ReadWorkbook(resultsPath)
		if err != nil {
			return &usageError{err}
		}
		rs, extra = got, run.ExtraHeaders
		if only != "" {
			rs = onlyNamed(rs, only)
		}
		refused += m.checkAgainstTenant(ctx, &cf, log, rs)
	} else {
		c, err := m.connect(ctx, &cf, log)
		if err != nil {
			return err
		}
		defer c.close()
		rs, err = tenantResults(ctx, c.client, prefix, log)
		if err != nil {
			return err
		}
		if only != "" {
			rs = onlyNamed(rs, only)
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
	sheet, err := output.WriteSheet(out, sf.spec(time.Now()), results.FromSlice(rs), extra, false)
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
	return nil
}

// tenantResults lists the profiles whose name starts with prefix and reads
// each one's QR content, which the service returns only when selected.
//
// The code carries the provisioning JSON found in the service's content and
// image (see package provisioning); warnings about them go to log.
func tenantResults(ctx context.Context, c *graph.Client, prefix string, log *slog.Logger) ([]results.Result, error) {
	all, err := c.List(ctx, "id", "displayName", "enrollmentMode", "enrollmentTokenType")
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	var rs []results.Result
	for _, pr := range all {
		if profile.HasNamePrefix(pr.DisplayName, prefix) {
			r := results.Result{DisplayName: pr.DisplayName, ID: pr.ID, Status: results.Exists}
			if known, why := pr.Known(); !known {
				// Skipped for printing, never a failure: the tenant may
				// hold profiles of modes this tool does not know.
				r.Notes = append(r.Notes, "not printed: "+why)
			}
			rs = append(rs, r)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range rs {
		if len(rs[i].Notes) > 0 {
			continue
		}
		g.Go(func() error {
			got, err := c.Get(gctx, rs[i].ID, "id", "displayName", "description", "tokenExpirationDateTime", "qrCodeContent", "qrCodeImage")
			if err != nil {
				return fmt.Errorf("read %q: %w", rs[i].DisplayName, err)
			}
			rs[i].Description = got.Description
			rs[i].TokenExpiration = got.TokenExpirationDateTime
			var img []byte
			if got.QRCodeImage != nil {
				img = got.QRCodeImage.Value
			}
			pl := provisioning.Resolve(got.QRCodeContent, img)
			rs[i].QRCodeContent, rs[i].QRCodeImage = pl.Content, pl.Image
			rs[i].Notes = append(append(rs[i].Notes, pl.Notes...), pl.Warnings...)
			for _, w := range pl.Warnings {
				log.Warn("qr code", "displayName", rs[i].DisplayName, "id", rs[i].ID, "warning", w)
			}
			return nil
		})
	}
	return rs, g.Wait()
}

// onlyNamed keeps the results whose names are in the comma-separated list.
func onlyNamed(rs []results.Result, only string) []results.Result {
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		want[profile.Key(n)] = true
	}
	kept := rs[:0]
	for _, r := range rs {
		if want[profile.Key(r.DisplayName)] {
			kept = append(kept, r)
		}
	}
	return kept
}

// checkAgainstTenant makes sure the codes of a results workbook still
// enroll: a profile deleted since, a token revoked or replaced (its expiry
// differs), or content that changed (settings updated) is not printed, with
// a note. It returns how many rows it held back. When the tenant cannot be
// reached it says so and holds back nothing.
func (m *Main) checkAgainstTenant(ctx context.Context, cf *connFlags, log *slog.Logger, rs []results.Result) int {
	var ids []int
	for i := range rs {
		if rs[i].Printable() && rs[i].ID != "" {
			ids = append(ids, i)
		}
	}
	if len(ids) == 0 {
		return 0
	}
	cannot := func(err error) int {
		fmt.Fprintf(m.Stderr, "warning: the codes were not checked against the tenant (%v): any revoked or replaced since the run are printed anyway; sign in to check them, or print with --from-tenant\n", err)
		log.Warn("tenant not checked", "error", err.Error())
		return 0
	}
	c, err := m.connect(ctx, cf, log)
	if err != nil {
		return cannot(err)
	}
	defer c.close()
	all, err := c.client.List(ctx, "id", "displayName", "tokenExpirationDateTime")
	if err != nil {
		return cannot(err)
	}
	byID := make(map[string]profile.Profile, len(all))
	for _, p := range all {
		byID[p.ID] = p
	}
	stale := make([]string, len(rs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, i := range ids {
		r := &rs[i]
		p, ok := byID[r.ID]
		switch {
		case !ok:
			stale[i] = "the profile is no longer in the tenant"
			continue
		case p.TokenExpirationDateTime.IsZero():
			stale[i] = "its token was revoked since the run"
			continue
		case !r.TokenExpiration.IsZero() && absDuration(p.TokenExpirationDateTime.Sub(r.TokenExpiration)) >= time.Second:
			stale[i] = fmt.Sprintf("its token was replaced since the run (the tenant's expires %s)", p.TokenExpirationDateTime.UTC().Format("2006-01-02 15:04 MST"))
			continue
		}
		if r.QRCodeContent == "" {
			continue
		}
		g.Go(func() error {
			got, err := c.client.Get(gctx, r.ID, "id", "qrCodeContent", "qrCodeImage")
			if err != nil {
				return err
			}
			var img []byte
			if got.QRCodeImage != nil {
				img = got.QRCodeImage.Value
			}
			if pl := provisioning.Resolve(got.QRCodeContent, img); pl.Content != "" && results.StoredContent(pl.Content) != r.QRCodeContent {
				stale[i] = "its QR content changed since the run (token replaced or settings updated)"
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return cannot(err)
	}
	n := 0
	for i, why := range stale {
		if why == "" {
			continue
		}
		n++
		rs[i].Status = results.NotAttempted
		rs[i].Notes = append(rs[i].Notes, "not printed: "+why+"; print it with enrollbatch qr --from-tenant")
		log.Warn("stale code", "displayName", rs[i].DisplayName, "id", rs[i].ID, "reason", why)
	}
	fmt.Fprintf(m.Stderr, "checked %d code(s) against the tenant: %d stale\n", len(ids), n)
	return n
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
