package ratelimit

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"
)

// gateway is a throttled service on the fake clock, either a sliding window
// that counts every request it receives, throttled or not (as Intune does),
// or a token bucket that refills steadily (as some gateways do). It answers
// over-limit requests with 429 and a Retry-After in whole seconds, rounded up.
type gateway struct {
	mu sync.Mutex
	// window mode
	limit  int
	window time.Duration
	log    []time.Time
	// from liftAt on (when set), the window allows lifted requests
	liftAt time.Time
	lifted int
	// bucket mode (rate > 0)
	rate   float64
	burst  float64
	tokens float64
	last   time.Time

	accepted  []time.Time
	throttled int
	toldUntil time.Time
	early     int
}

func (g *gateway) arrive(now time.Time) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Before(g.toldUntil) {
		g.early++
	}
	var wait time.Duration
	if g.rate > 0 {
		if g.last.IsZero() {
			g.tokens = g.burst
		} else {
			g.tokens = min(g.burst, g.tokens+now.Sub(g.last).Seconds()*g.rate)
		}
		g.last = now
		if g.tokens >= 1 {
			g.tokens--
			g.accepted = append(g.accepted, now)
			return true, 0
		}
		wait = time.Duration((1 - g.tokens) / g.rate * float64(time.Second))
	} else {
		from := now.Add(-g.window)
		i := 0
		for i < len(g.log) && !g.log[i].After(from) {
			i++
		}
		g.log = append(g.log[i:], now)
		limit := g.limit
		if !g.liftAt.IsZero() && !now.Before(g.liftAt) {
			limit = g.lifted
		}
		if len(g.log) <= limit {
			g.accepted = append(g.accepted, now)
			return true, 0
		}
		wait = g.log[len(g.log)-limit].Add(g.window).Sub(now)
	}
	g.throttled++
	return false, time.Duration(math.Ceil(wait.Seconds())) * time.Second
}

func (g *gateway) told(end time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if end.After(g.toldUntil) {
		g.toldUntil = end
	}
}

// perSecond is the gateway's limit in requests per second.
func (g *gateway) perSecond() float64 {
	if g.rate > 0 {
		return g.rate
	}
	return float64(g.limit) / g.window.Seconds()
}

// jobRun is the outcome of a simulated job.
type jobRun struct {
	start, end time.Time // first send, last acceptance
	accepted   []time.Time
	throttled  int
	early      int
	stats      Stats
}

// after returns the accepted requests per second from the first acceptance
// after at to the last one, as a fraction of the limit.
func (r jobRun) rateAfter(at time.Time, limit float64) float64 {
	n, first := 0, time.Time{}
	for _, a := range r.accepted {
		if a.After(at) {
			if n == 0 {
				first = at
			}
			n++
		}
	}
	span := r.accepted[len(r.accepted)-1].Sub(first)
	return float64(n) / span.Seconds() / limit
}

// runJob sends rows writes through a pacer configured by cfg against g,
// from workers goroutines that each wait latency for an answer, and resends
// throttled rows, as the batch does. The clock is fake.
func runJob(t *testing.T, g *gateway, cfg Config, rows, workers int, latency time.Duration) jobRun {
	t.Helper()
	fc := NewFakeClock(epoch0)
	cfg.Clock = fc
	cfg.Adaptive = true
	return runJobOn(t, fc, New(cfg), g, rows, workers, latency)
}

// runJobOn is runJob with a pacer p on the fake clock fc.
func runJobOn(t *testing.T, fc *FakeClock, p *Pacer, g *gateway, rows, workers int, latency time.Duration) jobRun {
	t.Helper()
	start := fc.Now()
	var mu sync.Mutex
	next := 0
	w := startWorkers(t, fc, workers, func(ctx context.Context, i int) {
		for {
			mu.Lock()
			if next == rows {
				mu.Unlock()
				return
			}
			next++
			mu.Unlock()
			for {
				tk, err := p.WaitWrite(ctx)
				if err != nil {
					return
				}
				ok, ra := g.arrive(tk.Sent)
				if err := fc.Sleep(ctx, latency+time.Duration(i)*time.Millisecond); err != nil {
					return
				}
				if ok {
					p.Succeeded(tk)
					break
				}
				p.Throttled(tk, ra)
				g.told(fc.Now().Add(ra))
			}
		}
	})
	w.run()
	return jobRun{start: start, accepted: g.accepted, throttled: g.throttled, early: g.early, stats: p.Stats()}
}

