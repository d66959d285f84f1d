// Package sim is an in-process simulator of the Microsoft Graph beta
// resource androidDeviceOwnerEnrollmentProfiles, served as an http.Handler.
//
// It behaves like the service as far as the job can tell: it validates POST
// bodies the way Graph does (unknown property, wrong JSON type, read-only
// property: 400 with Graph's error JSON, sometimes with Intune's JSON document
// wrapped inside error.message), assigns ids, timestamps and an enrollment
// token, builds a realistic Android provisioning payload (qrCodeContent; for
// AOSP profiles optionally base64-encoded, see Options.Content) and a real QR
// code PNG of it (qrCodeImage), pages lists with an absolute
// @odata.nextLink, and supports $select, $filter=displayName eq '…', $top,
// GET by id, PATCH with a partial body (answered 200 with the updated
// profile), DELETE (204), createToken and revokeToken. Duplicate display names are
// allowed, as the real service allows them; Stats and Profiles show them.
//
// Around the profiles it models what the job reads to turn names into ids:
// Intune's role scope tags (GET /deviceManagement/roleScopeTags, with the
// Default tag "0" every tenant has), Entra ID's groups with their owners
// (GET /groups with $filter on displayName, /groups/{id} and
// /groups/{id}/owners), and a profile's enrollment-time device group
// (the set, retrieve and clear EnrollmentTimeDeviceMembershipTarget
// actions, validated against the groups). Seed them with Options
// (ScopeTags, Groups), the Seed methods, or a JSON seed file (LoadTenant).
// Once tags are seeded, creates and updates refuse roleScopeTagIds that
// name no tag. Options.Granted models an app that lacks a permission.
//
// A Server is one tenant. A Cloud serves several on one URL, as Graph
// does: each request acts on the tenant named by the tid claim of its
// bearer token, which Cloud.Token issues (or refuses with Entra's
// AADSTS errors). Each tenant (TenantSpec, or a tenants file read by
// LoadTenants) has its own store, organization name, limits and seeds,
// and a Cloud can add Graph's app-wide limit across all of them.
//
// The simulator is mount-agnostic: any path ending in
// /deviceManagement/androidDeviceOwnerEnrollmentProfiles is the collection, so
// a client whose Graph URL is http://127.0.0.1:PORT/beta reaches it.
//
// Behaviour that tests and benchmarks need to measure is injectable: response
// latency, a sliding-window limit answered with 429 and Retry-After (in whole
// seconds, fractional seconds or an HTTP date), random 503s, a 504 or a
// dropped connection after the profile was created, bearer-token checks, and
// one-off faults (Inject, SetHook). Stats counts what the client did,
// including requests sent while an announced Retry-After had not yet passed.
package sim

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

// defaultTenantID is the organization id of a Server whose Options name
// no TenantID.
const defaultTenantID = "00000000-0000-0000-0000-0000000000a1"

// MaxBody is the largest request body the simulator reads; a larger one is
// answered 413.
const MaxBody = 1 << 20

// Retry-After formats for Options.RetryAfter.
const (
	RetryAfterSeconds    = "seconds"    // whole seconds, rounded up: "3"
	RetryAfterFractional = "fractional" // seconds with milliseconds: "2.128"
	RetryAfterDate       = "date"       // an HTTP date: "Mon, 02 Jan 2006 15:04:05 GMT"
)

