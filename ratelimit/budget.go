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
	writes                 int       // current write budget
	reqs                   int       // current request budget
	lastBudget             time.Time // last budget change
	budgetCuts             int
	budgetRaises           int

	learnState  // what lowers a budget and how it recovers (evidence.go)
	earlierRuns // sends of earlier runs of the tenant (record.go)
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
	for _, e := range p.earlier {
		if e.until.After(now) && (e.write || !writesOnly) {
			ends = append(ends, e.until)
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