// intuneBudget is the command line's default: 100 writes and 1000 requests
// per 20 s.
var intuneBudget = Config{WriteBudget: 100, RequestBudget: 1000}

func TestBudgetSpendsTheWindowAtOnce(t *testing.T) {
	g := &gateway{limit: 100, window: 20 * time.Second}
	res := runJob(t, g, intuneBudget, 300, 8, 50*time.Millisecond)
	if res.throttled != 0 || res.early != 0 {
		t.Fatalf("%d throttled, %d inside Retry-After; want none against the documented window", res.throttled, res.early)
	}
	// The first 100 leave at once (8 at a time, 50 ms each), the next 100
	// one window (plus the margin) after each of them.
	within := func(from, to time.Duration) int {
		n := 0
		for _, a := range res.accepted {
			if d := a.Sub(epoch0); d >= from && d < to {
				n++
			}
		}
		return n
	}
	if n := within(0, time.Second); n != 100 {
		t.Errorf("%d accepted in the first second, want the whole budget of 100", n)
	}
	if n := within(time.Second, 20*time.Second); n != 0 {
		t.Errorf("%d accepted between 1 s and 20 s, want 0 (the window is spent)", n)
	}
	last := res.accepted[len(res.accepted)-1].Sub(epoch0)
	ideal := 40*time.Second + 100/8*50*time.Millisecond
	if last > ideal+ideal/10 {
		t.Errorf("300 rows took %v, want within 10%% of %v", last, ideal)
	}
	t.Logf("300 rows in %v (ideal about %v)", last, ideal)
}

func TestBudgetNeverExceedsAnyWindow(t *testing.T) {
	// Requests of any kind: a request budget of 10 per 20 s over a burst
	// of 35 requests, checked over every sliding window of sends.
	fc := NewFakeClock(epoch0)
	p := New(Config{RequestBudget: 10, WriteBudget: 4, Clock: fc})
	var mu sync.Mutex
	var sends []Ticket
	w := startWorkers(t, fc, 5, func(ctx context.Context, i int) {
		for k := 0; k < 7; k++ {
			wait := p.Wait
			if k%2 == 0 {
				wait = p.WaitWrite
			}
			tk, err := wait(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			sends = append(sends, tk)
			mu.Unlock()
			if err := fc.Sleep(ctx, 10*time.Millisecond); err != nil {
				return
			}
		}
	})
	w.run()
	span := DefaultBudgetWindow + DefaultBudgetMargin
	for _, a := range sends {
		all, writes := 0, 0
		for _, b := range sends {
			if !b.Sent.Before(a.Sent) && b.Sent.Before(a.Sent.Add(span)) {
				all++
				if b.write {
					writes++
				}
			}
		}
		if all > 10 || writes > 4 {
			t.Fatalf("%d requests (%d writes) in the window from %v; budgets 10 and 4", all, writes, a.Sent.Sub(epoch0))
		}
	}
	if len(sends) != 35 {
		t.Fatalf("%d sends, want 35", len(sends))
	}
}

func TestBudgetLearnsAnUnknownLowerLimit(t *testing.T) {
	// Another app of the tenant leaves this job 20 writes per 20 s: five
	// times less than the budget it starts with, and five times less than
	// --rate 5 where a cap is set.
	capped := intuneBudget
	capped.Rate = 5
	capped.Headroom = 0.03
	tests := []struct {
		name    string
		cfg     Config
		workers int
	}{
		{"budgets only, 8 workers", intuneBudget, 8},
		// The command line's defaults with --rate 5: 16 workers wait for
		// the same token bucket and window, so raising the learned budget
		// while they sleep must not push their tokens back.
		{"rate 5, 16 workers", capped, 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateway{limit: 20, window: 20 * time.Second}
			res := runJob(t, g, tc.cfg, 200, tc.workers, 50*time.Millisecond)
			if res.early != 0 {
				t.Fatalf("%d requests inside a Retry-After", res.early)
			}
			firstThrottle := res.accepted[19]
			got := res.rateAfter(firstThrottle, g.perSecond())
			t.Logf("after the first 429: %.3f of the limit; %d throttled; stats %+v", got, res.throttled, res.stats)
			if got < 0.95 {
				t.Errorf("%.3f of the limit after the first 429, want at least 0.95", got)
			}
			if res.stats.WriteBudget > 22 || res.stats.WriteBudget < 20 {
				t.Errorf("write budget %d at the end, want about 20", res.stats.WriteBudget)
			}
		})
	}
}

