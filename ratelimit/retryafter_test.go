package ratelimit

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"3", 3 * time.Second, true},
		{"2.128", 2128 * time.Millisecond, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, true},
		{"", 0, false},
		{"abc", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"2.", 0, false},
		{".5", 0, false},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		// RFC 850, which HTTP/1.1 still asks recipients to accept.
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second, true},
		{"Mon, 02 Mar 2026 09:00:05", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			got, ok := ParseRetryAfter(tc.value, now)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseRetryAfterHugeValueDoesNotOverflow(t *testing.T) {
	got, ok := ParseRetryAfter("99999999999999999999", time.Now())
	if !ok || got <= 0 {
		t.Fatalf("ParseRetryAfter(huge) = %v, %v; want a large positive duration", got, ok)
	}
}
