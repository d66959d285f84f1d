package ratelimit

import (
	"time"
)

// backoffState shapes Backoff.
type backoffState struct {
	jitter      func() float64
	backoffBase time.Duration
	backoffCap  time.Duration
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
