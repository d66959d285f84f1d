package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

// graphTime is the way Graph writes a DateTimeOffset.
const graphTime = "2006-01-02T15:04:05.0000000Z"

// maxTop is the largest page a client may ask for with $top.
const maxTop = 1000

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// queryValue reads a system query option, with or without its "$".
func queryValue(q url.Values, name string) (string, bool) {
	if v, ok := q["$"+name]; ok && len(v) > 0 {
		return v[0], true
	}
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// itemURL is the absolute URL of a profile, as the client addressed the
// collection.
func (x *exchange) itemURL(id string) string {
	return x.rt.base + x.rt.path[len(x.rt.path)-len(collectionSegment):] + "/" + id
}

// view is the kind of response an entity is rendered in.
type view int

const (
	viewList    view = iota // an item of a list page
	viewItem                // GET by id
	viewCreated             // the 201 of a create
)

// propertyByLower maps lower-cased property names to their JSON names, for
// $select.
var propertyByLower = func() map[string]string {
	m := make(map[string]string, len(profile.Properties))
	for _, p := range profile.Properties {
		m[strings.ToLower(p.Name)] = p.Name
	}
	return m
}()

// parseSelect reads $select: nil when absent.
func parseSelect(v string, given bool) (map[string]bool, *apiError) {
	if !given || strings.TrimSpace(v) == "" {
		return nil, nil
	}
	sel := map[string]bool{"id": true}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		name, ok := propertyByLower[strings.ToLower(f)]
		if !ok {
			return nil, errorf(http.StatusBadRequest, "BadRequest",
				"Could not find a property named '%s' on type '%s'.", f, entityType)
		}
		sel[name] = true
	}
	return sel, nil
}

// filter is a parsed $filter.
type filter struct {
	kind  int    // filterNone, filterEq or filterPrefix
	value string // lower-cased literal
}

const (
	filterNone = iota
	filterEq
	filterPrefix
)

// parseFilter reads the $filter forms the resource supports:
// displayName eq '…' and startswith(displayName,'…'), with quotes doubled
// inside the literal. Keywords match in any case; the literal may hold any
// Unicode text. Comparison is case-insensitive, as in Graph.
func parseFilter(v string) (filter, *apiError) {
	s := strings.TrimSpace(v)
	if s == "" {
		return filter{}, nil
	}
	bad := errorf(http.StatusBadRequest, "BadRequest",
		"Invalid filter clause: %s. Supported: displayName eq 'name' and startswith(displayName,'prefix').", v)
	if rest, ok := cutFold(s, "startswith("); ok {
		rest, ok = cutFold(strings.TrimLeft(rest, " "), "displayname")
		if !ok {
			return filter{}, bad
		}
		rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " "), ",")
		if !ok {
			return filter{}, bad
		}
		lit, tail, ok := literal(strings.TrimLeft(rest, " "))
		if !ok || strings.TrimSpace(tail) != ")" {
			return filter{}, bad
		}
		return filter{kind: filterPrefix, value: lower(lit)}, nil
	}
	rest, ok := cutFold(s, "displayname")
	if !ok {
		return filter{}, bad
	}
	if t := strings.TrimLeft(rest, " "); len(t) == len(rest) {
		return filter{}, bad
	} else {
		rest = t
	}
	rest, ok = cutFold(rest, "eq ")
	if !ok {
		return filter{}, bad
	}
	lit, tail, ok := literal(strings.TrimLeft(rest, " "))
	if !ok || strings.TrimSpace(tail) != "" {
		return filter{}, bad
	}
	return filter{kind: filterEq, value: lower(lit)}, nil
}

// cutFold is strings.CutPrefix with the ASCII prefix matched in any case.
// It compares bytes of s, never a case-folded copy, whose length may
// differ (Turkish İ is 2 bytes, its lower case 3).
func cutFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// literal reads an OData string literal (quoted with ', a quote doubled) at the
// start of s and returns its value and what follows it.
func literal(s string) (string, string, bool) {
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}

