package sim

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"
)

// collectionSegment ends the collection's path, whatever the mount point.
const collectionSegment = "/devicemanagement/androiddeviceownerenrollmentprofiles"

// route is what a request asks for.
type route struct {
	op     Op
	id     string // the profile id of item and action paths
	base   string // scheme://host/mount, e.g. http://127.0.0.1:8080/beta
	path   string // the request path up to and including the collection
	bad    *apiError
	method string
}

// parseRoute routes a request by its path and method.
func parseRoute(r *http.Request) route {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	p := r.URL.Path
	rt := route{method: r.Method}
	i := strings.Index(strings.ToLower(p), collectionSegment)
	if i < 0 {
		if d, ok := parseDirectoryRoute(r, scheme); ok {
			return d
		}
		rt.op = OpOther
		rt.bad = errorf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", lastSegment(p))
		return rt
	}
	rt.base = scheme + "://" + r.Host + p[:i]
	rt.path = p[:i+len(collectionSegment)]
	after := p[i+len(collectionSegment):]
	if after != "" && after[0] != '/' && after[0] != '(' {
		rt.op = OpOther
		rt.bad = errorf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", lastSegment(p[:i+len(collectionSegment)]+after))
		return rt
	}
	rest := strings.Trim(after, "/")
	var segs []string
	if rest != "" {
		segs = strings.Split(rest, "/")
	}
	if len(segs) > 0 && strings.HasPrefix(segs[0], "('") && strings.HasSuffix(segs[0], "')") {
		segs[0] = segs[0][2 : len(segs[0])-2] // OData key syntax: collection('id')
	}
	allow := ""
	switch len(segs) {
	case 0:
		allow = "GET, POST"
		switch r.Method {
		case http.MethodGet:
			rt.op = OpList
		case http.MethodPost:
			rt.op = OpCreate
		}
	case 1:
		rt.id = segs[0]
		allow = "GET, PATCH, DELETE"
		switch r.Method {
		case http.MethodGet:
			rt.op = OpGet
		case http.MethodPatch:
			rt.op = OpPatch
		case http.MethodDelete:
			rt.op = OpDelete
		}
	case 2:
		rt.id = segs[0]
		allow = "POST"
		switch strings.ToLower(strings.TrimPrefix(segs[1], "microsoft.graph.")) {
		case "createtoken":
			if r.Method == http.MethodPost {
				rt.op = OpCreateToken
			}
		case "revoketoken":
			if r.Method == http.MethodPost {
				rt.op = OpRevokeToken
			}
		case "setenrollmenttimedevicemembershiptarget":
			if r.Method == http.MethodPost {
				rt.op = OpSetDeviceGroup
			}
		case "retrieveenrollmenttimedevicemembershiptarget":
			if r.Method == http.MethodPost {
				rt.op = OpRetrieveDeviceGroup
			}
		case "clearenrollmenttimedevicemembershiptarget":
			if r.Method == http.MethodPost {
				rt.op = OpClearDeviceGroup
			}
		default:
			rt.op = OpOther
			rt.bad = errorf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", segs[1])
			return rt
		}
	default:
		rt.op = OpOther
		rt.bad = errorf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", segs[2])
		return rt
	}
	if rt.op == OpAny {
		rt.op = OpOther
		rt.bad = errorf(http.StatusMethodNotAllowed, "BadRequest", "The HTTP method '%s' is not allowed on this resource; allowed: %s.", r.Method, allow)
	}
	return rt
}

