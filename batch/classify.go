package batch

import (
	"fmt"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/names"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// classify decides what the job does with the row, by what the tenant
// holds: its kind of work, or none with the result settled.
func (j *Job) classify(it *item, t *tenant, now time.Time) {
	r, row := &it.r, &it.row
	p, found := t.named(row.DisplayName)
	if note := profile.MatchNote(row.DisplayName, p.DisplayName); found && note != "" {
		r.Notes = append(r.Notes, note)
	}
	if found && row.ID != "" && !strings.EqualFold(row.ID, p.ID) {
		r.Notes = append(r.Notes, fmt.Sprintf("the id column gives %s, but the tenant's profile with this name is %s (profiles are matched by name: is this sheet from another tenant, or was the profile made again?)", row.ID, p.ID))
	}
	if r.Status == results.Invalid && found && j.OnExists == Update && input.KeepsPassword(row.Problems) {
		// An exported sheet's Wi-Fi row: the password the tenant holds
		// stays, unless the row changes the Wi-Fi settings (below).
		r.Status, r.ErrorCode, r.ErrorMessage = results.NotAttempted, "", ""
		r.Notes = append(r.Notes, "wifiPassword: empty, so the profile keeps the password it has")
	}
	if r.Status == results.Invalid {
		if found && j.OnExists == Skip && input.OnlyForNew(row.Problems) {
			// Nothing of the row is sent: its past expiry does not
			// matter, as a daily run over an old sheet shows.
			r.Status, r.ID, r.ErrorCode, r.ErrorMessage = results.Exists, p.ID, "", ""
			r.TokenExpiration = inRowZone(p.TokenExpirationDateTime, *row)
			r.Notes = append(r.Notes, "ignored: "+problemText(row.Problems)+" (the profile exists and nothing was sent)")
		}
		return
	}
	if t.secondTeams(row, p, found, j.OnExists) {
		// One Teams device profile per tenant, and the tenant has
		// another: posting or patching this row would make two.
		r.Status, r.ErrorCode = results.Invalid, "InvalidInput"
		r.ErrorMessage = fmt.Sprintf("isTeamsDeviceProfile: the tenant already has a Teams device profile, %q (%s); one profile per tenant may be for Teams devices (%s)",
			t.teams.DisplayName, t.teams.ID, profile.PageAOSPAssociate)
		return
	}
	switch {
	case found && j.OnExists == Fail:
		r.Status, r.ID = results.Failed, p.ID
		r.ErrorCode = "AlreadyExists"
		r.ErrorMessage = "a profile with this name is already in the tenant (--on-exists fail)"
	case found && (j.OnExists == Skip || j.OnExists == Update):
		r.Status, r.ID, r.TokenExpiration = results.Exists, p.ID, inRowZone(p.TokenExpirationDateTime, *row)
		d := plan.Compare(row.Given(), p, plan.Options{UpdateSecrets: j.UpdateSecrets})
		expiring := j.RenewWithin > 0 && (p.TokenExpirationDateTime.IsZero() || p.TokenExpirationDateTime.Before(now.Add(j.RenewWithin)))
		if _, given := row.Body["enrollmentMode"]; !given && p.EnrollmentMode != "" {
			it.mode = p.EnrollmentMode // a new token follows the tenant's mode
			r.EnrollmentMode = p.EnrollmentMode
		}
		if expiring && !p.TokenExpirationDateTime.IsZero() {
			if d, _ := j.lifetime(row, it.mode, now); now.Add(d).Before(p.TokenExpirationDateTime) {
				// --renew-within never shortens a token.
				r.Notes = append(r.Notes, fmt.Sprintf("not renewed: a new token would expire %s, before the current one (%s); give a longer --token-validity or tokenExpirationDateTime",
					now.Add(d).UTC().Format(time.RFC3339), p.TokenExpirationDateTime.UTC().Format(time.RFC3339)))
				expiring = false
			}
		}
		if input.KeepsPassword(row.Problems) && changesWifi(d.Patch) {
			r.Status, r.ErrorCode = results.Invalid, "InvalidInput"
			r.ErrorMessage = "wifiPassword: the row changes the Wi-Fi settings, and a new setting needs the password with it; give wifiPassword"
			return
		}
		switch {
		case !d.Empty() && j.OnExists == Update:
			r.Changes, r.Action = j.changeStrings(d), results.ActUpdate
			if d.Payload {
				r.Changes = append(r.Changes, StaleNote)
			}
			it.diff, it.renew = d, expiring
			it.kind = doUpdate
			if j.DryRun {
				r.Status = results.Planned
			}
		case !d.Empty():
			r.Notes = append(r.Notes, "the tenant's profile differs from the row ("+strings.Join(j.changeStrings(d), "; ")+"); nothing was changed: run with --on-exists update to apply the row")
			fallthrough
		default:
			known, why := p.Known()
			switch {
			case !known && (expiring || j.QRExisting):
				// A mode or token type this tool does not know: its
				// token lifetime and QR payload cannot be vouched for.
				r.Notes = append(r.Notes, "not renewed nor printed: the tenant's profile has "+why)
			case expiring:
				it.kind = doRenew
			case j.QRExisting:
				it.kind = doFetch
			}
		}
		if j.OnExists == Update && it.group.Action != names.GroupKeep {
			read, invalid := j.groupAllowed(it, p)
			if invalid {
				return
			}
			// The profile's device group is read back and compared by
			// the worker (group.go), after any patch and before any new
			// token.
			it.readGroup = read
			switch {
			case !read:
			case it.kind == doRenew:
				it.kind, it.renew = doUpdate, true
			case it.kind == 0, it.kind == doFetch:
				it.kind = doUpdate
			}
		}
	default:
		it.kind = doCreate
		r.Action = results.ActCreate
		if j.DryRun {
			r.Status = results.Planned
			if g := it.group; g.Action == names.GroupByName || g.Action == names.GroupByID {
				r.Notes = append(r.Notes, "deviceGroup: "+groupNamed(g.Group)+" would be set after the create")
			}
		}
	}
}

// changesWifi reports a PATCH body that changes a Wi-Fi setting.
func changesWifi(patch map[string]any) bool {
	for _, k := range []string{"configureWifi", "wifiSsid", "wifiSecurityType", "wifiHidden"} {
		if _, ok := patch[k]; ok {
			return true
		}
	}
	return false
}
