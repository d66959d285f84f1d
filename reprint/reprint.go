// Package reprint reads the QR codes to print again: the tenant's own
// (FromTenant, for qr --from-tenant), and checks the codes a results
// workbook holds against the tenant before they are printed (Check, for
// qr --results), so that a code whose profile was deleted, whose token was
// revoked or replaced, or whose settings changed is never printed as
// valid.
package reprint

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/provisioning"
	"github.com/enrollbatch/enrollbatch/results"
)

// readers is how many profiles are read at once.
const readers = 4

// FromTenant lists the profiles whose name starts with prefix and reads
// each one's QR content, which the service returns only when selected.
// Profiles of modes enrollbatch does not know are kept with a note and not
// read. Warnings about the content go to log.
func FromTenant(ctx context.Context, c *graph.Client, prefix string, log *slog.Logger) ([]results.Result, error) {
	all, err := c.List(ctx, "id", "displayName", "enrollmentMode", "enrollmentTokenType")
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	var rs []results.Result
	for _, pr := range all {
		if !profile.HasNamePrefix(pr.DisplayName, prefix) {
			continue
		}
		r := results.Result{DisplayName: pr.DisplayName, ID: pr.ID, Status: results.Exists, EnrollmentMode: pr.EnrollmentMode}
		if known, why := pr.Known(); !known {
			// Skipped for printing, never a failure: the tenant may
			// hold profiles of modes this tool does not know.
			r.Notes = append(r.Notes, "not printed: "+why)
		}
		rs = append(rs, r)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
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
			provisioning.Settle(&rs[i], got, log)
			return nil
		})
	}
	return rs, g.Wait()
}

// OnlyNamed keeps the results whose names are among the comma-separated
// names, compared as every command compares names.
func OnlyNamed(rs []results.Result, names string) []results.Result {
	want := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
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

// Check makes sure the printable codes of rs still enroll: a profile
// deleted since, a token revoked or replaced (its expiry differs), or
// content that changed (settings updated) is not printed: its row becomes
// not_attempted with a note saying why. It returns how many codes it
// checked and how many it held back; on an error (the tenant could not be
// listed or read) it holds back nothing.
func Check(ctx context.Context, c *graph.Client, rs []results.Result, log *slog.Logger) (checked, stale int, err error) {
	var ids []int
	for i := range rs {
		if rs[i].Printable() && rs[i].ID != "" {
			ids = append(ids, i)
		}
	}
	if len(ids) == 0 {
		return 0, 0, nil
	}
	all, err := c.List(ctx, "id", "displayName", "tokenExpirationDateTime")
	if err != nil {
		return 0, 0, err
	}
	byID := make(map[string]profile.Profile, len(all))
	for _, p := range all {
		byID[p.ID] = p
	}
	why := make([]string, len(rs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for _, i := range ids {
		r := &rs[i]
		p, ok := byID[r.ID]
		switch {
		case !ok:
			why[i] = "the profile is no longer in the tenant"
			continue
		case p.TokenExpirationDateTime.IsZero():
			why[i] = "its token was revoked since the run"
			continue
		case !r.TokenExpiration.IsZero() && !results.SameExpiry(p.TokenExpirationDateTime, r.TokenExpiration):
			why[i] = fmt.Sprintf("its token was replaced since the run (the tenant's expires %s)", p.TokenExpirationDateTime.UTC().Format("2006-01-02 15:04 MST"))
			continue
		}
		if r.QRCodeContent == "" {
			continue
		}
		g.Go(func() error {
			got, err := c.Get(gctx, r.ID, "id", "qrCodeContent", "qrCodeImage")
			if err != nil {
				return err
			}
			if pl := provisioning.Of(got); pl.Content != "" && results.StoredContent(pl.Content) != r.QRCodeContent {
				why[i] = "its QR content changed since the run (token replaced or settings updated)"
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	for i, w := range why {
		if w == "" {
			continue
		}
		stale++
		rs[i].Status = results.NotAttempted
		rs[i].Notes = append(rs[i].Notes, "not printed: "+w+"; print it with enrollbatch qr --from-tenant")
		if log != nil {
			log.Warn("stale code", "displayName", rs[i].DisplayName, "id", rs[i].ID, "reason", w)
		}
	}
	return len(ids), stale, nil
}
