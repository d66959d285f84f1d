package sim

import "net/http"

// Op is the kind of a request, as the simulator routes it.
type Op int

// The kinds of request.
const (
	OpAny         Op = iota // matches every kind (in a Fault)
	OpList                  // GET the collection
	OpGet                   // GET one profile
	OpCreate                // POST the collection
	OpCreateToken           // POST …/{id}/createToken
	OpRevokeToken           // POST …/{id}/revokeToken
	OpDelete                // DELETE one profile
	OpOther                 // an unknown path or a method the path does not allow
	OpPatch                 // PATCH one profile

	OpListScopeTags       // GET /deviceManagement/roleScopeTags
	OpGetScopeTag         // GET /deviceManagement/roleScopeTags/{id}
	OpListGroups          // GET /groups (with $filter)
	OpGetGroup            // GET /groups/{id}
	OpListGroupOwners     // GET /groups/{id}/owners
	OpSetDeviceGroup      // POST …/{id}/setEnrollmentTimeDeviceMembershipTarget
	OpRetrieveDeviceGroup // POST …/{id}/retrieveEnrollmentTimeDeviceMembershipTarget
	OpClearDeviceGroup    // POST …/{id}/clearEnrollmentTimeDeviceMembershipTarget
	OpGetOrganization     // GET /organization
)

// String names the kind.
func (o Op) String() string {
	switch o {
	case OpAny:
		return "any"
	case OpList:
		return "list"
	case OpGet:
		return "get"
	case OpCreate:
		return "create"
	case OpCreateToken:
		return "createToken"
	case OpRevokeToken:
		return "revokeToken"
	case OpDelete:
		return "delete"
	case OpPatch:
		return "patch"
	case OpListScopeTags:
		return "listRoleScopeTags"
	case OpGetScopeTag:
		return "getRoleScopeTag"
	case OpListGroups:
		return "listGroups"
	case OpGetGroup:
		return "getGroup"
	case OpListGroupOwners:
		return "listGroupOwners"
	case OpSetDeviceGroup:
		return "setEnrollmentTimeDeviceMembershipTarget"
	case OpRetrieveDeviceGroup:
		return "retrieveEnrollmentTimeDeviceMembershipTarget"
	case OpClearDeviceGroup:
		return "clearEnrollmentTimeDeviceMembershipTarget"
	case OpGetOrganization:
		return "getOrganization"
	}
	return "other"
}

// Fault is a response injected by a test in place of the normal one, e.g.
// "answer the next 2 creates with 429 and Retry-After 1.5" or "answer 401 to
// the token old-token".
//
// An injected fault is applied after the request is counted and before
// authorization, throttling and random faults: it replaces them all. With
// AfterCreate, the create is processed normally (validated, and the profile
// created when valid) and the fault replaces only its 201.
type Fault struct {
	Op    Op     // the kind of request it applies to; OpAny for all
	Token string // only requests with this bearer token; "" for any
	// Count is how many matching requests get the fault: 0 means one, a
	// negative number means every matching request until ClearFaults.
	Count      int
	Status     int    // status to answer; 500 when 0 (ignored with Drop)
	RetryAfter string // Retry-After header, sent as is; "" for none
	Code       string // error.code; default from Status (e.g. TooManyRequests)
	Message    string // error.message; default from Status
	Body       string // sent as is instead of the Graph error JSON when set
	// AfterCreate applies the fault to a create after the profile was
	// created (Op must be OpCreate or OpAny; other kinds ignore the fault).
	AfterCreate bool
	// Drop closes the connection without any response.
	Drop bool
}

// Inject queues faults. Each request takes the first queued fault that
// matches it; a fault is removed once its Count is used up.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		f := f
		if f.Count == 0 {
			f.Count = 1
		}
		s.faults = append(s.faults, &f)
	}
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetHook installs a function called for every request before anything
// else; a non-nil Fault it returns is applied to that request (its Count is
// ignored). Nil removes the hook. The hook must not call the Server's
// methods that take its lock from inside a response (it is called without
// the lock held, so Stats and Profiles are fine).
func (s *Server) SetHook(hook func(r *http.Request, op Op) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

// takeFaultLocked removes one use of the first queued fault matching the
// request and returns a copy of it, or nil.
func (s *Server) takeFaultLocked(op Op, token string, afterCreate bool) *Fault {
	for i, f := range s.faults {
		if f.AfterCreate != afterCreate || (f.Op != OpAny && f.Op != op) || (f.Token != "" && f.Token != token) {
			continue
		}
		if afterCreate && op != OpCreate {
			continue
		}
		c := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}
