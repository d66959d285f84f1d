package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/qr"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// fakeTokens is a TokenSource made of funcs, so each test says how sign-in
// behaves.
type fakeTokens struct {
	token func(fresh bool) (string, error)
}

func (f fakeTokens) Token(_ context.Context, fresh bool) (string, error) { return f.token(fresh) }

// setup serves a simulator over loopback HTTP and returns a job that talks
// to it with instant backoff.
func setup(t *testing.T, o sim.Options) (*sim.Server, *Job) {
	t.Helper()
	o.OmitImage = true
	s := sim.New(o)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	pacer := ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: pacer, MaxRetries: 6, RequestTimeout: 10 * time.Second}
	return s, &Job{Client: c, Options: Options{Concurrency: 4, MaxRetries: 6}}
}

func readRows(t *testing.T, path string) []input.Row {
	t.Helper()
	f, err := input.Read(path, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f.Rows
}

// makeRows builds n valid rows named "<prefix> 001" ...
func makeRows(n int, prefix string) []input.Row {
	rows := make([]input.Row, n)
	for i := range rows {
		name := fmt.Sprintf("%s %03d", prefix, i+1)
		rows[i] = input.Row{Line: i + 2, DisplayName: name, Body: map[string]any{"displayName": name}}
	}
	return rows
}

func byStatus(rs []results.Result) map[results.Status]int { return results.Counts(rs) }

func TestRunCreatesValidRowsWithExactBodies(t *testing.T) {
	s, job := setup(t, sim.Options{})
	rows := readRows(t, "testdata/rows.csv")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		row    int
		status results.Status
	}{{2, results.Created}, {3, results.Created}, {4, results.Invalid}, {6, results.Created}, {7, results.Invalid}}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d", len(rs), len(want))
	}
	for i, w := range want {
		if rs[i].Row != w.row || rs[i].Status != w.status {
			t.Errorf("result %d: row %d %s, want row %d %s (%s)", i, rs[i].Row, rs[i].Status, w.row, w.status, rs[i].ErrorMessage)
		}
	}
	if !strings.Contains(rs[2].ErrorMessage, "tokenExpirationDateTime") || !strings.Contains(rs[4].ErrorMessage, "row 2") {
		t.Errorf("invalid rows' messages: %q / %q", rs[2].ErrorMessage, rs[4].ErrorMessage)
	}
	// Exactly the non-empty writable properties, for valid rows only.
	bodies := s.Bodies()
	if len(bodies) != 3 {
		t.Fatalf("%d bodies posted, want 3", len(bodies))
	}
	got := map[string]map[string]any{}
	for _, b := range bodies {
		got[b["displayName"].(string)] = b
	}
	wantBody := map[string]map[string]any{
		"Leeds Scanners": {"@odata.type": profile.ODataType, "displayName": "Leeds Scanners", "description": "Zebra TC52",
			"tokenExpirationDateTime": "2027-03-31T23:59:59Z", "roleScopeTagIds": []any{"0", "12"}, "enrollmentMode": "corporateOwnedDedicatedDevice",
			"configureWifi": false},
		"Kraków Kiosks": {"@odata.type": profile.ODataType, "displayName": "Kraków Kiosks", "tokenExpirationDateTime": "2027-04-30T08:00:00+02:00",
			"configureWifi": false},
		"Brno Tills": {"@odata.type": profile.ODataType, "displayName": "Brno Tills", "description": "Tills at the front", "configureWifi": false},
	}
	for name, w := range wantBody {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("body for %s:\n got %v\nwant %v", name, got[name], w)
		}
	}
	for _, r := range rs {
		if r.Status != results.Created {
			continue
		}
		p, ok := s.Profile(r.ID)
		if !ok || p.DisplayName != r.DisplayName || r.QRCodeContent == "" || r.QRCodeContent != p.QRCodeContent {
			t.Errorf("row %d: result id %q content %d bytes does not match the tenant", r.Row, r.ID, len(r.QRCodeContent))
		}
		if r.Extras[0] == "" || r.Attempts != 1 || r.HTTPStatus != http.StatusCreated || r.RequestID == "" {
			t.Errorf("row %d: extras %v attempts %d status %d request-id %q", r.Row, r.Extras, r.Attempts, r.HTTPStatus, r.RequestID)
		}
	}
}

