package names

import (
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
)

// None is the deviceGroup cell that clears a profile's enrollment-time
// device group (compared without regard to case). A group that is really
// named "none" is given by its object id.
const None = "none"

// GroupAction is what a deviceGroup cell asks for.
type GroupAction int

const (
	GroupKeep   GroupAction = iota // empty cell: leave the profile's group alone
	GroupClear                     // "none": clear it
	GroupByID                      // an object id
	GroupByName                    // a display name, to look up
)

// GroupRef is a parsed deviceGroup cell.
type GroupRef struct {
	Action GroupAction
	Given  string // the cell, trimmed
	ID     string // GroupByID: the id, in lower case
}

// ParseGroupCell reads a deviceGroup cell: empty, "none", a group object
// id (a GUID, in any case, with or without braces) or a display name.
func ParseGroupCell(cell string) GroupRef {
	s := strings.TrimSpace(cell)
	switch {
	case s == "":
		return GroupRef{Action: GroupKeep}
	case strings.EqualFold(s, None):
		return GroupRef{Action: GroupClear, Given: s}
	}
	if id := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"); profile.IsGUID(id) {
		return GroupRef{Action: GroupByID, Given: s, ID: strings.ToLower(id)}
	}
	return GroupRef{Action: GroupByName, Given: s}
}

// The rules a device group can break.
const (
	RuleMode        = "mode"          // the profile's enrollment mode has no enrollment-time grouping
	RuleToken       = "token type"    // the device staging token has none
	RuleNotFound    = "not found"     // no group of that name or id
	RuleAmbiguous   = "ambiguous"     // several groups of that name
	RuleNotSecurity = "not security"  // securityEnabled is false
	RuleDynamic     = "dynamic"       // groupTypes holds DynamicMembership
	RuleOwner       = "missing owner" // the Intune Provisioning Client does not own it
)

// GroupError is a deviceGroup cell that cannot be used for its row. Its
// message names the group, each rule broken and how to mend it.
type GroupError struct {
	Given    string      // the cell
	Group    graph.Group // the group, when one was found
	Problems []Problem
}

// Problem is one rule broken, with what to do.
type Problem struct {
	Rule string
	Fix  string
}

func (e *GroupError) Error() string {
	who := fmt.Sprintf("%q", e.Given)
	if e.Group.ID != "" {
		who = fmt.Sprintf("%q (id %s)", e.Group.DisplayName, e.Group.ID)
	}
	fixes := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		fixes[i] = p.Fix
	}
	return "device group " + who + ": " + strings.Join(fixes, "; and ")
}

// Has reports whether the error includes rule.
func (e *GroupError) Has(rule string) bool {
	for _, p := range e.Problems {
		if p.Rule == rule {
			return true
		}
	}
	return false
}

// allowedModes are the enrollment modes that have enrollment-time
// grouping. Source: the issue that asked for the deviceGroup column
// ("dedicated, fully managed and corporate-owned work profile only; not
// AOSP, not with the device staging token"); the Graph pages do not say,
// and the simulator refuses the others the same way.
var allowedModes = []string{profile.ModeDedicated, profile.ModeFullyManaged, profile.ModeWorkProfile}

// CheckMode returns the problem of giving a device group to a row of this
// enrollment mode and token type ("" for the service's defaults), or nil.
func CheckMode(mode, tokenType string) *Problem {
	mode = profile.EffectiveMode(mode)
	known := false
	for _, m := range allowedModes {
		known = known || m == mode
	}
	switch {
	case !known:
		return &Problem{Rule: RuleMode, Fix: fmt.Sprintf("enrollment-time device groups are available only for dedicated (%s), fully managed (%s) "+
			"and corporate-owned work profile (%s) profiles, not %s: leave deviceGroup empty for this row",
			profile.ModeDedicated, profile.ModeFullyManaged, profile.ModeWorkProfile, mode)}
	case tokenType == profile.TokenStaging:
		return &Problem{Rule: RuleToken, Fix: fmt.Sprintf("enrollment-time device groups are not available with the device staging token "+
			"(enrollmentTokenType %s): use the default token type, or leave deviceGroup empty for this row", profile.TokenStaging)}
	}
	return nil
}

