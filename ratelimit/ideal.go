package ratelimit

import (
	"slices"
	"time"
)

// IdealSpan is the least time from start to the last of rows writes
// answered, against a sliding window of limit requests (before liftAt, when
// set; lifted after) that already holds the requests logged in prior, when
// every write leaves as soon as the window has room and takes latency to be
// answered. It is the yardstick of the pacer's tests and benchmarks.
func IdealSpan(prior []time.Time, limit int, window time.Duration, liftAt time.Time, lifted, rows int, start time.Time, latency time.Duration) time.Duration {
	log := slices.Clone(prior)
	at := start
	for range rows {
		for {
			l := limit
			if !liftAt.IsZero() && !at.Before(liftAt) {
				l = lifted
			}
			from := at.Add(-window)
			i := 0
			for i < len(log) && !log[i].After(from) {
				i++
			}
			log = log[i:]
			if len(log) < l {
				break
			}
			next := log[len(log)-l].Add(window)
			if !liftAt.IsZero() && at.Before(liftAt) && next.After(liftAt) {
				next = liftAt
			}
			at = next
		}
		log = append(log, at)
	}
	return at.Add(latency).Sub(start)
}
