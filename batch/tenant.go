package batch

import (
	"context"
	"slices"

	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
)

// tenant is what the listing found, read-only once rows are sent.
type tenant struct {
	byName map[string]profile.Profile // by profile.Key of the name; the first of equal names
	before map[string]bool            // ids in the tenant before the run
	teams  *profile.Profile           // the tenant's Teams device profile, if any
}

// listTenant lists the tenant's profiles (the properties listSelect names)
// and indexes them.
func (j *Job) listTenant(ctx context.Context) (*tenant, error) {
	existing, err := j.Client.List(ctx, listSelect()...)
	if err != nil {
		return nil, err
	}
	return newTenant(existing), nil
}

// newTenant indexes a listing: each name (by profile.Key) to the first
// profile of that name, the ids that were there before the run, and the
// first Teams device profile.
func newTenant(existing []profile.Profile) *tenant {
	t := &tenant{byName: make(map[string]profile.Profile, len(existing)), before: make(map[string]bool, len(existing))}
	for _, p := range existing {
		t.before[p.ID] = true
		if p.IsTeamsDeviceProfile && t.teams == nil {
			teams := p // a copy: a pointer into existing would hold the whole listing in memory
			t.teams = &teams
		}
		if _, dup := t.byName[profile.Key(p.DisplayName)]; !dup {
			t.byName[profile.Key(p.DisplayName)] = p
		}
	}
	return t
}

// named returns the tenant's profile with name (compared by profile.Key):
// the first of the listing when several share it.
func (t *tenant) named(name string) (profile.Profile, bool) {
	p, found := t.byName[profile.Key(name)]
	return p, found
}

// secondTeams reports whether sending row would break the rule of one
// Teams device profile per tenant: the row asks for one, the tenant has
// one already, and the row would post a new profile (its name is not
// found, or --on-exists create) or patch a profile other than the
// tenant's Teams one (--on-exists update). p and found are what named
// returned for the row.
func (t *tenant) secondTeams(row *input.Row, p profile.Profile, found bool, onExists OnExists) bool {
	on, _ := row.Body["isTeamsDeviceProfile"].(bool)
	return on && t.teams != nil &&
		(!found || onExists == Create || onExists == Update && t.teams.ID != p.ID)
}

// listSelect is what the job asks of the tenant listing: what a row is
// compared with (plan.Select), and what the one-per-tenant Teams rule needs.
func listSelect() []string {
	sel := plan.Select()
	for _, name := range []string{"id", "displayName", "tokenExpirationDateTime", "enrollmentMode", "enrollmentTokenType", "isTeamsDeviceProfile"} {
		if !slices.Contains(sel, name) {
			sel = append(sel, name)
		}
	}
	return sel
}