func TestOnExistsAndDryRun(t *testing.T) {
	cases := []struct {
		name      string
		opts      Options
		status    results.Status
		posts     int
		wantOther results.Status
	}{
		{"skip", Options{OnExists: Skip}, results.Exists, 2, results.Created},
		{"create", Options{OnExists: Create}, results.Created, 3, results.Created},
		{"fail", Options{OnExists: Fail}, results.Failed, 2, results.Created},
		{"dry run", Options{DryRun: true}, results.Exists, 0, results.Planned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, job := setup(t, sim.Options{})
			seeded := s.Seed("KIOSK 001") // other case and no padding: still the same name
			job.OnExists, job.DryRun = c.opts.OnExists, c.opts.DryRun
			rs, err := job.Run(context.Background(), makeRows(3, "Kiosk"))
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Status != c.status {
				t.Errorf("existing row: %s, want %s", rs[0].Status, c.status)
			}
			if c.status != results.Created && rs[0].ID != seeded[0].ID {
				t.Errorf("existing row id %q, want %q", rs[0].ID, seeded[0].ID)
			}
			for _, r := range rs[1:] {
				if r.Status != c.wantOther {
					t.Errorf("row %d: %s, want %s", r.Row, r.Status, c.wantOther)
				}
			}
			if got := s.Stats().Posts; got != c.posts {
				t.Errorf("%d posts, want %d", got, c.posts)
			}
		})
	}
}

