package ratelimit

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is the source of time for a Pacer. Tests replace the wall clock with a
// FakeClock so that pauses, rates and backoff can be checked without sleeping.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d. It returns ctx.Err() when ctx ends first, and nil
	// otherwise. A d of zero or less returns at once (with ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock returns the wall clock.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FakeClock is a Clock for tests. Its time moves only when the test moves it
// (Advance, AdvanceTo, Step); Sleep blocks until the clock has passed the wake-up
// time or the context ends. The test can wait, without sleeping in real time,
// until a given number of goroutines are blocked in Sleep (BlockUntil), which is
// how it knows that every worker is waiting before it moves the clock.
//
// A FakeClock is safe for concurrent use.
type FakeClock struct {
	mu       sync.Mutex
	now      time.Time
	seq      uint64
	sleepers []*sleeper
	changed  chan struct{} // closed and replaced whenever the sleepers change
}

type sleeper struct {
	wake time.Time
	seq  uint64 // registration order, to wake ties first come first served
	done chan struct{}
}

// NewFakeClock returns a FakeClock that reads start until it is moved.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start, changed: make(chan struct{})}
}

// Now returns the fake current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks until the clock has been moved to at least Now()+d, or ctx ends.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	s := &sleeper{wake: c.now.Add(d), seq: c.seq, done: make(chan struct{})}
	c.seq++
	c.sleepers = append(c.sleepers, s)
	c.notifyLocked()
	c.mu.Unlock()

	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.removeLocked(s)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock forward by d and wakes every sleeper that is due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// AdvanceTo moves the clock to t, if t is later than now, and wakes every
// sleeper that is due.
func (c *FakeClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

// Step wakes exactly one sleeper: the one due first (the earliest to call Sleep
// among equal wake-up times), moving the clock to its wake-up time if that is
// later than now. It returns the clock's time after the step, and false when
// nobody is sleeping. Stepping one sleeper at a time, and waiting with
// BlockUntil for the woken goroutine to sleep again, makes a simulation with
// several goroutines deterministic.
func (c *FakeClock) Step() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sleepers) == 0 {
		return c.now, false
	}
	first := c.sleepers[0]
	for _, s := range c.sleepers[1:] {
		if s.wake.Before(first.wake) || (s.wake.Equal(first.wake) && s.seq < first.seq) {
			first = s
		}
	}
	if first.wake.After(c.now) {
		c.now = first.wake
	}
	c.removeLocked(first)
	close(first.done)
	return c.now, true
}

// NextWake returns the earliest wake-up time among the sleepers, and false when
// nobody is sleeping.
func (c *FakeClock) NextWake() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for i, s := range c.sleepers {
		if i == 0 || s.wake.Before(next) {
			next = s.wake
		}
	}
	return next, len(c.sleepers) > 0
}

// Sleepers returns how many goroutines are blocked in Sleep.
func (c *FakeClock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// BlockUntil blocks until at least n goroutines are blocked in Sleep. It never
// gives up; run tests with a -timeout, or use BlockUntilContext.
func (c *FakeClock) BlockUntil(n int) {
	_ = c.BlockUntilContext(context.Background(), n)
}

// BlockUntilContext blocks until at least n goroutines are blocked in Sleep, or
// ctx ends (then it returns ctx.Err()).
func (c *FakeClock) BlockUntilContext(ctx context.Context, n int) error {
	return c.WaitFor(ctx, func(wakes []time.Time) bool { return len(wakes) >= n })
}

// WaitFor blocks until cond, called with the wake-up times of the goroutines
// blocked in Sleep (in the order they started sleeping), returns true, or ctx
// ends. cond is called again each time a goroutine starts or stops sleeping;
// it must not call the clock.
func (c *FakeClock) WaitFor(ctx context.Context, cond func(wakes []time.Time) bool) error {
	for {
		c.mu.Lock()
		wakes := make([]time.Time, len(c.sleepers))
		for i, s := range c.sleepers {
			wakes[i] = s.wake
		}
		ok := cond(wakes)
		changed := c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *FakeClock) setLocked(t time.Time) {
	if t.After(c.now) {
		c.now = t
	}
	kept := c.sleepers[:0]
	woke := false
	for _, s := range c.sleepers {
		if s.wake.After(c.now) {
			kept = append(kept, s)
			continue
		}
		close(s.done)
		woke = true
	}
	clear(c.sleepers[len(kept):])
	c.sleepers = kept
	if woke {
		c.notifyLocked()
	}
}

func (c *FakeClock) removeLocked(s *sleeper) {
	for i, x := range c.sleepers {
		if x == s {
			c.sleepers = slices.Delete(c.sleepers, i, i+1)
			c.notifyLocked()
			return
		}
	}
}

func (c *FakeClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}