// Options configure a simulator. The zero value is a fault-free service
// without limits that accepts any bearer token and, like the real one, puts a
// rendered QR image in every 201 (set OmitImage for bulk runs: rendering costs
// several milliseconds of CPU per profile).
type Options struct {
	// Latency is added to every response (real time: it is the server side).
	// Decisions (throttling, timestamps) are taken when the request arrives;
	// Retry-After is computed when the response is delivered, after the
	// latency, so it names the moment a slot frees as the client sees it.
	Latency time.Duration
	// Limit is the number of requests of any kind allowed per Window (0: no
	// limit). Requests over it are answered 429 with Retry-After, and still
	// count against the window, as with Intune.
	Limit int
	// Window is the sliding window of Limit; default 1 s.
	Window time.Duration
	// WriteLimit is a separate limit on writes (POST, PATCH, DELETE) per
	// WriteWindow; 0 for none. Intune: 100 writes per 20 s.
	WriteLimit int
	// WriteWindow is the window of WriteLimit; default Window.
	WriteWindow time.Duration
	// BucketRate, when above 0, limits requests of any kind with a token
	// bucket instead of (or besides) a window: BucketRate requests per
	// second, with bursts of at most BucketBurst (default 1). A throttled
	// request takes no token. Some gateways limit this way.
	BucketRate  float64
	BucketBurst int
	// RetryAfter is the format of the Retry-After header: RetryAfterSeconds
	// (default), RetryAfterFractional or RetryAfterDate.
	RetryAfter string
	// Fail503 is the fraction of requests answered 503 before anything is
	// done; about half of them carry a Retry-After of Retry503.
	Fail503 float64
	// Retry503 is the Retry-After announced with a 503; default 1 s.
	Retry503 time.Duration
	// Fail504AfterCreate is the fraction of valid creates that create the
	// profile and then answer 504 GatewayTimeout.
	Fail504AfterCreate float64
	// DropAfterCreate is the fraction of valid creates that create the
	// profile and then close the connection without any response.
	DropAfterCreate float64
	// Seed seeds the fault dice; the same seed and the same order of
	// requests give the same faults.
	Seed int64
	// PageSize is the size of a list page (default 100). $top overrides it.
	PageSize int
	// OmitToken makes a create leave the profile without a token: the 201
	// carries no tokenValue, qrCodeContent nor qrCodeImage, and the client
	// must call createToken and then GET the profile with $select.
	OmitToken bool
	// OmitImage makes the 201 of a create carry qrCodeImage null, sparing
	// the QR encoding (milliseconds per profile) in benchmarks. A GET with
	// $select=qrCodeImage still renders the image.
	OmitImage bool
	// Authorize decides on the bearer token of each request ("" when the
	// request has none): 0 accepts, 401 or 403 is answered. Nil accepts all.
	Authorize func(token string) int
	// Now is the clock of timestamps, tokens, the throttling windows and
	// Retry-After; default time.Now.
	Now func() time.Time
	// TokenValidity is the token lifetime when the body has no
	// tokenExpirationDateTime; default 90 days.
	TokenValidity time.Duration
	// Content is the form of qrCodeContent for AOSP profiles:
	// ContentJSON (default) or ContentBase64, the base64 (standard alphabet,
	// padded) of the provisioning JSON, as Microsoft's AOSP sample expects
	// it. qrCodeImage always draws the JSON, and other modes always get
	// JSON content.
	Content string
	// Organization is the tenant's name that GET /organization answers;
	// default "Simulated tenant".
	Organization string
	// TenantID is the tenant's id, which GET /organization answers as the
	// organization's id; default 00000000-0000-0000-0000-0000000000a1.
	// A Cloud sets it to each tenant's id.
	TenantID string

	// ScopeTags are the tenant's role scope tags besides Default (id "0",
	// which every tenant has and which is always there). Giving any, or
	// setting CheckScopeTags, makes creates and updates refuse
	// roleScopeTagIds naming no tag, as the service does. Without either,
	// any id is accepted: the tenant's tags are then not modelled, which
	// keeps sheets with made-up tag ids working against a bare simulator.
	ScopeTags []ScopeTag
	// CheckScopeTags turns the check of roleScopeTagIds on with only the
	// Default tag (see ScopeTags).
	CheckScopeTags bool
	// Groups are the tenant's Entra groups, with their owners.
	Groups []Group
	// Granted, when not nil, are the permissions the caller's token
	// carries (e.g. "DeviceManagementConfiguration.ReadWrite.All",
	// "Group.Read.All"). A request needing none of them is answered 403
	// with the service's message: Intune's names the permissions, Entra's
	// ("Insufficient privileges to complete the operation.") does not. An
	// owners listing without Application.Read.All (or Directory.Read.All)
	// returns service principals with only @odata.type and id, and without
	// User.Read.All (or User.ReadBasic.All, Directory.Read.All) users the
	// same way, as Graph does ("limited information returned for
	// inaccessible member objects"). Nil grants everything.
	Granted []string
}

// Forms of qrCodeContent for Options.Content.
const (
	ContentJSON   = "json"
	ContentBase64 = "base64"
)

