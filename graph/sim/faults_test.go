package sim_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

// announced reads a Retry-After value received at now as the moment it
// names.
func announced(t *testing.T, v string, now time.Time) time.Time {
	t.Helper()
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return now.Add(time.Duration(f * float64(time.Second)))
	}
	d, err := http.ParseTime(v)
	if err != nil {
		t.Fatalf("Retry-After %q is neither seconds nor an HTTP date", v)
	}
	return d
}

func TestThrottleRetryAfterFormats(t *testing.T) {
	const limit = 3
	gap := 100 * time.Millisecond
	tests := []struct {
		format string
		check  func(v string, wait time.Duration) bool // wait: time until a slot frees
	}{
		{sim.RetryAfterSeconds, func(v string, wait time.Duration) bool {
			return v == strconv.Itoa(int(math.Ceil(wait.Seconds())))
		}},
		{"", func(v string, wait time.Duration) bool { // the default is whole seconds
			return v == strconv.Itoa(int(math.Ceil(wait.Seconds())))
		}},
		{sim.RetryAfterFractional, func(v string, wait time.Duration) bool {
			f, err := strconv.ParseFloat(v, 64)
			return err == nil && strings.Contains(v, ".") && math.Abs(f-wait.Seconds()) < 0.001
		}},
		{sim.RetryAfterDate, func(v string, wait time.Duration) bool {
			_, err := http.ParseTime(v)
			return err == nil
		}},
	}
	for _, tt := range tests {
		t.Run("format "+tt.format, func(t *testing.T) {
			e := start(t, sim.Options{Limit: limit, Window: time.Second, RetryAfter: tt.format})
			t0 := e.clock.Now()
			for i := 0; i < limit; i++ {
				if r := e.get(e.coll); r.status != http.StatusOK {
					t.Fatalf("request %d inside the limit: %d", i, r.status)
				}
				e.clock.Advance(gap)
			}
			r := e.get(e.coll)
			if r.status != http.StatusTooManyRequests {
				t.Fatalf("request over the limit: %d", r.status)
			}
			if code, _ := r.graphError(t); code != "TooManyRequests" {
				t.Errorf("code %q", code)
			}
			// Four requests are in the window, the 429 included: the second
			// one must leave it before a fifth fits.
			free := t0.Add(gap).Add(time.Second)
			v := r.header.Get("Retry-After")
			if !tt.check(v, free.Sub(e.clock.Now())) {
				t.Errorf("Retry-After %q, want the wait until %v (%v from now)", v, free, free.Sub(e.clock.Now()))
			}
			at := announced(t, v, e.clock.Now())
			if at.Before(free) {
				t.Errorf("Retry-After %q names %v, before the window frees at %v", v, at, free)
			}
			e.clock.Advance(at.Sub(e.clock.Now()))
			if r := e.get(e.coll); r.status != http.StatusOK {
				t.Errorf("request at the announced moment: %d", r.status)
			}
			st := e.sim.Stats()
			if st.Throttled != 1 || st.Status[429] != 1 || st.InsideRetryAfter != 0 {
				t.Errorf("Throttled %d, 429s %d, InsideRetryAfter %d; want 1, 1, 0", st.Throttled, st.Status[429], st.InsideRetryAfter)
			}
		})
	}
}

func TestThrottleCountsEarlyRequests(t *testing.T) {
	e := start(t, sim.Options{Limit: 2, Window: time.Second, RetryAfter: sim.RetryAfterFractional})
	e.get(e.coll)
	e.get(e.coll)
	e.clock.Advance(500 * time.Millisecond)
	r := e.get(e.coll)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d", r.status)
	}
	at := announced(t, r.header.Get("Retry-After"), e.clock.Now())
	// Two requests go out before the announced moment (one from another
	// worker that never saw the 429), then one after it.
	e.clock.Advance(at.Sub(e.clock.Now()) / 2)
	e.get(e.coll)
	e.post(`{"displayName":"early"}`)
	st := e.sim.Stats()
	if st.InsideRetryAfter != 2 {
		t.Errorf("InsideRetryAfter %d, want 2", st.InsideRetryAfter)
	}
	// Those early requests were throttled too and count against the
	// window, so the moment first announced is no longer enough.
	e.clock.Advance(at.Sub(e.clock.Now()))
	if r := e.get(e.coll); r.status != http.StatusTooManyRequests {
		t.Errorf("after early requests, status %d at the first announced moment; want 429 (throttled requests count)", r.status)
	}
}