// lastSegment returns the last non-empty segment of a path.
func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// bearer returns the bearer token of a request, or "".
func bearer(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// wwwAuthenticate is the challenge Graph sends with a 401.
const wwwAuthenticate = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`

// exchange is one request in flight.
type exchange struct {
	r        *http.Request
	rt       route
	token    string
	arrived  time.Time
	reqID    string
	clientID string
}

// ServeHTTP answers one request like Graph would, with the configured
// latency, limits and faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{r: r, rt: parseRoute(r), token: bearer(r), reqID: newGUID()}
	x.clientID = r.Header.Get("client-request-id")
	if x.clientID == "" {
		x.clientID = x.reqID
	}

	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	var fault *Fault
	if hook != nil {
		fault = hook(r, x.rt.op)
	}
	// The callback runs without the lock, so it may call Stats or Profiles.
	auth := 0
	if s.opts.Authorize != nil && (fault == nil || fault.AfterCreate) {
		auth = s.opts.Authorize(x.token)
	}

	x.arrived = s.opts.Now()
	s.mu.Lock()
	s.countLocked(x)
	if fault == nil {
		fault = s.takeFaultLocked(x.rt.op, x.token, false)
	}
	var rep reply
	switch {
	case fault != nil && !fault.AfterCreate:
		rep = s.faultReplyLocked(x, fault)
	default:
		rep, fault = s.admitLocked(x, fault, auth)
	}
	s.mu.Unlock()

	if rep.status == 0 && !rep.drop {
		rep = s.dispatch(x, fault)
	}
	s.write(w, x, rep)
}

// countLocked counts a request on arrival.
func (s *Server) countLocked(x *exchange) {
	st := &s.stats
	st.Requests++
	if x.token != "" {
		if _, ok := s.tokenSeen[x.token]; !ok {
			s.tokenSeen[x.token] = struct{}{}
			s.tokens = append(s.tokens, x.token)
		}
	}
	if x.r.Method == http.MethodPost {
		st.Posts++
	}
	switch x.rt.op {
	case OpList:
		st.Lists++
	case OpGet:
		st.Gets++
	case OpCreate:
		st.Creates++
	case OpCreateToken:
		st.CreateTokens++
	case OpRevokeToken:
		st.RevokeTokens++
	case OpDelete:
		st.Deletes++
	case OpPatch:
		st.Patches++
	case OpListScopeTags, OpGetScopeTag:
		st.ScopeTagReads++
	case OpListGroups:
		st.GroupLists++
	case OpGetGroup:
		st.GroupGets++
	case OpListGroupOwners:
		st.OwnerLists++
	case OpSetDeviceGroup:
		st.SetTargets++
	case OpRetrieveDeviceGroup:
		st.RetrieveTargets++
	case OpClearDeviceGroup:
		st.ClearTargets++
	}
	if s.insideLocked(x.arrived) {
		st.InsideRetryAfter++
	}
}

// announceLocked records that a response delivered at from told its client
// to wait until until. Overlapping announcements are merged.
func (s *Server) announceLocked(from, until time.Time) {
	if !until.After(from) {
		return
	}
	if n := len(s.announced); n > 0 {
		last := &s.announced[n-1]
		if !from.Before(last.from) && !from.After(last.until) {
			if until.After(last.until) {
				last.until = until
			}
			return
		}
	}
	s.announced = append(s.announced, announcement{from, until})
}

// insideLocked reports whether a request arriving at t comes while an
// announced Retry-After has not yet passed. Requests already on their way
// when the announcement was delivered do not count: no client could have
// held them back. Announcements that passed are forgotten.
func (s *Server) insideLocked(t time.Time) bool {
	keep := s.announced[:0]
	inside := false
	for _, a := range s.announced {
		if a.until.After(t) {
			keep = append(keep, a)
			if !t.Before(a.from) {
				inside = true
			}
		}
	}
	clear(s.announced[len(keep):])
	s.announced = keep
	return inside
}

// faultReplyLocked turns an injected fault into a reply.
func (s *Server) faultReplyLocked(x *exchange, f *Fault) reply {
	s.stats.Injected++
	if f.Drop {
		return reply{drop: true}
	}
	rep := reply{status: f.Status, retryRaw: f.RetryAfter}
	if rep.status == 0 {
		rep.status = http.StatusInternalServerError
	}
	if f.Body != "" {
		rep.body = []byte(f.Body)
		return rep
	}
	code, msg := defaultError(rep.status)
	if f.Code != "" {
		code = f.Code
	}
	if f.Message != "" {
		msg = f.Message
	}
	rep.body = errorBody(code, msg, x.reqID, x.clientID, x.arrived)
	return rep
}

// admitLocked applies the authorization decision (auth: 0 or the status to
// answer), the limits and random 503s. A zero reply lets the request through
// to its handler.
func (s *Server) admitLocked(x *exchange, f *Fault, auth int) (reply, *Fault) {
	if auth != 0 {
		switch st := auth; st {
		case http.StatusUnauthorized:
			rep := s.errorReply(x, errorf(st, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."))
			rep.header = map[string]string{"WWW-Authenticate": wwwAuthenticate}
			return rep, nil
		case http.StatusForbidden:
			return s.errorReply(x, forbiddenFor(x.rt.op)), nil
		default:
			code, msg := defaultError(st)
			return s.errorReply(x, errorf(st, code, "%s", msg)), nil
		}
	}
	if x.rt.bad != nil {
		return s.errorReply(x, x.rt.bad), nil
	}
	if s.granted != nil && !s.grantedAny(required(x.rt.op, x.r.Method)) {
		return s.errorReply(x, forbiddenFor(x.rt.op)), nil
	}
	overAll, freeAll := s.all.add(x.arrived)
	var overW bool
	var freeW time.Time
	if x.r.Method != http.MethodGet {
		overW, freeW = s.writes.add(x.arrived)
	}
	if overB, freeB := s.bucket.take(x.arrived); overB {
		overAll = true
		if freeB.After(freeAll) {
			freeAll = freeB
		}
	}
	overApp, freeApp := s.app.add(x.arrived)
	if overAll || overW || overApp {
		free := freeAll
		if freeW.After(free) {
			free = freeW
		}
		if freeApp.After(free) {
			free = freeApp
		}
		s.stats.Throttled++
		if overApp {
			s.stats.AppThrottled++
		}
		code, msg := defaultError(http.StatusTooManyRequests)
		rep := s.errorReply(x, errorf(http.StatusTooManyRequests, code, "%s", msg))
		rep.retryAt = free
		return rep, nil
	}
	if s.opts.Fail503 > 0 && s.dice.Float64() < s.opts.Fail503 {
		s.stats.Failed503++
		code, msg := defaultError(http.StatusServiceUnavailable)
		rep := s.errorReply(x, errorf(http.StatusServiceUnavailable, code, "%s", msg))
		if s.dice.IntN(2) == 0 {
			rep.retryIn = s.opts.Retry503
		}
		return rep, nil
	}
	return reply{}, f
}

// errorReply renders a Graph error for x.
func (s *Server) errorReply(x *exchange, e *apiError) reply {
	return reply{status: e.status, body: errorBody(e.code, e.message, x.reqID, x.clientID, x.arrived)}
}

// dispatch runs the handler of the request's kind.
func (s *Server) dispatch(x *exchange, f *Fault) reply {
	switch x.rt.op {
	case OpList:
		return s.list(x)
	case OpGet:
		return s.get(x)
	case OpCreate:
		return s.create(x, f)
	case OpCreateToken:
		return s.createToken(x)
	case OpRevokeToken:
		return s.revokeToken(x)
	case OpDelete:
		return s.remove(x)
	case OpPatch:
		return s.patch(x)
	case OpListScopeTags:
		return s.listScopeTags(x)
	case OpGetScopeTag:
		return s.getScopeTag(x)
	case OpListGroups:
		return s.listGroups(x)
	case OpGetGroup:
		return s.getGroup(x)
	case OpListGroupOwners:
		return s.listOwners(x)
	case OpSetDeviceGroup:
		return s.setTargets(x)
	case OpRetrieveDeviceGroup:
		return s.retrieveTargets(x)
	case OpGetOrganization:
		return s.organization(x)
	case OpClearDeviceGroup:
		return s.clearTargets(x)
	}
	return s.errorReply(x, errorf(http.StatusBadRequest, "BadRequest", "Unsupported request."))
}

// crossing is how long after a Retry-After is sent a request may still
// arrive that its client let go before the answer reached it (loopback
// delivery and goroutine scheduling on a loaded machine).
const crossing = 2 * time.Millisecond

// write delivers a reply after the configured latency.
func (s *Server) write(w http.ResponseWriter, x *exchange, rep reply) {
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-x.r.Context().Done():
			t.Stop()
		}
	}
	// Retry-After is counted from now, when the client gets the answer, and
	// the announcement starts now: requests that arrive later and before the
	// announced moment were sent against the service's word.
	var retryAfter string
	now := s.opts.Now()
	var until time.Time
	switch {
	case !rep.retryAt.IsZero():
		retryAfter, until = formatRetryAfter(s.opts.RetryAfter, rep.retryAt.Sub(now), now)
	case rep.retryIn > 0:
		retryAfter, until = formatRetryAfter(s.opts.RetryAfter, rep.retryIn, now)
	case rep.retryRaw != "":
		retryAfter = rep.retryRaw
		until, _ = parseRetryAfter(rep.retryRaw, now)
	}
	s.mu.Lock()
	if !until.IsZero() {
		// A request that arrives within crossing of the announcement
		// crossed it on the wire: its client had let it go before the
		// answer could reach it.
		s.announceLocked(now.Add(crossing), until)
	}
	if rep.drop {
		s.stats.Dropped++
	} else {
		s.stats.Status[rep.status]++
	}
	s.mu.Unlock()
	if rep.drop {
		drop(w)
		return
	}
	h := w.Header()
	h.Set("request-id", x.reqID)
	h.Set("client-request-id", x.clientID)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Simulated","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"SIM"}}`)
	for k, v := range rep.header {
		h.Set(k, v)
	}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	if rep.body != nil {
		h.Set("Content-Type", jsonContentType)
	}
	w.WriteHeader(rep.status)
	if rep.body != nil {
		_, _ = w.Write(rep.body)
	}
}