func TestStrictHoldsBackEverything(t *testing.T) {
	s, job := setup(t, sim.Options{})
	job.Strict = true
	rs, err := job.Run(context.Background(), readRows(t, "testdata/rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	c := byStatus(rs)
	if c[results.Invalid] != 2 || c[results.NotAttempted] != 3 || s.Stats().Requests != 0 {
		t.Fatalf("strict: %v, %d requests", c, s.Stats().Requests)
	}
}

// A create whose answer was lost (dropped connection, 504 after creating,
// 503 or 429 that may have been applied) is looked up before it is sent
// again: one profile per row, and its id in the results.
func TestNoDuplicateWhenTheAnswerIsLost(t *testing.T) {
	cases := []struct {
		name  string
		fault sim.Fault
	}{
		{"dropped connection after create", sim.Fault{Op: sim.OpCreate, AfterCreate: true, Drop: true, Count: -1}},
		{"504 after create", sim.Fault{Op: sim.OpCreate, AfterCreate: true, Status: 504, Count: -1}},
		{"429 after create", sim.Fault{Op: sim.OpCreate, AfterCreate: true, Status: 429, RetryAfter: "0.01", Count: -1}},
		{"503 before create", sim.Fault{Op: sim.OpCreate, Status: 503, Count: 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, job := setup(t, sim.Options{})
			s.Inject(c.fault)
			rows := makeRows(6, "Till")
			rs, err := job.Run(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				named := s.Named(r.DisplayName)
				if r.Status != results.Created || len(named) != 1 || named[0].ID != r.ID || r.QRCodeContent == "" {
					t.Errorf("row %d: %s id %q (%s); tenant has %d profile(s) with the name", r.Row, r.Status, r.ID, r.ErrorMessage, len(named))
				}
			}
			if d := s.Stats().Duplicates; d != 0 {
				t.Errorf("%d duplicates", d)
			}
		})
	}
}

func TestFaultMixCreatesEachRowOnce(t *testing.T) {
	s, job := setup(t, sim.Options{Fail503: 0.05, Retry503: time.Millisecond, Fail504AfterCreate: 0.03, DropAfterCreate: 0.03, Seed: 3})
	job.Concurrency = 8
	job.MaxRetries = 10
	rows := makeRows(200, "Scanner")
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Failed503+st.Failed504+st.Dropped == 0 {
		t.Fatal("no fault was injected")
	}
	ids := map[string]bool{}
	for _, r := range rs {
		if r.Status != results.Created || r.ID == "" {
			t.Errorf("row %d: %s %s", r.Row, r.Status, r.ErrorMessage)
		}
		ids[r.ID] = true
	}
	if got := len(s.Profiles()); got != len(rows) || len(ids) != len(rows) || st.Duplicates != 0 {
		t.Errorf("tenant %d profiles, %d distinct ids, %d duplicates; want %d", got, len(ids), st.Duplicates, len(rows))
	}
}

func TestRetryAfterIsHonouredByEveryWorker(t *testing.T) {
	s, job := setup(t, sim.Options{Limit: 6, Window: 300 * time.Millisecond, Latency: 2 * time.Millisecond, RetryAfter: sim.RetryAfterFractional})
	job.Concurrency = 6
	job.Client.Pacer = ratelimit.New(ratelimit.Config{Rate: 100, Adaptive: true, BackoffBase: time.Microsecond})
	rs, err := job.Run(context.Background(), makeRows(24, "Printer"))
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Created] != 24 {
		for _, r := range rs {
			if r.Status != results.Created {
				t.Logf("row %d: %s after %d attempts: %s", r.Row, r.Status, r.Attempts, r.ErrorMessage)
			}
		}
		t.Fatalf("statuses %v", c)
	}
	st := s.Stats()
	if st.Throttled == 0 {
		t.Fatal("the simulator never throttled: the test proves nothing")
	}
	if st.InsideRetryAfter != 0 {
		t.Errorf("%d requests sent inside a Retry-After window", st.InsideRetryAfter)
	}
	if len(s.Profiles()) != 24 {
		t.Errorf("%d profiles, want 24", len(s.Profiles()))
	}
}

func TestUnauthorizedGetsAFreshTokenOnce(t *testing.T) {
	var fresh atomic.Int32
	s, job := setup(t, sim.Options{Authorize: func(tok string) int {
		if tok == "new" {
			return 0
		}
		return http.StatusUnauthorized
	}})
	job.Client.Tokens = fakeTokens{token: func(f bool) (string, error) {
		if f {
			fresh.Add(1)
		}
		if fresh.Load() > 0 {
			return "new", nil
		}
		return "old", nil
	}}
	rs, err := job.Run(context.Background(), makeRows(5, "Kiosk"))
	if err != nil {
		t.Fatal(err)
	}
	if c := byStatus(rs); c[results.Created] != 5 || len(s.Profiles()) != 5 {
		t.Fatalf("statuses %v", c)
	}
	if fresh.Load() != 1 {
		t.Errorf("fresh tokens fetched %d times, want 1", fresh.Load())
	}
}

func TestForbiddenAbortsTheRun(t *testing.T) {
	for _, where := range []sim.Op{sim.OpList, sim.OpCreate} {
		t.Run(fmt.Sprint(where), func(t *testing.T) {
			s, job := setup(t, sim.Options{})
			s.Inject(sim.Fault{Op: where, Status: http.StatusForbidden, Count: -1})
			job.Concurrency = 2
			rs, err := job.Run(context.Background(), makeRows(10, "Scale"))
			var ae *graph.AuthError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), graph.Permission) {
				t.Fatalf("err %v, want an AuthError naming %s", err, graph.Permission)
			}
			c := byStatus(rs)
			if len(rs) != 10 || c[results.Created] != 0 || c[results.NotAttempted] < 8 {
				t.Errorf("statuses %v", c)
			}
			if len(s.Profiles()) != 0 {
				t.Errorf("%d profiles created", len(s.Profiles()))
			}
		})
	}
}

func TestListFailurePostsNothing(t *testing.T) {
	s, job := setup(t, sim.Options{})
	s.Inject(sim.Fault{Op: sim.OpList, Status: http.StatusInternalServerError, Count: -1})
	job.MaxRetries = 2
	rs, err := job.Run(context.Background(), readRows(t, "testdata/rows.csv"))
	var le *ListError
	if !errors.As(err, &le) {
		t.Fatalf("err %v, want ListError", err)
	}
	if c := byStatus(rs); c[results.NotAttempted] != 3 || c[results.Invalid] != 2 || s.Stats().Posts != 0 {
		t.Errorf("statuses %v, %d posts", c, s.Stats().Posts)
	}
}