func TestWriteLimit(t *testing.T) {
	e := start(t, sim.Options{WriteLimit: 2, WriteWindow: 20 * time.Second, OmitImage: true})
	for i := 0; i < 2; i++ {
		if r := e.post(fmt.Sprintf(`{"displayName":"W%d"}`, i)); r.status != http.StatusCreated {
			t.Fatalf("write %d: %d", i, r.status)
		}
	}
	r := e.post(`{"displayName":"W2"}`)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("third write: %d", r.status)
	}
	if got, want := r.header.Get("Retry-After"), "20"; got != want {
		t.Errorf("Retry-After %q, want %q (the first write leaves the 20 s window)", got, want)
	}
	if r := e.get(e.coll); r.status != http.StatusOK {
		t.Errorf("a read while writes are throttled: %d", r.status)
	}
	if n := len(e.sim.Profiles()); n != 2 {
		t.Errorf("%d profiles, want 2 (a throttled create creates nothing)", n)
	}
}

func TestTokenBucket(t *testing.T) {
	// 2 requests per second, bursts of 3: three at once pass, the fourth
	// waits for a token (0.5 s, announced as 1 s); throttled requests take
	// no token.
	e := start(t, sim.Options{BucketRate: 2, BucketBurst: 3, RetryAfter: sim.RetryAfterFractional})
	steps := []struct {
		advance time.Duration
		want    int
		retry   string
	}{
		{0, http.StatusOK, ""},
		{0, http.StatusOK, ""},
		{0, http.StatusOK, ""},
		{0, http.StatusTooManyRequests, "0.5"},
		{250 * time.Millisecond, http.StatusTooManyRequests, "0.25"},
		{250 * time.Millisecond, http.StatusOK, ""},
		{0, http.StatusTooManyRequests, "0.5"},
		{2 * time.Second, http.StatusOK, ""}, // refilled to the burst, not beyond
		{0, http.StatusOK, ""},
		{0, http.StatusOK, ""},
		{0, http.StatusTooManyRequests, "0.5"},
	}
	for i, st := range steps {
		e.clock.Advance(st.advance)
		r := e.get(e.coll)
		if r.status != st.want || r.header.Get("Retry-After") != st.retry {
			t.Fatalf("request %d: %d Retry-After %q, want %d %q", i, r.status, r.header.Get("Retry-After"), st.want, st.retry)
		}
	}
	if got := e.sim.Stats().Throttled; got != 4 {
		t.Errorf("Throttled %d, want 4", got)
	}
}

func TestRandom503(t *testing.T) {
	e := start(t, sim.Options{Fail503: 1, Seed: 7})
	withRA := 0
	const n = 60
	for i := 0; i < n; i++ {
		r := e.get(e.coll)
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d", r.status)
		}
		if code, _ := r.graphError(t); code != "ServiceUnavailable" {
			t.Errorf("code %q", code)
		}
		if r.header.Get("Retry-After") != "" {
			withRA++
		}
	}
	if withRA < n/4 || withRA > 3*n/4 {
		t.Errorf("%d of %d 503s carry Retry-After, want about half", withRA, n)
	}
	if st := e.sim.Stats(); st.Failed503 != n {
		t.Errorf("Failed503 %d", st.Failed503)
	}
}

func TestFaultDiceAreDeterministic(t *testing.T) {
	run := func() string {
		e := start(t, sim.Options{Fail503: 0.3, Fail504AfterCreate: 0.3, Seed: 42, OmitImage: true})
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "%d ", e.post(fmt.Sprintf(`{"displayName":"P%d"}`, i)).status)
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "503") || !strings.Contains(a, "504") || !strings.Contains(a, "201") {
		t.Errorf("statuses %s lack a 201, 503 or 504", a)
	}
}

