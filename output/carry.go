package output

import (
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// CarriedNote marks a result whose QR code was printed from the results of
// an earlier run into the same folder.
const CarriedNote = "QR code carried over from the earlier results.xlsx in this folder, where this folder's run created or renewed the profile; printed again so the sheet holds every profile this folder's runs created"

// CarryOver completes a rerun's sheet after an interruption. earlier are
// the results a previous run left in the same folder; rs are this run's.
// A row of rs that found its profile already there (exists, nothing to
// print) gets the QR content and token expiry of the earlier row for the
// same profile (same name and, when both are known, same id) when that row
// was created, renewed or updated by the earlier run, or was itself carried
// over, its code is still valid at now, and its content was kept (results
// never keep a Wi-Fi password). The row's status stays exists; CarriedNote
// says where its code comes from. It returns how many rows it completed.
func CarryOver(earlier, rs []results.Result, now time.Time) int {
	prev := map[string]*results.Result{}
	for i := range earlier {
		e := &earlier[i]
		switch {
		case e.QRCodeContent == "" && len(e.QRCodeImage) == 0:
			continue
		case e.Status == results.Created, e.Status == results.Renewed, e.Status == results.Updated:
		case e.Status == results.Exists && hasNote(e.Notes, CarriedNote):
		default:
			continue
		}
		if results.IsRedacted(e.QRCodeContent) || Expired(e.TokenExpiration, now) {
			continue
		}
		prev[profile.Key(e.DisplayName)] = e
	}
	n := 0
	for i := range rs {
		r := &rs[i]
		if r.Status != results.Exists || r.Printable() {
			continue
		}
		e := prev[profile.Key(r.DisplayName)]
		if e == nil || (r.ID != "" && e.ID != "" && r.ID != e.ID) {
			continue
		}
		r.QRCodeContent, r.QRCodeImage, r.QR = e.QRCodeContent, e.QRCodeImage, nil
		if r.TokenExpiration.IsZero() {
			r.TokenExpiration = e.TokenExpiration
		}
		if r.ID == "" {
			r.ID = e.ID
		}
		r.Notes = append(r.Notes, CarriedNote)
		n++
	}
	return n
}

func hasNote(notes []string, note string) bool {
	for _, n := range notes {
		if strings.TrimSpace(n) == note {
			return true
		}
	}
	return false
}
