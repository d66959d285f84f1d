package ratelimit

import (
	"context"
	"testing"
	"time"
)

// A greedy run of every tenant at once never puts more than the app's
// budget, less its headroom, into any window, and uses most of it. The
// limiter is driven on a fake clock: each request leaves the moment the
// bucket allows.
func TestAppBudgetPerWindow(t *testing.T) {
	for _, tc := range []struct {
		budget   int
		window   time.Duration
		headroom float64
	}{
		{AppRequestBudget, AppWindow, 0.03},
		{100, 20 * time.Second, 0.03},
		{5, time.Second, 0},
	} {
		a := NewApp(tc.budget, tc.window, tc.headroom)
		start := time.Unix(0, 0)
		now := start
		var sent []time.Time
		for now.Sub(start) < 3*tc.window {
			r := a.l.ReserveN(now, 1)
			now = now.Add(r.DelayFrom(now))
			sent = append(sent, now)
		}
		most := 0
		for i, lo := 0, 0; i < len(sent); i++ {
			for sent[i].Sub(sent[lo]) >= tc.window {
				lo++
			}
			most = max(most, i-lo+1)
		}
		limit := float64(tc.budget) * (1 - tc.headroom)
		if float64(most) > limit || float64(most) < 0.9*limit-1 {
			t.Errorf("budget %d per %v: the busiest window held %d requests; want at most %.0f and at least 90%% of it (less one)", tc.budget, tc.window, most, limit)
		}
	}
}

// A gate with an app budget waits for it, and a nil App passes through.
func TestGateWaitsForTheApp(t *testing.T) {
	var nilApp *App
	if err := nilApp.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := NewGate(New(Config{}), make(chan struct{}))
	g.App = NewApp(1, time.Hour, 0)
	if _, err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Wait(ctx); err == nil {
		t.Error("a second request inside an app budget of 1 per hour went through")
	}
}