// list answers GET on the collection: one page, with @odata.nextLink when
// more follow.
func (s *Server) list(x *exchange) reply {
	q := x.r.URL.Query()
	sv, given := queryValue(q, "select")
	sel, aerr := parseSelect(sv, given)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	fv, _ := queryValue(q, "filter")
	filt, aerr := parseFilter(fv)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	n := s.opts.PageSize
	if tv, ok := queryValue(q, "top"); ok {
		t, ok := atoi(strings.TrimSpace(tv))
		if !ok || t < 0 {
			return s.errorReply(x, errorf(http.StatusBadRequest, "BadRequest", "Invalid value '%s' for $top: use a whole number from 0 to %d.", tv, maxTop))
		}
		n = min(t, maxTop)
	}
	off := 0
	if tv, ok := queryValue(q, "skiptoken"); ok {
		o, ok := unopaque(tv)
		if !ok {
			return s.errorReply(x, errorf(http.StatusBadRequest, "BadRequest", "The $skiptoken is invalid: follow @odata.nextLink as given."))
		}
		off = o
	}
	cv, _ := queryValue(q, "count")
	withCount := strings.EqualFold(strings.TrimSpace(cv), "true")

	page := make([]record, 0, min(n, 128))
	next, count := -1, 0
	s.mu.Lock()
	take := func(i int) bool {
		if len(page) == n {
			next = i
			return false
		}
		page = append(page, s.recs[i])
		return true
	}
	switch filt.kind {
	case filterNone:
		for i := off; i < len(s.recs) && n > 0; i++ {
			if !s.recs[i].deleted && !take(i) {
				break
			}
		}
		count = s.live
	case filterEq:
		idx := s.byName[filt.value]
		for j := sort.SearchInts(idx, off); j < len(idx) && n > 0; j++ {
			if !s.recs[idx[j]].deleted && !take(idx[j]) {
				break
			}
		}
		if withCount {
			for _, i := range idx {
				if !s.recs[i].deleted {
					count++
				}
			}
		}
	case filterPrefix:
		for i := off; i < len(s.recs) && n > 0; i++ {
			r := &s.recs[i]
			if !r.deleted && strings.HasPrefix(r.lower, filt.value) && !take(i) {
				break
			}
		}
		if withCount {
			for i := range s.recs {
				if !s.recs[i].deleted && strings.HasPrefix(s.recs[i].lower, filt.value) {
					count++
				}
			}
		}
	}
	s.mu.Unlock()

	ctx := x.metadata()
	if sel != nil {
		ctx += "(" + selectList(sel) + ")"
	}
	items := make([]obj, len(page))
	for i := range page {
		items[i] = s.entity(&page[i], sel, viewList)
	}
	doc := obj{{"@odata.context", ctx}}
	if withCount {
		doc = append(doc, kv{"@odata.count", count})
	}
	if next >= 0 {
		doc = append(doc, kv{"@odata.nextLink", nextLink(x, next)})
	}
	doc = append(doc, kv{"value", items})
	return jsonReply(http.StatusOK, doc)
}

// selectList renders a selection in property order, for @odata.context.
func selectList(sel map[string]bool) string {
	var names []string
	for _, p := range profile.Properties {
		if sel[p.Name] && p.Name != "id" {
			names = append(names, p.Name)
		}
	}
	return strings.Join(append([]string{"id"}, names...), ",")
}

// nextLink is the absolute URL of the page that starts at offset off, with
// the request's other query options kept.
func nextLink(x *exchange, off int) string {
	var parts []string
	for _, name := range []string{"select", "filter", "top", "count"} {
		if v, ok := queryValue(x.r.URL.Query(), name); ok {
			parts = append(parts, "$"+name+"="+queryEscape(v))
		}
	}
	parts = append(parts, "$skiptoken="+opaque(off))
	return x.rt.base + x.rt.path[len(x.rt.path)-len(collectionSegment):] + "?" + strings.Join(parts, "&")
}

// queryEscape escapes a query value with %20 for spaces, as Graph does.
func queryEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// get answers GET on one profile.
func (s *Server) get(x *exchange) reply {
	sv, given := queryValue(x.r.URL.Query(), "select")
	sel, aerr := parseSelect(sv, given)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	i, ok := s.byID[x.rt.id]
	var r record
	if ok && !s.recs[i].deleted {
		r = s.recs[i]
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return s.errorReply(x, notFound(x))
	}
	doc := obj{{"@odata.context", x.metadata() + "/$entity"}}
	return jsonReply(http.StatusOK, append(doc, s.entity(&r, sel, viewItem)...))
}