// Stats counts what the simulator received and answered.
type Stats struct {
	Requests     int // every request received
	Posts        int // POST requests of any kind (creates, createToken, revokeToken)
	Creates      int // POSTs to the collection
	Lists        int // GETs of the collection (each page counts)
	Gets         int // GETs of one profile
	Deletes      int // DELETEs of one profile
	Patches      int // PATCHes of one profile
	CreateTokens int // createToken actions
	RevokeTokens int // revokeToken actions
	Created      int // profiles created by POSTs (Seed not counted), including those answered 504 or dropped
	Duplicates   int // profiles created while a live profile had the same name (profile.Key)
	Throttled    int // 429s answered by the limits (not by injected faults)
	// AppThrottled counts, of Throttled, the requests over the app-wide
	// limit of the Cloud the tenant belongs to (Cloud.AppLimit).
	AppThrottled int
	// InsideRetryAfter counts requests received after a Retry-After was
	// delivered to anyone (429, 503, or an injected fault) and before the
	// moment it named. Requests already sent when the announcement was
	// delivered do not count. A client that honours Retry-After job-wide
	// keeps it at 0.
	InsideRetryAfter int
	Failed503        int         // random 503s answered
	Failed504        int         // random 504s answered after a create
	Dropped          int         // connections closed without a response (random or injected)
	Injected         int         // requests answered by an injected fault or the hook
	ScopeTagReads    int         // GETs of /deviceManagement/roleScopeTags (each page) or one tag
	GroupLists       int         // GETs of /groups (each page)
	GroupGets        int         // GETs of one group
	OwnerLists       int         // GETs of a group's owners (each page)
	SetTargets       int         // setEnrollmentTimeDeviceMembershipTarget actions
	RetrieveTargets  int         // retrieveEnrollmentTimeDeviceMembershipTarget actions
	ClearTargets     int         // clearEnrollmentTimeDeviceMembershipTarget actions
	Status           map[int]int // responses by status code
}

// Server is the simulator. Create it with New; it is safe for concurrent use.
type Server struct {
	opts Options

	mu        sync.Mutex
	recs      []record         // creation order; deleted ones stay as tombstones
	byID      map[string]int   // id -> index in recs
	byName    map[string][]int // lower-cased displayName -> indexes in recs, ascending
	keyCount  map[string]int   // profile.Key -> live profiles with that key
	live      int              // profiles not deleted
	all       window           // requests of any kind
	writes    window           // writes
	bucket    bucket           // steady-rate limit
	announced []announcement   // Retry-After announcements not yet passed
	dice      *rand.Rand
	faults    []*Fault
	hook      func(r *http.Request, op Op) *Fault
	bodies    [][]byte // raw bodies of processed creates
	patches   []Patch  // bodies of processed PATCHes
	stats     Stats
	tokens    []string            // distinct bearer tokens received, in the order first seen
	tokenSeen map[string]struct{} // the set of tokens
	app       *appLimit           // the app-wide limit of a Cloud; nil alone

	tags      []ScopeTag     // role scope tags, Default first
	checkTags bool           // refuse roleScopeTagIds naming no tag
	groups    []Group        // Entra groups, in the order added
	groupByID map[string]int // lower-cased group id -> index in groups
	granted   map[string]bool
}

// announcement is a Retry-After told to a client: delivered at from, it
// asks for no request before until.
type announcement struct {
	from, until time.Time
}

// record is one stored profile. The qrCodeContent is derived from the token
// and the settings when needed, never stored.
type record struct {
	p            profile.Profile
	lower        string // strings.ToLower(displayName), for $filter
	wifiPassword string
	deleted      bool
	targets      []string // enrollment-time device membership targets (group ids)
}

