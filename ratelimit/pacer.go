// Package ratelimit holds the one pacer that every worker of a job shares.
//
// The Pacer decides how long a request has to wait, never whether it is
// retried (the batch decides that). It combines:
//
//   - a token bucket (golang.org/x/time/rate) at the configured rate, so the
//     job as a whole never sends faster than --rate;
//   - a shared pause: after a response carrying Retry-After no request of the
//     job leaves until that moment has passed, whichever worker got the answer;
//     the pause is only ever extended, never shortened;
//   - an adaptive rate: on throttling the rate is cut to just under the rate
//     the service actually accepted, and it recovers slowly while the service
//     stays quiet, so a job configured above the service's limit settles just
//     under that limit instead of bouncing off it;
//   - exponential backoff with full jitter, for retries the service gave no
//     Retry-After for.
//
// All time comes from a Clock, so tests drive the pacer with a FakeClock.
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
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// The adaptive rule's constants.
const (
	// cutFactor: a cut sets the rate to this fraction of the accepted rate.
	cutFactor = 0.98
	// raiseFactor: each recovery step multiplies the rate by this.
	raiseFactor = 1.05
	// minSamples: fewer accepted requests than this in the window give no
	// estimate, and the 429 only pauses.
	minSamples = 3
	// minSpan: the estimate never divides by less than this (or the window,
	// when that is shorter): a burst sent in a few milliseconds says nothing
	// about a rate per second.
	minSpan = time.Second
	// maxLog bounds the record of recent sends (for --rate 0 runs).
	maxLog = 1 << 16
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
	// more in any window. When Adaptive is set, a 429 that says the window
	// is full sooner than the budget allows (another app of the tenant may
	// be using part of it) lowers the budget to what the service accepted,
	// and the budget recovers after BudgetRecoverAfter without throttling.
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
	// BudgetRecoverAfter is the quiet time (no throttling, no budget change)
	// after which a learned budget grows by a twentieth, at least 1 (default two
	// budget windows; longer after raises that were throttled back).
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
// worker of the job shares one Pacer.
type Pacer struct {
	clock         Clock
	log           *slog.Logger
	jitter        func() float64
	burst         int
	adaptive      bool
	configured    float64 // configured rate; 0 = no limit
	floor         float64 // lowest rate a cut may set
	window        time.Duration
	recoverAfter  time.Duration
	backoffBase   time.Duration
	backoffCap    time.Duration
	maxWrites     int           // configured write budget; 0 = none
	maxRequests   int           // configured request budget; 0 = none
	budgetSpan    time.Duration // budget window plus margin
	budgetMargin  time.Duration
	budgetWindow  time.Duration
	budgetRecover time.Duration

	mu           sync.Mutex
	rate         float64       // current rate; 0 = no limit
	lim          *rate.Limiter // nil when there is no limit; replaced on every change
	pauseEnd     time.Time     // no request leaves before this
	epoch        uint64        // incremented by every cut
	waiters      map[*waiter]struct{}
	sends        []send // recent sends, oldest first
	nextSeq      uint64
	firstSend    time.Time
	lastSend     time.Time
	dropped      time.Time // send time of the newest entry dropped from sends
	lastThrottle time.Time
	lastChange   time.Time     // last rate change
	ceiling      float64       // the rate the service accepted at the last cut; 0 = none known
	lastProbe    time.Time     // last raise above the ceiling
	probeQuiet   time.Duration // quiet time before a raise above the ceiling
	requests     int64
	throttles    int64
	cuts, raises int
	pausedN      int // Wait calls held by a pause right now
	pausedSince  time.Time
	pausedTotal  time.Duration
	ends         []time.Time // scratch for roomAtLocked
	// Wait calls sleeping with a token of the bucket, of any kind and
	// writes: the budgets count them as sent, so that no more of them
	// hold tokens than the budgets have room for.
	holding, holdingWrites int
	writes                 int           // current write budget
	reqs                   int           // current request budget
	lastBudget             time.Time     // last budget change
	lastRaise              time.Time     // last budget raise
	raisedFrom             [2]int        // write and request budgets before the last raise
	budgetQuiet            time.Duration // quiet time before the next budget raise
	budgetCuts             int
	budgetRaises           int
}

// waiter is a Wait call sleeping for its token. Changes of the pause or the
// rate interrupt it so that it waits again under the new terms.
type waiter struct {
	cancel      context.CancelFunc
	interrupted bool
	room        time.Time // for a Wait sleeping for budget room: when it wakes
}

type send struct {
	at        time.Time
	seq       uint64
	span      time.Duration // how long it counts against the budgets
	throttled bool
	write     bool
}

// New returns a Pacer for cfg.
func New(cfg Config) *Pacer {
	if h := min(max(cfg.Headroom, 0), 0.5); h > 0 && cfg.Rate > 0 {
		cfg.Rate *= 1 - h
	}
	p := &Pacer{
		clock:         cfg.Clock,
		log:           cfg.Logger,
		jitter:        cfg.Jitter,
		burst:         cfg.Burst,
		adaptive:      cfg.Adaptive,
		configured:    max(cfg.Rate, 0),
		floor:         cfg.MinRate,
		window:        cfg.Window,
		recoverAfter:  cfg.RecoverAfter,
		backoffBase:   cfg.BackoffBase,
		backoffCap:    cfg.BackoffCap,
		maxWrites:     max(cfg.WriteBudget, 0),
		maxRequests:   max(cfg.RequestBudget, 0),
		budgetWindow:  cfg.BudgetWindow,
		budgetRecover: cfg.BudgetRecoverAfter,
		epoch:         1,
		nextSeq:       1,
		waiters:       make(map[*waiter]struct{}),
	}
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
		p.budgetRecover = 2 * p.budgetWindow
	}
	p.budgetQuiet = p.budgetRecover
	p.probeQuiet = 3 * p.recoverAfter
	p.writes, p.reqs = p.maxWrites, p.maxRequests
	p.rate = p.configured
	p.resetLocked()
	return p
}

