package sim

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/enrollbatch/enrollbatch/profile"
)

// This file answers the reads outside the profile collection that the job
// needs to turn names into ids: GET /deviceManagement/roleScopeTags (Intune)
// and GET /groups, /groups/{id} and /groups/{id}/owners (Entra ID). Like
// the collection, they are found wherever they are mounted.

const (
	scopeTagsSegment = "/devicemanagement/rolescopetags"
	groupsSegment    = "/groups"
	// organizationSegment is the tenant's organization: its name for the
	// QR sheet's header.
	organizationSegment = "/organization"
)

// segmentIndex returns where seg (lower case) starts in the lower-cased
// path lp as whole segments, or -1.
func segmentIndex(lp, seg string) int {
	for from := 0; ; {
		i := strings.Index(lp[from:], seg)
		if i < 0 {
			return -1
		}
		i += from
		if end := i + len(seg); end == len(lp) || lp[end] == '/' {
			return i
		}
		from = i + 1
	}
}

// parseDirectoryRoute routes the scope tag and group paths; ok is false
// for any other path.
func parseDirectoryRoute(r *http.Request, scheme string) (route, bool) {
	p := r.URL.Path
	lp := strings.ToLower(p)
	rt := route{method: r.Method}
	var list, item, owners Op
	if i := segmentIndex(lp, organizationSegment); i >= 0 && strings.Trim(lp[i+len(organizationSegment):], "/") == "" {
		rt.base, rt.path, rt.op = scheme+"://"+r.Host+p[:i], p[:i+len(organizationSegment)], OpGetOrganization
		if r.Method != http.MethodGet {
			rt.op = OpOther
			rt.bad = errorf(http.StatusMethodNotAllowed, "BadRequest", "The HTTP method '%s' is not allowed on this resource; allowed: GET.", r.Method)
		}
		return rt, true
	}
	i := segmentIndex(lp, scopeTagsSegment)
	seg := scopeTagsSegment
	if i >= 0 {
		list, item = OpListScopeTags, OpGetScopeTag
	} else if i = segmentIndex(lp, groupsSegment); i >= 0 {
		seg, list, item, owners = groupsSegment, OpListGroups, OpGetGroup, OpListGroupOwners
	} else {
		return rt, false
	}
	rt.base = scheme + "://" + r.Host + p[:i]
	rt.path = p[:i+len(seg)]
	var segs []string
	if rest := strings.Trim(p[i+len(seg):], "/"); rest != "" {
		segs = strings.Split(rest, "/")
	}
	switch {
	case len(segs) == 0:
		rt.op = list
	case len(segs) == 1:
		rt.op, rt.id = item, segs[0]
	case len(segs) == 2 && owners != OpAny && strings.EqualFold(segs[1], "owners"):
		rt.op, rt.id = owners, segs[0]
	default:
		rt.op = OpOther
		rt.bad = errorf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", segs[len(segs)-1])
		return rt, true
	}
	if r.Method != http.MethodGet {
		rt.op = OpOther
		rt.bad = errorf(http.StatusMethodNotAllowed, "BadRequest", "The HTTP method '%s' is not allowed on this resource; allowed: GET.", r.Method)
	}
	return rt, true
}

// Permissions, as the Graph reference pages list them (least privileged
// first).
var (
	// The profile pages: reads need DeviceManagementConfiguration.Read.All
	// or ReadWrite.All, writes ReadWrite.All.
	permProfileRead  = []string{"DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All"}
	permProfileWrite = []string{"DeviceManagementConfiguration.ReadWrite.All"}
	// The set, retrieve and clear pages list DeviceManagementConfiguration.Read.All
	// for all three, writes included; the metadata notes (SOURCES.md, 11)
	// call that a likely docs mistake, but the pages are followed, and
	// ReadWrite.All includes Read.All.
	permTargets = permProfileRead
	// intune-rbac-rolescopetag-get and -list (Graph beta reference).
	permScopeTags = []string{"DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All",
		"DeviceManagementRBAC.Read.All", "DeviceManagementRBAC.ReadWrite.All"}
	// group-list, group-get and group-list-owners (Graph reference):
	// application permissions, least privileged first.
	// Reading the organization: the organization page lists these.
	permOrganization = []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All", "User.Read"}
	permGroups       = []string{"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All",
		"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.ReadWrite.All"}
	// What reading a directoryObject's derived type in full takes; without
	// it Graph returns the object with only @odata.type and id.
	permServicePrincipals = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUsers             = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)