// PickGroup chooses the group for ref from what the lookup found: for a
// name, the groups graph.Client.FindGroups returned; for an id, the group
// graph.Client.GetGroup returned (none when it answered 404). No group, or
// two of one name, is a *GroupError.
func PickGroup(ref GroupRef, found []graph.Group) (graph.Group, error) {
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && ref.Action == GroupByID:
		return graph.Group{}, &GroupError{Given: ref.Given, Problems: []Problem{{Rule: RuleNotFound,
			Fix: "no group has this object id in Entra ID (deleted, or from another tenant): check it in Entra admin center > Groups, or give the group's name"}}}
	case len(found) == 0:
		return graph.Group{}, &GroupError{Given: ref.Given, Problems: []Problem{{Rule: RuleNotFound,
			Fix: "no group of this name in Entra ID (names are matched in full, without regard to case): check the name in Entra admin center > Groups, or give the group's object id"}}}
	}
	ids := make([]string, len(found))
	for i, g := range found {
		ids[i] = g.ID
	}
	return graph.Group{}, &GroupError{Given: ref.Given, Problems: []Problem{{Rule: RuleAmbiguous,
		Fix: fmt.Sprintf("%d groups have this name (ids %s): give the object id of the one to use instead of the name", len(found), strings.Join(ids, ", "))}}}
}

// CheckGroup checks group g, with its owners as graph.Client.GroupOwners
// returned them, for a row of this enrollment mode and token type. The
// error, when not nil, is a *GroupError naming every rule broken: the
// mode or token type (then the group itself is not looked at), not a
// security group, dynamic membership, the Intune Provisioning Client not
// among the owners.
//
// note is set when the owners cannot be told: Graph listed service
// principal owners without their appId, as it does when the app lacks
// Application.Read.All. The group may be fine; the set action's own
// validation (firstPartyAppNotAnOwner) tells after the create.
func CheckGroup(g graph.Group, owners []graph.DirectoryObject, mode, tokenType string) (note string, err error) {
	ge := &GroupError{Given: g.DisplayName, Group: g}
	if p := CheckMode(mode, tokenType); p != nil {
		ge.Problems = append(ge.Problems, *p)
		return "", ge
	}
	if !g.SecurityEnabled {
		ge.Problems = append(ge.Problems, Problem{Rule: RuleNotSecurity, Fix: graph.TargetCodeFix(graph.CodeNotSecurityGroup, g.DisplayName)})
	}
	if g.Dynamic() {
		ge.Problems = append(ge.Problems, Problem{Rule: RuleDynamic, Fix: graph.TargetCodeFix(graph.CodeNotStaticSecurityGroup, g.DisplayName)})
	}
	owned, hidden := false, false
	for _, o := range owners {
		owned = owned || o.IsIntuneProvisioningClient()
		hidden = hidden || o.IsServicePrincipal() && strings.TrimSpace(o.AppID) == ""
	}
	switch {
	case owned:
	case hidden:
		note = fmt.Sprintf("device group %q (id %s): cannot tell whether the Intune Provisioning Client owns it: Graph listed its service principal owners "+
			"without their appId, as it does when the app lacks %s; grant %s (or Directory.Read.All) and give admin consent, "+
			"or check in Entra admin center, Groups > %s > Owners, that \"Intune Provisioning Client\" is there",
			g.DisplayName, g.ID, graph.PermissionServicePrincipals, graph.PermissionServicePrincipals, g.DisplayName)
	default:
		ge.Problems = append(ge.Problems, Problem{Rule: RuleOwner, Fix: graph.TargetCodeFix(graph.CodeFirstPartyAppNotAnOwner, g.DisplayName)})
	}
	if len(ge.Problems) > 0 {
		return note, ge
	}
	return note, nil
}