// drop closes the connection without a response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// readBody reads a request body of at most MaxBody bytes.
func readBody(r *http.Request) ([]byte, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "BadRequest", "The request body could not be read: %v", err)
	}
	if len(b) > MaxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes.", MaxBody)
	}
	return b, nil
}

// jsonReply renders v with status.
func jsonReply(status int, v obj) reply {
	b, err := v.MarshalJSON()
	if err != nil {
		// Only a bug gets here: every value is a string, number, bool or list.
		return reply{status: http.StatusInternalServerError, body: errorBody("InternalServerError", err.Error(), "", "", time.Now())}
	}
	return reply{status: status, body: b}
}

// metadata is the @odata.context of the collection.
func (x *exchange) metadata() string {
	return x.rt.base + "/$metadata#deviceManagement/androidDeviceOwnerEnrollmentProfiles"
}

// notFound is Intune's 404 for an unknown id.
func notFound(x *exchange) *apiError {
	return intuneError(http.StatusNotFound, "ResourceNotFound", x.itemURL(x.rt.id),
		"No androidDeviceOwnerEnrollmentProfile with id '"+x.rt.id+"' exists.")
}

// opaque and unopaque make skip tokens from list offsets and back.
func opaque(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("adoep:" + itoa(off)))
}

func unopaque(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "adoep:") {
		return 0, false
	}
	n, ok := atoi(string(b[len("adoep:"):]))
	return n, ok && n >= 0
}
