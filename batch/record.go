package batch

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/results"
)

// inRowZone returns t, a time from the service (UTC), in the zone the row
// gave its tokenExpirationDateTime in, so that labels and logs show the
// expiry as the user wrote it: 2027-03-31T23:30-05:00 stays 31 March.
func inRowZone(t time.Time, row input.Row) time.Time {
	if t.IsZero() || row.TokenExpiration.IsZero() || row.TokenExpiration.Location() == time.UTC {
		return t
	}
	return t.In(row.TokenExpiration.Location())
}

func problemText(ps []input.Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.Column != "" {
			parts[i] = p.Column + ": " + p.Message
		} else {
			parts[i] = p.Message
		}
	}
	return strings.Join(parts, "; ")
}

// logRow logs the event of one row's outcome: at info level for rows that
// ended well or were never tried, at warning level for rows that need
// attention (so text logs, which show warnings only, list them with their
// problems).
func (j *Job) logRow(r *results.Result) {
	if j.Log == nil {
		return
	}
	attrs := []any{"row", r.Row, "displayName", r.DisplayName, "status", string(r.Status)}
	if r.Attempts > 0 {
		attrs = append(attrs, "attempt", r.Attempts, "request-id", r.RequestID, "client-request-id", r.ClientRequestID)
	}
	if r.ID != "" {
		attrs = append(attrs, "id", r.ID)
	}
	if len(r.Changes) > 0 {
		attrs = append(attrs, "changes", r.Changes)
	}
	if len(r.Notes) > 0 {
		attrs = append(attrs, "notes", r.Notes)
	}
	if r.ErrorMessage != "" {
		attrs = append(attrs, "error", r.ErrorMessage)
	}
	lvl := slog.LevelInfo
	if r.Status == results.Invalid || r.Status == results.Failed {
		lvl = slog.LevelWarn
	}
	j.Log.Log(context.Background(), lvl, "row", attrs...)
}

// record copies what an error says into the result.
func record(r *results.Result, err error) {
	var ge *graph.Error
	if errors.As(err, &ge) {
		r.HTTPStatus = ge.Status
		r.ErrorCode = ge.Code
		if ge.Transport != nil {
			r.ErrorCode = "NoResponse"
		}
		if ge.Incomplete {
			r.ErrorCode = "IncompleteAnswer"
		}
		r.ErrorMessage = ge.Readable()
		if ge.Message != r.ErrorMessage {
			r.ErrorRaw = ge.Message
		} else {
			r.ErrorRaw = ""
		}
		if ge.RequestID != "" {
			r.RequestID = ge.RequestID
		}
		r.ClientRequestID = ge.ClientRequestID
		return
	}
	r.ErrorMessage = err.Error()
}

func clearError(r *results.Result) {
	r.ErrorCode, r.ErrorMessage, r.ErrorRaw = "", "", ""
}

// note adds a note to r once.
func (w *worker) note(r *results.Result, n string) {
	if !slices.Contains(r.Notes, n) {
		r.Notes = append(r.Notes, n)
		if w.Log != nil {
			w.Log.Warn("note", "row", r.Row, "displayName", r.DisplayName, "note", n)
		}
	}
}
