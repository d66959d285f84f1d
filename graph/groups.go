package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/safetext"
)

// This file holds what turns the names admins know into the ids Graph
// wants: Intune's role scope tags, Entra ID's groups and their owners, and
// the profile actions that set, read back and clear the enrollment-time
// device group (setEnrollmentTimeDeviceMembershipTarget,
// retrieveEnrollmentTimeDeviceMembershipTarget,
// clearEnrollmentTimeDeviceMembershipTarget).

// IntuneProvisioningClientAppID is the appId of Microsoft's "Intune
// Provisioning Client" application, whose service principal must own a
// group for Intune to add devices to it at enrollment.
const IntuneProvisioningClientAppID = "f1346770-5b25-470b-88bd-d5744ab7952c"

// Permissions the name lookups need, named in their 403s.
const (
	// PermissionGroups reads groups and their owners (GroupMember.Read.All
	// is the least privileged that does; Group.Read.All and
	// Directory.Read.All also do).
	PermissionGroups = "Group.Read.All"
	// PermissionGroupsLeast is the least privileged permission the group
	// pages list for reading groups and owners.
	PermissionGroupsLeast = "GroupMember.Read.All"
	// PermissionScopeTags reads Intune's role scope tags. The roleScopeTag
	// pages also accept DeviceManagementConfiguration.Read.All and
	// ReadWrite.All.
	PermissionScopeTags = "DeviceManagementRBAC.Read.All"
	// PermissionServicePrincipals lets an owners listing show a service
	// principal's appId; without it (or Directory.Read.All) Graph returns
	// service principal owners with only their @odata.type and id.
	PermissionServicePrincipals = "Application.Read.All"
)

// The enrollment-time device membership target type and the validation
// codes of setEnrollmentTimeDeviceMembershipTarget (metadata enums
// enrollmentTimeDeviceMembershipTargetType and
// enrollmentTimeDeviceMembershipTargetValidationErrorCode).
const (
	TargetStaticSecurityGroup = "staticSecurityGroup"

	CodeSecurityGroupNotFound         = "securityGroupNotFound"
	CodeNotSecurityGroup              = "notSecurityGroup"
	CodeNotStaticSecurityGroup        = "notStaticSecurityGroup"
	CodeFirstPartyAppNotAnOwner       = "firstPartyAppNotAnOwner"
	CodeSecurityGroupNotInCallerScope = "securityGroupNotInCallerScope"
)

// The paths of the lookups.
const (
	ScopeTagsPath = "/deviceManagement/roleScopeTags"
	GroupsPath    = "/groups"
)

// ScopeTag is an Intune role scope tag.
type ScopeTag struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
}

// Group is an Entra ID group, with what enrollment-time grouping needs.
type Group struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description"`
	SecurityEnabled bool     `json:"securityEnabled"`
	MailEnabled     bool     `json:"mailEnabled"`
	GroupTypes      []string `json:"groupTypes"`
	MembershipRule  string   `json:"membershipRule"`
}

// groupSelect is the $select of group reads.
const groupSelect = "id,displayName,description,securityEnabled,mailEnabled,groupTypes,membershipRule"

// Dynamic reports whether the group's membership is rule-based
// (groupTypes holds "DynamicMembership").
func (g Group) Dynamic() bool {
	for _, t := range g.GroupTypes {
		if strings.EqualFold(t, "DynamicMembership") {
			return true
		}
	}
	return false
}

