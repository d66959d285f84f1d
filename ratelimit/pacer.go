// Package ratelimit holds the one pacer that every worker of a job shares.
//
// The Pacer decides how long a request has to wait, never whether it is
// retried (the batch decides that). It combines:
//
//   - a token bucket (golang.org/x/time/rate) at the configured rate, so the
//     job as a whole never sends faster than --rate (rate.go);
//   - write and request budgets: never more than so many requests in any
//     sliding window, spent as soon as requests are ready (budget.go); a
//     budget is lowered only on evidence that persists and comes back once
//     it is gone (evidence.go), and what earlier runs of the tenant sent in
//     the window counts too (record.go);
//   - a shared pause: after a response carrying Retry-After no request of the
//     job leaves until that moment has passed, whichever worker got the answer;
//     the pause is only ever extended, never shortened (pause.go);
//   - an adaptive rate: on throttling by a service that does not count a
//     window (short Retry-After, none long lately) the rate is cut to just
//     under the rate the service actually accepted, and it recovers slowly
//     while the service stays quiet, so a job configured above the service's
//     limit settles just under that limit instead of bouncing off it
//     (rate.go);
//   - exponential backoff with full jitter, for retries the service gave no
//     Retry-After for (backoff.go).
//
// Wait and Hold (wait.go) put these together; the record of recent sends
// they count from is in sends.go. All time comes from a Clock, so tests
// drive the pacer with a FakeClock.
//
// A worker sends each attempt of a request like this (the batch decides what
// is retried and how often):
//
//	t, err := pacer.Wait(ctx) // the pause, then a token
//	if err != nil {
//		return err
//	}
//	resp, err := send()
//	switch {
//	case err != nil || resp.StatusCode >= 500 && resp.Header.Get("Retry-After") == "":
//		// No answer, or a transient error without Retry-After: back off.
//		pacer.Sleep(ctx, pacer.Backoff(attempt))
//	case resp.StatusCode == 429 || resp.StatusCode == 503:
//		d, ok := ratelimit.ParseRetryAfter(resp.Header.Get("Retry-After"), pacer.Now())
//		pacer.Throttled(t, d) // the next Wait, in every worker, waits the pause out
//		if !ok {
//			pacer.Sleep(ctx, pacer.Backoff(attempt))
//		}
//	default:
//		pacer.Succeeded(t) // any answer that is not throttling, a 400 too
//	}
package ratelimit

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultBurst       = 1                      // requests that may leave at once
	DefaultMinRate     = 0.2                    // floor of adaptive cuts, requests per second
	DefaultWindow      = 20 * time.Second       // Intune counts writes per 20 s
	DefaultBackoffBase = 500 * time.Millisecond // bound of the first backoff
	DefaultBackoffCap  = 30 * time.Second       // largest backoff bound
	// IntuneWriteBudget and IntuneRequestBudget are Intune's documented
	// limits per app and tenant: 100 writes and 1000 requests per 20 s.
	IntuneWriteBudget   = 100
	IntuneRequestBudget = 1000
	// DefaultBudgetWindow is the window of the write and request budgets:
	// Intune counts both per 20 s.
	DefaultBudgetWindow = 20 * time.Second
	// DefaultBudgetMargin is added to the budget window on the client side.
	DefaultBudgetMargin = 250 * time.Millisecond
)

