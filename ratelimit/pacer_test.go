package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// every returns the interval between requests at rate r.
func every(r float64) time.Duration { return time.Duration(float64(time.Second) / r) }

// near reports whether a and b differ by at most a microsecond (the limiter
// computes in float seconds).
func near(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }

func TestWaitSpacesRequestsAtRate(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		burst    int
		headroom float64
		want     float64 // the rate the bucket runs at
	}{
		{"1 per second", 1, 1, 0, 1},
		{"4 per second", 4, 1, 0, 4},
		{"100 per second", 100, 1, 0, 100},
		{"4 per second, burst 3", 4, 3, 0, 4},
		{"20 per second, 3% headroom", 20, 1, 0.03, 19.4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			p := New(Config{Rate: tc.rate, Burst: tc.burst, Headroom: tc.headroom, Clock: fc})
			const k = 12
			var sent []time.Time
			w := startWorkers(t, fc, 1, func(ctx context.Context, _ int) {
				for range k {
					tk, err := p.Wait(ctx)
					if err != nil {
						t.Errorf("Wait: %v", err)
						return
					}
					sent = append(sent, tk.Sent)
				}
			})
			w.run()
			if len(sent) != k {
				t.Fatalf("%d requests let go, want %d", len(sent), k)
			}
			for i, s := range sent {
				// The first burst leaves at once, then one per interval.
				want := time.Duration(max(0, i-tc.burst+1)) * every(tc.want)
				if got := s.Sub(epoch0); !near(got, want) {
					t.Errorf("request %d left at +%v, want +%v", i+1, got, want)
				}
			}
			if st := p.Stats(); st.Requests != k || math.Abs(st.Rate-tc.want) > 1e-9 {
				t.Errorf("Stats = %+v, want %d requests at rate %v", st, k, tc.want)
			}
		})
	}
}

func TestWaitSpacesConcurrentWaiters(t *testing.T) {
	const n, r = 8, 5.0
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: r, Clock: fc})
	sent := make([]time.Time, n)
	w := startWorkers(t, fc, n, func(ctx context.Context, i int) {
		tk, err := p.Wait(ctx)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		sent[i] = tk.Sent
	})
	w.run()
	slices.SortFunc(sent, time.Time.Compare)
	for i, s := range sent {
		if want := time.Duration(i) * every(r); !near(s.Sub(epoch0), want) {
			t.Errorf("request %d of %d left at +%v, want +%v", i+1, n, s.Sub(epoch0), want)
		}
	}
}

func TestRateZeroIsUnlimited(t *testing.T) {
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: 0, Clock: fc})
	for i := range 1000 {
		tk, err := p.Wait(context.Background())
		if err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
		if !tk.Sent.Equal(epoch0) {
			t.Fatalf("request %d left at %v with no limit and no pause", i, tk.Sent)
		}
	}
	if st := p.Stats(); st.Requests != 1000 || st.Rate != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

// countWakes returns how many sleepers wake at exactly at.
func countWakes(wakes []time.Time, at time.Time) int {
	n := 0
	for _, w := range wakes {
		if w.Equal(at) {
			n++
		}
	}
	return n
}

