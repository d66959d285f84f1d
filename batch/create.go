package batch

import (
	"context"
	"errors"
	"fmt"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// create posts the row, resending after transient failures. Before any resend
// it looks the name up, since the failed attempt may have created the
// profile: a profile with the name that was not in the tenant before the run
// is taken as this row's.
func (w *worker) create(ctx context.Context, it *item) error {
	row, r := &it.row, &it.r
	maybe := false // an earlier attempt may have created the profile
	tries := graph.Retries{Max: w.MaxRetries}
	for {
		attempt := tries.Attempt()
		if maybe {
			p, found, err := w.lookup(ctx, row.DisplayName)
			if errors.Is(err, ratelimit.ErrStopped) {
				r.Status = results.Failed
				r.ErrorMessage = "stopped before the row was settled: an earlier attempt may have created the profile (" + r.ErrorMessage + "); rerun with --on-exists skip to find out"
				return nil
			}
			if err != nil {
				if graph.IsAuth(err) {
					record(r, err)
					r.Status = results.Failed
					return err
				}
				record(r, err)
				r.Status = results.Failed
				r.ErrorMessage = "the profile may have been created, but looking it up failed: " + r.ErrorMessage + "; rerun with --on-exists skip to settle it"
				return nil
			}
			if found {
				return w.adopt(ctx, it, p)
			}
			if w.stopped() {
				r.Status = results.NotAttempted
				r.ErrorMessage = "stopped before the row was finished; no profile exists for it: " + r.ErrorMessage
				return nil
			}
		}
		r.Attempts = attempt
		p, resp, err := w.Client.Create(ctx, row.Body)
		if err == nil {
			clearError(r)
			r.Status, r.ID, r.HTTPStatus = results.Created, p.ID, resp.Status
			if r.EnrollmentMode == "" {
				r.EnrollmentMode = p.EnrollmentMode // the service's default
			}
			r.RequestID, r.ClientRequestID = resp.RequestID, resp.ClientRequestID
			r.TokenExpiration = inRowZone(p.TokenExpirationDateTime, *row)
			if ok, err := w.groupAfterCreate(ctx, it); !ok {
				return err
			}
			return w.complete(ctx, it, p)
		}
		record(r, err)
		r.Status = results.Failed
		if graph.IsAuth(err) {
			return err
		}
		var ge *graph.Error
		if !errors.As(err, &ge) {
			stopped := errors.Is(err, ratelimit.ErrStopped)
			if (ctx.Err() != nil || stopped) && !maybe {
				// Stopped or cancelled while waiting for the pacer (also
				// during a Retry-After pause): never sent.
				r.Status, r.Attempts = results.NotAttempted, attempt-1
				r.ErrorMessage = "cancelled before the request was sent; no profile exists for it"
				if stopped {
					r.ErrorMessage = "stopped before the request was sent; no profile exists for it"
				}
			}
			var se *graph.SignInError
			if errors.As(err, &se) && !maybe {
				// No token, so nothing was sent: no profile exists for it.
				r.Status, r.Attempts = results.NotAttempted, attempt-1
				r.ErrorMessage = "not sent: " + err.Error() + "; run the same command again to create it"
			}
			return nil
		}
		if ctx.Err() != nil {
			r.ErrorMessage = "cancelled while the request was in flight; it may have been created: rerun with --on-exists skip to find out"
			return nil
		}
		if !ge.Transient() {
			return nil
		}
		maybe = maybe || ge.MaybeApplied()
		if !tries.Again(ge) {
			if maybe {
				// Settle whether the last attempt created it.
				if p, found, lerr := w.lookup(ctx, row.DisplayName); lerr == nil && found {
					return w.adopt(ctx, it, p)
				}
			}
			r.ErrorMessage = fmt.Sprintf("gave up after %d attempts: %s", attempt, r.ErrorMessage)
			return nil
		}
		if !ge.HasRetryAfter && !w.stopped() && w.Client.Pacer != nil {
			if err := w.Client.Pacer.Sleep(ctx, w.Client.Pacer.Backoff(attempt)); err != nil {
				r.ErrorMessage = "cancelled while waiting to retry; it may have been created: rerun with --on-exists skip to find out"
				return nil
			}
		}
	}
}

// adopt takes p, found by name after an attempt whose answer was lost, as
// the profile this row created.
func (w *worker) adopt(ctx context.Context, it *item, p profile.Profile) error {
	r := &it.r
	clearError(r)
	r.Status, r.ID, r.TokenExpiration = results.Created, p.ID, inRowZone(p.TokenExpirationDateTime, it.row)
	if ok, err := w.groupAfterCreate(ctx, it); !ok {
		return err
	}
	return w.fetch(ctx, it)
}

// lookup finds a profile named name that was not in the tenant before the
// run.
func (w *worker) lookup(ctx context.Context, name string) (profile.Profile, bool, error) {
	ps, err := w.Client.FindByName(ctx, name, "id", "displayName", "tokenExpirationDateTime")
	if err != nil {
		return profile.Profile{}, false, err
	}
	key := profile.Key(name)
	for _, p := range ps {
		if !w.before[p.ID] && profile.Key(p.DisplayName) == key {
			return p, true, nil
		}
	}
	return profile.Profile{}, false, nil
}
