package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/enrollbatch/enrollbatch/results"
)

// summary prints the end of a run: for people one line of counts by
// status (with --verbose, also the requests sent, throttled and paused),
// or in JSON mode one "summary" event with the same facts.
func (m *Main) summary(log *slog.Logger, lf *logFlags, run results.Run, t *results.Tally) {
	if lf.format != "json" {
		rows, requests, _ := strings.Cut(t.Summary(run), "\n")
		if !run.DryRun || run.Command != "run" {
			fmt.Fprintln(m.Stderr, rows) // a plan ends with its own counts
		}
		if lf.verbose {
			fmt.Fprint(m.Stderr, requests)
		}
		return
	}
	counts := t.Counts
	byStatus := make([]any, 0, len(results.Statuses))
	for _, s := range results.Statuses {
		byStatus = append(byStatus, slog.Int(string(s), counts[s]))
	}
	elapsed := run.End.Sub(run.Start)
	attrs := []any{
		"command", run.Command, "rows", t.Rows, slog.Group("status", byStatus...),
		"requests", run.Requests, "throttled", run.Throttled,
		"pausedSeconds", run.Paused.Seconds(), "elapsedSeconds", elapsed.Seconds(),
		"dryRun", run.DryRun, "interrupted", run.Interrupted,
	}
	if run.Aborted != "" {
		attrs = append(attrs, "aborted", run.Aborted)
	}
	log.Info("summary", attrs...)
}
