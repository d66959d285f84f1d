package console

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestPeopleHandler: text mode writes each event as a line a person reads,
// the way validate words its problems, never logfmt.
func TestPeopleHandler(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger)
		want string
	}{
		{"an invalid row", func(l *slog.Logger) {
			l.Warn("row", "row", 6, "displayName", "Kasse 1", "status", "invalid", "error", "enrollmentMode: \"x\" is not one of …")
		}, "row 6, Kasse 1: invalid: enrollmentMode: \"x\" is not one of …\n"},
		{"a failed row with notes", func(l *slog.Logger) {
			l.Warn("row", "row", 2, "displayName", "Till", "status", "failed", "error", "quota", "notes", []string{"a", "b"})
		}, "row 2, Till: failed: quota (a; b)\n"},
		{"a pruned profile", func(l *slog.Logger) {
			l.Info("row", "row", 0, "displayName", "Old", "id", "42", "status", "deleted")
		}, "Old (42): deleted\n"},
		{"a note", func(l *slog.Logger) {
			l.Warn("note", "row", 3, "displayName", "Dock", "note", "WPA2 read as wpa")
		}, "warning: row 3, Dock: WPA2 read as wpa\n"},
		{"any other warning", func(l *slog.Logger) {
			l.Warn("tenant not checked", "error", "no credentials found")
		}, "warning: tenant not checked: no credentials found\n"},
		{"below the level", func(l *slog.Logger) { l.Info("request", "method", "GET") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			level := slog.LevelInfo
			if tc.name == "below the level" {
				level = slog.LevelWarn // text mode's level without --verbose
			}
			tc.log(slog.New(NewPeopleHandler(&b, level)))
			if b.String() != tc.want {
				t.Errorf("wrote %q, want %q", b.String(), tc.want)
			}
		})
	}
}
