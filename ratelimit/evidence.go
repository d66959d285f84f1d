package ratelimit

// This file decides when a budget is lowered below the configured one, and
// how it comes back.
//
// A 429 whose Retry-After is long (a quarter of the budget window or more)
// says that the service counts a window and that it was full when the
// request arrived. One such answer is not a lower limit: the window may be
// full of requests that another client (another app, or an earlier run)
// sent just before the job started, and they leave when the Retry-After
// ends. So the first one only pauses the job, and once the pause is over the
// job sends at the budget it had. It is kept as a candidate: the number of
// the job's own requests of that kind that the window held.
//
// A lower budget is learned when the service refuses again, at a similar
// count, half a window to three windows after the candidate: by then the
// requests that filled the window the first time have left, so the
// evidence is new, and whatever takes the rest of the window persists.
//
// A learned budget is probed once the service has been quiet for
// BudgetRecoverAfter: the budget goes one request above what was learned.
// If the service accepts that request with the learned count of the job's
// own requests in its window, the evidence is gone and the configured budget
// holds again at once. If it refuses it, the learned budget holds, and the
// next probe waits as long again. BudgetRecoverAfter is one and a half
// windows by default: a job that spends its budget in a burst at the start
// of each window probes every other window, so a limit that lifts is found
// within about two. Each refused probe costs the service's window one
// request, and the job the rest of a whole-second Retry-After.
//
// Short Retry-After answers from a service that has shown it counts a window
// in the last three windows (the tail of someone else's requests leaving)
// only pause the job: they are neither a candidate nor a reason to cut the
// rate.

import "time"

// learnState is what the budgets have learned from the service.
type learnState struct {
	learn      [2]learning // writes, requests
	windowSeen time.Time   // last long Retry-After: the service counts a window
	lastFull   time.Time   // when the last long Retry-After was answered
}

// learning is the state of one budget.
type learning struct {
	cand    time.Time     // when the unconfirmed full window was answered; zero: none
	candN   int           // the job's own requests of the kind in that window
	learned int           // the learned budget; 0: the configured budget holds
	probeAt time.Time     // when the running probe started; zero: none
	quiet   time.Duration // quiet time before the next probe
	seen    time.Time     // last time the evidence was seen (learned, or a probe refused)
}

// Kinds of budget.
const (
	kindWrites   = 0
	kindRequests = 1
)

// budgetKindLocked returns the budget a 429 to t is about: the write budget
// for a write when there is one, else the request budget; -1 when there is
// no budget of that kind.
func (p *Pacer) budgetKindLocked(t Ticket) int {
	switch {
	case t.write && p.maxWrites > 0:
		return kindWrites
	case p.maxRequests > 0:
		return kindRequests
	}
	return -1
}

// budgetOf returns the current budget of kind k and its configured value.
func (p *Pacer) budgetOf(k int) (*int, int) {
	if k == kindWrites {
		return &p.writes, p.maxWrites
	}
	return &p.reqs, p.maxRequests
}

// similar reports whether two counts of a full window are alike: within a
// fifth of the larger, or 2.
func similar(a, b int) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= max(2, max(a, b)/5)
}

// ownInWindowLocked counts the job's own requests (writes only, for the
// write budget) that the service still counted in its window when t arrived:
// those sent less than a budget window before t, throttled or not (the
// service counts both), and those of earlier runs still counting then.
func (p *Pacer) ownInWindowLocked(t Ticket, writesOnly bool) int {
	n := 0
	from := t.Sent.Add(-p.budgetWindow)
	for i := len(p.sends) - 1; i >= 0; i-- {
		s := &p.sends[i]
		if !s.at.After(from) {
			break
		}
		if s.seq >= t.seq || (writesOnly && !s.write) {
			continue
		}
		n++
	}
	for _, e := range p.earlier {
		if e.until.After(t.Sent) && (e.write || !writesOnly) {
			n++
		}
	}
	return n
}

// windowServiceLocked reports whether the service has shown lately that it
// counts a window: a long Retry-After in the last three budget windows, or
// a budget learned from such answers.
func (p *Pacer) windowServiceLocked(now time.Time) bool {
	return (!p.windowSeen.IsZero() && now.Sub(p.windowSeen) < 3*p.budgetWindow) ||
		p.learn[kindWrites].learned > 0 || p.learn[kindRequests].learned > 0
}

// budgetAnswerLocked handles a 429 to t (sent since the last change of the
// rate or the budgets) as an answer about the budgets, and reports whether
// it was one; if not, the adaptive rate handles it.
func (p *Pacer) budgetAnswerLocked(t Ticket, now time.Time, retryAfter time.Duration) bool {
	k := p.budgetKindLocked(t)
	if k < 0 {
		return false
	}
	l := &p.learn[k]
	if !l.probeAt.IsZero() && !t.Sent.Before(l.probeAt) {
		// The probe's request, or one sent after it, was refused.
		// Whatever the Retry-After: a window that is just full asks for a
		// short wait when its oldest request is about to leave.
		p.refusedProbeLocked(k, now)
		return true
	}
	if retryAfter < p.budgetWindow/4 {
		// A service that counts a shorter window, or refills a bucket,
		// asks for a short wait; so does a window whose oldest requests
		// are leaving.
		return p.windowServiceLocked(now)
	}
	p.windowSeen = now
	if t.Sent.Before(p.lastFull) {
		// t was on its way when the last full window was answered: it
		// says nothing new.
		return true
	}
	p.lastFull = now
	n := p.ownInWindowLocked(t, k == kindWrites)
	since := now.Sub(l.cand)
	switch {
	case !l.cand.IsZero() && since < p.budgetWindow/2:
		// The same window as the candidate: its requests are still there.
	case !l.cand.IsZero() && since <= 3*p.budgetWindow && similar(l.candN, n):
		p.learnLocked(k, min(l.candN, n), now)
	default:
		p.log.Debug("pacer window full", "kind", kindName(k), "own", n, "retryAfter", retryAfter)
		l.cand, l.candN = now, n
	}
	return true
}