// required returns the permissions of which a request needs one; nil for
// none.
func required(op Op, method string) []string {
	switch op {
	case OpList, OpGet:
		return permProfileRead
	case OpCreate, OpPatch, OpDelete, OpCreateToken, OpRevokeToken:
		return permProfileWrite
	case OpSetDeviceGroup, OpRetrieveDeviceGroup, OpClearDeviceGroup:
		return permTargets
	case OpListScopeTags, OpGetScopeTag:
		return permScopeTags
	case OpListGroups, OpGetGroup, OpListGroupOwners:
		return permGroups
	case OpGetOrganization:
		return permOrganization
	}
	return nil
}

// grantedAny reports whether Options.Granted holds one of perms (or perms
// is empty). The set is read-only after New, so no lock is needed.
func (s *Server) grantedAny(perms []string) bool {
	if s.granted == nil || len(perms) == 0 {
		return true
	}
	for _, p := range perms {
		if s.granted[strings.ToLower(p)] {
			return true
		}
	}
	return false
}

// forbiddenFor is the 403 of a request whose caller lacks the permission:
// Intune's names the permissions it wants, Entra's does not.
func forbiddenFor(op Op) *apiError {
	switch op {
	case OpListGroups, OpGetGroup, OpListGroupOwners, OpGetOrganization:
		return errorf(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	case OpListScopeTags, OpGetScopeTag, OpSetDeviceGroup, OpRetrieveDeviceGroup, OpClearDeviceGroup:
		return errorf(http.StatusForbidden, "Forbidden", "Application is not authorized to perform this operation. Application must have one of the following scopes: %s",
			strings.Join(required(op, http.MethodGet), ", "))
	}
	code, msg := defaultError(http.StatusForbidden)
	return errorf(http.StatusForbidden, code, "%s", msg)
}

// listing is a parsed list request: $select, $filter, $top and $skiptoken.
type listing struct {
	sel  map[string]bool // nil: all properties
	filt filter
	off  int
	n    int
}

// parseListing reads the query options of a directory or scope tag list.
// props are the names $select may use; typ names the type in errors.
func (s *Server) parseListing(x *exchange, props []string, typ string, filterable bool) (listing, *apiError) {
	q := x.r.URL.Query()
	l := listing{n: s.opts.PageSize}
	if v, ok := queryValue(q, "select"); ok && strings.TrimSpace(v) != "" {
		l.sel = map[string]bool{"id": true}
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			name := ""
			for _, p := range props {
				if strings.EqualFold(p, f) {
					name = p
				}
			}
			if name == "" {
				return l, errorf(http.StatusBadRequest, "Request_BadRequest", "Could not find a property named '%s' on type '%s'.", f, typ)
			}
			l.sel[name] = true
		}
	}
	if v, ok := queryValue(q, "filter"); ok {
		if !filterable {
			return l, errorf(http.StatusBadRequest, "Request_BadRequest", "Invalid filter clause: $filter is not supported here.")
		}
		f, aerr := parseFilter(v)
		if aerr != nil {
			return l, aerr
		}
		l.filt = f
	}
	if tv, ok := queryValue(q, "top"); ok {
		t, ok := atoi(strings.TrimSpace(tv))
		if !ok || t < 0 {
			return l, errorf(http.StatusBadRequest, "BadRequest", "Invalid value '%s' for $top: use a whole number from 0 to %d.", tv, maxTop)
		}
		l.n = min(t, maxTop)
	}
	if tv, ok := queryValue(q, "skiptoken"); ok {
		o, ok := unopaque(tv)
		if !ok {
			return l, errorf(http.StatusBadRequest, "BadRequest", "The $skiptoken is invalid: follow @odata.nextLink as given.")
		}
		l.off = o
	}
	return l, nil
}

// matches reports whether a display name passes the listing's filter
// (compared without regard to case, as Graph does).
func (l listing) matches(displayName string) bool {
	switch l.filt.kind {
	case filterEq:
		return lower(displayName) == l.filt.value
	case filterPrefix:
		return strings.HasPrefix(lower(displayName), l.filt.value)
	}
	return true
}

