package cli

import (
	"fmt"
	"log/slog"

	"github.com/enrollbatch/enrollbatch/results"
)

// summary prints the end of a run: the text summary for people, or in
// JSON mode one "summary" event with the same facts.
func (m *Main) summary(log *slog.Logger, format string, run results.Run, t *results.Tally) {
	if format != "json" {
		fmt.Fprint(m.Stderr, t.Summary(run))
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
