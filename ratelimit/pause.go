package ratelimit

import (
	"context"
	"time"
)

// pauseState is the shared pause: after a response carrying Retry-After no
// request of the job leaves until that moment has passed.
type pauseState struct {
	pauseEnd    time.Time // no request leaves before this
	pausedN     int       // Wait calls held by a pause right now
	pausedSince time.Time
	pausedTotal time.Duration
}

// extendPauseLocked extends the shared pause to now+retryAfter, unless it
// already lasts longer, and reports whether it did.
func (p *Pacer) extendPauseLocked(now time.Time, retryAfter time.Duration) bool {
	if retryAfter <= 0 {
		return false
	}
	end := now.Add(retryAfter)
	if !end.After(p.pauseEnd) {
		return false
	}
	p.pauseEnd = end
	p.log.Debug("pacer paused", "retryAfter", retryAfter, "until", end)
	return true
}

// PausedUntil returns the end of the shared pause the service asked for
// (Retry-After), or the zero time when no pause is set. Progress displays
// count it down.
func (p *Pacer) PausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pauseEnd
}

func (p *Pacer) pausedEnterLocked(now time.Time) {
	if p.pausedN == 0 {
		p.pausedSince = now
	}
	p.pausedN++
}

func (p *Pacer) pausedLeaveLocked(now time.Time) {
	p.pausedN--
	if p.pausedN == 0 {
		p.pausedTotal += now.Sub(p.pausedSince)
	}
}

// sleepPauseLocked sleeps until the shared pause set to end after now is
// over, counting the time as paused. It is called with p.mu held and
// returns with it released.
func (p *Pacer) sleepPauseLocked(ctx context.Context, now time.Time) error {
	d := p.pauseEnd.Sub(now)
	p.pausedEnterLocked(now)
	p.mu.Unlock()
	err := p.clock.Sleep(ctx, d)
	p.mu.Lock()
	p.pausedLeaveLocked(p.clock.Now())
	p.mu.Unlock()
	return err
}
