package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGateShutsWaiters: waiters held by a Retry-After pause and by the
// bucket all return ErrStopped when the gate shuts, without the clock
// moving; after that nothing waits at all.
func TestGateShutsWaiters(t *testing.T) {
	tests := []struct {
		name  string
		setup func(p *Pacer)
		wait  func(g *Gate, ctx context.Context) error
	}{
		{"pause, Wait", func(p *Pacer) { p.Throttled(Ticket{}, 60*time.Second) },
			func(g *Gate, ctx context.Context) error { _, err := g.Wait(ctx); return err }},
		{"pause, WaitWrite", func(p *Pacer) { p.Throttled(Ticket{}, 60*time.Second) },
			func(g *Gate, ctx context.Context) error { _, err := g.WaitWrite(ctx); return err }},
		{"bucket", func(p *Pacer) {
			for range DefaultBurst {
				p.Wait(context.Background())
			}
		}, func(g *Gate, ctx context.Context) error { _, err := g.Wait(ctx); return err }},
		{"backoff sleep", func(*Pacer) {},
			func(g *Gate, ctx context.Context) error { return g.Sleep(ctx, time.Hour) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := NewFakeClock(epoch0)
			p := New(Config{Rate: 0.5, Clock: fc})
			tc.setup(p)
			stop := make(chan struct{})
			g := NewGate(p, stop)
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() { errs <- tc.wait(g, context.Background()) }()
			}
			fc.BlockUntil(n)
			close(stop)
			for range n {
				if err := <-errs; !errors.Is(err, ErrStopped) {
					t.Errorf("waiter: %v, want ErrStopped", err)
				}
			}
			if !fc.Now().Equal(epoch0) {
				t.Errorf("the clock moved to %v", fc.Now())
			}
			if err := tc.wait(g, context.Background()); !errors.Is(err, ErrStopped) {
				t.Errorf("after the stop: %v, want ErrStopped", err)
			}
		})
	}
}

// TestGateOpenPassesThrough: an open gate paces like its pacer, and a
// cancelled context is the context's error, not ErrStopped.
func TestGateOpenPassesThrough(t *testing.T) {
	fc := NewFakeClock(epoch0)
	g := NewGate(New(Config{Clock: fc}), make(chan struct{}))
	if _, err := g.Wait(context.Background()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context: %v", err)
	}
}
