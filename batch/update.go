package batch

import (
	"context"
	"errors"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// renew creates a fresh token for an existing profile and reads it back.
func (w *worker) renew(ctx context.Context, it *item) error {
	r := &it.r
	r.Attempts++
	if err := w.Client.CreateToken(ctx, r.ID, w.validity(it)); err != nil {
		if errors.Is(err, ratelimit.ErrStopped) {
			r.Attempts--
			r.Status = results.NotAttempted
			r.ErrorMessage = "stopped before the token was renewed; the profile keeps its old token"
			return nil
		}
		if tokenRefused(r, err) {
			r.Status = results.Failed
			r.ErrorMessage = "renewing the token failed: " + r.ErrorMessage
			return nil
		}
		record(r, err)
		r.Status = results.Failed
		r.ErrorMessage = "renewing the token failed: " + r.ErrorMessage
		if graph.IsAuth(err) {
			return err
		}
		return nil
	}
	r.Status = results.Renewed
	return w.fetch(ctx, it)
}

// StaleNote ends the changes of an update that alters the QR payload.
const StaleNote = "QR payload changed: codes printed before this update are stale; print the new sheet and destroy the old one"

// update patches the properties of the row that differ from the tenant's
// profile. The client retries it after a transient failure, an update
// being idempotent. When the change alters the QR payload, the new content
// is read back so that a replacement label is printed.
//
// With a deviceGroup to apply (it.readGroup), the profile's device group
// is read back after the patch and set or cleared when it differs
// (group.go). A row whose only work was the group and whose group already
// matches stays exists; renewing its token then is a renewal (renew).
func (w *worker) update(ctx context.Context, it *item) error {
	r := &it.r
	d := it.diff
	if !d.Empty() {
		r.Attempts++
		_, resp, err := w.Client.Patch(ctx, r.ID, d.Patch)
		if err != nil {
			record(r, err)
			r.Status = results.Failed
			if graph.IsAuth(err) {
				return err
			}
			var ge *graph.Error
			if !errors.As(err, &ge) && (ctx.Err() != nil || errors.Is(err, ratelimit.ErrStopped)) {
				it.notSent(errors.Is(err, ratelimit.ErrStopped))
				r.Attempts--
			}
			return nil
		}
		clearError(r)
		r.Status, r.HTTPStatus = results.Updated, resp.Status
		r.RequestID, r.ClientRequestID = resp.RequestID, resp.ClientRequestID
	}
	if it.readGroup {
		changed, ok, err := w.syncGroup(ctx, it, !d.Empty())
		if !ok {
			return err
		}
		if changed {
			r.Status = results.Updated
		}
	}
	if r.Status != results.Updated {
		// Nothing changed: the group was already the row's.
		switch {
		case it.renew:
			return w.renew(ctx, it)
		case w.QRExisting:
			return w.fetch(ctx, it)
		}
		return nil
	}
	if it.renew {
		if err := w.Client.CreateToken(ctx, r.ID, w.validity(it)); err != nil {
			return w.contentFailed(r, "renew its token after the update", err)
		}
		r.Notes = append(r.Notes, "token renewed after the update (--renew-within)")
		r.Replaces = true
		return w.fetch(ctx, it)
	}
	if d.Payload {
		r.Replaces = true
		return w.fetch(ctx, it)
	}
	if w.QRExisting {
		return w.fetch(ctx, it)
	}
	return nil
}