func TestFaultsAfterCreate(t *testing.T) {
	tests := []struct {
		name   string
		opts   sim.Options
		inject *sim.Fault
		status int // 0: the connection is dropped
		stat   func(sim.Stats) int
	}{
		{"random 504", sim.Options{Fail504AfterCreate: 1}, nil, http.StatusGatewayTimeout, func(s sim.Stats) int { return s.Failed504 }},
		{"random drop", sim.Options{DropAfterCreate: 1}, nil, 0, func(s sim.Stats) int { return s.Dropped }},
		{"injected drop", sim.Options{}, &sim.Fault{Op: sim.OpCreate, AfterCreate: true, Drop: true}, 0, func(s sim.Stats) int { return s.Dropped }},
		{"injected 500", sim.Options{}, &sim.Fault{Op: sim.OpCreate, AfterCreate: true, Status: 500}, 500, func(s sim.Stats) int { return s.Injected }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, tt.opts)
			if tt.inject != nil {
				e.sim.Inject(*tt.inject)
			}
			r, err := e.try(http.MethodPost, e.coll, "", []byte(`{"displayName":"Maybe Created"}`))
			if tt.status == 0 {
				if err == nil {
					t.Fatalf("got %d, want a dropped connection", r.status)
				}
			} else {
				if err != nil || r.status != tt.status {
					t.Fatalf("got %d %v, want %d", r.status, err, tt.status)
				}
				r.graphError(t)
			}
			ps := e.sim.Named("maybe created")
			if len(ps) != 1 {
				t.Fatalf("%d profiles named like the POST, want 1: the fault comes after the create", len(ps))
			}
			st := e.sim.Stats()
			if st.Created != 1 || tt.stat(st) != 1 {
				t.Errorf("stats %+v", st)
			}
			// The client's recovery: look the name up before sending again.
			var p page
			if err := json.Unmarshal(e.get(e.coll+"?$filter=displayName%20eq%20'Maybe%20Created'").body, &p); err != nil || len(p.Value) != 1 || p.Value[0]["id"] != ps[0].ID {
				t.Errorf("the lookup after the fault finds %v (%v)", p.Value, err)
			}
		})
	}
}

func TestInjectedFaults(t *testing.T) {
	e := start(t, sim.Options{OmitImage: true})
	e.sim.Inject(sim.Fault{Op: sim.OpCreate, Count: 2, Status: 429, RetryAfter: "1.5"})
	for i := 0; i < 2; i++ {
		r := e.post(`{"displayName":"Retried"}`)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1.5" {
			t.Fatalf("create %d: %d Retry-After %q", i, r.status, r.header.Get("Retry-After"))
		}
		if code, _ := r.graphError(t); code != "TooManyRequests" {
			t.Errorf("code %q", code)
		}
		e.clock.Advance(1500 * time.Millisecond)
	}
	if r := e.post(`{"displayName":"Retried"}`); r.status != http.StatusCreated {
		t.Fatalf("third create: %d", r.status)
	}
	if st := e.sim.Stats(); st.InsideRetryAfter != 0 || st.Injected != 2 || st.Created != 1 || len(e.sim.Bodies()) != 1 {
		t.Errorf("stats %+v, bodies %d", st, len(e.sim.Bodies()))
	}

	e.sim.Inject(sim.Fault{Op: sim.OpAny, Status: 503, RetryAfter: "2", Code: "Custom", Message: "custom message"})
	r := e.get(e.coll)
	if code, msg := r.graphError(t); r.status != 503 || code != "Custom" || msg != "custom message" {
		t.Errorf("injected 503: %d %s %s", r.status, code, msg)
	}
	e.clock.Advance(time.Second)
	if r := e.get(e.coll); r.status != http.StatusOK {
		t.Errorf("after the fault was used: %d", r.status)
	}
	if st := e.sim.Stats(); st.InsideRetryAfter != 1 {
		t.Errorf("InsideRetryAfter %d, want 1 (a GET 1 s into a 2 s Retry-After)", st.InsideRetryAfter)
	}

	e.sim.Inject(sim.Fault{Token: "old", Count: -1, Status: 401})
	for _, tok := range []string{"old", "new", "old"} {
		r := e.do(http.MethodGet, e.coll, tok, nil)
		if want := map[string]int{"old": 401, "new": 200}[tok]; r.status != want {
			t.Errorf("token %s: %d, want %d", tok, r.status, want)
		}
	}
	e.sim.ClearFaults()
	if r := e.do(http.MethodGet, e.coll, "old", nil); r.status != http.StatusOK {
		t.Errorf("after ClearFaults: %d", r.status)
	}
}