// DirectoryObject is an owner of a group: a service principal or a user
// (or another directory object). When the app may not read its type,
// Graph returns only ODataType and ID.
type DirectoryObject struct {
	ODataType         string `json:"@odata.type"`
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	AppID             string `json:"appId"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// IsServicePrincipal reports whether the object is a service principal.
func (o DirectoryObject) IsServicePrincipal() bool {
	return strings.EqualFold(strings.TrimPrefix(o.ODataType, "#"), "microsoft.graph.servicePrincipal")
}

// IsIntuneProvisioningClient reports whether the object is the service
// principal of the Intune Provisioning Client.
func (o DirectoryObject) IsIntuneProvisioningClient() bool {
	return o.IsServicePrincipal() && strings.EqualFold(strings.TrimSpace(o.AppID), IntuneProvisioningClientAppID)
}

// withPermission turns the *AuthError of a 403 into one that names perm
// and says why; other errors come back unchanged.
func withPermission(err error, perm, why string) error {
	var ae *AuthError
	if errors.As(err, &ae) && ae.Err != nil && ae.Err.Status == http.StatusForbidden {
		return &AuthError{Err: ae.Err, Permission: perm, Why: why}
	}
	return err
}

// ListRoleScopeTags returns the tenant's role scope tags (Default, id "0",
// included), following @odata.nextLink. A 403 is an *AuthError that names
// DeviceManagementRBAC.Read.All.
func (c *Client) ListRoleScopeTags(ctx context.Context) ([]ScopeTag, error) {
	tags, err := listCollection[ScopeTag](ctx, c, "role scope tags", ScopeTagsPath+query([]string{"id", "displayName", "description", "isBuiltIn"}, ""))
	return tags, withPermission(err, PermissionScopeTags,
		"the app may not read Intune's role scope tags, which turning scope tag names into ids needs: grant the application permission "+
			PermissionScopeTags+" (the roleScopeTag pages also accept DeviceManagementConfiguration.Read.All) and give admin consent, "+
			"or give roleScopeTagIds as ids")
}

const groupsWhy = "the app may not read Entra ID groups, which the deviceGroup column needs: grant the application permission " +
	PermissionGroups + " (or the least privileged " + PermissionGroupsLeast + ") and give admin consent, or leave deviceGroup empty"

// FindGroups returns the groups whose displayName equals name, compared as
// the job compares names (profile.Key: Unicode NFC, case and surrounding
// space ignored). The name is sent in NFC; Graph compares without regard
// to case. A 403 is an *AuthError that names Group.Read.All.
func (c *Client) FindGroups(ctx context.Context, name string) ([]Group, error) {
	sent := norm.NFC.String(strings.TrimSpace(name))
	found, err := listCollection[Group](ctx, c, "groups", GroupsPath+query([]string{groupSelect}, NameFilter(sent)))
	if err != nil {
		return nil, withPermission(err, PermissionGroups, groupsWhy)
	}
	out := found[:0]
	for _, g := range found {
		if profile.Key(g.DisplayName) == profile.Key(name) {
			out = append(out, g)
		}
	}
	return out, nil
}

// GetGroup returns the group with object id id. An unknown id is the
// service's 404 (IsNotFound); a 403 is an *AuthError that names
// Group.Read.All.
func (c *Client) GetGroup(ctx context.Context, id string) (Group, error) {
	var g Group
	resp, err := c.retry(ctx, http.MethodGet, GroupsPath+"/"+url.PathEscape(id)+query([]string{groupSelect}, ""), nil)
	if err != nil {
		return g, withPermission(err, PermissionGroups, groupsWhy)
	}
	if err := json.Unmarshal(resp.Body, &g); err != nil || strings.TrimSpace(g.ID) == "" {
		return Group{}, fmt.Errorf("get group %s: the answer is not a group", id)
	}
	return g, nil
}

// GroupOwners returns the owners of group id, following @odata.nextLink.
// No $select is sent: the owners are of several types, and each comes with
// its own properties (appId for service principals). Without
// Application.Read.All the service principals come back with only their
// type and id. A 403 is an *AuthError that names Group.Read.All.
func (c *Client) GroupOwners(ctx context.Context, id string) ([]DirectoryObject, error) {
	owners, err := listCollection[DirectoryObject](ctx, c, "group owners", GroupsPath+"/"+url.PathEscape(id)+"/owners")
	return owners, withPermission(err, PermissionGroups, groupsWhy)
}

// listCollection reads a collection from next to its last page, following
// @odata.nextLink with the same limits as a listing of profiles.
func listCollection[T any](ctx context.Context, c *Client, what, next string) ([]T, error) {
	var all []T
	seen := make(map[[sha256.Size]byte]int)
	for page := 1; next != ""; page++ {
		if page > MaxListPages {
			return nil, fmt.Errorf("list %s: the service sent more than %d pages, so the listing was stopped: check --graph-url and any proxy in between", what, MaxListPages)
		}
		resp, err := c.retry(ctx, http.MethodGet, next, nil)
		if err != nil {
			if page == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("list %s: page %d: %w", what, page, err)
		}
		var p struct {
			Value    *[]T   `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if looksHTML("", resp.Body) {
			return nil, fmt.Errorf("list %s: page %d: the answer is an HTML page, not a list", what, page)
		}
		if err := json.Unmarshal(resp.Body, &p); err != nil {
			return nil, fmt.Errorf("list %s: page %d: the answer is not a list: %s", what, page, safetext.Clean(err.Error()))
		}
		if p.Value == nil {
			return nil, fmt.Errorf("list %s: page %d: the answer has no \"value\" list", what, page)
		}
		if len(all)+len(*p.Value) > MaxListed {
			return nil, fmt.Errorf("list %s: the service sent more than %d items, so the listing was stopped: check --graph-url and any proxy in between", what, MaxListed)
		}
		all = append(all, *p.Value...)
		next = p.NextLink
		if next != "" {
			h := sha256.Sum256([]byte(next))
			if first, ok := seen[h]; ok {
				return nil, fmt.Errorf("list %s: page %d links back to page %d: the service's pages form a loop, so the listing was stopped; try again later", what, page, first+1)
			}
			seen[h] = page
		}
	}
	return all, nil
}

