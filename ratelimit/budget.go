package ratelimit

import (
	"slices"
	"sort"
	"time"
)

// budgetState is the write and request budgets: the most requests the job
// sends in any sliding budget window, lowered when the service shows it
// allows fewer, and recovered when it stops throttling.
type budgetState struct {
	maxWrites     int           // configured write budget; 0 = none
	maxRequests   int           // configured request budget; 0 = none
	budgetSpan    time.Duration // budget window plus margin
	budgetMargin  time.Duration
	budgetWindow  time.Duration
	budgetRecover time.Duration

	ends []time.Time // scratch for roomAtLocked
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
