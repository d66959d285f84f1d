package sim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// window is a sliding-window log of request arrival times. Every request is
// logged, throttled or not, so a client that keeps sending while throttled
// keeps itself throttled, as with Intune.
type window struct {
	limit int
	size  time.Duration
	times []time.Time
	head  int
}

// add logs a request arriving at now. When the window then holds more than
// limit requests it reports over, and free: the earliest moment at which a
// new request would be accepted again.
func (w *window) add(now time.Time) (over bool, free time.Time) {
	if w.limit <= 0 {
		return false, time.Time{}
	}
	cut := now.Add(-w.size)
	for w.head < len(w.times) && !w.times[w.head].After(cut) {
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.times) {
		w.times = append(w.times[:0], w.times[w.head:]...)
		w.head = 0
	}
	w.times = append(w.times, now)
	n := len(w.times) - w.head
	if n <= w.limit {
		return false, time.Time{}
	}
	// A new request is accepted once n-limit+1 of the logged ones have left
	// the window; the last of them to leave is at index n-limit.
	return true, w.times[w.head+n-w.limit].Add(w.size)
}

// bucket is a token bucket: it refills rate tokens per second up to burst,
// and a request takes one. A request that finds no token is throttled and
// takes none, as gateways that limit a steady rate do.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// take admits a request arriving at now, or reports over and the moment a
// token will be there.
func (b *bucket) take(now time.Time) (over bool, free time.Time) {
	if b.rate <= 0 {
		return false, time.Time{}
	}
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return false, time.Time{}
	}
	return true, now.Add(time.Duration((1 - b.tokens) / b.rate * float64(time.Second)))
}

// formatRetryAfter renders a wait of d, counted from deliver (when the
// client gets the response), in the given format. It returns the header value
// and the moment the value announces, rounded up so the announced moment is
// never before the real one.
func formatRetryAfter(format string, d time.Duration, deliver time.Time) (string, time.Time) {
	switch format {
	case RetryAfterFractional:
		ms := max(int64(math.Ceil(float64(d)/float64(time.Millisecond))), 1)
		v := strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
		return v, deliver.Add(time.Duration(ms) * time.Millisecond)
	case RetryAfterDate:
		t := deliver.Add(max(d, time.Millisecond)).UTC()
		if tr := t.Truncate(time.Second); !tr.Equal(t) {
			t = tr.Add(time.Second)
		}
		return t.Format(http.TimeFormat), t
	default:
		secs := max(int64(math.Ceil(d.Seconds())), 1)
		return strconv.FormatInt(secs, 10), deliver.Add(time.Duration(secs) * time.Second)
	}
}

// parseRetryAfter reads a Retry-After value (seconds, fractional seconds or
// an HTTP date) as the moment it announces, counted from deliver.
func parseRetryAfter(v string, deliver time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, false
		}
		return deliver.Add(time.Duration(f * float64(time.Second))), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