func TestPauseHoldsEveryWaiter(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		// reserved: the waiters start before the pause and already hold a
		// token reservation when it is set.
		reserved bool
	}{
		{"no limit, waiters arrive during the pause", 0, false},
		{"1 per second, waiters arrive during the pause", 1, false},
		{"1 per second, waiters hold reservations", 1, true},
	}
	const n = 5
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			p := New(Config{Rate: tc.rate, Clock: fc})
			first, err := p.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pauseEnd := epoch0.Add(10 * time.Second)
			if !tc.reserved {
				p.Throttled(first, 10*time.Second)
			}
			sent := make([]time.Time, n)
			w := startWorkers(t, fc, n, func(ctx context.Context, i int) {
				tk, err := p.Wait(ctx)
				if err != nil {
					t.Errorf("Wait: %v", err)
				}
				sent[i] = tk.Sent
			})
			w.settle()
			if tc.reserved {
				// Every waiter sleeps for its token, none for the pause.
				wakes := []time.Time{}
				_ = fc.WaitFor(guard(t), func(ws []time.Time) bool { wakes = ws; return true })
				if countWakes(wakes, pauseEnd) != 0 {
					t.Fatalf("waiters sleep until %v before any pause", wakes)
				}
				p.Throttled(first, 10*time.Second)
			}
			allUntil := func(end time.Time) {
				t.Helper()
				err := fc.WaitFor(guard(t), func(ws []time.Time) bool { return countWakes(ws, end) == n })
				if err != nil {
					t.Fatalf("not every waiter sleeps until +%v: %v", end.Sub(epoch0), err)
				}
			}
			allUntil(pauseEnd)

			fc.AdvanceTo(pauseEnd.Add(-time.Millisecond))
			w.settle()
			if d := w.done(); d != 0 {
				t.Fatalf("%d requests left during the pause", d)
			}
			// Extend the pause while they wait; a shorter Retry-After changes nothing.
			p.Throttled(first, 5*time.Second)
			p.Throttled(first, time.Second)
			extendedEnd := pauseEnd.Add(-time.Millisecond).Add(5 * time.Second)
			fc.AdvanceTo(pauseEnd)
			allUntil(extendedEnd)
			if d := w.done(); d != 0 {
				t.Fatalf("%d requests left before the extended pause ended", d)
			}

			w.run()
			slices.SortFunc(sent, time.Time.Compare)
			for i, s := range sent {
				want := extendedEnd
				if tc.rate > 0 {
					// The bucket spaces them; no stampede at the pause's end.
					want = extendedEnd.Add(time.Duration(i) * every(tc.rate))
				}
				if !near(s.Sub(want), 0) {
					t.Errorf("request %d left at +%v, want +%v", i+1, s.Sub(epoch0), want.Sub(epoch0))
				}
			}
			st := p.Stats()
			if want := extendedEnd.Sub(epoch0); st.Paused != want {
				t.Errorf("Stats.Paused = %v, want %v (once for the pause, not once per waiter)", st.Paused, want)
			}
			if st.Throttles != 3 || st.Requests != n+1 {
				t.Errorf("Stats = %+v, want 3 throttles and %d requests", st, n+1)
			}
		})
	}
}

func TestWaitReturnsWhenContextEnds(t *testing.T) {
	tests := []struct {
		name  string
		setup func(p *Pacer, first Ticket)
	}{
		{"during a pause", func(p *Pacer, first Ticket) { p.Throttled(first, time.Minute) }},
		{"while waiting for a token", func(*Pacer, Ticket) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			p := New(Config{Rate: 0.5, Clock: fc})
			first, err := p.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(p, first)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := p.Wait(ctx)
				done <- err
			}()
			waitSleepers(t, fc, 1)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait = %v, want context.Canceled", err)
			}
			if fc.Sleepers() != 0 {
				t.Fatalf("a cancelled Wait left %d sleepers", fc.Sleepers())
			}
			if _, err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait with an ended context = %v", err)
			}
			if st := p.Stats(); st.Requests != 1 {
				t.Fatalf("Stats.Requests = %d, want 1", st.Requests)
			}
		})
	}
}

// sendEvenly lets k requests go through p, one every interval, stepping the
// fake clock, and returns their tickets.
func sendEvenly(t *testing.T, fc *FakeClock, p *Pacer, k int, interval time.Duration) []Ticket {
	t.Helper()
	var out []Ticket
	for range k {
		tk, err := p.Wait(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tk)
		fc.Advance(interval)
	}
	return out
}

