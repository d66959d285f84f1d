package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/enrollbatch/enrollbatch/profile"
)

// This file holds the parts of the tenant besides the profiles: Intune's
// role scope tags and Entra ID's groups with their owners, and how tests
// and the sim command seed them.

// IntuneProvisioningClientAppID is the appId of Microsoft's "Intune
// Provisioning Client" application. Enrollment-time grouping adds devices
// to a group through it, so the group must have its service principal
// among its owners (setEnrollmentTimeDeviceMembershipTarget answers
// firstPartyAppNotAnOwner otherwise).
const IntuneProvisioningClientAppID = "f1346770-5b25-470b-88bd-d5744ab7952c"

// DefaultScopeTag is the tag every Intune tenant has, which the service
// puts on an object created without roleScopeTagIds.
var DefaultScopeTag = ScopeTag{ID: "0", DisplayName: "Default", IsBuiltIn: true}

// ScopeTag is an Intune role scope tag (microsoft.graph.roleScopeTag).
type ScopeTag struct {
	ID          string `json:"id"` // a decimal number as a string; assigned when empty
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	IsBuiltIn   bool   `json:"isBuiltIn,omitempty"`
}

// Group is an Entra ID group (microsoft.graph.group), with what
// enrollment-time grouping looks at.
type Group struct {
	ID              string   `json:"id"` // a GUID; assigned when empty
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description,omitempty"`
	SecurityEnabled bool     `json:"securityEnabled"`
	MailEnabled     bool     `json:"mailEnabled,omitempty"`
	GroupTypes      []string `json:"groupTypes,omitempty"`     // "Unified", "DynamicMembership"
	MembershipRule  string   `json:"membershipRule,omitempty"` // for dynamic groups
	Owners          []Owner  `json:"owners,omitempty"`
	// OutOfScope makes setEnrollmentTimeDeviceMembershipTarget answer
	// securityGroupNotInCallerScope for the group, as for a group outside
	// the scope groups of the caller's Intune role assignment.
	OutOfScope bool `json:"outOfScope,omitempty"`
}

// Dynamic reports whether the group's membership is rule-based.
func (g Group) Dynamic() bool {
	return slices.ContainsFunc(g.GroupTypes, func(t string) bool { return strings.EqualFold(t, "DynamicMembership") })
}

// Owner is an owner of a group: a service principal or a user.
type Owner struct {
	Type              string `json:"type"` // OwnerServicePrincipal or OwnerUser
	ID                string `json:"id"`   // a GUID; assigned when empty
	DisplayName       string `json:"displayName,omitempty"`
	AppID             string `json:"appId,omitempty"`             // service principals
	UserPrincipalName string `json:"userPrincipalName,omitempty"` // users
}

// Owner types.
const (
	OwnerServicePrincipal = "servicePrincipal"
	OwnerUser             = "user"
)

// IntuneProvisioningClient is the service principal of the Intune
// Provisioning Client, as a group owner. Its object id differs per tenant;
// this one is fixed so that tests can name it.
func IntuneProvisioningClient() Owner {
	return Owner{Type: OwnerServicePrincipal, ID: "6b5c7a4e-2f1d-4c3b-9a8e-7d6f5e4c3b2a",
		DisplayName: "Intune Provisioning Client", AppID: IntuneProvisioningClientAppID}
}

// Tenant is what a seed file holds besides profiles:
//
//	{"scopeTags": [{"id": "14", "displayName": "Leeds"}],
//	 "groups": [{"displayName": "Leeds Kiosks", "securityEnabled": true,
//	             "owners": [{"type": "servicePrincipal", "appId": "f1346770-5b25-470b-88bd-d5744ab7952c",
//	                         "displayName": "Intune Provisioning Client"}]}]}
//
// Seeding scope tags turns on the check of roleScopeTagIds (see
// Options.CheckScopeTags).
type Tenant struct {
	ScopeTags []ScopeTag `json:"scopeTags,omitempty"`
	Groups    []Group    `json:"groups,omitempty"`
}

// ReadTenant decodes a seed document; unknown keys are refused, so that a
// misspelt one is not silently ignored.
func ReadTenant(r io.Reader) (Tenant, error) {
	var t Tenant
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Tenant{}, fmt.Errorf("tenant seed: %w", err)
	}
	if err := t.check(); err != nil {
		return Tenant{}, fmt.Errorf("tenant seed: %w", err)
	}
	return t, nil
}