// pageOf renders one page of items (already filtered) from the listing's
// offset, with an absolute @odata.nextLink when more follow.
func pageOf(x *exchange, l listing, context string, items []obj) reply {
	from := min(l.off, len(items))
	to := min(from+l.n, len(items))
	doc := obj{{"@odata.context", context}}
	if to < len(items) {
		doc = append(doc, kv{"@odata.nextLink", directoryNextLink(x, to)})
	}
	doc = append(doc, kv{"value", append([]obj{}, items[from:to]...)})
	return jsonReply(http.StatusOK, doc)
}

// directoryNextLink is the URL of the page at offset off of the request's
// path, with its other query options kept.
func directoryNextLink(x *exchange, off int) string {
	scheme := "http"
	if x.r.TLS != nil {
		scheme = "https"
	}
	var parts []string
	for _, name := range []string{"select", "filter", "top"} {
		if v, ok := queryValue(x.r.URL.Query(), name); ok {
			parts = append(parts, "$"+name+"="+queryEscape(v))
		}
	}
	parts = append(parts, "$skiptoken="+opaque(off))
	return scheme + "://" + x.r.Host + x.r.URL.Path + "?" + strings.Join(parts, "&")
}

// selected keeps the members of o that sel names (all when sel is nil);
// annotations and id are always kept.
func selected(o obj, sel map[string]bool) obj {
	if sel == nil {
		return o
	}
	out := make(obj, 0, len(o))
	for _, m := range o {
		if strings.HasPrefix(m.k, "@") || sel[m.k] {
			out = append(out, m)
		}
	}
	return out
}

// contextFor is an @odata.context for a set, with the selection.
func contextFor(x *exchange, set string, sel map[string]bool, props []string) string {
	c := x.rt.base + "/$metadata#" + set
	if sel != nil {
		names := []string{"id"}
		for _, p := range props {
			if p != "id" && sel[p] {
				names = append(names, p)
			}
		}
		c += "(" + strings.Join(names, ",") + ")"
	}
	return c
}

// Role scope tags.

var scopeTagProps = []string{"id", "displayName", "description", "isBuiltIn"}

func scopeTagEntity(t ScopeTag) obj {
	return obj{{"@odata.type", "#microsoft.graph.roleScopeTag"}, {"id", t.ID}, {"displayName", t.DisplayName},
		{"description", nullable(t.Description)}, {"isBuiltIn", t.IsBuiltIn}}
}

// listScopeTags answers GET /deviceManagement/roleScopeTags.
func (s *Server) listScopeTags(x *exchange) reply {
	l, aerr := s.parseListing(x, scopeTagProps, "microsoft.graph.roleScopeTag", true)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	var items []obj
	for _, t := range s.tags {
		if l.matches(t.DisplayName) {
			items = append(items, selected(scopeTagEntity(t), l.sel))
		}
	}
	s.mu.Unlock()
	return pageOf(x, l, contextFor(x, "deviceManagement/roleScopeTags", l.sel, scopeTagProps), items)
}

// getScopeTag answers GET /deviceManagement/roleScopeTags/{id}.
func (s *Server) getScopeTag(x *exchange) reply {
	l, aerr := s.parseListing(x, scopeTagProps, "microsoft.graph.roleScopeTag", false)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	var found *ScopeTag
	for i := range s.tags {
		if s.tags[i].ID == x.rt.id {
			t := s.tags[i]
			found = &t
		}
	}
	s.mu.Unlock()
	if found == nil {
		return s.errorReply(x, intuneError(http.StatusNotFound, "ResourceNotFound", x.rt.base+x.rt.path[len(x.rt.path)-len(scopeTagsSegment):]+"/"+x.rt.id,
			"Role scope tag with id '"+x.rt.id+"' does not exist"))
	}
	doc := obj{{"@odata.context", x.rt.base + "/$metadata#deviceManagement/roleScopeTags/$entity"}}
	return jsonReply(http.StatusOK, append(doc, selected(scopeTagEntity(*found), l.sel)...))
}

// Groups.

var groupProps = []string{"id", "createdDateTime", "description", "displayName", "groupTypes", "mail", "mailEnabled",
	"mailNickname", "membershipRule", "membershipRuleProcessingState", "securityEnabled", "visibility"}