func TestTokenCreatedWhenTheServiceReturnsNone(t *testing.T) {
	s, job := setup(t, sim.Options{OmitToken: true})
	job.TokenValidity = 365 * 24 * time.Hour
	rows := makeRows(3, "Dock")
	rows[0].TokenExpiration = time.Now().Add(30 * 24 * time.Hour)
	rows[2].Body["enrollmentMode"] = "corporateOwnedAOSPUserlessDevice"
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		p, _ := s.Profile(r.ID)
		if r.Status != results.Created || r.QRCodeContent == "" || r.QRCodeContent != p.QRCodeContent || r.TokenExpiration.IsZero() {
			t.Errorf("row %d: %s content %d bytes expiry %v (%s)", r.Row, r.Status, len(r.QRCodeContent), r.TokenExpiration, r.ErrorMessage)
		}
	}
	if s.Stats().CreateTokens != 3 {
		t.Errorf("%d createToken calls, want 3", s.Stats().CreateTokens)
	}
	if d := rs[0].TokenExpiration.Sub(time.Now()); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("row 1 token valid for %v, want the row's 30 days", d)
	}
	if d := rs[1].TokenExpiration.Sub(time.Now()); d < 364*24*time.Hour {
		t.Errorf("row 2 token valid for %v, want the job's 365 days", d)
	}
	if d := rs[2].TokenExpiration.Sub(time.Now()); d > 90*24*time.Hour {
		t.Errorf("AOSP row token valid for %v, want at most 90 days", d)
	}
	want := "token lifetime: --token-validity 365d is longer than corporateOwnedAOSPUserlessDevice tokens may last (90 days, Intune docs, android-aosp-corporate-owned-userless-enroll); the token was asked for 90d"
	if !reflect.DeepEqual(rs[2].Notes, []string{want}) || len(rs[0].Notes)+len(rs[1].Notes) != 0 {
		t.Errorf("notes %q / %q / %q, want the AOSP row's to say the lifetime was cut", rs[0].Notes, rs[1].Notes, rs[2].Notes)
	}
}

// TestTokenValidityPerMode checks the lifetime asked of createToken for
// each mode when --token-validity is longer than some modes allow.
func TestTokenValidityPerMode(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		mode     string
		validity time.Duration
		want     time.Duration
		noted    bool
	}{
		{"", 30 * 365 * 24 * time.Hour, 30 * 365 * 24 * time.Hour, false},
		{profile.ModeDedicated, 70 * 365 * 24 * time.Hour, profile.TokenLimitFor(profile.ModeDedicated).Max(now), true},
		{profile.ModeAOSPUserless, 90 * 24 * time.Hour, 90 * 24 * time.Hour, false},
		{profile.ModeAOSPUserless, 91 * 24 * time.Hour, 90 * 24 * time.Hour, true},
		{profile.ModeAOSPAssociated, 10 * 365 * 24 * time.Hour, 10 * 365 * 24 * time.Hour, false},
		{profile.ModeWorkProfile, 64 * 365 * 24 * time.Hour, 64 * 365 * 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.mode, tt.validity), func(t *testing.T) {
			s, job := setup(t, sim.Options{OmitToken: true, Now: func() time.Time { return now }})
			job.Now = func() time.Time { return now }
			job.TokenValidity = tt.validity
			rows := makeRows(1, "Mode")
			if tt.mode != "" {
				rows[0].Body["enrollmentMode"] = tt.mode
			}
			rs, err := job.Run(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := s.Profile(rs[0].ID)
			if got := p.TokenExpirationDateTime.Sub(now); got != tt.want {
				t.Errorf("token valid for %v, want %v", got, tt.want)
			}
			if (len(rs[0].Notes) > 0) != tt.noted {
				t.Errorf("notes %q, want a note %v", rs[0].Notes, tt.noted)
			}
		})
	}
}

// TestTeamsProfileInTenant checks that a row turning isTeamsDeviceProfile
// on is invalid, before anything is posted, when the tenant already has a
// Teams device profile, and that the listing asks for what the rule needs.
func TestTeamsProfileInTenant(t *testing.T) {
	s, job := setup(t, sim.Options{})
	existing := s.SeedProfiles(profile.Profile{DisplayName: "Teams Phones HQ", EnrollmentMode: profile.ModeAOSPAssociated, IsTeamsDeviceProfile: true})[0]
	rows := makeRows(3, "Room")
	for _, i := range []int{0, 2} {
		rows[i].Body["enrollmentMode"] = profile.ModeAOSPAssociated
		rows[i].Body["isTeamsDeviceProfile"] = i == 0
	}
	rows = append(rows, input.Row{Line: 9, DisplayName: "teams phones hq", Body: map[string]any{
		"displayName": "teams phones hq", "enrollmentMode": profile.ModeAOSPAssociated, "isTeamsDeviceProfile": true}})
	for _, dry := range []bool{true, false} {
		job.DryRun = dry
		rs, err := job.Run(context.Background(), rows)
		if err != nil {
			t.Fatal(err)
		}
		create := results.Created
		if dry {
			create = results.Planned
		}
		want := []results.Status{results.Invalid, create, create, results.Exists}
		for i, r := range rs {
			if r.Status != want[i] {
				t.Errorf("dry run %v, row %d: %s, want %s (%s)", dry, r.Row, r.Status, want[i], r.ErrorMessage)
			}
		}
		if !strings.Contains(rs[0].ErrorMessage, `"Teams Phones HQ" (`+existing.ID+`)`) {
			t.Errorf("message %q does not name the tenant's Teams profile", rs[0].ErrorMessage)
		}
		if len(s.Named("Room 001")) != 0 {
			t.Fatalf("the conflicting row was posted")
		}
	}
	if !slices.Contains(listSelect(), "isTeamsDeviceProfile") {
		t.Errorf("the listing selects %v", listSelect())
	}
}