// create answers POST on the collection.
func (s *Server) create(x *exchange, f *Fault) reply {
	body, aerr := readBody(x.r)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	r, aerr := parseCreate(body, x.rt.base+x.rt.path[len(x.rt.path)-len(collectionSegment):])
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	now := s.opts.Now()
	p := &r.p
	p.ID = newGUID()
	p.CreatedDateTime, p.LastModifiedDateTime = now, now
	if s.opts.OmitToken {
		p.TokenExpirationDateTime = time.Time{}
	} else {
		p.TokenValue = newToken(p.EnrollmentMode)
		p.TokenCreationDateTime = now
		if p.TokenExpirationDateTime.IsZero() {
			p.TokenExpirationDateTime = now.Add(s.opts.TokenValidity)
		}
	}
	setDefaults(p)

	s.mu.Lock()
	if id, bad := s.unknownTagLocked(p.RoleScopeTagIDs); bad {
		s.mu.Unlock()
		return s.errorReply(x, unknownTag(x.rt.base+x.rt.path[len(x.rt.path)-len(collectionSegment):], id))
	}
	if s.keyCount[profile.Key(p.DisplayName)] > 0 {
		s.stats.Duplicates++
	}
	i := s.insertLocked(r)
	s.stats.Created++
	r = s.recs[i]
	if f != nil && !f.AfterCreate {
		f = nil
	}
	if f == nil {
		f = s.takeFaultLocked(OpCreate, x.token, true)
	}
	var rep reply
	switch {
	case f != nil:
		rep = s.faultReplyLocked(x, f)
	case s.opts.DropAfterCreate > 0 || s.opts.Fail504AfterCreate > 0:
		u := s.dice.Float64()
		if u < s.opts.DropAfterCreate {
			rep = reply{drop: true}
		} else if u < s.opts.DropAfterCreate+s.opts.Fail504AfterCreate {
			s.stats.Failed504++
			code, msg := defaultError(http.StatusGatewayTimeout)
			rep = s.errorReply(x, errorf(http.StatusGatewayTimeout, code, "%s", msg))
		}
	}
	s.mu.Unlock()
	if rep.status != 0 || rep.drop {
		return rep
	}
	doc := obj{{"@odata.context", x.metadata() + "/$entity"}}
	rep = jsonReply(http.StatusCreated, append(doc, s.entity(&r, nil, viewCreated)...))
	rep.header = map[string]string{"Location": x.itemURL(p.ID)}
	return rep
}

// createToken answers POST …/{id}/createToken: a new token and payload.
func (s *Server) createToken(x *exchange) reply {
	body, aerr := readBody(x.r)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	d, aerr := parseTokenValidity(body)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		return s.errorReply(x, notFound(x))
	}
	p := &s.recs[i].p
	p.TokenValue = newToken(p.EnrollmentMode)
	p.TokenCreationDateTime = now
	p.TokenExpirationDateTime = now.Add(d)
	p.LastModifiedDateTime = now
	return reply{status: http.StatusNoContent}
}

// revokeToken answers POST …/{id}/revokeToken: the token is cleared.
func (s *Server) revokeToken(x *exchange) reply {
	body, aerr := readBody(x.r)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		// The action is documented without a request body.
		return s.errorReply(x, errorf(http.StatusBadRequest, "BadRequest", "The action 'revokeToken' takes no request body."))
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		return s.errorReply(x, notFound(x))
	}
	p := &s.recs[i].p
	p.TokenValue = ""
	p.TokenCreationDateTime = time.Time{}
	p.TokenExpirationDateTime = time.Time{}
	p.LastModifiedDateTime = now
	return reply{status: http.StatusNoContent}
}

// remove answers DELETE on one profile.
func (s *Server) remove(x *exchange) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		return s.errorReply(x, notFound(x))
	}
	s.deleteLocked(i)
	return reply{status: http.StatusNoContent}
}