func TestThrottledCutsToAcceptedRate(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		burst    int
		minRate  float64
		sent     int           // requests sent before the throttled one
		interval time.Duration // between them
		wantCut  bool
	}{
		// 40 requests in 2 s were accepted: 20/s, cut to 19/s.
		{"above the accepted rate", 100, 1, 0, 40, 50 * time.Millisecond, true},
		// 10 accepted in 20 s (0.5/s) would give 0.475/s: the floor holds.
		{"floor", 4, 1, 1, 10, 2 * time.Second, true},
		// Too few accepted requests to estimate from: only pause.
		{"first request", 100, 1, 0, 0, 0, false},
		// A burst of 4 counts over at least a second: 4/s accepted, but the
		// rate is already 1/s, and a cut never raises it.
		{"never above the current rate", 1, 5, 0, 4, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			p := New(Config{Rate: tc.rate, Burst: tc.burst, MinRate: tc.minRate, Adaptive: true, Clock: fc, Logger: logger})
			sendEvenly(t, fc, p, tc.sent, tc.interval)
			tk, err := p.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			p.Throttled(tk, 2*time.Second)
			st := p.Stats()
			if !tc.wantCut {
				if st.Cuts != 0 || st.Rate != tc.rate {
					t.Fatalf("rate changed to %v (%d cuts), want it left at %v", st.Rate, st.Cuts, tc.rate)
				}
			} else {
				span := time.Duration(tc.sent) * tc.interval
				accepted := float64(tc.sent) / min(span, DefaultWindow).Seconds()
				want := max(accepted*cutFactor, tc.minRate)
				if st.Cuts != 1 || math.Abs(st.Rate-want) > 1e-9 {
					t.Fatalf("after the cut the rate is %v (%d cuts), want %v", st.Rate, st.Cuts, want)
				}
				if !strings.Contains(logs.String(), "level=DEBUG msg=\"pacer rate cut\"") {
					t.Fatalf("rate cut not logged at debug level; log:\n%s", logs.String())
				}
			}
			// Whatever the rate did, the pause holds the next request.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := p.Wait(ctx)
				done <- err
			}()
			waitSleepers(t, fc, 1)
			next, _ := fc.NextWake()
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait = %v, want context.Canceled", err)
			}
			if want := tk.Sent.Add(2 * time.Second); !next.Equal(want) {
				t.Fatalf("the next request waits until %v, want the pause's end %v", next, want)
			}
		})
	}
}

func TestThrottledIgnoresAnswersToRequestsBeforeTheCut(t *testing.T) {
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: 100, Adaptive: true, Clock: fc})
	// 60 requests at 30/s, as a pacer at 100/s with 8 workers might get out.
	before := sendEvenly(t, fc, p, 60, every(30))
	p.Throttled(before[50], 0)
	st := p.Stats()
	if st.Cuts != 1 {
		t.Fatalf("first throttle: %d cuts, want 1", st.Cuts)
	}
	cut := st.Rate
	// The answers to the other requests in flight before the cut arrive.
	for _, tk := range before[51:] {
		p.Throttled(tk, 0)
	}
	if st := p.Stats(); st.Cuts != 1 || st.Rate != cut || st.Throttles != 10 {
		t.Fatalf("stale throttles changed the rate: %+v, want rate %v after 1 cut and 10 throttles", st, cut)
	}
	// A request sent after the cut and throttled cuts again.
	fc.Advance(time.Second)
	after := sendEvenly(t, fc, p, 1, 0)
	p.Throttled(after[0], 0)
	if st := p.Stats(); st.Cuts != 2 || st.Rate >= cut {
		t.Fatalf("a throttle after the cut: %+v, want a second cut below %v", st, cut)
	}
}

func TestThrottledWithoutTicketOnlyPauses(t *testing.T) {
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: 50, Adaptive: true, Clock: fc})
	sendEvenly(t, fc, p, 40, every(20))
	p.Throttled(Ticket{}, 3*time.Second)
	st := p.Stats()
	if st.Cuts != 0 || st.Rate != 50 || st.Throttles != 1 {
		t.Fatalf("Stats = %+v, want the rate untouched and 1 throttle", st)
	}
	now := fc.Now()
	w := startWorkers(t, fc, 1, func(ctx context.Context, _ int) {
		tk, err := p.Wait(ctx)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		if want := now.Add(3 * time.Second); !tk.Sent.Equal(want) {
			t.Errorf("request left at %v, want %v", tk.Sent, want)
		}
	})
	w.run()
}