// New returns a simulator with the given options, an empty tenant and
// zeroed stats.
func New(opts Options) *Server {
	if opts.Window <= 0 {
		opts.Window = time.Second
	}
	if opts.WriteWindow <= 0 {
		opts.WriteWindow = opts.Window
	}
	if opts.RetryAfter == "" {
		opts.RetryAfter = RetryAfterSeconds
	}
	if opts.Retry503 <= 0 {
		opts.Retry503 = time.Second
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Organization == "" {
		opts.Organization = "Simulated tenant"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TenantID == "" {
		opts.TenantID = defaultTenantID
	}
	if opts.TokenValidity <= 0 {
		opts.TokenValidity = 90 * 24 * time.Hour
	}
	if opts.Content == "" {
		opts.Content = ContentJSON
	}
	s := &Server{
		opts:      opts,
		byID:      make(map[string]int),
		byName:    make(map[string][]int),
		keyCount:  make(map[string]int),
		all:       window{limit: opts.Limit, size: opts.Window},
		writes:    window{limit: opts.WriteLimit, size: opts.WriteWindow},
		bucket:    bucket{rate: opts.BucketRate, burst: float64(max(opts.BucketBurst, 1))},
		dice:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x656e726f6c6c)),
		stats:     Stats{Status: make(map[int]int)},
		tags:      []ScopeTag{DefaultScopeTag},
		checkTags: opts.CheckScopeTags || len(opts.ScopeTags) > 0,
		groupByID: make(map[string]int),
		tokenSeen: make(map[string]struct{}),
	}
	for _, t := range opts.ScopeTags {
		s.addTagLocked(t)
	}
	for _, g := range opts.Groups {
		s.addGroupLocked(g)
	}
	if opts.Granted != nil {
		s.granted = make(map[string]bool, len(opts.Granted))
		for _, p := range opts.Granted {
			s.granted[strings.ToLower(strings.TrimSpace(p))] = true
		}
	}
	return s
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Status = make(map[int]int, len(s.stats.Status))
	for k, v := range s.stats.Status {
		st.Status[k] = v
	}
	return st
}

// Tokens returns the distinct bearer tokens the tenant has received, in
// the order it first saw them (a request without one is not counted).
// Behind a Cloud, a test can check with it that a tenant only ever saw
// tokens issued for it.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens)
}

// ResetStats zeroes the counters (not the tenant, nor the throttling
// windows), e.g. after a benchmark's warm-up.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Status: make(map[int]int)}
}

// Seed adds profiles with the given names to the tenant, as if created
// earlier (with a token valid for TokenValidity), and returns them. They do
// not count as Created.
func (s *Server) Seed(names ...string) []profile.Profile {
	ps := make([]profile.Profile, len(names))
	for i, n := range names {
		ps[i] = profile.Profile{DisplayName: n}
	}
	return s.SeedProfiles(ps...)
}

// ReplaceProfiles empties the tenant's profiles and seeds ps, as a tenant
// kept between runs comes back: what the file keeps replaces the seeds the
// tenant started with. It returns the profiles as stored.
func (s *Server) ReplaceProfiles(ps ...profile.Profile) []profile.Profile {
	s.mu.Lock()
	s.recs = nil
	s.byID = make(map[string]int)
	s.byName = make(map[string][]int)
	s.keyCount = make(map[string]int)
	s.live = 0
	s.mu.Unlock()
	return s.SeedProfiles(ps...)
}

// SeedProfiles adds profiles to the tenant as given and returns them as
// stored. DisplayName is required; id, timestamps, token and defaults are
// filled in when zero (a given TokenExpirationDateTime is kept, so a test can
// seed an expired or soon-expiring token). qrCodeContent and qrCodeImage are
// ignored: the simulator derives them from the token.
func (s *Server) SeedProfiles(ps ...profile.Profile) []profile.Profile {
	now := s.opts.Now()
	out := make([]profile.Profile, 0, len(ps))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		if p.ID == "" {
			p.ID = newGUID()
		}
		if p.CreatedDateTime.IsZero() {
			p.CreatedDateTime = now
		}
		if p.LastModifiedDateTime.IsZero() {
			p.LastModifiedDateTime = p.CreatedDateTime
		}
		if p.TokenValue == "" {
			p.TokenValue = newToken(p.EnrollmentMode)
		}
		if p.TokenCreationDateTime.IsZero() {
			p.TokenCreationDateTime = p.CreatedDateTime
		}
		if p.TokenExpirationDateTime.IsZero() {
			p.TokenExpirationDateTime = p.TokenCreationDateTime.Add(s.opts.TokenValidity)
		}
		p.QRCodeContent, p.QRCodeImage = "", nil
		setDefaults(&p)
		i := s.insertLocked(record{p: p})
		out = append(out, s.exportLocked(i))
	}
	return out
}

// Profiles returns a copy of the tenant's profiles in creation order,
// duplicates included, with qrCodeContent filled in (qrCodeImage left nil).
func (s *Server) Profiles() []profile.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]profile.Profile, 0, s.live)
	for i := range s.recs {
		if !s.recs[i].deleted {
			out = append(out, s.exportLocked(i))
		}
	}
	return out
}

