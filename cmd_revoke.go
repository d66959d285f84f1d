package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

func (m *Main) revokeCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("revoke", "revoke (--input FILE | --name-prefix P) [--dry-run] [--yes]")
	var (
		inPath, sheet, prefix, out string
		dryRun, yes                bool
		cf                         connFlags
		lf                         logFlags
	)
	fs.StringVar(&inPath, "input", "", "revoke the tokens of the profiles named in this file")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default the first)")
	fs.StringVar(&prefix, "name-prefix", "", "revoke the tokens of profiles whose displayName starts with this")
	fs.BoolVar(&dryRun, "dry-run", false, "list what would be revoked; revoke nothing")
	fs.BoolVar(&yes, "yes", false, "revoke without asking; needed when stdin is not a terminal")
	fs.StringVar(&out, "out", "", "folder for results.xlsx (created); none when empty")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if (inPath == "") == (prefix == "") {
		return usagef("give either --input FILE or --name-prefix P")
	}
	if err := checkNamePrefix(fs, prefix); err != nil {
		return err
	}
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	run := results.Run{Command: "revoke", Input: inPath, DryRun: dryRun, Start: start, Rate: cf.rate, Concurrency: 1}
	type wanted struct {
		row  int
		name string
	}
	var want []wanted // in file order
	if inPath != "" {
		file, err := input.Read(inPath, input.Options{Sheet: sheet})
		if err != nil {
			return &usageError{err}
		}
		run.Sheet = file.Sheet
		for _, r := range file.Rows {
			if r.DisplayName != "" {
				want = append(want, wanted{r.Line, r.DisplayName})
			}
		}
	} else {
		run.Input = fmt.Sprintf("name prefix %q", prefix)
	}
	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	run.GraphURL = c.url
	all, err := c.client.List(ctx, "id", "displayName", "tokenExpirationDateTime")
	if err != nil {
		if graph.IsAuth(err) {
			return err
		}
		return fmt.Errorf("list profiles: %w", err)
	}
	// What it touches, listed before anything is revoked.
	var rs []results.Result
	if inPath != "" {
		byKey := map[string][]profile.Profile{}
		for _, p := range all {
			byKey[profile.Key(p.DisplayName)] = append(byKey[profile.Key(p.DisplayName)], p)
		}
		for _, w := range want {
			ps := byKey[profile.Key(w.name)]
			if len(ps) == 0 {
				rs = append(rs, results.Result{Row: w.row, DisplayName: w.name, Status: results.NotFound, ErrorMessage: "no profile with this name is in the tenant"})
			}
			for _, p := range ps {
				r := results.Result{Row: w.row, DisplayName: p.DisplayName, ID: p.ID, TokenExpiration: p.TokenExpirationDateTime, Status: results.Planned}
				if note := profile.MatchNote(w.name, p.DisplayName); note != "" {
					r.Notes = append(r.Notes, note)
				}
				rs = append(rs, r)
			}
		}
	} else {
		for _, p := range all {
			if profile.HasNamePrefix(p.DisplayName, prefix) {
				rs = append(rs, results.Result{DisplayName: p.DisplayName, ID: p.ID, TokenExpiration: p.TokenExpirationDateTime, Status: results.Planned})
			}
		}
	}
	verb := "will revoke"
	if dryRun {
		verb = "would revoke"
	}
	n := 0
	for _, r := range rs {
		switch r.Status {
		case results.Planned:
			n++
			fmt.Fprintf(m.Stdout, "%s %s (%s)\n", verb, r.DisplayName, r.ID)
		case results.NotFound:
			fmt.Fprintf(m.Stdout, "not in the tenant: %s\n", r.DisplayName)
		}
	}
	if n == 0 && prefix != "" {
		fmt.Fprintf(m.Stderr, "no profile starts with %q\n", prefix)
	}
	if !dryRun {
		if err := m.confirm(fmt.Sprintf("Revoke the tokens of %d profile(s)? Their printed codes stop working.", n), "revoked", n, yes); err != nil {
			return err
		}
	}
	var runErr error
	for i := range rs {
		r := &rs[i]
		if r.Status != results.Planned || dryRun {
			m.logRevoke(log, r)
			continue
		}
		if runErr != nil {
			r.Status, r.ErrorMessage = results.NotAttempted, "not attempted: the run was aborted"
			continue
		}
		r.Attempts = 1
		if err := c.client.RevokeToken(ctx, r.ID); err != nil {
			r.Status = results.Failed
			r.ErrorMessage = err.Error()
			fmt.Fprintf(m.Stdout, "failed %s (%s): %v\n", r.DisplayName, r.ID, err)
			if graph.IsAuth(err) {
				runErr = err
			}
		} else {
			r.Status, r.TokenExpiration = results.Revoked, time.Time{}
			fmt.Fprintf(m.Stdout, "revoked %s (%s)\n", r.DisplayName, r.ID)
		}
		m.logRevoke(log, r)
	}
	run.End = time.Now()
	run.Requests, run.Throttled = c.client.Requests(), c.client.ThrottledCount()
	if runErr != nil {
		run.Aborted = runErr.Error()
	}
	if out != "" {
		if err := os.MkdirAll(out, 0o700); err != nil {
			return usagef("create output folder: %w", err)
		}
		xlsx := filepath.Join(out, "results.xlsx")
		if err := output.WriteWorkbook(xlsx, run, rs); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		fmt.Fprintf(m.Stderr, "wrote %s\n", xlsx)
	}
	if runErr != nil {
		return runErr
	}
	return rowsOutcome(rs)
}

func (m *Main) logRevoke(log interface {
	Info(string, ...any)
}, r *results.Result) {
	attrs := []any{"row", r.Row, "displayName", r.DisplayName, "status", string(r.Status), "id", r.ID}
	if r.ErrorMessage != "" {
		attrs = append(attrs, "error", r.ErrorMessage)
	}
	log.Info("row", attrs...)
}