// check refuses groups and scope tags the service could not hold.
func (t Tenant) check() error {
	for i, g := range t.Groups {
		if strings.TrimSpace(g.DisplayName) == "" {
			return fmt.Errorf("group %d has no displayName", i+1)
		}
		if g.ID != "" && !profile.IsGUID(g.ID) {
			return fmt.Errorf("group %q: id %q is not a GUID", g.DisplayName, g.ID)
		}
		for _, o := range g.Owners {
			if o.Type != OwnerServicePrincipal && o.Type != OwnerUser {
				return fmt.Errorf("group %q: owner type %q: use %q or %q", g.DisplayName, o.Type, OwnerServicePrincipal, OwnerUser)
			}
		}
	}
	for i, tag := range t.ScopeTags {
		if strings.TrimSpace(tag.DisplayName) == "" {
			return fmt.Errorf("scope tag %d has no displayName", i+1)
		}
	}
	return nil
}

// LoadTenant reads a seed file (see Tenant).
func LoadTenant(path string) (Tenant, error) {
	f, err := os.Open(path)
	if err != nil {
		return Tenant{}, err
	}
	defer f.Close()
	return ReadTenant(f)
}

// SeedTenant adds the scope tags and groups of t.
func (s *Server) SeedTenant(t Tenant) {
	s.SeedScopeTags(t.ScopeTags...)
	s.SeedGroups(t.Groups...)
}

// SeedScopeTags adds role scope tags and returns them as stored (an empty
// id becomes the next free number). A tag with an id already present
// replaces it. Seeding turns on the check of roleScopeTagIds on create
// and update.
func (s *Server) SeedScopeTags(tags ...ScopeTag) []ScopeTag {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkTags = true
	out := make([]ScopeTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, s.addTagLocked(t))
	}
	return out
}

func (s *Server) addTagLocked(t ScopeTag) ScopeTag {
	if t.ID == "" {
		next := 1
		for _, have := range s.tags {
			if n, err := strconv.Atoi(have.ID); err == nil && n >= next {
				next = n + 1
			}
		}
		t.ID = strconv.Itoa(next)
	}
	if i := slices.IndexFunc(s.tags, func(h ScopeTag) bool { return h.ID == t.ID }); i >= 0 {
		s.tags[i] = t
		return t
	}
	s.tags = append(s.tags, t)
	return t
}

// ScopeTags returns the tenant's role scope tags, Default first.
func (s *Server) ScopeTags() []ScopeTag {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tags)
}

// SeedGroups adds Entra groups and returns them as stored (empty ids of
// groups and owners become fresh GUIDs).
func (s *Server) SeedGroups(groups ...Group) []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(groups))
	for _, g := range groups {
		out = append(out, cloneGroup(s.addGroupLocked(g)))
	}
	return out
}

func (s *Server) addGroupLocked(g Group) Group {
	g = cloneGroup(g)
	if g.ID == "" {
		g.ID = newGUID()
	}
	for i := range g.Owners {
		if g.Owners[i].ID == "" {
			g.Owners[i].ID = newGUID()
		}
		if g.Owners[i].Type == "" {
			g.Owners[i].Type = OwnerUser
		}
	}
	key := strings.ToLower(g.ID)
	if i, ok := s.groupByID[key]; ok {
		s.groups[i] = g
		return g
	}
	s.groupByID[key] = len(s.groups)
	s.groups = append(s.groups, g)
	return g
}

// Groups returns the tenant's groups in the order they were added.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, len(s.groups))
	for i, g := range s.groups {
		out[i] = cloneGroup(g)
	}
	return out
}

// DeviceGroups returns the group ids set as the enrollment-time device
// membership targets of the live profile id (none when cleared or never
// set), and whether the profile exists.
func (s *Server) DeviceGroups(id string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok || s.recs[i].deleted {
		return nil, false
	}
	return slices.Clone(s.recs[i].targets), true
}

func cloneGroup(g Group) Group {
	g.GroupTypes = slices.Clone(g.GroupTypes)
	g.Owners = slices.Clone(g.Owners)
	return g
}

// groupLocked returns the group with the given id (compared without
// regard to case, as Entra compares GUIDs).
func (s *Server) groupLocked(id string) (Group, bool) {
	i, ok := s.groupByID[strings.ToLower(id)]
	if !ok {
		return Group{}, false
	}
	return s.groups[i], true
}

// unknownTagLocked returns the first of ids that names no role scope tag
// of the tenant, when the check is on.
func (s *Server) unknownTagLocked(ids []string) (string, bool) {
	if !s.checkTags {
		return "", false
	}
	for _, id := range ids {
		if !slices.ContainsFunc(s.tags, func(t ScopeTag) bool { return t.ID == id }) {
			return id, true
		}
	}
	return "", false
}