// Wait blocks until the shared pause has passed, the request budget has
// room and the token bucket lets one more request go, and returns the Ticket
// of that request. It returns ctx.Err() if ctx ends first.
//
// A Wait already holding a token reservation when a pause is set or extended,
// or when the rate or a budget is cut, gives its reservation up and waits
// again under the new terms, so a pause holds every waiter. When a pause
// ends, the waiters leave one by one, spaced by the bucket, not all at once.
func (p *Pacer) Wait(ctx context.Context) (Ticket, error) { return p.wait(ctx, false) }

// WaitWrite is Wait for a write (POST, PATCH, DELETE): it also waits for
// room in the write budget, and the request counts against both budgets.
func (p *Pacer) WaitWrite(ctx context.Context) (Ticket, error) { return p.wait(ctx, true) }

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

// budgetDelayLocked returns how long a request of the kind must wait at now
// for room in the budgets: 0 when it may go.
func (p *Pacer) budgetDelayLocked(now time.Time, write bool) time.Duration {
	var d time.Duration
	if p.reqs > 0 {
		d = max(d, p.roomAtLocked(now, false, p.reqs, p.holding).Sub(now))
	}
	if write && p.writes > 0 {
		d = max(d, p.roomAtLocked(now, true, p.writes, p.holdingWrites).Sub(now))
	}
	return max(d, 0)
}

// holdLocked counts a Wait of the kind that sleeps with a token (n = 1) or
// wakes (n = -1).
func (p *Pacer) holdLocked(write bool, n int) {
	p.holding += n
	if write {
		p.holdingWrites += n
	}
}

// wakeRoomLocked wakes the Wait calls sleeping for budget room, to look
// again: room they counted as taken is free.
func (p *Pacer) wakeRoomLocked() {
	for w := range p.waiters {
		if !w.room.IsZero() {
			w.interrupted = true
			w.cancel()
			delete(p.waiters, w)
		}
	}
}

// roomAtLocked returns the first moment from now on at which one more request
// fits in budget: every request sent counts, throttled or not (the service
// counts them too), and writesOnly counts writes only. A request counts for
// the budget window plus its margin (see answeredLocked), and pending more
// count as sent now.
func (p *Pacer) roomAtLocked(now time.Time, writesOnly bool, budget, pending int) time.Time {
	from := now.Add(-p.budgetSpan)
	lo := sort.Search(len(p.sends), func(i int) bool { return p.sends[i].at.After(from) })
	ends := p.ends[:0]
	for _, s := range p.sends[lo:] {
		if writesOnly && !s.write {
			continue
		}
		if end := s.at.Add(s.span); end.After(now) {
			ends = append(ends, end)
		}
	}
	for range pending {
		ends = append(ends, now.Add(p.budgetSpan))
	}
	p.ends = ends[:0]
	n := len(ends)
	if n < budget {
		return now
	}
	// Once n-budget+1 of them have ended, there is room for one more.
	slices.SortFunc(ends, time.Time.Compare)
	return ends[n-budget]
}