// TargetStatus is the validation of one enrollment-time device group.
type TargetStatus struct {
	TargetID  string // the group id
	Succeeded bool
	// Code is targetValidationErrorCode. It is not nullable, so the
	// service sends one even for a target that passed: read it only when
	// Succeeded is false.
	Code string
}

// TargetResult is an enrollmentTimeDeviceMembershipTargetResult: the
// answer of set and retrieve.
type TargetResult struct {
	Succeeded bool
	Statuses  []TargetStatus
}

// GroupIDs returns the ids of the targets, in the service's order.
func (r TargetResult) GroupIDs() []string {
	ids := make([]string, 0, len(r.Statuses))
	for _, s := range r.Statuses {
		ids = append(ids, s.TargetID)
	}
	return ids
}

// decodeTargetResult reads the result in either shape the sources give:
// wrapped in "value" (the set and retrieve pages' examples) or at the top
// level (the Kiota-generated SDK; SOURCES.md, difference 3). A status's
// validationSucceeded is in the pages' examples but not in the metadata
// (difference 2): when absent, the status takes the result's.
func decodeTargetResult(body []byte) (TargetResult, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return TargetResult{}, fmt.Errorf("the answer is not a JSON object: %s", safetext.Clean(err.Error()))
	}
	raw := body
	if v, ok := top["value"]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '{' {
		raw = v
	}
	var doc struct {
		Succeeded *bool `json:"validationSucceeded"`
		Statuses  []struct {
			TargetID  string `json:"targetId"`
			Succeeded *bool  `json:"validationSucceeded"`
			Code      string `json:"targetValidationErrorCode"`
		} `json:"enrollmentTimeDeviceMembershipTargetValidationStatuses"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return TargetResult{}, fmt.Errorf("the answer is not an enrollmentTimeDeviceMembershipTargetResult: %s", safetext.Clean(err.Error()))
	}
	if doc.Succeeded == nil {
		return TargetResult{}, fmt.Errorf("the answer has no validationSucceeded: it is not an enrollmentTimeDeviceMembershipTargetResult")
	}
	res := TargetResult{Succeeded: *doc.Succeeded}
	for _, s := range doc.Statuses {
		st := TargetStatus{TargetID: safetext.Clean(s.TargetID), Succeeded: *doc.Succeeded, Code: safetext.Clean(s.Code)}
		if s.Succeeded != nil {
			st.Succeeded = *s.Succeeded
		}
		if !st.Succeeded {
			res.Succeeded = false
		}
		res.Statuses = append(res.Statuses, st)
	}
	return res, nil
}

// The actions' names.
const (
	ActionSetDeviceGroup      = "setEnrollmentTimeDeviceMembershipTarget"
	ActionRetrieveDeviceGroup = "retrieveEnrollmentTimeDeviceMembershipTarget"
	ActionClearDeviceGroup    = "clearEnrollmentTimeDeviceMembershipTarget"
)

// DeviceGroupError is a device group action that failed for one profile:
// the service refused the group (Code is its targetValidationErrorCode),
// or the request failed in a way that concerns this profile (Err: a 403,
// a 400 or 404 for the id, or a 500). It is never an *AuthError: the run
// goes on with the other rows.
type DeviceGroupError struct {
	Action    string // ActionSetDeviceGroup, ActionRetrieveDeviceGroup or ActionClearDeviceGroup
	ProfileID string
	GroupID   string // the group sent (set only)
	Code      string // the validation code when the service refused the group
	Err       *Error // the failed request; nil when the service answered with a validation result
	Why       string // what it means and what to do
}

func (e *DeviceGroupError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s for profile %s: the service refused group %s (%s): %s", e.Action, e.ProfileID, e.GroupID, e.Code, e.Why)
	}
	return fmt.Sprintf("%v; %s", e.Err, e.Why)
}

// Unwrap returns the failed request, if any.
func (e *DeviceGroupError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// OwnerFix says how to make the Intune Provisioning Client an owner of the
// group named name ("" when not known).
func OwnerFix(name string) string {
	g := "the group"
	if name != "" {
		g = name
	}
	return fmt.Sprintf("in Entra admin center, Groups > %s > Owners > Add owners > \"Intune Provisioning Client\" (appId %s); "+
		"if it is not listed, create the service principal with `New-MgServicePrincipal -AppId %s`",
		g, IntuneProvisioningClientAppID, IntuneProvisioningClientAppID)
}

// TargetCodeFix explains a validation code of
// setEnrollmentTimeDeviceMembershipTarget and says what to do; name is the
// group's name when known.
func TargetCodeFix(code, name string) string {
	switch code {
	case CodeSecurityGroupNotFound:
		return "no group with this id exists in Entra ID (deleted, or from another tenant): check the group in Entra admin center > Groups, or give its name"
	case CodeNotSecurityGroup:
		return "it is not a security group: enrollment-time grouping needs a security group with assigned membership " +
			"(Entra admin center > Groups > New group: Group type Security, Membership type Assigned)"
	case CodeNotStaticSecurityGroup:
		return "its membership is dynamic: enrollment-time grouping needs assigned (static) membership " +
			"(Entra admin center > Groups > New group: Group type Security, Membership type Assigned)"
	case CodeFirstPartyAppNotAnOwner:
		return "the Intune Provisioning Client is not an owner of it: " + OwnerFix(name)
	case CodeSecurityGroupNotInCallerScope:
		return "it is outside the scope of the signed-in account's Intune role (the scope groups of its role assignment): " +
			"pick a group in that scope, or have an Intune administrator add it to the assignment's scope"
	}
	return "the service gave the code " + code + ", which this version does not know"
}

// deviceGroupError turns a failure of a device group action into a
// *DeviceGroupError when it concerns this profile; other errors come back
// unchanged.
func deviceGroupError(action, profileID, groupID string, err error) error {
	if err == nil {
		return nil
	}
	var ge *Error
	var ae *AuthError
	switch {
	case errors.As(err, &ae) && ae.Err != nil && ae.Err.Status == http.StatusForbidden:
		return &DeviceGroupError{Action: action, ProfileID: profileID, GroupID: groupID, Err: ae.Err, Why: "the service refused " + action +
			" (403) although it allowed the job's other requests; its page lists DeviceManagementConfiguration.Read.All (the job's " + Permission +
			" includes it), and it may refuse app-only tokens while accepting delegated ones: " +
			"sign in as an Intune administrator with --auth device-code or --auth browser and run again"}
	case IsAuth(err) || !errors.As(err, &ge):
		return err
	case ge.Status == http.StatusInternalServerError:
		return &DeviceGroupError{Action: action, ProfileID: profileID, GroupID: groupID, Err: ge, Why: "the service failed (500) on " + action +
			"; with an app-only token (application permissions) the enrollment-time device group actions have been reported to answer 500 " +
			"where a delegated sign-in works: sign in as an Intune administrator with --auth device-code or --auth browser and run again"}
	case ge.Status == http.StatusBadRequest || ge.Status == http.StatusNotFound:
		return &DeviceGroupError{Action: action, ProfileID: profileID, GroupID: groupID, Err: ge, Why: "check that profile " + profileID +
			" still exists (enrollbatch qr --from-tenant) and that its mode allows a device group: dedicated, fully managed or " +
			"corporate-owned work profile, not AOSP, and not with the deviceStaging token"}
	}
	return err
}

// deviceGroupPath is the path of an action on profile id.
func deviceGroupPath(id, action string) string {
	return profile.CollectionPath + "/" + url.PathEscape(id) + "/" + action
}

// incomplete is the error of a 2xx answer that lacks what it must hold.
func (c *Client) incomplete(method, path string, resp *Response, why string) *Error {
	return &Error{Method: method, Path: c.base.Path + path, Host: c.base.Host, Status: resp.Status, RequestID: resp.RequestID,
		ClientRequestID: resp.ClientRequestID, Incomplete: true, local: true,
		Message: fmt.Sprintf("HTTP %d from %s with %s", resp.Status, c.base.Host, why)}
}

// SetDeviceGroup makes group groupID the enrollment-time device group of
// profile profileID (one staticSecurityGroup target, as the set page's
// example sends). The service answers 200 with a validation result; a
// refused group is a *DeviceGroupError with its Code. Setting is
// idempotent, so a transient failure is retried.
func (c *Client) SetDeviceGroup(ctx context.Context, profileID, groupID string) error {
	body, _ := json.Marshal(map[string]any{"enrollmentTimeDeviceMembershipTargets": []map[string]string{{
		"@odata.type": "microsoft.graph.enrollmentTimeDeviceMembershipTarget",
		"targetType":  TargetStaticSecurityGroup,
		"targetId":    groupID,
	}}})
	path := deviceGroupPath(profileID, ActionSetDeviceGroup)
	resp, err := c.retry(ctx, http.MethodPost, path, body)
	if err != nil {
		return deviceGroupError(ActionSetDeviceGroup, profileID, groupID, err)
	}
	res, derr := decodeTargetResult(resp.Body)
	if derr != nil {
		// The group may have been set: read it back before trusting either.
		return c.incomplete(http.MethodPost, path, resp, derr.Error()+"; the group may have been set")
	}
	if res.Succeeded {
		return nil
	}
	code := ""
	for _, s := range res.Statuses {
		if !s.Succeeded && (code == "" || strings.EqualFold(s.TargetID, groupID)) {
			code = s.Code
		}
	}
	why := TargetCodeFix(code, "")
	if code == "" {
		why = "the service said validationSucceeded false without a status that says why"
	}
	return &DeviceGroupError{Action: ActionSetDeviceGroup, ProfileID: profileID, GroupID: groupID, Code: code, Why: why}
}

// RetrieveDeviceGroup reads back the enrollment-time device groups of
// profile profileID; none when it has none. The action takes no body.
func (c *Client) RetrieveDeviceGroup(ctx context.Context, profileID string) (TargetResult, error) {
	path := deviceGroupPath(profileID, ActionRetrieveDeviceGroup)
	resp, err := c.retry(ctx, http.MethodPost, path, nil)
	if err != nil {
		return TargetResult{}, deviceGroupError(ActionRetrieveDeviceGroup, profileID, "", err)
	}
	res, derr := decodeTargetResult(resp.Body)
	if derr != nil {
		return TargetResult{}, c.incomplete(http.MethodPost, path, resp, derr.Error())
	}
	return res, nil
}

// ClearDeviceGroup removes the enrollment-time device group of profile
// profileID (204). It takes no body, and clearing twice is harmless, so a
// transient failure is retried.
func (c *Client) ClearDeviceGroup(ctx context.Context, profileID string) error {
	_, err := c.retry(ctx, http.MethodPost, deviceGroupPath(profileID, ActionClearDeviceGroup), nil)
	return deviceGroupError(ActionClearDeviceGroup, profileID, "", err)
}
