package qrsheet

import (
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

// Shown returns t as people should read it: in the zone it carries when
// that is not UTC (the offset the input gave, such as -05:00), else in the
// machine's local zone. Times are never shown as unmarked UTC.
func Shown(t time.Time) time.Time {
	if t.Location() == time.UTC {
		return t.In(time.Local)
	}
	return t
}

// FormatTime formats t for people with its offset: "2027-03-31 23:30 -05:00".
func FormatTime(t time.Time) string {
	return Shown(t).Format("2006-01-02 15:04 -07:00")
}

// FormatDay formats the day of t in its shown zone: "31 March 2027".
func FormatDay(t time.Time) string {
	return Shown(t).Format("2 January 2006")
}

// ValidText is a label's line about its token's expiry: "Token valid
// through 2027-05-31 (23:59 UTC)" for a token valid through a day (a date
// given without a time, profile.ThroughDay), else "Token valid until" and
// the moment with its offset.
func ValidText(t time.Time) string {
	if profile.IsThroughDay(t) {
		return "Token valid through " + t.UTC().Format("2006-01-02") + " (23:59 UTC)"
	}
	return "Token valid until " + FormatTime(t)
}