// answeredLocked records that the request of ticket t was answered at now:
// it reached the service before, so from now on it counts against the
// budgets for the budget window plus its round trip, if that is shorter
// than the margin. A request that a pause may have held before it was sent
// counts for the window plus its whole round trip.
func (p *Pacer) answeredLocked(t Ticket, now time.Time) {
	s := p.sendLocked(t)
	if s == nil {
		return
	}
	rtt := max(now.Sub(s.at), 0)
	s.span = p.budgetWindow + min(p.budgetMargin, rtt)
	if p.pauseEnd.After(s.at) {
		// A pause was set after this request left: it may have held it
		// (Hold) until long after, so only its answer bounds its arrival.
		s.span = p.budgetWindow + rtt
	}
	// A Wait sleeping for room that this send's old end held back wakes
	// to look again; one sleeping for a token keeps it.
	if s.at.Add(s.span).Before(p.latestRoomLocked()) {
		p.wakeRoomLocked()
	}
}

// latestRoomLocked returns the latest moment a Wait sleeping for room wakes
// at (the zero time when none does).
func (p *Pacer) latestRoomLocked() time.Time {
	var t time.Time
	for w := range p.waiters {
		if w.room.After(t) {
			t = w.room
		}
	}
	return t
}

// Throttled records that the request of ticket t was throttled: a 429, or a
// 503 with Retry-After. Call it for every such answer, before deciding about
// the retry.
//
// A retryAfter above zero extends the shared pause to now+retryAfter, unless
// it already lasts longer: the pause is only ever extended.
//
// When the pacer is adaptive and t left after the last cut, the rate is cut to
// 0.95 times the rate the service accepted: the requests let go in the
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

	changed := false
	if retryAfter > 0 {
		if end := now.Add(retryAfter); end.After(p.pauseEnd) {
			p.pauseEnd = end
			changed = true
			p.log.Debug("pacer paused", "retryAfter", retryAfter, "until", end)
		}
	}
	if p.adaptive && t.epoch != 0 && t.epoch == p.epoch && p.budgetAnswerLocked(t, now, retryAfter) {
		changed = true
	} else if p.adaptive && t.epoch != 0 && t.epoch == p.epoch {
		if accepted, ok := p.estimateLocked(t); ok {
			target := max(p.floor, accepted*cutFactor)
			if p.rate == 0 || target < p.rate {
				p.log.Debug("pacer rate cut", "from", p.rate, "to", target, "accepted", accepted)
				p.rate = target
				p.ceiling = accepted
				if !p.lastProbe.IsZero() && now.Sub(p.lastProbe) < 2*p.recoverAfter {
					p.probeQuiet = min(2*p.probeQuiet, 16*p.recoverAfter)
				}
				p.epoch++
				p.cuts++
				p.lastChange = now
				changed = true
			}
		}
	}
	if changed {
		p.resetLocked()
	}
}

// budgetAnswerLocked handles a 429 to t that is about the budgets: one that
// shows a full budget window (learnBudgetLocked), or one to a request the
// last raise of a learned budget let through (refusedRaiseLocked). It
// reports false when the answer says nothing about the budgets, and the
// adaptive rate handles it.
func (p *Pacer) budgetAnswerLocked(t Ticket, now time.Time, retryAfter time.Duration) bool {
	cuts := p.budgetCuts
	learned := p.learnBudgetLocked(t, now, retryAfter)
	if p.budgetCuts == cuts && p.refusedRaiseLocked(t, now) {
		return true
	}
	return learned
}

// refusedRaiseLocked handles a 429 to t when t was sent since the last raise
// of a learned budget and nothing has changed the budgets since: the service
// refused what the raise let through, so the budgets go back to what they
// were before it, and the next raise waits twice as long (up to 16 windows).
// The Retry-After does not matter here: a sliding window that is just full
// asks for a short wait when its oldest request is about to leave, and that
// says nothing about a rate.
func (p *Pacer) refusedRaiseLocked(t Ticket, now time.Time) bool {
	if p.lastRaise.IsZero() || !p.lastBudget.Equal(p.lastRaise) || t.Sent.Before(p.lastRaise) {
		return false
	}
	p.writes = min(p.writes, p.raisedFrom[0])
	p.reqs = min(p.reqs, p.raisedFrom[1])
	p.log.Debug("pacer budget raise refused", "writes", p.writes, "requests", p.reqs)
	p.epoch++
	p.budgetCuts++
	p.lastBudget = now
	p.budgetQuiet = min(2*p.budgetQuiet, 16*p.budgetWindow)
	return true
}

