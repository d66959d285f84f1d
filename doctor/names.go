package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/enrollbatch/enrollbatch/graph"
)

// This file checks what a sheet that names scope tags or device groups
// needs besides the profiles (doctor --input FILE): that the tenant's
// scope tags can be read (to turn names in roleScopeTagIds into ids), and
// that Entra ID's groups can be read (to look up and check the groups of
// deviceGroup). Both are GETs.

// ownerReaders are the permissions that let a listing of a group's owners
// show a service principal's appId, which tells the Intune Provisioning
// Client among them.
var ownerReaders = []string{graph.PermissionServicePrincipals, "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// checkNames adds the checks of Options.ScopeTags and Options.Groups.
func (r *Report) checkNames(ctx context.Context, o Options) (failures []string) {
	if o.ScopeTags {
		tags, err := o.Client.ListRoleScopeTags(ctx)
		switch {
		case err == nil:
			r.add("scope tags", OK, fmt.Sprintf("GET %s: %d scope tag(s) readable; the sheet's roleScopeTagIds names them", graph.ScopeTagsPath, len(tags)))
		default:
			failures = append(failures, "reading scope tags")
			r.nameFailed("scope tags", err, graph.PermissionScopeTags)
		}
	}
	if !o.Groups {
		return failures
	}
	_, err := o.Client.Do(ctx, http.MethodGet, graph.GroupsPath+"?$top=1&$select=id,displayName", nil)
	if err != nil {
		failures = append(failures, "reading groups")
		if graph.IsAuth(err) {
			var ae *graph.AuthError
			if errors.As(err, &ae) && ae.Err != nil {
				err = ae.Err // the service's answer; the permission is named below
			}
			r.AuthFailed = true
			r.addMissing(graph.PermissionGroups)
			r.add("groups", Fail, fmt.Sprintf("%v; the app may not read Entra ID groups, which the sheet's deviceGroup column needs: grant %s (or the least privileged %s) and give admin consent",
				err, graph.PermissionGroups, graph.PermissionGroupsLeast))
		} else {
			r.add("groups", Fail, err.Error())
		}
		return failures
	}
	r.add("groups", OK, fmt.Sprintf("GET %s: readable; the sheet's deviceGroup column names groups", graph.GroupsPath))
	// Whether the owners' appId will show, from the token's claims.
	if p := r.Permission; p.Has != nil {
		held := append(slices.Clone(p.Roles), p.Scopes...)
		if !slices.ContainsFunc(held, func(s string) bool {
			return slices.ContainsFunc(ownerReaders, func(w string) bool { return strings.EqualFold(s, w) })
		}) {
			r.add("group owners", Warn, fmt.Sprintf("the token lacks %s (or Directory.Read.All): Graph lists a group's service principal owners without their appId, "+
				"so whether the Intune Provisioning Client (appId %s) owns a group is left to the service's own check after each create; grant %s to check it before anything is posted",
				graph.PermissionServicePrincipals, graph.IntuneProvisioningClientAppID, graph.PermissionServicePrincipals))
		}
	}
	if r.Identity.Kind == "app" {
		r.add("device groups", Warn, "signed in as an app: the enrollment-time device group actions (setEnrollmentTimeDeviceMembershipTarget and the others) "+
			"have been reported to answer 500 to app-only tokens where a person's sign-in works; if rows fail so, run as an Intune administrator with --auth device-code or --auth browser")
	}
	return failures
}

// nameFailed reports a lookup that failed; a refusal names perm.
func (r *Report) nameFailed(check string, err error, perm string) {
	var ae *graph.AuthError
	if errors.As(err, &ae) {
		r.AuthFailed = true
		if ae.Permission != "" {
			perm = ae.Permission
		}
		r.addMissing(perm)
	}
	r.add(check, Fail, err.Error())
}

func (r *Report) addMissing(perm string) {
	if !slices.Contains(r.Missing, perm) {
		r.Missing = append(r.Missing, perm)
	}
}