func TestRenewWithin(t *testing.T) {
	s, job := setup(t, sim.Options{})
	now := time.Now()
	s.SeedProfiles(
		profile.Profile{DisplayName: "Gate 001", TokenExpirationDateTime: now.Add(3 * 24 * time.Hour)},
		profile.Profile{DisplayName: "Gate 002", TokenExpirationDateTime: now.Add(60 * 24 * time.Hour)},
		profile.Profile{DisplayName: "Gate 003", TokenExpirationDateTime: now.Add(-24 * time.Hour)},
	)
	job.RenewWithin = 14 * 24 * time.Hour
	rs, err := job.Run(context.Background(), makeRows(4, "Gate"))
	if err != nil {
		t.Fatal(err)
	}
	want := []results.Status{results.Renewed, results.Exists, results.Renewed, results.Created}
	for i, r := range rs {
		if r.Status != want[i] {
			t.Errorf("row %d: %s, want %s (%s)", r.Row, r.Status, want[i], r.ErrorMessage)
		}
		if r.Status == results.Renewed && (r.TokenExpiration.Before(now.Add(80*24*time.Hour)) || r.QRCodeContent == "") {
			t.Errorf("row %d renewed until %v with %d bytes of content", r.Row, r.TokenExpiration, len(r.QRCodeContent))
		}
	}
}

func TestQRExistingFetchesContent(t *testing.T) {
	s, job := setup(t, sim.Options{})
	s.Seed("Lane 001")
	job.QRExisting = true
	var prepared sync.Map
	job.Prepare = func(r *results.Result) { prepared.Store(r.DisplayName, true) }
	rs, err := job.Run(context.Background(), makeRows(2, "Lane"))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Exists || rs[0].QRCodeContent == "" || !rs[0].Printable() {
		t.Errorf("existing row: %s with %d bytes", rs[0].Status, len(rs[0].QRCodeContent))
	}
	for _, r := range rs {
		if _, ok := prepared.Load(r.DisplayName); !ok {
			t.Errorf("row %d was not prepared", r.Row)
		}
	}
}

func TestStopLeavesUnsentRowsNotAttempted(t *testing.T) {
	s, job := setup(t, sim.Options{})
	stop := make(chan struct{})
	var once sync.Once
	job.Concurrency = 1
	job.Stop = stop
	job.Progress = func(done, total int) {
		if done == 3 {
			once.Do(func() { close(stop) })
		}
	}
	rs, err := job.Run(context.Background(), makeRows(10, "Belt"))
	if err != nil {
		t.Fatal(err)
	}
	c := byStatus(rs)
	if c[results.Created] < 3 || c[results.Created]+c[results.NotAttempted] != 10 {
		t.Fatalf("statuses %v", c)
	}
	for _, r := range rs {
		if r.Status == results.NotAttempted && len(s.Named(r.DisplayName)) != 0 {
			t.Errorf("row %d not_attempted but in the tenant", r.Row)
		}
	}
}