// learnTwenty drives p, with a write budget of 100 and --rate 5 or none,
// through what teaches it a budget of 20: twice, a window apart, 20 writes
// accepted 250 ms apart and the 21st refused with the window's Retry-After.
func learnTwenty(t *testing.T, fc *FakeClock, p *Pacer) {
	t.Helper()
	for round := range 2 {
		var last Ticket
		for i := 0; i < 21; i++ {
			fc.Advance(250 * time.Millisecond)
			tk, err := p.WaitWrite(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if i < 20 {
				p.Succeeded(tk)
			}
			last = tk
		}
		fc.Advance(50 * time.Millisecond)
		p.Throttled(last, 16*time.Second)
		if got, want := p.Stats().WriteBudget, []int{100, 20}[round]; got != want {
			t.Fatalf("write budget %d after refusal %d, want %d", got, round+1, want)
		}
		fc.Advance(16 * time.Second)
	}
}

func TestBudgetAgainstATokenBucket(t *testing.T) {
	// A gateway that refills 2 requests per second with a burst of 5 does
	// not allow bursts: the 429s it answers ask for short waits, so the
	// pacer learns a rate, not a budget.
	g := &gateway{rate: 2, burst: 5}
	res := runJob(t, g, intuneBudget, 600, 8, 50*time.Millisecond)
	if res.early != 0 {
		t.Fatalf("%d requests inside a Retry-After", res.early)
	}
	got := res.rateAfter(epoch0, g.perSecond())
	t.Logf("%.3f of the bucket's rate; %d throttled; stats %+v", got, res.throttled, res.stats)
	if got < 0.9 {
		t.Errorf("%.3f of the limit, want at least 0.9", got)
	}
	if res.stats.WriteBudget != 100 {
		t.Errorf("write budget %d, want 100 untouched (the bucket's 429s are about rate)", res.stats.WriteBudget)
	}
}

func TestBudgetAgainstAShortWindow(t *testing.T) {
	// An unknown limit five times below --rate 20 and under the budget: 4
	// per 1 s sliding window, whole-second Retry-After. The 429s ask for
	// short waits, so the pacer learns a rate.
	g := &gateway{limit: 4, window: time.Second}
	cfg := intuneBudget
	cfg.Rate = 20
	cfg.Headroom = 0.03
	res := runJob(t, g, cfg, 600, 8, 30*time.Millisecond)
	if res.early != 0 {
		t.Fatalf("%d requests inside a Retry-After", res.early)
	}
	firstThrottle := res.accepted[3]
	got := res.rateAfter(firstThrottle, g.perSecond())
	t.Logf("after the first 429: %.3f of the limit; %d throttled; stats %+v", got, res.throttled, res.stats)
	if got < 0.95 {
		t.Errorf("%.3f of the limit after the first 429, want at least 0.95", got)
	}
}

func TestHoldWaitsOutAPauseSetAfterWait(t *testing.T) {
	fc := NewFakeClock(epoch0)
	p := New(Config{Clock: fc})
	if _, err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Another request's 429 arrives before this one is sent.
	p.Throttled(Ticket{}, 2*time.Second)
	done := make(chan error, 1)
	go func() { done <- p.Hold(context.Background()) }()
	fc.BlockUntil(1)
	select {
	case err := <-done:
		t.Fatalf("Hold returned %v inside the pause", err)
	default:
	}
	fc.Advance(2 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Requests; got != 1 {
		t.Errorf("%d requests counted, want 1: Hold takes no token", got)
	}
}

func TestBudgetRaiseKeepsTheTokensOfWaiters(t *testing.T) {
	// At --rate 5, eight requests wait for the bucket, each holding a
	// token 200 ms after the one before, when a success raises the learned
	// budget. The raise wakes them to look at the budget again; they must
	// keep their places, not queue behind the tokens they held.
	const rate = 5.0
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: rate, WriteBudget: 100, Adaptive: true, Clock: fc})
	learnTwenty(t, fc, p)
	fc.Advance(45 * time.Second) // quiet windows: the next success probes
	var mu sync.Mutex
	var sent []time.Time
	w := startWorkers(t, fc, 8, func(ctx context.Context, i int) {
		tk, err := p.WaitWrite(ctx)
		if err != nil {
			return
		}
		mu.Lock()
		sent = append(sent, tk.Sent)
		mu.Unlock()
		if err := fc.Sleep(ctx, 50*time.Millisecond); err != nil {
			return
		}
		p.Succeeded(tk)
	})
	w.run()
	if got := p.Stats().BudgetRaises; got < 1 {
		t.Fatalf("%d budget raises, want the first success to raise the budget", got)
	}
	if len(sent) != 8 {
		t.Fatalf("%d sends, want 8", len(sent))
	}
	interval := time.Duration(float64(time.Second) / rate)
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-1]); gap > interval+time.Millisecond {
			t.Errorf("send %d left %v after the one before, want %v (the bucket's interval)", i, gap, interval)
		}
	}
	if span, want := sent[len(sent)-1].Sub(sent[0]), 7*interval; span > want+time.Millisecond {
		t.Errorf("8 sends took %v, want %v", span, want)
	}
}