// entity renders a profile. Without $select every property is present
// (null when unset); qrCodeContent only in a create's 201 or when selected,
// qrCodeImage only in a create's 201 (unless OmitImage) or a GET by id that
// selects it, never in a list, as with the real service.
func (s *Server) entity(r *record, sel map[string]bool, v view) obj {
	p := &r.p
	o := make(obj, 0, len(profile.Properties)+1)
	o = append(o, kv{"@odata.type", profile.ODataType}, kv{"id", p.ID})
	for _, prop := range profile.Properties {
		name := prop.Name
		if name == "id" || sel != nil && !sel[name] {
			continue
		}
		var val any
		switch name {
		case "displayName":
			val = nullable(p.DisplayName)
		case "description":
			val = nullable(p.Description)
		case "accountId":
			val = nullable(p.AccountID)
		case "createdDateTime":
			val = date(p.CreatedDateTime)
		case "lastModifiedDateTime":
			val = date(p.LastModifiedDateTime)
		case "tokenValue":
			val = nullable(p.TokenValue)
		case "tokenCreationDateTime":
			val = date(p.TokenCreationDateTime)
		case "tokenExpirationDateTime":
			val = date(p.TokenExpirationDateTime)
		case "enrolledDeviceCount":
			val = p.EnrolledDeviceCount
		case "roleScopeTagIds":
			val = append([]string{}, p.RoleScopeTagIDs...)
		case "enrollmentMode":
			val = nullable(p.EnrollmentMode)
		case "enrollmentTokenType":
			val = nullable(p.EnrollmentTokenType)
		case "enrollmentTokenUsageCount":
			val = p.EnrollmentTokenUsageCnt
		case "isTeamsDeviceProfile":
			val = p.IsTeamsDeviceProfile
		case "configureWifi":
			val = p.ConfigureWifi
		case "wifiSsid":
			val = nullable(p.WifiSsid)
		case "wifiSecurityType":
			val = nullable(p.WifiSecurityType)
		case "wifiHidden":
			val = p.WifiHidden
		case "deviceNameTemplate":
			val = nullable(p.DeviceNameTemplate)
		case "qrCodeContent":
			if p.TokenValue != "" && (v == viewCreated || sel[name]) {
				val = s.qrContent(r)
			}
		case "qrCodeImage":
			if p.TokenValue != "" && (v == viewCreated && !s.opts.OmitImage || v == viewItem && sel[name]) {
				if png, err := qrPNG(provisioningContent(r)); err == nil {
					val = obj{{"@odata.type", "microsoft.graph.mimeContent"}, {"type", "image/png"}, {"value", png}}
				}
			}
		}
		// wifiPassword is write-only: always null.
		o = append(o, kv{name, val})
	}
	return o
}

// nullable renders "" as null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// date renders a DateTimeOffset the way Graph does, or null.
func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(graphTime)
}

// patch answers PATCH on one profile: the properties sent replace the
// stored ones, and the answer is 200 with the updated profile, as the
// update page of the Graph reference says. The QR content, derived from the
// token and the Wi-Fi settings, follows the new settings.
func (s *Server) patch(x *exchange) reply {
	body, aerr := readBody(x.r)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	now := s.opts.Now()
	s.mu.Lock()
	s.patches = append(s.patches, Patch{ID: x.rt.id, Body: m})
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		s.mu.Unlock()
		return s.errorReply(x, notFound(x))
	}
	r, aerr := applyPatch(s.recs[i], body, x.itemURL(x.rt.id))
	if aerr != nil {
		s.mu.Unlock()
		return s.errorReply(x, aerr)
	}
	old := &s.recs[i]
	if !slices.Equal(r.p.RoleScopeTagIDs, old.p.RoleScopeTagIDs) {
		if id, bad := s.unknownTagLocked(r.p.RoleScopeTagIDs); bad {
			s.mu.Unlock()
			return s.errorReply(x, unknownTag(x.itemURL(x.rt.id), id))
		}
	}
	r.p.LastModifiedDateTime = now
	if r.p.DisplayName != old.p.DisplayName {
		s.keyCount[profile.Key(old.p.DisplayName)]--
		s.keyCount[profile.Key(r.p.DisplayName)]++
		r.lower = lower(r.p.DisplayName)
		if r.lower != old.lower {
			idx := s.byName[old.lower]
			if j := slices.Index(idx, i); j >= 0 {
				s.byName[old.lower] = slices.Delete(idx, j, j+1)
			}
			at, _ := slices.BinarySearch(s.byName[r.lower], i)
			s.byName[r.lower] = slices.Insert(s.byName[r.lower], at, i)
		}
	}
	s.recs[i] = r
	s.mu.Unlock()
	// "200 OK and an updated androidDeviceOwnerEnrollmentProfile object"
	// (the update page): the whole object, QR content included, as the
	// page's example shows.
	doc := obj{{"@odata.context", x.metadata() + "/$entity"}}
	return jsonReply(http.StatusOK, append(doc, s.entity(&r, nil, viewCreated)...))
}

// unknownTag is the service's refusal of a roleScopeTagIds entry that
// names no tag of the tenant: Intune's error document, its reason in
// CustomApiErrorPhrase, like the other refusals of a body's values.
func unknownTag(url, id string) *apiError {
	return intuneError(http.StatusBadRequest, "BadRequest", url, "Role scope tag with id '"+id+"' does not exist")
}