// learnBudgetLocked handles a 429 to t that shows a full budget window: the
// service asks for a wait of at least a quarter of the budget window, and the
// moment it names (now+retryAfter) comes at least three quarters of a budget
// window after the oldest request of ours it accepted in the window before
// t, so the service counts a window as long as the budget's and has
// less room in it than the budget assumed (another app may be using part of
// it). The budget of t's kind is then lowered to the requests of that kind
// the service accepted in the window, at least 1, and the rate is left
// alone. It reports false when the answer says nothing about the budget
// (no budget, no Retry-After, or a service whose window frees sooner: a
// shorter window or a steady rate, which the adaptive rate handles).
func (p *Pacer) learnBudgetLocked(t Ticket, now time.Time, retryAfter time.Duration) bool {
	budget, writesOnly := &p.reqs, false
	if t.write && p.writes > 0 {
		budget, writesOnly = &p.writes, true
	}
	if *budget == 0 || retryAfter <= 0 {
		return false
	}
	from := t.Sent.Add(-p.budgetWindow)
	lo := sort.Search(len(p.sends), func(i int) bool { return p.sends[i].at.After(from) })
	accepted := 0
	var oldest time.Time
	for _, s := range p.sends[lo:] {
		if s.seq >= t.seq {
			break
		}
		if s.throttled || (writesOnly && !s.write) {
			continue
		}
		if accepted == 0 {
			oldest = s.at
		}
		accepted++
	}
	// A service that counts a shorter window, or refills a bucket, asks
	// for a short wait: a quarter of the window is beyond what either asks
	// of a client that paces at all.
	if retryAfter < p.budgetWindow/4 {
		return false
	}
	if accepted > 0 && now.Add(retryAfter).Before(oldest.Add(p.budgetWindow*3/4)) {
		return false
	}
	if n := max(accepted, 1); n < *budget {
		kind := "request"
		if writesOnly {
			kind = "write"
		}
		p.log.Debug("pacer budget cut", "kind", kind, "from", *budget, "to", n, "window", p.budgetWindow)
		*budget = n
		p.epoch++
		p.budgetCuts++
		p.lastBudget = now
		if !p.lastRaise.IsZero() && now.Sub(p.lastRaise) < 2*p.budgetSpan {
			// The last raise was too much: probe half as often.
			p.budgetQuiet = min(2*p.budgetQuiet, 16*p.budgetWindow)
		}
	}
	return true
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
	if p.rate == p.configured || t.Sent.Before(p.lastChange) {
		return
	}
	if now.Sub(p.lastThrottle) < p.recoverAfter || now.Sub(p.lastChange) < p.recoverAfter {
		return
	}
	if !p.lastProbe.IsZero() && p.lastThrottle.Before(p.lastProbe) {
		// The last step above the ceiling held: the service allows more
		// now, so recover in plain steps again.
		p.ceiling, p.lastProbe, p.probeQuiet = 0, time.Time{}, 3*p.recoverAfter
	}
	target := p.rate * raiseFactor
	if p.configured > 0 && target >= p.configured {
		target = p.configured
	}
	if p.ceiling > 0 {
		safe := p.ceiling * cutFactor
		switch {
		case p.rate < safe:
			target = min(target, safe)
		case now.Sub(p.lastThrottle) >= p.probeQuiet && now.Sub(p.lastChange) >= p.probeQuiet:
			// A step above what the service accepted, to find out whether
			// it allows more now; a 429 to it makes the next probe wait
			// twice as long.
			p.lastProbe = now
		default:
			return
		}
	}
	if target <= p.rate {
		return
	}
	p.log.Debug("pacer rate raised", "from", p.rate, "to", target)
	p.rate = target
	p.raises++
	p.lastChange = now
	p.resetLocked()
}

// raiseBudgetLocked lets a learned budget recover. Once the quiet time has
// passed since the last throttled answer and the last budget change, a
// success of a request sent since that change raises each lowered budget by
// a twentieth (at least 1), up to the configured budget. The quiet time starts
// at BudgetRecoverAfter; it doubles (up to 16 windows) each time a raise is
// throttled back within two windows, since each such probe costs the
// service's window the requests it refused, and halves back after a raise
// that held.
func (p *Pacer) raiseBudgetLocked(t Ticket, now time.Time) {
	if (p.writes == p.maxWrites && p.reqs == p.maxRequests) || t.Sent.Before(p.lastBudget) ||
		now.Sub(p.lastThrottle) < p.budgetQuiet || now.Sub(p.lastBudget) < p.budgetQuiet {
		return
	}
	if !p.lastRaise.IsZero() && p.lastThrottle.Before(p.lastRaise) {
		p.budgetQuiet = max(p.budgetRecover, p.budgetQuiet/2)
	}
	p.raisedFrom = [2]int{p.writes, p.reqs}
	for _, b := range []struct {
		cur *int
		max int
	}{{&p.writes, p.maxWrites}, {&p.reqs, p.maxRequests}} {
		if *b.cur < b.max {
			*b.cur = min(b.max, *b.cur+max(1, *b.cur/20))
		}
	}
	p.log.Debug("pacer budget raised", "writes", p.writes, "requests", p.reqs)
	p.budgetRaises++
	p.lastBudget = now
	p.lastRaise = now
	// Waiters sleeping for room wake and look again. Those holding a token
	// of the bucket give it up, so the bucket is replaced too: a
	// reservation left behind in the old one would push every later token
	// back by one interval.
	p.resetLocked()
}