// Named returns the live profiles whose name equals name as the job
// compares names (profile.Key), in creation order. More than one means a
// duplicate was created.
func (s *Server) Named(name string) []profile.Profile {
	k := profile.Key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []profile.Profile
	for i := range s.recs {
		if !s.recs[i].deleted && profile.Key(s.recs[i].p.DisplayName) == k {
			out = append(out, s.exportLocked(i))
		}
	}
	return out
}

// Profile returns the live profile with the given id.
func (s *Server) Profile(id string) (profile.Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok || s.recs[i].deleted {
		return profile.Profile{}, false
	}
	return s.exportLocked(i), true
}

// insertLocked stores r and indexes it; it returns the index.
func (s *Server) insertLocked(r record) int {
	r.lower = lower(r.p.DisplayName)
	i := len(s.recs)
	s.recs = append(s.recs, r)
	s.byID[r.p.ID] = i
	s.byName[r.lower] = append(s.byName[r.lower], i)
	k := profile.Key(r.p.DisplayName)
	s.keyCount[k]++
	s.live++
	return i
}

// deleteLocked marks the record at i deleted.
func (s *Server) deleteLocked(i int) {
	r := &s.recs[i]
	r.deleted = true
	s.keyCount[profile.Key(r.p.DisplayName)]--
	s.live--
}

// exportLocked returns the record at i as a profile.Profile with its
// qrCodeContent.
func (s *Server) exportLocked(i int) profile.Profile {
	r := &s.recs[i]
	p := r.p
	p.RoleScopeTagIDs = append([]string(nil), p.RoleScopeTagIDs...)
	if p.TokenValue != "" {
		p.QRCodeContent = s.qrContent(r)
	}
	return p
}

// qrContent is a profile's qrCodeContent in the form Options.Content asks.
func (s *Server) qrContent(r *record) string {
	c := provisioningContent(r)
	if s.opts.Content == ContentBase64 && strings.HasPrefix(r.p.EnrollmentMode, "corporateOwnedAOSP") {
		return base64.StdEncoding.EncodeToString([]byte(c))
	}
	return c
}

// setDefaults fills what Intune fills when the body leaves it out.
func setDefaults(p *profile.Profile) {
	if len(p.RoleScopeTagIDs) == 0 {
		p.RoleScopeTagIDs = []string{"0"}
	}
	if p.EnrollmentMode == "" {
		p.EnrollmentMode = "corporateOwnedDedicatedDevice"
	}
	if p.EnrollmentTokenType == "" {
		p.EnrollmentTokenType = "default"
	}
}

// Bodies returns the bodies of the creates the simulator processed (those
// not refused by authorization, a limit or an injected fault), in arrival
// order, decoded; an entry is nil when that body was not a JSON object.
func (s *Server) Bodies() []map[string]any {
	s.mu.Lock()
	raw := append([][]byte(nil), s.bodies...)
	s.mu.Unlock()
	out := make([]map[string]any, len(raw))
	for i, b := range raw {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			out[i] = m
		}
	}
	return out
}

// LastBody returns the body of the last create processed, decoded, or nil.
func (s *Server) LastBody() map[string]any {
	s.mu.Lock()
	var b []byte
	if len(s.bodies) > 0 {
		b = s.bodies[len(s.bodies)-1]
	}
	s.mu.Unlock()
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// Patch is one PATCH the simulator processed: the profile's id and the
// body as sent, decoded (nil when it was not a JSON object).
type Patch struct {
	ID   string
	Body map[string]any
}

// Patches returns the PATCHes the simulator processed (those not refused by
// authorization, a limit or an injected fault), in arrival order, including
// those it answered with a validation error.
func (s *Server) Patches() []Patch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Patch(nil), s.patches...)
}

// SetEnrolledDeviceCount sets how many devices enrolled with the live
// profile id, as if devices had been set up with its code. It reports
// whether the profile exists.
func (s *Server) SetEnrolledDeviceCount(id string, n int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok || s.recs[i].deleted {
		return false
	}
	s.recs[i].p.EnrolledDeviceCount = n
	return true
}

// WifiPassword returns the Wi-Fi password stored for the live profile id,
// which the service never returns, so that tests can check what was sent.
func (s *Server) WifiPassword(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok || s.recs[i].deleted {
		return "", false
	}
	return s.recs[i].wifiPassword, true
}
