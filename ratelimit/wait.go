package ratelimit

// This file holds Wait and Hold: how a request gets through the pause, the
// budgets and the token bucket.

import (
	"context"
	"time"
)

// waiter is a Wait call sleeping for its token. Changes of the pause or the
// rate interrupt it so that it waits again under the new terms.
type waiter struct {
	cancel      context.CancelFunc
	interrupted bool
	room        time.Time // for a Wait sleeping for budget room: when it wakes
}

// Wait blocks until the shared pause has passed, the request budget has
// room and the token bucket lets one more request go, and returns the Ticket
// of that request. It returns ctx.Err() if ctx ends first.
//
// A Wait already holding a token reservation when a pause is set or extended,
// or when the rate or a budget is cut, gives its reservation up and waits
// again under the new terms, so a pause holds every waiter. When a pause
// ends, the waiters leave one by one, spaced by the bucket, not all at once.
func (p *Pacer) Wait(ctx context.Context) (Ticket, error) { return p.waitAndRecord(ctx, false) }

// WaitWrite is Wait for a write (POST, PATCH, DELETE): it also waits for
// room in the write budget, and the request counts against both budgets.
func (p *Pacer) WaitWrite(ctx context.Context) (Ticket, error) { return p.waitAndRecord(ctx, true) }

// waitAndRecord is wait, and then the periodic save of the cross-run record
// (see Remember), outside the pacer's lock.
func (p *Pacer) waitAndRecord(ctx context.Context, write bool) (Ticket, error) {
	t, err := p.wait(ctx, write)
	if err == nil {
		p.saveRecordIfDue()
	}
	return t, err
}

func (p *Pacer) wait(ctx context.Context, write bool) (Ticket, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Ticket{}, err
		}
		p.mu.Lock()
		now := p.clock.Now()
		if p.pauseEnd.After(now) {
			if err := p.sleepPauseLocked(ctx, now); err != nil {
				return Ticket{}, err
			}
			continue
		}
		if d := p.budgetDelayLocked(now, write); d > 0 {
			if err := p.sleepInterruptibleLocked(ctx, d); err != nil {
				return Ticket{}, err
			}
			continue
		}
		if p.lim == nil {
			t := p.releaseLocked(now, write)
			p.mu.Unlock()
			return t, nil
		}
		lim := p.lim
		r := lim.ReserveN(now, 1)
		d := r.DelayFrom(now)
		if d == 0 {
			t := p.releaseLocked(now, write)
			p.mu.Unlock()
			return t, nil
		}
		// The token is this request's: until it comes, the budgets count
		// the request as sent, so that a later Wait takes a token only
		// while there is room for it too. A token taken without room
		// would come due, find the budget full and be lost, and every
		// later request would leave one interval later.
		sleepCtx, cancel := context.WithCancel(ctx)
		w := &waiter{cancel: cancel}
		p.waiters[w] = struct{}{}
		p.holdLocked(write, 1)
		p.mu.Unlock()

		err := p.clock.Sleep(sleepCtx, d)

		p.mu.Lock()
		cancel()
		delete(p.waiters, w)
		p.holdLocked(write, -1)
		now = p.clock.Now()
		switch {
		case ctx.Err() != nil:
			if lim == p.lim {
				r.CancelAt(now)
			}
			p.wakeRoomLocked()
			p.mu.Unlock()
			return Ticket{}, ctx.Err()
		case w.interrupted || err != nil || p.pauseEnd.After(now):
			// The pause or the rate changed: the bucket was replaced, so
			// the reservation is void. Wait again under the new terms.
			p.mu.Unlock()
			continue
		case p.budgetDelayLocked(now, write) > 0:
			// The room counted for this request is gone (a request it
			// counted as answered early was held, or a budget changed).
			if lim == p.lim {
				r.CancelAt(now)
			}
			p.wakeRoomLocked()
			p.mu.Unlock()
			continue
		}
		t := p.releaseLocked(now, write)
		p.mu.Unlock()
		return t, nil
	}
}

// Hold waits while a shared pause runs, without taking a token or budget
// room: the last look a request takes just before it is sent, so that a
// Retry-After that arrived after Wait let it go still holds it. It returns
// ctx.Err() if ctx ends first.
func (p *Pacer) Hold(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := p.clock.Now()
		if !p.pauseEnd.After(now) {
			p.mu.Unlock()
			return ctx.Err()
		}
		if err := p.sleepPauseLocked(ctx, now); err != nil {
			return err
		}
	}
}

// sleepInterruptibleLocked sleeps d, or until a change of the pause, the rate
// or a budget interrupts it. It is called with p.mu held and returns with it
// released; the error is ctx's.
func (p *Pacer) sleepInterruptibleLocked(ctx context.Context, d time.Duration) error {
	sleepCtx, cancel := context.WithCancel(ctx)
	w := &waiter{cancel: cancel, room: p.clock.Now().Add(d)}
	p.waiters[w] = struct{}{}
	p.mu.Unlock()
	_ = p.clock.Sleep(sleepCtx, d)
	p.mu.Lock()
	cancel()
	delete(p.waiters, w)
	p.mu.Unlock()
	return ctx.Err()
}

// holdLocked counts a Wait of the kind that sleeps with a token (n = 1) or
// wakes (n = -1).
func (p *Pacer) holdLocked(write bool, n int) {
	p.holding += n
	if write {
		p.holdingWrites += n
	}
}