func groupEntity(g Group) obj {
	state := any(nil)
	if g.Dynamic() {
		state = "On"
	}
	var mail any
	nick := mailNickname(g.DisplayName)
	if g.MailEnabled {
		mail = nick + "@contoso.onmicrosoft.com"
	}
	return obj{{"id", g.ID}, {"createdDateTime", nil}, {"description", nullable(g.Description)},
		{"displayName", g.DisplayName}, {"groupTypes", append([]string{}, g.GroupTypes...)}, {"mail", mail},
		{"mailEnabled", g.MailEnabled}, {"mailNickname", nick}, {"membershipRule", nullable(g.MembershipRule)},
		{"membershipRuleProcessingState", state}, {"securityEnabled", g.SecurityEnabled}, {"visibility", nil}}
}

// mailNickname makes the nickname Entra's portal suggests from a name.
func mailNickname(name string) string {
	n := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, name)
	if n == "" {
		return "group"
	}
	return n
}

// directoryNotFound is Entra's 404 for an object id.
func directoryNotFound(id string) *apiError {
	return errorf(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// lookupGroup finds the request's group, or the error to answer.
func (s *Server) lookupGroup(x *exchange) (Group, *apiError) {
	if !profile.IsGUID(x.rt.id) {
		return Group{}, errorf(http.StatusBadRequest, "Request_BadRequest", "Invalid object identifier '%s'.", x.rt.id)
	}
	s.mu.Lock()
	g, ok := s.groupLocked(x.rt.id)
	g = cloneGroup(g)
	s.mu.Unlock()
	if !ok {
		return Group{}, directoryNotFound(x.rt.id)
	}
	return g, nil
}

// listGroups answers GET /groups, with $filter on displayName.
func (s *Server) listGroups(x *exchange) reply {
	l, aerr := s.parseListing(x, groupProps, "microsoft.graph.group", true)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	var items []obj
	for _, g := range s.groups {
		if l.matches(g.DisplayName) {
			items = append(items, selected(groupEntity(g), l.sel))
		}
	}
	s.mu.Unlock()
	return pageOf(x, l, contextFor(x, "groups", l.sel, groupProps), items)
}

// getGroup answers GET /groups/{id}.
func (s *Server) getGroup(x *exchange) reply {
	l, aerr := s.parseListing(x, groupProps, "microsoft.graph.group", false)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	g, aerr := s.lookupGroup(x)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	doc := obj{{"@odata.context", contextFor(x, "groups", l.sel, groupProps) + "/$entity"}}
	return jsonReply(http.StatusOK, append(doc, selected(groupEntity(g), l.sel)...))
}

var ownerProps = []string{"id", "displayName", "appId", "servicePrincipalType", "userPrincipalName", "mail"}

// ownerEntity renders an owner as a directoryObject of its type; full
// false gives the limited form Graph returns when the caller may not read
// that type: @odata.type and id, the rest null.
func ownerEntity(o Owner, full bool) obj {
	if o.Type == OwnerServicePrincipal {
		e := obj{{"@odata.type", "#microsoft.graph.servicePrincipal"}, {"id", o.ID}, {"displayName", nil}, {"appId", nil}, {"servicePrincipalType", nil}}
		if full {
			e[2].v, e[3].v, e[4].v = nullable(o.DisplayName), nullable(o.AppID), "Application"
		}
		return e
	}
	e := obj{{"@odata.type", "#microsoft.graph.user"}, {"id", o.ID}, {"displayName", nil}, {"userPrincipalName", nil}, {"mail", nil}}
	if full {
		e[2].v, e[3].v = nullable(o.DisplayName), nullable(o.UserPrincipalName)
	}
	return e
}

// listOwners answers GET /groups/{id}/owners.
func (s *Server) listOwners(x *exchange) reply {
	l, aerr := s.parseListing(x, ownerProps, "microsoft.graph.directoryObject", false)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	g, aerr := s.lookupGroup(x)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	items := make([]obj, 0, len(g.Owners))
	for _, o := range g.Owners {
		full := s.grantedAny(permUsers)
		if o.Type == OwnerServicePrincipal {
			full = s.grantedAny(permServicePrincipals)
		}
		items = append(items, selected(ownerEntity(o, full), l.sel))
	}
	return pageOf(x, l, x.rt.base+"/$metadata#directoryObjects", items)
}

// organization answers GET /organization: the tenant's one organization,
// with its name.
func (s *Server) organization(x *exchange) reply {
	doc := obj{{"@odata.context", x.rt.base + "/$metadata#organization"},
		{"value", []obj{{{"id", s.opts.TenantID}, {"displayName", s.opts.Organization}}}}}
	return jsonReply(http.StatusOK, doc)
}