// Backoff returns how long to wait before retry number attempt (counted from
// 1) when the service gave no Retry-After: a random duration in
// [0, min(BackoffCap, BackoffBase·2^(attempt-1))) ("full jitter"), drawn from
// the Jitter source. Attempts below 1 count as 1.
func (p *Pacer) Backoff(attempt int) time.Duration {
	ceiling := p.backoffBase
	for i := 1; i < attempt && ceiling < p.backoffCap; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.backoffCap)
	p.mu.Lock()
	j := p.jitter()
	p.mu.Unlock()
	if j < 0 || j >= 1 {
		j = 0
	}
	return time.Duration(j * float64(ceiling))
}

// PausedUntil returns the end of the shared pause the service asked for
// (Retry-After), or the zero time when no pause is set. Progress displays
// count it down.
func (p *Pacer) PausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pauseEnd
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

// releaseLocked lets one request go at now.
func (p *Pacer) releaseLocked(now time.Time, write bool) Ticket {
	t := Ticket{Sent: now, seq: p.nextSeq, epoch: p.epoch, write: write}
	p.nextSeq++
	p.requests++
	if p.firstSend.IsZero() {
		p.firstSend = now
	}
	p.lastSend = now
	// Keep two windows of sends: enough for the answers of slow requests.
	keepFrom := now.Add(-2 * max(p.window, p.budgetSpan))
	drop := 0
	for drop < len(p.sends) && (p.sends[drop].at.Before(keepFrom) || len(p.sends)-drop >= maxLog) {
		p.dropped = p.sends[drop].at
		drop++
	}
	if drop > 0 && drop*2 >= len(p.sends) {
		p.sends = append(p.sends[:0], p.sends[drop:]...)
	} else {
		p.sends = p.sends[drop:]
	}
	p.sends = append(p.sends, send{at: now, seq: t.seq, span: p.budgetSpan, write: write})
	return t
}

func (p *Pacer) markThrottledLocked(t Ticket) {
	if s := p.sendLocked(t); s != nil {
		s.throttled = true
	}
}

// sendLocked returns the record of ticket t's send, or nil when it is no
// longer (or never was) on record.
func (p *Pacer) sendLocked(t Ticket) *send {
	if t.seq == 0 || len(p.sends) == 0 {
		return nil
	}
	i := int(t.seq) - int(p.sends[0].seq)
	if i >= 0 && i < len(p.sends) {
		return &p.sends[i]
	}
	return nil
}

// estimateLocked returns the rate the service accepted in the window before
// t was sent, in requests per second.
func (p *Pacer) estimateLocked(t Ticket) (float64, bool) {
	from := t.Sent.Add(-p.window)
	if from.Before(p.firstSend) {
		from = p.firstSend
	}
	if !p.dropped.IsZero() && !p.dropped.Before(from) {
		// Part of the window is no longer on record (t was sent long ago):
		// counting the rest would underestimate.
		return 0, false
	}
	span := max(t.Sent.Sub(from), min(minSpan, p.window))
	lo := sort.Search(len(p.sends), func(i int) bool { return !p.sends[i].at.Before(from) })
	accepted := 0
	for _, s := range p.sends[lo:] {
		if s.seq >= t.seq {
			break
		}
		if !s.throttled {
			accepted++
		}
	}
	if accepted < minSamples {
		return 0, false
	}
	return float64(accepted) / span.Seconds(), true
}

// resetLocked replaces the token bucket after a change of the pause or the
// rate and interrupts the Wait calls sleeping for a token, so that they
// reserve again under the new terms. The new bucket starts empty at the last
// send, so the next request keeps its distance from the previous one.
func (p *Pacer) resetLocked() {
	if p.rate == 0 {
		p.lim = nil
	} else {
		p.lim = rate.NewLimiter(rate.Limit(p.rate), p.burst)
		if !p.lastSend.IsZero() {
			p.lim.ReserveN(p.lastSend, p.burst)
		}
	}
	for w := range p.waiters {
		w.interrupted = true
		w.cancel()
	}
	clear(p.waiters)
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
