package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header value: whole seconds ("3"),
// fractional seconds ("2.128", as Graph sends them) or an HTTP date, which is
// taken relative to now. A negative number or a date in the past gives 0. It
// returns false for an empty or unreadable value.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDecimal(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		if secs <= 0 {
			return 0, true
		}
		if secs >= float64(math.MaxInt64)/float64(time.Second) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(math.Round(secs * float64(time.Second))), true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// isDecimal reports whether v is an optionally signed decimal number with an
// optional fraction ("3", "-1", "2.128"), and nothing else: no exponent, no
// "Inf" or "NaN", which strconv.ParseFloat would accept.
func isDecimal(v string) bool {
	if strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+") {
		v = v[1:]
	}
	whole, frac, dot := strings.Cut(v, ".")
	if whole == "" || (dot && frac == "") {
		return false
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}
