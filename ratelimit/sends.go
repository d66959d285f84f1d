package ratelimit

import (
	"time"
)

// sendLog is the record of recent sends that the budgets and the adaptive
// rate count from.
type sendLog struct {
	sends     []send // recent sends, oldest first
	nextSeq   uint64
	firstSend time.Time
	lastSend  time.Time
	dropped   time.Time // send time of the newest entry dropped from sends
	requests  int64
}

// maxLog bounds the record of recent sends (for --rate 0 runs).
const maxLog = 1 << 16

type send struct {
	at        time.Time
	seq       uint64
	span      time.Duration // how long it counts against the budgets
	throttled bool
	write     bool
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
