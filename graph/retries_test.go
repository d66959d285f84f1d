package graph

import (
	"errors"
	"net/http"
	"slices"
	"testing"
)

// TestRetriesCount checks the one count of retries that the client's reads
// and the batch's creates share: what may be sent again, and the number of
// each attempt.
func TestRetriesCount(t *testing.T) {
	status := func(code int) *Error { return &Error{Status: code} }
	noAnswer := &Error{Transport: errors.New("connection reset")}
	cut := &Error{Status: http.StatusCreated, Incomplete: true}
	throttled := func(n int) []*Error {
		es := make([]*Error, n)
		for i := range es {
			es[i] = status(http.StatusTooManyRequests)
		}
		return es
	}
	repeat := func(b bool, n int) []bool { return slices.Repeat([]bool{b}, n) }
	upTo := func(n int) []int {
		as := make([]int, n)
		for i := range as {
			as[i] = i + 1
		}
		return as
	}
	tests := []struct {
		name     string
		max      int
		errs     []*Error // the failures of the attempts, in order
		again    []bool   // what Again says to each
		attempts []int    // Attempt before each is counted
		after    int      // Attempt once all are counted
	}{
		{"no resends", 0, []*Error{status(500)}, []bool{false}, []int{1}, 2},
		{"max failures then give up", 3,
			[]*Error{status(500), status(502), noAnswer, status(504)},
			[]bool{true, true, true, false}, upTo(4), 5},
		{"a cut answer is a failure", 1, []*Error{cut, cut}, []bool{true, false}, upTo(2), 3},
		{"a 503 uses up max", 1, []*Error{status(503), status(503)}, []bool{true, false}, upTo(2), 3},
		{"throttling does not use up max", 1,
			append(throttled(5), status(500), status(503)),
			append(repeat(true, 6), false), upTo(7), 8},
		{"throttling is capped", 0, throttled(MaxThrottled + 1),
			append(repeat(true, MaxThrottled), false), upTo(MaxThrottled + 1), MaxThrottled + 2},
		{"failures after throttling", 2,
			append(throttled(MaxThrottled), status(500), status(500), status(500)),
			append(repeat(true, MaxThrottled+2), false), upTo(MaxThrottled + 3), MaxThrottled + 4},
		{"not transient is not counted", 3, []*Error{status(500), status(404)}, []bool{true, false}, []int{1, 2}, 2},
		{"a 400 at once", 3, []*Error{status(400)}, []bool{false}, []int{1}, 1},
		{"a 401 at once", 3, []*Error{status(401)}, []bool{false}, []int{1}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Retries{Max: tc.max}
			var again []bool
			var attempts []int
			for _, ge := range tc.errs {
				attempts = append(attempts, r.Attempt())
				again = append(again, r.Again(ge))
			}
			if !slices.Equal(again, tc.again) {
				t.Errorf("again %v, want %v", again, tc.again)
			}
			if !slices.Equal(attempts, tc.attempts) {
				t.Errorf("attempts %v, want %v", attempts, tc.attempts)
			}
			if got := r.Attempt(); got != tc.after {
				t.Errorf("attempt %d at the end, want %d", got, tc.after)
			}
		})
	}
}
