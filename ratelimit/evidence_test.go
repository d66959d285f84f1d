package ratelimit

import (
	"slices"
	"testing"
	"time"
)

// fullAfter returns how long after from the accepted requests first fill
// want of a window.
func fullAfter(accepted []time.Time, from time.Time, window time.Duration, want int) (time.Duration, bool) {
	for i, a := range accepted {
		if a.Before(from) {
			continue
		}
		n := 0
		for j := i; j >= 0 && accepted[j].After(a.Add(-window)); j-- {
			n++
		}
		if n >= want {
			return a.Sub(from), true
		}
	}
	return 0, false
}

func TestAnotherAppsBurstIsNotALowerLimit(t *testing.T) {
	// Another app sent 70 writes in the half second before the job starts,
	// then stops. The first 429 comes when the job has 30 writes in the
	// window, with a Retry-After that ends when the other app's writes
	// leave it: the job pauses until then, and then sends at its full
	// budget again, never learning 30.
	g := &gateway{limit: 100, window: 20 * time.Second}
	for i := range 70 {
		g.log = append(g.log, epoch0.Add(-500*time.Millisecond+time.Duration(i)*7*time.Millisecond))
	}
	prior := slices.Clone(g.log)
	res := runJob(t, g, intuneBudget, 150, 16, 50*time.Millisecond)
	ideal := IdealSpan(prior, 100, 20*time.Second, time.Time{}, 0, 150, epoch0, 50*time.Millisecond)
	span := res.accepted[len(res.accepted)-1].Add(50 * time.Millisecond).Sub(epoch0)
	t.Logf("150 writes in %v, ideal %v (%.3f); %d throttled; stats %+v", span, ideal, span.Seconds()/ideal.Seconds(), res.throttled, res.stats)
	if res.early != 0 {
		t.Errorf("%d requests inside a Retry-After", res.early)
	}
	if span > ideal+ideal/10 {
		t.Errorf("150 writes took %v, want within 10%% of the ideal %v", span, ideal)
	}
	if res.stats.BudgetCuts != 0 || res.stats.WriteBudget != 100 {
		t.Errorf("write budget %d after %d cuts, want 100 untouched", res.stats.WriteBudget, res.stats.BudgetCuts)
	}
	if res.stats.Cuts != 0 {
		t.Errorf("%d rate cuts, want none: the service counts a window", res.stats.Cuts)
	}
}

func TestLowerLimitThatLifts(t *testing.T) {
	// Another app leaves the job 20 writes per 20 s for two minutes, then
	// stops. The job learns 20 from two refusals a window apart, keeps
	// probing one above it, and is back at its full budget within three
	// windows of the lift.
	for _, cfg := range []struct {
		name    string
		rate    float64
		workers int
	}{{"budgets only, 16 workers", 0, 16}, {"rate 5, 16 workers", 5, 16}} {
		t.Run(cfg.name, func(t *testing.T) {
			lift := epoch0.Add(2 * time.Minute)
			g := &gateway{limit: 20, window: 20 * time.Second, liftAt: lift, lifted: 100}
			c := intuneBudget
			c.Rate = cfg.rate
			c.Headroom = 0.03
			rows := 700
			if cfg.rate > 0 {
				rows = 400
			}
			res := runJob(t, g, c, rows, cfg.workers, 50*time.Millisecond)
			if res.early != 0 {
				t.Errorf("%d requests inside a Retry-After", res.early)
			}
			before := 0
			for _, a := range res.accepted {
				if a.After(epoch0.Add(40*time.Second)) && a.Before(lift) {
					before++
				}
			}
			want := 100
			if cfg.rate > 0 {
				want = int(cfg.rate * 0.97 * 20) // the rate caps a window
			}
			took, ok := fullAfter(res.accepted, lift, 20*time.Second, want*95/100)
			t.Logf("%d writes accepted from 40 s to the lift (%.3f of the limit); a full window %v after the lift; %d throttled; stats %+v",
				before, float64(before)/80, took, res.throttled, res.stats)
			if !ok || took > 3*20*time.Second {
				t.Errorf("a full window %v after the lift (reached: %v), want within 3 windows", took, ok)
			}
			if float64(before)/80 < 0.9 {
				t.Errorf("%.3f of the lower limit before the lift, want at least 0.9", float64(before)/80)
			}
		})
	}
}

func TestOneRefusalOnlyPauses(t *testing.T) {
	// A single long Retry-After pauses the job and changes neither the
	// budget nor the rate; a second one in the same window (its requests
	// are still there) does not confirm it; one at a different count a
	// window later does not either.
	fc := NewFakeClock(epoch0)
	p := New(Config{WriteBudget: 100, Adaptive: true, Clock: fc})
	send := func(n int) Ticket {
		t.Helper()
		var last Ticket
		for range n {
			fc.Advance(100 * time.Millisecond)
			tk, err := p.WaitWrite(guard(t))
			if err != nil {
				t.Fatal(err)
			}
			last = tk
		}
		return last
	}
	refuse := func(tk Ticket, ra time.Duration) {
		fc.Advance(50 * time.Millisecond)
		p.Throttled(tk, ra)
		fc.AdvanceTo(p.PausedUntil())
	}
	refuse(send(31), 19*time.Second)
	if st := p.Stats(); st.WriteBudget != 100 || st.Cuts != 0 {
		t.Fatalf("after one refusal: budget %d, %d rate cuts; want 100 and none", st.WriteBudget, st.Cuts)
	}
	refuse(send(1), 2*time.Second) // the tail of the same window: short
	refuse(send(1), 6*time.Second) // the same window again, long
	if st := p.Stats(); st.WriteBudget != 100 || st.Cuts != 0 {
		t.Fatalf("after refusals in the same window: budget %d, %d rate cuts; want 100 and none", st.WriteBudget, st.Cuts)
	}
	fc.Advance(25 * time.Second)
	refuse(send(60), 15*time.Second) // a window later, at 60, not about 31
	if st := p.Stats(); st.WriteBudget != 100 {
		t.Fatalf("after a refusal at another count: budget %d, want 100", st.WriteBudget)
	}
	fc.Advance(25 * time.Second)
	refuse(send(58), 15*time.Second) // about 60 again, a window later: learned
	if st := p.Stats(); st.WriteBudget != 57 {
		t.Fatalf("after a second refusal at about 60: budget %d, want 57 (the fewer of the two counts before the refused write)", st.WriteBudget)
	}
}

func TestLowerLimitLiftsAtAnyMoment(t *testing.T) {
	// Wherever the lift falls between two probes, the job is back at its
	// full budget within three windows of it.
	for off := time.Duration(0); off < 50*time.Second; off += 5 * time.Second {
		lift := epoch0.Add(2*time.Minute + off)
		g := &gateway{limit: 20, window: 20 * time.Second, liftAt: lift, lifted: 100}
		res := runJob(t, g, intuneBudget, 500+int(off/time.Second), 16, 50*time.Millisecond)
		took, ok := fullAfter(res.accepted, lift, 20*time.Second, 95)
		t.Logf("lift at 2m+%v: full again %v after it", off, took)
		if res.early != 0 || !ok || took > 3*20*time.Second {
			t.Errorf("lift at 2m+%v: a full window %v after it (reached: %v), %d inside a Retry-After; want within 3 windows, none",
				off, took, ok, res.early)
		}
	}
}