// Config sets up a Pacer. The zero value of every field but Rate and Adaptive
// means its default.
type Config struct {
	// Rate is the most requests per second the job sends; 0 means no
	// client-side limit (pauses for Retry-After still apply, and the adaptive
	// rule can still set a limit once the service throttles). A negative rate
	// counts as 0.
	Rate float64
	// Headroom is the fraction of Rate the pacer keeps unused (0 to 0.5;
	// default 0). A token bucket at exactly a service's limit lets one
	// request more than the limit into some windows once timing jitter is
	// counted, and that request is throttled; a few percent of headroom
	// keeps a job whose Rate equals the limit from ever being throttled.
	Headroom float64
	// Burst is how many requests may leave at once after a quiet spell
	// (default 1). Graph counts requests per window, and a burst at the start
	// of a window is what gets throttled, so keep it small.
	Burst int
	// Adaptive turns on the adaptive rate (cut on throttling, slow recovery).
	// The command line turns it on by default.
	Adaptive bool
	// MinRate is the floor for adaptive cuts, in requests per second
	// (default 0.2; never above Rate).
	MinRate float64
	// Window is the trailing window over which the accepted rate is estimated
	// when the service throttles (default 20 s, Intune's throttling window).
	// It should be at least as long as the service's own window.
	Window time.Duration
	// RecoverAfter is the quiet time (no throttling, no rate change) after
	// which a success raises the rate one step (default Window).
	RecoverAfter time.Duration
	// BackoffBase and BackoffCap shape Backoff (defaults 500 ms and 30 s).
	BackoffBase time.Duration
	BackoffCap  time.Duration
	// WriteBudget is the most writes (requests sent through WaitWrite) the
	// job sends in any sliding BudgetWindow, and RequestBudget the most
	// requests of any kind, writes included; 0 means no budget of that kind.
	// Intune documents 100 writes and 1000 requests per 20 s per app and
	// tenant. A budget is spent as soon as requests are ready, and never
	// more in any window. When Adaptive is set, a budget is lowered only on
	// evidence that persists: the service refusing twice, at a similar count
	// of the job's requests in its window, half a window to three windows
	// apart (another app of the tenant may be using part of the window). One
	// refusal only pauses the job until its Retry-After, since the window
	// may be full of requests another client sent just before. A lowered
	// budget is probed after BudgetRecoverAfter without throttling, and
	// comes back in full once the service accepts the probe (see
	// evidence.go).
	WriteBudget   int
	RequestBudget int
	// BudgetWindow is the sliding window of the budgets (default 20 s).
	BudgetWindow time.Duration
	// BudgetMargin is added to BudgetWindow on the client's side (default
	// 250 ms), so that requests sent one window apart do not arrive less
	// than a window apart when network delays vary. Once a request has
	// been answered, its margin is at most its round trip: it reached the
	// service before its answer came back, so a request sent a window
	// after that answer arrives at least a window after it did.
	BudgetMargin time.Duration
	// BudgetRecoverAfter is the quiet time (no throttling) after which a
	// learned budget is probed one request higher, and again after each
	// refused probe (default one and a half budget windows).
	BudgetRecoverAfter time.Duration
	// Clock is the source of time (default the wall clock).
	Clock Clock
	// Logger receives rate changes and pauses at debug level (default none).
	Logger *slog.Logger
	// Jitter returns numbers in [0, 1) for backoff jitter (default
	// math/rand/v2). It is called with the pacer's lock held.
	Jitter func() float64
}

// Ticket records one request let go by Wait. Hand it back to Throttled or
// Succeeded with the answer to that request. The zero Ticket stands for a
// request that did not go through Wait: Throttled still honours its
// Retry-After, but it never changes the rate.
type Ticket struct {
	// Sent is when Wait let the request go, on the pacer's clock.
	Sent  time.Time
	seq   uint64 // position in the record of sends, from 1
	epoch uint64 // the cut epoch when the request left, from 1
	write bool   // let go by WaitWrite
}

// Stats are the pacer's counters, for the run summary.
type Stats struct {
	Requests  int64         // requests let go by Wait
	Throttles int64         // throttled answers recorded by Throttled
	Paused    time.Duration // time during which at least one Wait was held by a shared pause
	Rate      float64       // current rate in requests per second; 0 means no limit
	Cuts      int           // adaptive cuts of the rate
	Raises    int           // adaptive recovery steps
	// WriteBudget and RequestBudget are the current budgets per budget
	// window (0: none); BudgetCuts and BudgetRaises count their changes.
	WriteBudget   int
	RequestBudget int
	BudgetCuts    int
	BudgetRaises  int
}

// Pacer paces the requests of one job. It is safe for concurrent use; every
// worker of the job shares one Pacer. Its state is kept by mechanism: the
// record of sends (sends.go), the shared pause (pause.go), the token bucket
// and the adaptive rate (rate.go), the budgets (budget.go) and the backoff
// (backoff.go).
type Pacer struct {
	clock    Clock
	log      *slog.Logger
	adaptive bool

	mu           sync.Mutex
	waiters      map[*waiter]struct{}
	lastThrottle time.Time
	throttles    int64

	sendLog
	pauseState
	rateState
	budgetState
	backoffState
}

