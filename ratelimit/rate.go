package ratelimit

import (
	"sort"
	"time"

	"golang.org/x/time/rate"
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
)

// rateState is the token bucket at the current rate and the adaptive rule
// that sets that rate.
type rateState struct {
	burst        int
	configured   float64 // configured rate; 0 = no limit
	floor        float64 // lowest rate a cut may set
	window       time.Duration
	recoverAfter time.Duration

	rate         float64       // current rate; 0 = no limit
	lim          *rate.Limiter // nil when there is no limit; replaced on every change
	epoch        uint64        // incremented by every cut
	lastChange   time.Time     // last rate change
	ceiling      float64       // the rate the service accepted at the last cut; 0 = none known
	lastProbe    time.Time     // last raise above the ceiling
	probeQuiet   time.Duration // quiet time before a raise above the ceiling
	cuts, raises int
}

// cutRateLocked is Throttled's cut of the adaptive rate: to 0.98 times the
// rate the service accepted in the window before t (estimateLocked), never
// above the current rate nor below MinRate. It reports whether it cut.
func (p *Pacer) cutRateLocked(t Ticket, now time.Time) bool {
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
			return true
		}
	}
	return false
}

// raiseRateLocked is Succeeded's recovery step of the adaptive rate.
func (p *Pacer) raiseRateLocked(t Ticket, now time.Time) {
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
