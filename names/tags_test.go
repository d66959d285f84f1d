package names

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph"
)

var tenantTags = []graph.ScopeTag{
	{ID: "0", DisplayName: "Default", IsBuiltIn: true},
	{ID: "14", DisplayName: "Leeds"},
	{ID: "21", DisplayName: "Kraków"},
	{ID: "32", DisplayName: "Brno Sklad"},
	{ID: "40", DisplayName: "Leeds DC"},
	{ID: "41", DisplayName: "2024"},
	{ID: "50", DisplayName: "Twin"},
	{ID: "51", DisplayName: "twin"},
}

func TestResolveTags(t *testing.T) {
	tags := NewTags(tenantTags)
	tests := []struct {
		name    string
		entries []string
		want    []string
		errs    []string // substrings, one per expected TagError, in order
	}{
		{"ids", []string{"0", "14"}, []string{"0", "14"}, nil},
		{"names", []string{"Default", "Leeds"}, []string{"0", "14"}, nil},
		{"mixed, repeats dropped, blanks skipped", []string{"14", " leeds ", "", "Default", "0"}, []string{"14", "0"}, nil},
		{"case", []string{"LEEDS dc"}, []string{"40"}, nil},
		{"NFC: o and a combining acute", []string{"Krako\u0301w"}, []string{"21"}, nil},
		{"no-break space", []string{"Brno\u00a0Sklad"}, []string{"32"}, nil},
		{"leading zeros", []string{"014", "00"}, []string{"14", "0"}, nil},
		{"a number that is a name, not an id", []string{"2024"}, []string{"41"}, nil},
		{"an id wins over a name", []string{"41"}, []string{"41"}, nil},
		{"unknown id", []string{"0", "99"}, []string{"0"}, []string{`no scope tag in the tenant has id 99 (a number is read as an id; give the tag's id or its name); the tenant's tags are "Default" (id 0), "Leeds" (id 14)`}},
		{"did you mean, one", []string{"Leds"}, nil, []string{`scope tag "Leds" does not exist in the tenant; did you mean "Leeds" (id 14)?`}},
		{"did you mean, accent left out", []string{"Krakow"}, nil, []string{`did you mean "Kraków" (id 21)?`}},
		{"did you mean, part of a name", []string{"Sklad"}, nil, []string{`did you mean "Brno Sklad" (id 32)?`}},
		{"did you mean, typo", []string{"Leedz DC"}, nil, []string{`did you mean "Leeds DC" (id 40)?`}},
		{"did you mean, two", []string{"Leed"}, nil, []string{`did you mean "Leeds" (id 14) or "Leeds DC" (id 40)?`}},
		{"nothing near", []string{"Paris"}, nil, []string{`scope tag "Paris" does not exist in the tenant; its tags are "Default" (id 0), "Leeds" (id 14), "Kraków" (id 21)`}},
		{"two tags of one name", []string{"TWIN"}, nil, []string{`2 scope tags are named "TWIN" (ids 50, 51): give the id of the one to use instead of the name`}},
		{"every bad entry reported", []string{"Leds", "14", "99"}, []string{"14"}, []string{`"Leds"`, "id 99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tags.Resolve(tt.entries)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %q, want %q", got, tt.want)
			}
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			var te TagErrors
			if !errors.As(err, &te) || len(te) != len(tt.errs) {
				t.Fatalf("error %v, want %d TagErrors", err, len(tt.errs))
			}
			for i, want := range tt.errs {
				if !strings.Contains(te[i].Error(), want) {
					t.Errorf("error %d:\n %s\nwant it to hold\n %s", i, te[i].Error(), want)
				}
			}
			if !strings.HasPrefix(err.Error(), "roleScopeTagIds: ") {
				t.Errorf("message %q does not name the column", err)
			}
		})
	}
}

func TestResolveTagsListsAtMostTen(t *testing.T) {
	var many []graph.ScopeTag
	for i := range 14 {
		many = append(many, graph.ScopeTag{ID: fmt.Sprint(i), DisplayName: fmt.Sprintf("Site %c%c", 'A'+i, 'A'+i)})
	}
	_, err := NewTags(many).Resolve([]string{"Zanzibar"})
	if err == nil || !strings.HasSuffix(err.Error(), `"Site JJ" (id 9) and 4 more`) {
		t.Errorf("error %v", err)
	}
}
