package batch

import (
	"slices"

	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
)

// tenant is what the listing found, read-only once rows are sent.
type tenant struct {
	byName map[string]profile.Profile // by profile.Key of the name; the first of equal names
	before map[string]bool            // ids in the tenant before the run
	teams  *profile.Profile           // the tenant's Teams device profile, if any
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