func TestHook(t *testing.T) {
	e := start(t, sim.Options{OmitImage: true})
	var mu sync.Mutex
	creates := 0
	e.sim.SetHook(func(r *http.Request, op sim.Op) *sim.Fault {
		if op != sim.OpCreate {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		creates++
		if creates == 2 {
			return &sim.Fault{Status: http.StatusBadGateway}
		}
		return nil
	})
	var got []int
	for i := 0; i < 3; i++ {
		got = append(got, e.post(fmt.Sprintf(`{"displayName":"H%d"}`, i)).status)
	}
	if want := []int{201, 502, 201}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	e.sim.SetHook(nil)
	if r := e.post(`{"displayName":"H3"}`); r.status != http.StatusCreated {
		t.Errorf("after removing the hook: %d", r.status)
	}
}

func TestAuthorize(t *testing.T) {
	e := start(t, sim.Options{Authorize: func(tok string) int {
		switch tok {
		case "good":
			return 0
		case "read-only":
			return http.StatusForbidden
		}
		return http.StatusUnauthorized
	}})
	tests := []struct {
		token   string
		status  int
		code    string
		mention string
	}{
		{"good", 200, "", ""},
		{"", 401, "InvalidAuthenticationToken", "token"},
		{"expired", 401, "InvalidAuthenticationToken", "token"},
		{"read-only", 403, "Forbidden", "DeviceManagementConfiguration.ReadWrite.All"},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			r := e.do(http.MethodGet, e.coll, tt.token, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if tt.status == 200 {
				return
			}
			code, msg := r.graphError(t)
			if code != tt.code || !strings.Contains(msg, tt.mention) {
				t.Errorf("%s %q", code, msg)
			}
			if (tt.status == 401) != (r.header.Get("WWW-Authenticate") != "") {
				t.Errorf("WWW-Authenticate %q on %d", r.header.Get("WWW-Authenticate"), tt.status)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	const latency = 40 * time.Millisecond
	e := start(t, sim.Options{Latency: latency, Now: time.Now})
	begin := time.Now()
	e.get(e.coll)
	if took := time.Since(begin); took < latency {
		t.Errorf("answer after %v, want at least %v", took, latency)
	}
}

func TestConcurrentCreates(t *testing.T) {
	e := start(t, sim.Options{OmitImage: true, Limit: 50, Window: time.Second, Now: time.Now})
	const workers, each = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r, err := e.try(http.MethodPost, e.coll, "", []byte(fmt.Sprintf(`{"displayName":"W%d-%d"}`, w, i)))
				if err != nil || (r.status != http.StatusCreated && r.status != http.StatusTooManyRequests) {
					t.Errorf("create: %v %d", err, r.status)
					return
				}
				if r.status == http.StatusCreated {
					var m map[string]any
					_ = json.Unmarshal(r.body, &m)
					mu.Lock()
					seen[m["id"].(string)] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	st := e.sim.Stats()
	if st.Created != len(seen) || len(e.sim.Profiles()) != len(seen) || st.Created+st.Throttled != workers*each {
		t.Errorf("created %d, distinct ids %d, throttled %d, profiles %d", st.Created, len(seen), st.Throttled, len(e.sim.Profiles()))
	}
}

func TestInsideRetryAfterStartsAtDelivery(t *testing.T) {
	const latency = 150 * time.Millisecond
	e := start(t, sim.Options{Latency: latency, Now: time.Now})
	e.sim.Inject(sim.Fault{Op: sim.OpCreate, Status: http.StatusTooManyRequests, RetryAfter: "5"})
	done := make(chan response)
	go func() { done <- e.post(`{"displayName":"first"}`) }()
	// A request sent while the 429 is still on its way back cannot have
	// known about it.
	time.Sleep(latency / 3)
	e.get(e.coll)
	if r := <-done; r.status != http.StatusTooManyRequests {
		t.Fatalf("first create: %d", r.status)
	}
	if st := e.sim.Stats(); st.InsideRetryAfter != 0 {
		t.Errorf("InsideRetryAfter %d after a request sent before the 429 arrived, want 0", st.InsideRetryAfter)
	}
	e.get(e.coll)
	if st := e.sim.Stats(); st.InsideRetryAfter != 1 {
		t.Errorf("InsideRetryAfter %d after a request sent after the 429 arrived, want 1", st.InsideRetryAfter)
	}
}
