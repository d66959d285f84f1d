package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"input", "input", 0},
		{"inptu", "input", 1}, // a transposition is one edit
		{"Leds", "Leeds", 1},
		{"wpa", "wpa2", 1},
		{"kitten", "sitting", 3},
		{"Köln", "Koln", 1}, // runes, not bytes
		{"", "abc", 3},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}
