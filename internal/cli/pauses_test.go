package cli

import (
	"strings"
	"testing"
	"time"
)

func TestPauseNote(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	type look struct {
		at, until time.Duration // after t0; until 0 means no pause
		says      string        // "" when nothing is told
	}
	tests := []struct {
		name  string
		looks []look
	}{
		{"no pause", []look{{0, 0, ""}, {time.Second, 0, ""}}},
		{"short pauses are routine", []look{{0, 2 * time.Second, ""}, {3 * time.Second, 7 * time.Second, ""}}},
		{"a long pause is told once", []look{
			{0, 300 * time.Second, "paused 300 s"},
			{time.Second, 300 * time.Second, ""},
			{100 * time.Second, 300 * time.Second, ""},
		}},
		{"an extended pause is told again", []look{
			{0, 60 * time.Second, "paused 60 s"},
			{30 * time.Second, 62 * time.Second, ""},
			{31 * time.Second, 91 * time.Second, "paused 60 s"},
		}},
		{"the next pause is told", []look{
			{0, 10 * time.Second, "paused 10 s"},
			{20 * time.Second, 80 * time.Second, "paused 60 s"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var told time.Time
			for i, l := range tc.looks {
				until := time.Time{}
				if l.until > 0 {
					until = t0.Add(l.until)
				}
				line, ok := pauseNote(t0.Add(l.at), until, &told)
				switch {
				case l.says == "" && ok:
					t.Errorf("look %d: told %q, want nothing", i, line)
				case l.says != "" && (!ok || line[:len(l.says)] != l.says || !strings.Contains(line, "the service asked us to wait")):
					t.Errorf("look %d: %q (%v), want %q…", i, line, ok, l.says)
				}
			}
		})
	}
}