func TestErrorMessageUnwrapsIntuneJSON(t *testing.T) {
	s, job := setup(t, sim.Options{})
	inner := `{"_version":3,"Message":"An error has occurred - Operation ID (for customer support): 0000 - Activity ID: 1111","CustomApiErrorPhrase":"Role scope tag 99 does not exist","RetryAfter":null}`
	s.Inject(sim.Fault{Op: sim.OpCreate, Status: 400, Code: "BadRequest", Message: inner})
	job.Concurrency = 1
	rs, err := job.Run(context.Background(), makeRows(1, "Tag"))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Status != results.Failed || r.ErrorCode != "BadRequest" || r.ErrorMessage != "Role scope tag 99 does not exist" || r.ErrorRaw != inner || r.HTTPStatus != 400 {
		t.Errorf("failed row: %+v", r)
	}
	var check map[string]any
	if json.Unmarshal([]byte(r.ErrorRaw), &check) != nil {
		t.Errorf("raw message lost: %q", r.ErrorRaw)
	}
}

// TestTokenRefusedFailsOnlyThatRow checks that createToken refused for one
// profile (403 to an app-only token, or 400/404 for the id) fails that row
// with a message saying what to try, and the rest of the run goes on.
func TestTokenRefusedFailsOnlyThatRow(t *testing.T) {
	tests := []struct {
		name   string
		status int
		renew  bool
		want   []string
	}{
		{"403 after create", http.StatusForbidden, false, []string{"created without a token", "createToken for", "answered 403", "--auth device-code", "--auth browser"}},
		{"404 after create", http.StatusNotFound, false, []string{"createToken for", "answered 404", "tried POST", "AOSP-", "qr --from-tenant"}},
		{"400 after create", http.StatusBadRequest, false, []string{"createToken for", "answered 400", "tried POST"}},
		{"403 on renew", http.StatusForbidden, true, []string{"renewing the token failed", "answered 403", "--auth device-code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, job := setup(t, sim.Options{OmitToken: !tt.renew})
			if tt.renew {
				for i := 1; i <= 3; i++ {
					s.SeedProfiles(profile.Profile{DisplayName: fmt.Sprintf("Dock %03d", i), TokenExpirationDateTime: time.Now().Add(time.Hour)})
				}
				job.RenewWithin = 24 * time.Hour
			}
			s.Inject(sim.Fault{Op: sim.OpCreateToken, Status: tt.status})
			rs, err := job.Run(context.Background(), makeRows(3, "Dock"))
			if err != nil {
				t.Fatalf("the run was aborted: %v", err)
			}
			failed := 0
			for _, r := range rs {
				if r.Status != results.Failed {
					if r.QRCodeContent == "" {
						t.Errorf("row %d %s: no QR content", r.Row, r.Status)
					}
					continue
				}
				failed++
				if r.HTTPStatus != tt.status || r.ID == "" {
					t.Errorf("row %d: httpStatus %d id %q", r.Row, r.HTTPStatus, r.ID)
				}
				for _, w := range append(tt.want, r.DisplayName, r.ID) {
					if !strings.Contains(r.ErrorMessage, w) {
						t.Errorf("row %d message lacks %q: %s", r.Row, w, r.ErrorMessage)
					}
				}
			}
			if failed != 1 {
				t.Errorf("%d rows failed, want 1: %v", failed, byStatus(rs))
			}
			if st := s.Stats(); st.CreateTokens != 3 || len(s.Profiles()) != 3 {
				t.Errorf("%d createToken calls, %d profiles; want 3 and 3", st.CreateTokens, len(s.Profiles()))
			}
		})
	}
}

// TestContentAndImageDisagree answers a create with a qrCodeContent and a
// qrCodeImage that carry different tokens: the row prints the image's
// payload and says so in its notes and the log.
func TestContentAndImageDisagree(t *testing.T) {
	s, job := setup(t, sim.Options{})
	content := `{"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"CONTENTTOKEN"}}`
	drawn := `{"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"IMAGETOKEN"}}`
	code, err := qr.Encode(drawn)
	if err != nil {
		t.Fatal(err)
	}
	png, err := code.PNG(4)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"@odata.type": profile.ODataType, "id": "6f1b7f7e-0d3c-4c55-9d55-3d2f6b1f0a01", "displayName": "Dock 001",
		"tokenValue": "IMAGETOKEN", "tokenExpirationDateTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"qrCodeContent": content, "qrCodeImage": map[string]any{"type": "image/png", "value": png},
	})
	s.Inject(sim.Fault{Op: sim.OpCreate, Status: http.StatusCreated, Body: string(body)})
	var logged strings.Builder
	job.Log = slog.New(slog.NewJSONHandler(&syncWriter{w: &logged}, nil))
	rs, err := job.Run(context.Background(), makeRows(1, "Dock"))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Status != results.Created || r.QRCodeContent != drawn {
		t.Fatalf("row: %s, content %q; want created printing the image's payload", r.Status, r.QRCodeContent)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "disagree") {
		t.Errorf("notes %q, want one warning that content and image disagree", r.Notes)
	}
	if !strings.Contains(logged.String(), `"level":"WARN","msg":"qr code"`) || !strings.Contains(logged.String(), "disagree") {
		t.Errorf("log lacks the warning:\n%s", logged.String())
	}
}

