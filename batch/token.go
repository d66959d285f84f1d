package batch

import (
	"errors"
	"fmt"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// tokenRefused records a token action the service refused for this
// profile alone (a *graph.TokenError) and reports whether err was one: the
// row fails, the run goes on.
func tokenRefused(r *results.Result, err error) bool {
	var te *graph.TokenError
	if !errors.As(err, &te) {
		return false
	}
	record(r, err)
	r.ErrorMessage = fmt.Sprintf("%s for %q (id %s) answered %d: %s; %s", te.Action, r.DisplayName, te.ID, te.Err.Status, r.ErrorMessage, te.Why)
	return true
}

// validity is the token lifetime for the row (Job.lifetime), with a note
// on the row when it was cut to the mode's limit.
func (w *worker) validity(it *item) time.Duration {
	d, note := w.lifetime(&it.row, it.mode, w.Now())
	if note != "" {
		w.note(&it.r, note)
	}
	return d
}

// lifetime is the token lifetime for row: up to its tokenExpirationDateTime
// when given, else --token-validity; never more than the mode allows
// (profile.TokenLimitFor), the row's mode or else tenantMode. The note
// says when the lifetime was cut.
func (j *Job) lifetime(row *input.Row, tenantMode string, now time.Time) (time.Duration, string) {
	d := j.TokenValidity
	fromRow := false
	if exp := row.TokenExpiration; !exp.IsZero() {
		if left := exp.Sub(now); left > time.Hour {
			d, fromRow = left, true
		}
	}
	mode, _ := row.Body["enrollmentMode"].(string)
	if mode == "" {
		mode = tenantMode
	}
	limit := profile.MaxTokenValidity(mode, now)
	if d <= limit {
		return d, ""
	}
	what := fmt.Sprintf("--token-validity %s", days(j.TokenValidity))
	if fromRow {
		what = "tokenExpirationDateTime " + row.TokenExpiration.Format(time.RFC3339)
	}
	return limit, fmt.Sprintf("token lifetime: %s is longer than %s tokens may last (%s, %s); the token was asked for %s",
		what, profile.EffectiveMode(mode), profile.TokenLimitFor(mode), profile.TokenLimitFor(mode).Source, days(limit))
}

// days renders a lifetime for people, in whole days when it is one.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%.1fd", d.Hours()/24)
}
