package qrsheet

import (
	"testing"
	"time"
)

func TestShownTimesCarryTheirZone(t *testing.T) {
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	time.Local = time.FixedZone("CET", 3600)
	est := time.FixedZone("", -5*3600)
	tests := []struct {
		in        time.Time
		day, full string
	}{
		// The input's zone wins: 23:30 on 31 March in New York is 1 April in UTC.
		{time.Date(2027, 3, 31, 23, 30, 0, 0, est), "31 March 2027", "2027-03-31 23:30 -05:00"},
		// UTC (a date-only input, or a time from the service) shows in local time.
		{time.Date(2027, 3, 31, 23, 30, 0, 0, time.UTC), "1 April 2027", "2027-04-01 00:30 +01:00"},
	}
	for _, tt := range tests {
		if got := FormatDay(tt.in); got != tt.day {
			t.Errorf("FormatDay(%v) = %q, want %q", tt.in, got, tt.day)
		}
		if got := FormatTime(tt.in); got != tt.full {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.full)
		}
	}
}

// A token valid through a day says so, with the moment in UTC; any other
// expiry is the moment with its offset.
func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2027, 5, 31, 23, 59, 59, 0, time.UTC), "Token valid through 2027-05-31 (23:59 UTC)"},
		{time.Date(2027, 3, 31, 23, 30, 0, 0, time.FixedZone("", -5*3600)), "Token valid until 2027-03-31 23:30 -05:00"},
	} {
		if got := ValidText(tc.t); got != tc.want {
			t.Errorf("ValidText(%v) = %q; want %q", tc.t, got, tc.want)
		}
	}
}
