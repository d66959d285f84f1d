package tenant

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"Contoso.onmicrosoft.com", "contoso.onmicrosoft.com", ""},
		{"  fabrikam.com ", "fabrikam.com", ""},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", "72f988bf-86f1-41af-91ab-2d7cd011db47", ""},
		{"", "", "is empty"},
		{"contoso", "", "neither a tenant id"},
		{"organizations", "", "names no single tenant"},
		{"-bad.example.com", "", "neither"},
		{"a..b", "", "neither"},
		{"con toso.com", "", "neither"},
		{"../etc", "", "neither"},
		{"müller.de", "", "neither"},
	} {
		got, err := Parse(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Parse(%q) error = %v; want one containing %q", tc.in, err, tc.err)
		}
	}
}

func TestShard(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"0/1", all, ""},
		{"0/2", []string{"a", "c", "e"}, ""},
		{"1/2", []string{"b", "d"}, ""},
		{"4/5", []string{"e"}, ""},
		{"2/2", nil, "K counts from 0 to 1"},
		{"1/0", nil, "N is the number"},
		{"x", nil, "use K/N"},
		{"-1/3", nil, "K counts"},
	} {
		s, err := ParseShard(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseShard(%q) error = %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseShard(%q): %v", tc.in, err)
		}
		if got := s.Take(all); !slices.Equal(got, tc.want) {
			t.Errorf("%s takes %v; want %v", tc.in, got, tc.want)
		}
	}
	// Every tenant is in exactly one share.
	seen := map[string]int{}
	for k := range 3 {
		for _, x := range (Shard{K: k, N: 3}).Take(all) {
			seen[x]++
		}
	}
	for _, x := range all {
		if seen[x] != 1 {
			t.Errorf("%s is in %d shares", x, seen[x])
		}
	}
}
