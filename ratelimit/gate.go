package ratelimit

import (
	"context"
	"errors"
	"time"
)

// ErrStopped is returned by a Gate's Wait, WaitWrite and Sleep once the job
// was asked to stop: the request was never sent.
var ErrStopped = errors.New("stopped before the request was sent")

// Gate is a Pacer that can be shut: once stop is closed, every Wait,
// WaitWrite and Sleep returns ErrStopped at once, those already waiting (for
// the bucket or a Retry-After pause) too, so that nothing new leaves after a
// stop signal. The Pacer's other methods pass through.
type Gate struct {
	*Pacer
	// App, when set, is the budget this tenant's requests share with
	// every other tenant's of the run (see App).
	App  *App
	stop <-chan struct{}
}

// NewGate returns a Gate over p that shuts when stop is closed.
func NewGate(p *Pacer, stop <-chan struct{}) *Gate { return &Gate{Pacer: p, stop: stop} }

// Wait is Pacer.Wait after the App's budget, or ErrStopped once the gate
// is shut.
func (g *Gate) Wait(ctx context.Context) (Ticket, error) {
	return g.guard(ctx, g.app(g.Pacer.Wait))
}

// WaitWrite is Pacer.WaitWrite after the App's budget, or ErrStopped once
// the gate is shut.
func (g *Gate) WaitWrite(ctx context.Context) (Ticket, error) {
	return g.guard(ctx, g.app(g.Pacer.WaitWrite))
}

// app puts the wait for the app-wide budget before wait, when there is
// one: a request leaves when both its tenant's pacer and the app allow.
func (g *Gate) app(wait func(context.Context) (Ticket, error)) func(context.Context) (Ticket, error) {
	if g.App == nil {
		return wait
	}
	return func(ctx context.Context) (Ticket, error) {
		if err := g.App.Wait(ctx); err != nil {
			return Ticket{}, err
		}
		return wait(ctx)
	}
}

// Sleep is Pacer.Sleep, or ErrStopped once the gate is shut.
func (g *Gate) Sleep(ctx context.Context, d time.Duration) error {
	_, err := g.guard(ctx, func(ctx context.Context) (Ticket, error) {
		return Ticket{}, g.Pacer.Sleep(ctx, d)
	})
	return err
}

// Shut reports whether the gate is shut.
func (g *Gate) Shut() bool {
	select {
	case <-g.stop:
		return true
	default:
		return false
	}
}

func (g *Gate) guard(ctx context.Context, wait func(context.Context) (Ticket, error)) (Ticket, error) {
	if g.Shut() {
		return Ticket{}, ErrStopped
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-g.stop:
			cancel()
		case <-wctx.Done():
		}
	}()
	t, err := wait(wctx)
	// A wait that ended as the gate shut lets nothing go either.
	if g.Shut() && ctx.Err() == nil {
		return Ticket{}, ErrStopped
	}
	return t, err
}