func TestBudgetMarginShrinksToTheRoundTrip(t *testing.T) {
	// A budget of 2 writes, both sent at once; a third waits for room.
	// A request answered after rtt reached the service before, so it
	// counts for the window plus rtt (at most the margin) from then on, and
	// the third leaves as soon as the first of the two has left that way.
	type answer struct {
		who       int // 0 or 1: which of the two
		after     time.Duration
		throttled bool // a 429 without Retry-After
	}
	window, margin := DefaultBudgetWindow, DefaultBudgetMargin
	tests := []struct {
		name    string
		answers []answer
		want    time.Duration // when the third leaves
	}{
		{"no answer: the whole margin", nil, window + margin},
		{"answered after 30 ms", []answer{{0, 30 * time.Millisecond, false}}, window + 30*time.Millisecond},
		{"answered after 400 ms: never more than the margin", []answer{{0, 400 * time.Millisecond, false}}, window + margin},
		{"the shorter round trip frees the room", []answer{{1, 10 * time.Millisecond, false}, {0, 60 * time.Millisecond, false}}, window + 10*time.Millisecond},
		{"a throttled answer counts too", []answer{{1, 50 * time.Millisecond, true}}, window + 50*time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			p := New(Config{WriteBudget: 2, Clock: fc})
			var sent [2]Ticket
			for i := range sent {
				tk, err := p.WaitWrite(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				sent[i] = tk
			}
			done := make(chan Ticket, 1)
			go func() {
				tk, _ := p.WaitWrite(guard(t))
				done <- tk
			}()
			waitSleepers(t, fc, 1)
			for _, a := range tc.answers {
				fc.AdvanceTo(epoch0.Add(a.after))
				if a.throttled {
					p.Throttled(sent[a.who], 0)
				} else {
					p.Succeeded(sent[a.who])
				}
			}
			// The third sleeps until the room it sees; once it sleeps until
			// the expected moment, let it go.
			want := epoch0.Add(tc.want)
			if err := fc.WaitFor(guard(t), func(wakes []time.Time) bool { return len(wakes) == 1 && wakes[0].Equal(want) }); err != nil {
				t.Fatalf("the third write is not waiting until %v: %v", tc.want, err)
			}
			fc.Step()
			if got := (<-done).Sent.Sub(epoch0); got != tc.want {
				t.Errorf("the third write left after %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBudgetRaiseRefusedGoesBack(t *testing.T) {
	// A budget of 20 was learned; a quiet window later a success probes
	// 21, and the 21st write of the window is refused. A sliding window
	// that is just full answers with a short Retry-After when its oldest
	// request is about to leave, or a long one when it is not: the refusal
	// is the probe's either way, so the budget goes back to 20 and the rate
	// stays. A request sent before the probe does not blame it, and a short
	// Retry-After from a service that counts a window does not cut the rate.
	tests := []struct {
		name       string
		retryAfter time.Duration
		before     bool // the refused request left before the raise
		wantBudget int
		wantCut    bool
	}{
		{"short Retry-After", time.Second, false, 20, false},
		{"long Retry-After", 16 * time.Second, false, 20, false},
		{"sent before the raise", time.Second, true, 21, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const rate = 5.0
			fc := NewFakeClock(epoch0)
			p := New(Config{Rate: rate, WriteBudget: 100, Adaptive: true, Clock: fc})
			send := func() Ticket {
				t.Helper()
				fc.Advance(250 * time.Millisecond)
				tk, err := p.WaitWrite(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return tk
			}
			learnTwenty(t, fc, p)
			fc.Advance(45 * time.Second)
			var window []Ticket
			for i := 0; i < 20; i++ {
				tk := send()
				fc.Advance(50 * time.Millisecond)
				p.Succeeded(tk) // the first probes 21
				window = append(window, tk)
			}
			if st := p.Stats(); st.WriteBudget != 21 || st.BudgetRaises != 1 {
				t.Fatalf("write budget %d after %d raises, want 21 after 1", st.WriteBudget, st.BudgetRaises)
			}
			refused := send()
			if tc.before {
				refused = window[0]
			}
			fc.Advance(50 * time.Millisecond)
			p.Throttled(refused, tc.retryAfter)
			st := p.Stats()
			if st.WriteBudget != tc.wantBudget {
				t.Errorf("write budget %d after the 429, want %d", st.WriteBudget, tc.wantBudget)
			}
			if cut := st.Rate < rate; cut != tc.wantCut {
				t.Errorf("rate %.2f after the 429 (%d cuts); want a cut: %v", st.Rate, st.Cuts, tc.wantCut)
			}
		})
	}
}

func TestBudgetCountsAHeldRequestFromItsAnswer(t *testing.T) {
	// A budget of 1 write. The write leaves at 0; when a pause is set
	// while it is out, Hold may keep it back until the pause ends, so it
	// counts until a window after its answer, not a window plus the margin
	// after it left.
	tests := []struct {
		name     string
		pause    time.Duration // set 10 ms after the write left; 0: none
		answered time.Duration
		want     time.Duration // room for the next write
	}{
		{"no pause: a window plus the round trip", 0, 60 * time.Millisecond, DefaultBudgetWindow + 60*time.Millisecond},
		{"no pause, slow answer: a window plus the margin", 0, 3 * time.Second, DefaultBudgetWindow + DefaultBudgetMargin},
		{"a pause while it was out: a window after the answer", 10 * time.Second, 10*time.Second + 60*time.Millisecond, DefaultBudgetWindow + 10*time.Second + 60*time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			p := New(Config{WriteBudget: 1, Clock: fc})
			tk, err := p.WaitWrite(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.pause > 0 {
				fc.Advance(10 * time.Millisecond)
				p.Throttled(Ticket{}, tc.pause) // another request's 429
			}
			fc.AdvanceTo(epoch0.Add(tc.answered))
			p.Succeeded(tk)
			p.mu.Lock()
			room := p.roomAtLocked(fc.Now(), true, 1, 0)
			p.mu.Unlock()
			if got := room.Sub(epoch0); got != tc.want {
				t.Errorf("room for the next write at %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBudgetTokensOnlyForRoom(t *testing.T) {
	// Eight writes wait at once at --rate 5 with room for 3 in the window:
	// the first leaves, two sleep for their tokens, and the other five
	// sleep for room instead of taking tokens they could not use. A token
	// taken without room comes due, finds the window full and is lost, and
	// every later request leaves one interval later.
	const rate = 5.0
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: rate, WriteBudget: 3, Clock: fc})
	var mu sync.Mutex
	var sent []time.Duration
	w := startWorkers(t, fc, 8, func(ctx context.Context, i int) {
		tk, err := p.WaitWrite(ctx)
		if err != nil {
			return
		}
		mu.Lock()
		sent = append(sent, tk.Sent.Sub(epoch0))
		mu.Unlock()
	})
	interval := time.Duration(float64(time.Second) / rate)
	room := epoch0.Add(DefaultBudgetWindow + DefaultBudgetMargin)
	err := fc.WaitFor(guard(t), func(wakes []time.Time) bool {
		tokens, forRoom := 0, 0
		for _, at := range wakes {
			switch {
			case at.Equal(epoch0.Add(interval)) || at.Equal(epoch0.Add(2*interval)):
				tokens++
			case at.Equal(room):
				forRoom++
			}
		}
		return tokens == 2 && forRoom == 5
	})
	if err != nil {
		t.Fatalf("want two writes sleeping for tokens and five for room: %v", err)
	}
	w.run()
	want := []time.Duration{0, interval, 2 * interval}
	for i := range 3 {
		want = append(want, DefaultBudgetWindow+DefaultBudgetMargin+want[i])
	}
	want = append(want, 2*(DefaultBudgetWindow+DefaultBudgetMargin), 2*(DefaultBudgetWindow+DefaultBudgetMargin)+interval)
	if len(sent) != len(want) {
		t.Fatalf("%d writes sent, want %d", len(sent), len(want))
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Errorf("write %d left at %v, want %v", i, sent[i], want[i])
		}
	}
}
