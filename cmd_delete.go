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
	"github.com/enrollbatch/enrollbatch/removal"
	"github.com/enrollbatch/enrollbatch/results"
)

func (m *Main) deleteCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("delete", "delete (--input FILE | --name-prefix P) [--dry-run] [--yes] [--force] [flags]")
	var (
		inPath, sheet, prefix, out string
		dryRun, yes, force         bool
		concurrency                int
		cf                         connFlags
		lf                         logFlags
	)
	fs.StringVar(&inPath, "input", "", "delete the profiles named in this file's displayName column")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default the first)")
	fs.StringVar(&prefix, "name-prefix", "", "delete the profiles whose displayName starts with this (case is ignored)")
	fs.BoolVar(&dryRun, "dry-run", false, "list what would be deleted (status planned); delete nothing")
	fs.BoolVar(&yes, "yes", false, "delete without asking; needed when stdin is not a terminal")
	fs.BoolVar(&force, "force", false, "also delete profiles that devices enrolled with (enrolledDeviceCount > 0)")
	fs.StringVar(&out, "out", "out", "folder for results.xlsx (created)")
	fs.IntVar(&concurrency, "concurrency", 4, "deletes in flight at once")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if (inPath == "") == (prefix == "") {
		fs.Usage()
		return usagef("give either --input FILE or --name-prefix P")
	}
	if err := checkNamePrefix(fs, prefix); err != nil {
		return err
	}
	if concurrency < 1 {
		return usagef("--concurrency %d: use 1 or more", concurrency)
	}
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	run := results.Run{Command: "delete", Input: inPath, Concurrency: concurrency, Rate: cf.rate, DryRun: dryRun, Start: start}
	var names []removal.Name
	if inPath != "" {
		file, err := input.Read(inPath, input.Options{Sheet: sheet})
		if err != nil {
			return &usageError{err}
		}
		run.Sheet, run.ExtraHeaders = file.Sheet, file.ExtraHeaders
		// Every row gets a result; one without a name is invalid.
		for _, r := range file.Rows {
			names = append(names, removal.Name{Row: r.Line, DisplayName: r.DisplayName, Extras: r.Extras})
		}
	} else {
		run.Input = "name prefix " + fmt.Sprintf("%q", prefix)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return usagef("create output folder: %w", err)
	}
	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	run.GraphURL = c.url
	all, err := c.client.List(ctx, removal.Select...)
	if err != nil {
		if graph.IsAuth(err) {
			return err
		}
		return fmt.Errorf("list profiles: %w", err)
	}
	rs := removal.Plan(all, names, prefix, nil, force)
	n := m.listDeletions(rs, dryRun)
	if !dryRun {
		if err := m.confirm(fmt.Sprintf("Delete %d profile(s) from the tenant?", n), "deleted", n, yes); err != nil {
			return err
		}
	}
	var runErr error
	if dryRun {
		removal.Log(log, rs)
	} else {
		runErr = removal.Apply(ctx, c.client, rs, removal.Options{Concurrency: concurrency, Log: log, Force: force})
	}
	run.End = time.Now()
	run.Requests, run.Throttled, run.Paused = c.client.Requests(), c.client.ThrottledCount(), c.pacer.Stats().Paused
	if runErr != nil {
		run.Aborted = runErr.Error()
	}
	xlsx := filepath.Join(out, "results.xlsx")
	if err := output.WriteWorkbook(xlsx, run, rs); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	tally := results.TallyOf(rs)
	m.summary(log, choice(lf.format), run, &tally)
	if choice(lf.format) != "json" {
		fmt.Fprintf(m.Stderr, "wrote %s\n", xlsx)
	}
	if runErr != nil {
		return runErr
	}
	return rowsOutcome(rs)
}

// listDeletions prints what will be (or in a dry run would be) deleted,
// what is kept for its enrolled devices and what is not in the tenant, and
// returns how many profiles will be deleted.
func (m *Main) listDeletions(rs []results.Result, dryRun bool) int {
	verb := "will delete"
	if dryRun {
		verb = "would delete"
	}
	n := 0
	for _, r := range rs {
		switch {
		case r.Status == results.Planned && r.Action == results.ActDelete:
			n++
			fmt.Fprintf(m.Stdout, "%s %s\n", verb, removal.Describe(r))
		case r.Status == results.Failed && r.ErrorCode == removal.CodeEnrolled:
			fmt.Fprintf(m.Stdout, "keep %s\n", removal.Describe(r))
		case r.Status == results.NotFound:
			fmt.Fprintf(m.Stdout, "not in the tenant: %s\n", r.DisplayName)
		}
	}
	if n == 0 {
		fmt.Fprintln(m.Stdout, "nothing to delete")
	}
	return n
}
