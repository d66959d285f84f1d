package batch

import (
	"context"
	"fmt"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/provisioning"
	"github.com/enrollbatch/enrollbatch/results"
)

// selectQR names what a GET must select to return the token and QR code.
var selectQR = []string{"id", "displayName", "tokenValue", "tokenCreationDateTime", "tokenExpirationDateTime", "qrCodeContent", "qrCodeImage"}

// complete makes sure a created profile has a token and QR content: when the
// service returned neither, it creates a token and reads them back.
func (w *worker) complete(ctx context.Context, it *item, p profile.Profile) error {
	r := &it.r
	switch {
	case p.QRCodeContent != "":
		provisioning.Settle(r, p, w.Log)
		w.prepare(r)
		return nil
	case p.TokenValue == "":
		if err := w.Client.CreateToken(ctx, p.ID, w.validity(it)); err != nil {
			if tokenRefused(r, err) {
				r.Status = results.Failed
				r.ErrorMessage = "the profile was created without a token, and " + r.ErrorMessage
				return nil
			}
			return w.contentFailed(r, "create its token", err)
		}
	}
	return w.fetch(ctx, it)
}

// fetch reads a profile's token expiry and QR content.
func (w *worker) fetch(ctx context.Context, it *item) error {
	r := &it.r
	p, err := w.Client.Get(ctx, r.ID, selectQR...)
	if err != nil {
		return w.contentFailed(r, "read its QR code", err)
	}
	if !p.TokenExpirationDateTime.IsZero() {
		r.TokenExpiration = inRowZone(p.TokenExpirationDateTime, it.row)
	}
	provisioning.Settle(r, p, w.Log)
	w.prepare(r)
	return nil
}

func (w *worker) contentFailed(r *results.Result, what string, err error) error {
	keep := r.Status
	record(r, err)
	r.Status = keep
	r.ErrorMessage = fmt.Sprintf("the profile is in the tenant, but the job could not %s: %s; print it later with enrollbatch qr --from-tenant", what, r.ErrorMessage)
	if graph.IsAuth(err) {
		return err
	}
	return nil
}

func (w *worker) prepare(r *results.Result) {
	if w.Prepare != nil && (r.QRCodeContent != "" || len(r.QRCodeImage) > 0) {
		w.Prepare(r)
	}
}
