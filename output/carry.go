package output

import (
	"fmt"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/qrsheet"
	"github.com/enrollbatch/enrollbatch/results"
)

// CarriedNote marks a result whose QR code was printed from the results of
// an earlier run into the same folder.
const CarriedNote = "QR code carried over from the earlier results.xlsx in this folder, where this folder's run created or renewed the profile; printed again so the sheet holds every profile this folder's runs created"

// StaleCarryNote starts the note of a row whose earlier code was not
// carried over because the tenant no longer accepts it.
const StaleCarryNote = "the QR code an earlier run in this folder printed was not carried over"

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
	c := NewCarry(earlier, now)
	n := 0
	for i := range rs {
		if c.Apply(&rs[i]) {
			n++
		}
	}
	return n
}

// Carry holds the codes an earlier run's results can give a rerun (see
// CarryOver): only the rows that qualify, by name, so that a streaming run
// can complete its results one by one.
type Carry struct {
	prev map[string]carried
}

// carried is what a rerun's row takes from an earlier row.
type carried struct {
	id      string
	content string
	image   []byte
	expires time.Time
	why     string // not carried: why not, for the row's note
}

// NewCarry keeps what earlier's rows can give a rerun at now.
func NewCarry(earlier []results.Result, now time.Time) *Carry {
	c := &Carry{prev: map[string]carried{}}
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
		k := profile.Key(e.DisplayName)
		switch {
		case results.IsRedacted(e.QRCodeContent):
			// A rerun's row says why its code is missing from the sheet.
			c.prev[k] = carried{id: e.ID, why: "results never keep a Wi-Fi password, and its code carries one; print it with --qr-existing"}
		case qrsheet.Expired(e.TokenExpiration, now):
			c.prev[k] = carried{id: e.ID, why: "its token has expired; renew it with --renew-within"}
		default:
			c.prev[k] = carried{id: e.ID, content: e.QRCodeContent, image: e.QRCodeImage, expires: e.TokenExpiration}
		}
	}
	return c
}

// Apply completes r from the earlier row for the same profile, and
// reports whether it did.
func (c *Carry) Apply(r *results.Result) bool {
	if r.Status != results.Exists || r.Printable() {
		return false
	}
	e, ok := c.prev[profile.Key(r.DisplayName)]
	if !ok || (r.ID != "" && e.id != "" && r.ID != e.id) {
		return false
	}
	if e.why != "" {
		r.Notes = append(r.Notes, StaleCarryNote+": "+e.why)
		return false
	}
	// r's expiry is the tenant's, from the run's listing: a code whose
	// token was revoked or replaced since would not enroll.
	if !e.expires.IsZero() && r.ID != "" {
		switch {
		case r.TokenExpiration.IsZero():
			r.Notes = append(r.Notes, StaleCarryNote+": its token was revoked since; renew it with --renew-within, or print the tenant's code with --qr-existing")
			return false
		case !results.SameExpiry(r.TokenExpiration, e.expires):
			r.Notes = append(r.Notes, StaleCarryNote+fmt.Sprintf(": its token was replaced since (the tenant's expires %s); print the tenant's code with --qr-existing", r.TokenExpiration.UTC().Format("2006-01-02 15:04 MST")))
			return false
		}
	}
	r.QRCodeContent, r.QRCodeImage, r.QR = e.content, e.image, nil
	if r.TokenExpiration.IsZero() {
		r.TokenExpiration = e.expires
	}
	if r.ID == "" {
		r.ID = e.id
	}
	r.Notes = append(r.Notes, CarriedNote)
	return true
}

func hasNote(notes []string, note string) bool {
	for _, n := range notes {
		if strings.TrimSpace(n) == note {
			return true
		}
	}
	return false
}
