package profile

import (
	"strings"
	"testing"
)

func TestNameMatching(t *testing.T) {
	const (
		composed   = "Caf\u00e9 Kasse 1"
		decomposed = "Cafe\u0301 Kasse 1"
		nbsp       = "Caf\u00e9\u00a0Kasse 2"
	)
	tests := []struct {
		a, b  string
		equal bool
		note  bool
	}{
		{composed, decomposed, true, true},
		{"Café Kasse 2", nbsp, true, true},
		{"café kasse 1", composed, true, false},
		{"  Kasse 1 ", "kasse 1", true, false},
		{"Kasse\u200b1", "Kasse1", false, false},
		{"Kasse 1", "Kasse  1", false, false},
	}
	for _, tt := range tests {
		if got := Key(tt.a) == Key(tt.b); got != tt.equal {
			t.Errorf("Key(%q) == Key(%q): %v, want %v", tt.a, tt.b, got, tt.equal)
		}
		if got := MatchNote(tt.a, tt.b) != ""; got != tt.note {
			t.Errorf("MatchNote(%q, %q) = %q, want a note: %v", tt.a, tt.b, MatchNote(tt.a, tt.b), tt.note)
		}
	}
}

func TestHasNamePrefix(t *testing.T) {
	tests := []struct {
		name, prefix string
		want         bool
	}{
		{"Kasse 9", "kasse", true},
		{" Kasse 9", "Kasse", false}, // never trimmed
		{"Cafe\u0301 1", "Café", true},
		{"Café\u00a01", "Café ", true},
		{"Kassel 1", "Kasse ", false},
		{"İstanbul 1", "istanbul", true}, // as strings.ToLower maps İ
	}
	for _, tt := range tests {
		if got := HasNamePrefix(tt.name, tt.prefix); got != tt.want {
			t.Errorf("HasNamePrefix(%q, %q) = %v, want %v", tt.name, tt.prefix, got, tt.want)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"", " ", "\u00a0\u3000", "\t"} {
		if err := CheckPrefix(p); err == nil || !strings.Contains(err.Error(), "empty or only spaces") {
			t.Errorf("CheckPrefix(%q) = %v, want the blank-prefix error", p, err)
		}
	}
	if err := CheckPrefix("Kasse "); err != nil {
		t.Errorf("CheckPrefix(Kasse ) = %v", err)
	}
}