// syncWriter serialises writes from the workers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestRenewNeverShortens checks that --renew-within skips, with a reason,
// a renewal that would end before the current token, and that a renewal
// follows the tenant's mode when the row gives none.
func TestRenewNeverShortens(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		seed     profile.Profile
		validity time.Duration
		status   results.Status
		expires  time.Time // the token after the run
		note     string
	}{
		{"shorter", profile.Profile{DisplayName: "Gate", TokenExpirationDateTime: now.Add(10 * 24 * time.Hour)}, 7 * 24 * time.Hour,
			results.Exists, now.Add(10 * 24 * time.Hour), "not renewed: a new token would expire 2026-12-08T00:00:00Z, before the current one (2026-12-11T00:00:00Z)"},
		{"longer", profile.Profile{DisplayName: "Gate", TokenExpirationDateTime: now.Add(10 * 24 * time.Hour)}, 60 * 24 * time.Hour,
			results.Renewed, now.Add(60 * 24 * time.Hour), ""},
		{"tenant's AOSP mode", profile.Profile{DisplayName: "Gate", EnrollmentMode: profile.ModeAOSPUserless, TokenExpirationDateTime: now.Add(3 * 24 * time.Hour)}, 365 * 24 * time.Hour,
			results.Renewed, now.Add(90 * 24 * time.Hour), "token lifetime: --token-validity 365d is longer than corporateOwnedAOSPUserlessDevice tokens may last (90 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, job := setup(t, sim.Options{Now: func() time.Time { return now }})
			p := s.SeedProfiles(tt.seed)[0]
			job.Now = func() time.Time { return now }
			job.RenewWithin, job.TokenValidity = 30*24*time.Hour, tt.validity
			rows := []input.Row{{Line: 2, DisplayName: "Gate", Body: map[string]any{"displayName": "Gate"}}}
			rs, err := job.Run(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := s.Profile(p.ID)
			if rs[0].Status != tt.status || !got.TokenExpirationDateTime.Equal(tt.expires) {
				t.Errorf("%s, token until %v; want %s until %v (%s)", rs[0].Status, got.TokenExpirationDateTime, tt.status, tt.expires, rs[0].ErrorMessage)
			}
			found := tt.note == ""
			for _, n := range rs[0].Notes {
				found = found || strings.Contains(n, tt.note)
			}
			if !found || tt.note == "" && len(rs[0].Notes) > 0 {
				t.Errorf("notes %q, want %q", rs[0].Notes, tt.note)
			}
		})
	}
}

// TestUpdateLeavesWifiAloneWithoutWifiColumns checks that the configureWifi
// false a row without Wi-Fi values is created with does not turn Wi-Fi off
// on an existing profile.
func TestUpdateLeavesWifiAloneWithoutWifiColumns(t *testing.T) {
	s, job := setup(t, sim.Options{})
	p := s.SeedProfiles(profile.Profile{DisplayName: "Gate", EnrollmentMode: profile.ModeAOSPUserless, ConfigureWifi: true, WifiSsid: "Yard"})[0]
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte("displayName,enrollmentMode,description\nGate,corporateOwnedAOSPUserlessDevice,new text\nNew Gate,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, path)
	job.OnExists = Update
	rs, err := job.Run(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Updated || !reflect.DeepEqual(rs[0].Changes, []string{"description: (empty) → new text"}) {
		t.Errorf("row 2: %s, changes %q", rs[0].Status, rs[0].Changes)
	}
	if got, _ := s.Profile(p.ID); !got.ConfigureWifi || got.WifiSsid != "Yard" {
		t.Errorf("the update changed Wi-Fi: %+v", got)
	}
	if created := s.Named("New Gate"); len(created) != 1 || created[0].ConfigureWifi {
		t.Errorf("the new profile: %+v, want configureWifi false", created)
	}
}