func TestRateRecoversWhenThrottlingStops(t *testing.T) {
	fc := NewFakeClock(epoch0)
	const configured = 10.0
	recoverAfter := 5 * time.Second
	p := New(Config{Rate: configured, Adaptive: true, Clock: fc, RecoverAfter: recoverAfter})
	tickets := sendEvenly(t, fc, p, 20, every(4))
	p.Throttled(tickets[19], 0)
	cut := p.Stats().Rate
	if cut >= configured {
		t.Fatalf("no cut: rate %v", cut)
	}
	// A success of a request sent before the cut, or too soon, raises nothing.
	p.Succeeded(tickets[18])
	if r := p.Stats().Rate; r != cut {
		t.Fatalf("rate %v after a success sent before the cut, want %v", r, cut)
	}
	lastRate, lastChange := cut, fc.Now()
	fc.Advance(every(cut))
	for fc.Now().Sub(epoch0) < 10*time.Minute {
		tk, err := p.Wait(guard(t))
		if err != nil {
			t.Fatal(err)
		}
		p.Succeeded(tk)
		r := p.Stats().Rate
		if r != lastRate {
			if r < lastRate {
				t.Fatalf("rate fell from %v to %v without throttling", lastRate, r)
			}
			if since := fc.Now().Sub(lastChange); since < recoverAfter {
				t.Fatalf("rate raised %v after the last change, want at least %v", since, recoverAfter)
			}
			if r > lastRate*raiseFactor+1e-9 {
				t.Fatalf("rate jumped from %v to %v in one step", lastRate, r)
			}
			lastRate, lastChange = r, fc.Now()
		}
		fc.Advance(every(r) + time.Millisecond)
	}
	st := p.Stats()
	if st.Rate != configured {
		t.Fatalf("after 10 quiet minutes the rate is %v, want the configured %v", st.Rate, configured)
	}
	// Steps of 5 % from the cut: the count follows from the ratio.
	if want := int(math.Ceil(math.Log(configured/cut) / math.Log(raiseFactor))); st.Raises != want {
		t.Fatalf("%d raises, want %d", st.Raises, want)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	base, ceiling := 500*time.Millisecond, 30*time.Second
	for _, j := range []float64{0, 0.25, 0.5, 0.999} {
		p := New(Config{BackoffBase: base, BackoffCap: ceiling, Jitter: func() float64 { return j }})
		for attempt := 1; attempt <= 12; attempt++ {
			bound := min(float64(ceiling), float64(base)*math.Pow(2, float64(attempt-1)))
			want := time.Duration(j * bound)
			if got := p.Backoff(attempt); got != want {
				t.Errorf("jitter %v attempt %d: Backoff = %v, want %v", j, attempt, got, want)
			}
		}
	}
	// With the default random source every draw stays within its bound.
	p := New(Config{})
	for attempt := 0; attempt <= 40; attempt++ {
		bound := min(DefaultBackoffCap, DefaultBackoffBase<<max(0, min(attempt-1, 20)))
		for range 50 {
			if got := p.Backoff(attempt); got < 0 || got >= bound {
				t.Fatalf("attempt %d: Backoff = %v, outside [0, %v)", attempt, got, bound)
			}
		}
	}
}

func TestSleepUsesTheClock(t *testing.T) {
	fc := NewFakeClock(epoch0)
	p := New(Config{Clock: fc})
	w := startWorkers(t, fc, 1, func(ctx context.Context, _ int) {
		if err := p.Sleep(ctx, 7*time.Second); err != nil {
			t.Errorf("Sleep: %v", err)
		}
		if got := fc.Now().Sub(epoch0); got != 7*time.Second {
			t.Errorf("Sleep returned at +%v, want +7s", got)
		}
	})
	w.run()
}

func TestThrottledLongAfterSendingDoesNotUnderestimate(t *testing.T) {
	fc := NewFakeClock(epoch0)
	p := New(Config{Rate: 100, Adaptive: true, Clock: fc})
	// 20/s for 40 s; the answer to the request sent at 35 s comes 30 s later,
	// when the first half of its window is no longer on record.
	tickets := sendEvenly(t, fc, p, 800, every(20))
	slow := tickets[700]
	fc.AdvanceTo(epoch0.Add(65 * time.Second))
	sendEvenly(t, fc, p, 1, 0)
	p.Throttled(slow, 0)
	if st := p.Stats(); st.Cuts != 0 || st.Rate != 100 {
		t.Fatalf("Stats = %+v: cut from half a window", st)
	}
	// An answer to a request whose whole window is on record still cuts.
	fc.Advance(time.Second)
	recent := sendEvenly(t, fc, p, 60, every(20))
	p.Throttled(recent[59], 0)
	if st := p.Stats(); st.Cuts != 1 {
		t.Fatalf("Stats = %+v, want a cut", st)
	}
}
