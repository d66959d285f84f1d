package provisioning

import (
	"log/slog"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// Of resolves the payload of a profile read with qrCodeContent and
// qrCodeImage selected: the one place that turns what the service
// returned into what a code carries.
func Of(p profile.Profile) Payload {
	var img []byte
	if p.QRCodeImage != nil {
		img = p.QRCodeImage.Value
	}
	return Resolve(p.QRCodeContent, img)
}

// Settle puts the payload of p on r: the content (or the image, when only
// that could be printed), with the notes and warnings about it, which also
// go to log when it is not nil.
func Settle(r *results.Result, p profile.Profile, log *slog.Logger) {
	pl := Of(p)
	r.QRCodeContent, r.QRCodeImage, r.QR = pl.Content, pl.Image, nil
	r.Notes = append(append(r.Notes, pl.Notes...), pl.Warnings...)
	if log != nil {
		for _, w := range pl.Warnings {
			log.Warn("qr code", "row", r.Row, "displayName", r.DisplayName, "id", r.ID, "warning", w)
		}
	}
}