// learnLocked lowers budget k to n: the service refused twice at about n of
// the job's own requests in its window.
func (p *Pacer) learnLocked(k, n int, now time.Time) {
	l := &p.learn[k]
	l.cand = time.Time{}
	cur, configured := p.budgetOf(k)
	n = max(n, 1)
	if n >= configured {
		return
	}
	p.log.Debug("pacer budget learned", "kind", kindName(k), "from", *cur, "to", n, "window", p.budgetWindow)
	*cur = min(*cur, n)
	l.learned = *cur
	l.probeAt = time.Time{}
	l.quiet = p.budgetRecover
	l.seen = now
	p.epoch++
	p.budgetCuts++
	p.lastBudget = now
}

// refusedProbeLocked takes budget k back to what was learned after the
// service refused the probe above it; the next probe waits
// BudgetRecoverAfter again.
func (p *Pacer) refusedProbeLocked(k int, now time.Time) {
	l := &p.learn[k]
	cur, _ := p.budgetOf(k)
	*cur = l.learned
	l.probeAt = time.Time{}
	l.quiet = p.budgetRecover
	l.seen = now
	p.log.Debug("pacer budget probe refused", "kind", kindName(k), "budget", *cur, "next", l.quiet)
	p.epoch++
	p.budgetCuts++
	p.lastBudget = now
}

// probeDueLocked returns when the next probe of budget k may start: once
// the quiet time has passed since the evidence was last seen and since the
// last throttled answer. It is the zero time when there is no learned
// budget or a probe runs.
func (p *Pacer) probeDueLocked(k int) time.Time {
	l := &p.learn[k]
	if l.learned == 0 || !l.probeAt.IsZero() {
		return time.Time{}
	}
	due := l.seen.Add(l.quiet)
	if t := p.lastThrottle.Add(l.quiet); t.After(due) {
		due = t
	}
	return due
}

// startProbesLocked starts the probes that are due at now: each such
// budget goes one above what was learned. It runs on a success, and waits
// (up to half a window) for one after which the job's window stays full
// for a quarter of a window or more: the probe's request then leaves last
// of its window, and if it is refused it holds a place in the service's
// window only while the job waits anyway. One refused in the middle of a
// window would take the place of a request of the next.
func (p *Pacer) startProbesLocked(now time.Time) {
	for k := range p.learn {
		due := p.probeDueLocked(k)
		if due.IsZero() || now.Before(due) {
			continue
		}
		if room := p.roomAtLocked(now, k == kindWrites, p.learn[k].learned, 0); room.Sub(now) < p.budgetWindow/4 && now.Sub(due) < p.budgetWindow/2 {
			continue
		}
		l := &p.learn[k]
		cur, _ := p.budgetOf(k)
		*cur = l.learned + 1
		l.probeAt = now
		p.log.Debug("pacer budget probe", "kind", kindName(k), "budget", *cur)
		p.budgetRaises++
		p.lastBudget = now
		p.resetLocked() // waiters look again, and give up their old tokens
	}
}

// raiseBudgetLocked lets learned budgets recover, on the success of t: it
// starts the probes that are due, and ends a probe that the service
// accepted (or that the job never needed for four windows) with the
// configured budget.
func (p *Pacer) raiseBudgetLocked(t Ticket, now time.Time) {
	p.startProbesLocked(now)
	for k := range p.learn {
		l := &p.learn[k]
		if l.learned == 0 {
			continue
		}
		cur, configured := p.budgetOf(k)
		switch {
		case !l.probeAt.IsZero():
			kindOK := k == kindRequests || t.write
			accepted := kindOK && !t.Sent.Before(l.probeAt) && p.ownInWindowLocked(t, k == kindWrites) >= l.learned
			if !accepted && now.Sub(l.probeAt) < 4*p.budgetWindow {
				continue
			}
			p.log.Debug("pacer budget back", "kind", kindName(k), "from", *cur, "to", configured)
			*cur = configured
			*l = learning{}
		default:
			continue
		}
		p.budgetRaises++
		p.lastBudget = now
		// Waiters sleeping for room wake and look again. Those holding a
		// token of the bucket give it up, so the bucket is replaced too: a
		// reservation left behind in the old one would push every later
		// token back by one interval.
		p.resetLocked()
	}
}

func kindName(k int) string {
	if k == kindWrites {
		return "write"
	}
	return "request"
}
