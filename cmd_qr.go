package main

import (
	"context"
	"fmt"
	"log/slog"
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
	fs.StringVar(&out, "out", "", "PDF file to write (required)")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	sf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		return usagef("--out is required")
	}
	if (resultsPath == "") == !fromTenant {
		return usagef("give either --results FILE or --from-tenant")
	}
	if err := sf.check(); err != nil {
		return err
	}
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	var (
		rs    []results.Result
		extra []string
	)
	if resultsPath != "" {
		run, got, err := output.ReadWorkbook(resultsPath)
		if err != nil {
			return &usageError{err}
		}
		rs, extra = got, run.ExtraHeaders
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
	}
	if err := sf.checkColumns(extra); err != nil {
		return err
	}
	if only != "" {
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
		rs = kept
	}
	// The sheet encodes the codes itself, on every core.
	sheet, err := writeSheet(out, &sf, rs, extra, time.Now(), false)
	if err != nil {
		return fmt.Errorf("write QR sheet: %w", err)
	}
	sheet.report(m.Stderr, rs)
	for _, r := range rs {
		for _, n := range r.Notes {
			if why, ok := strings.CutPrefix(n, "not printed: "); ok {
				fmt.Fprintf(m.Stderr, "not printed: %s (%s): %s\n", r.DisplayName, r.ID, why)
			}
		}
	}
	if sheet.labels == 0 {
		fmt.Fprintln(m.Stderr, "nothing to print: no matching profile with a valid token")
		return &rowsError{n: len(sheet.skipped)}
	}
	if len(sheet.skipped) > 0 {
		return &rowsError{n: len(sheet.skipped)}
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
	p := strings.ToLower(prefix)
	for _, pr := range all {
		if strings.HasPrefix(strings.ToLower(pr.DisplayName), p) {
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