// New returns a Pacer for cfg.
func New(cfg Config) *Pacer {
	if h := min(max(cfg.Headroom, 0), 0.5); h > 0 && cfg.Rate > 0 {
		cfg.Rate *= 1 - h
	}
	p := &Pacer{
		clock:    cfg.Clock,
		log:      cfg.Logger,
		adaptive: cfg.Adaptive,
		waiters:  make(map[*waiter]struct{}),
	}
	p.jitter = cfg.Jitter
	p.burst = cfg.Burst
	p.configured = max(cfg.Rate, 0)
	p.floor = cfg.MinRate
	p.window = cfg.Window
	p.recoverAfter = cfg.RecoverAfter
	p.backoffBase = cfg.BackoffBase
	p.backoffCap = cfg.BackoffCap
	p.maxWrites = max(cfg.WriteBudget, 0)
	p.maxRequests = max(cfg.RequestBudget, 0)
	p.budgetWindow = cfg.BudgetWindow
	p.budgetRecover = cfg.BudgetRecoverAfter
	p.epoch = 1
	p.nextSeq = 1
	if p.clock == nil {
		p.clock = RealClock()
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.jitter == nil {
		p.jitter = rand.Float64
	}
	if p.burst <= 0 {
		p.burst = DefaultBurst
	}
	if p.floor <= 0 {
		p.floor = DefaultMinRate
	}
	if p.configured > 0 && p.floor > p.configured {
		p.floor = p.configured
	}
	if p.window <= 0 {
		p.window = DefaultWindow
	}
	if p.recoverAfter <= 0 {
		p.recoverAfter = p.window
	}
	if p.backoffBase <= 0 {
		p.backoffBase = DefaultBackoffBase
	}
	if p.backoffCap <= 0 {
		p.backoffCap = DefaultBackoffCap
	}
	p.backoffCap = max(p.backoffCap, p.backoffBase)
	if p.budgetWindow <= 0 {
		p.budgetWindow = DefaultBudgetWindow
	}
	margin := cfg.BudgetMargin
	if margin <= 0 {
		margin = DefaultBudgetMargin
	}
	p.budgetSpan = p.budgetWindow + margin
	p.budgetMargin = margin
	if p.budgetRecover <= 0 {
		p.budgetRecover = p.budgetWindow * 3 / 2
	}
	p.probeQuiet = 3 * p.recoverAfter
	p.writes, p.reqs = p.maxWrites, p.maxRequests
	p.rate = p.configured
	p.resetLocked()
	return p
}

// Throttled records that the request of ticket t was throttled: a 429, or a
// 503 with Retry-After. Call it for every such answer, before deciding about
// the retry.
//
// A retryAfter above zero extends the shared pause to now+retryAfter, unless
// it already lasts longer: the pause is only ever extended.
//
// When the pacer is adaptive and t left after the last cut, the answer is
// first one about the budgets (see evidence.go): a long Retry-After, or a
// short one from a service that has shown it counts a window, only pauses
// or teaches a budget, and leaves the rate alone. Otherwise the rate is cut
// to 0.98 times the rate the service accepted: the requests let go in the
// trailing Window before t was sent, less those already known to be
// throttled, divided by the window (or by the time since the first request,
// when that is shorter, but never by less than a second). The new rate is
// never above the current rate nor below MinRate. With fewer than 3 accepted
// requests in the window there is nothing to estimate from and the rate is
// left alone. Answers to requests sent before the last cut were caused by
// the old rate and do not cut again.
func (p *Pacer) Throttled(t Ticket, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.throttles++
	p.lastThrottle = now
	p.markThrottledLocked(t)
	p.answeredLocked(t, now)

	changed := p.extendPauseLocked(now, retryAfter)
	if p.adaptive && t.epoch != 0 && t.epoch == p.epoch && p.budgetAnswerLocked(t, now, retryAfter) {
		changed = true
	} else if p.adaptive && t.epoch != 0 && t.epoch == p.epoch && p.cutRateLocked(t, now) {
		changed = true
	}
	if changed {
		p.resetLocked()
	}
}

// Succeeded records that the request of ticket t was answered without
// throttling. When the pacer is adaptive and runs below the configured rate,
// the rate recovers one step at a time: a success of a request sent since the
// last rate change, once RecoverAfter has passed both since the last
// throttled answer and since the last rate change, raises the rate by 5 %
// (up to the configured rate; without a configured rate there is no ceiling).
func (p *Pacer) Succeeded(t Ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.answeredLocked(t, now)
	if !p.adaptive || t.epoch == 0 {
		return
	}
	p.raiseBudgetLocked(t, now)
	p.raiseRateLocked(t, now)
}

// Now returns the time on the pacer's clock; pass it to ParseRetryAfter.
func (p *Pacer) Now() time.Time { return p.clock.Now() }

// Sleep waits d on the pacer's clock, for a backoff. It returns ctx.Err() if
// ctx ends first.
func (p *Pacer) Sleep(ctx context.Context, d time.Duration) error {
	return p.clock.Sleep(ctx, d)
}

// Stats returns the pacer's counters so far.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	paused := p.pausedTotal
	if p.pausedN > 0 {
		paused += p.clock.Now().Sub(p.pausedSince)
	}
	return Stats{
		Requests:  p.requests,
		Throttles: p.throttles,
		Paused:    paused,
		Rate:      p.rate,
		Cuts:      p.cuts,
		Raises:    p.raises,

		WriteBudget:   p.writes,
		RequestBudget: p.reqs,
		BudgetCuts:    p.budgetCuts,
		BudgetRaises:  p.budgetRaises,
	}
}
