package input

import "testing"

func TestParseBool(t *testing.T) {
	tests := []struct {
		in     string
		want   bool
		wantOK bool
	}{
		{"true", true, true}, {"TRUE", true, true}, {"True", true, true},
		{"false", false, true}, {"FALSE", false, true},
		{"yes", true, true}, {"YES", true, true}, {"no", false, true}, {"No", false, true},
		{"1", true, true}, {"0", false, true},
		{"WAHR", true, true}, {"wahr", true, true}, {"FALSCH", false, true}, {"Falsch", false, true},
		{"VRAI", true, true}, {"vrai", true, true}, {"FAUX", false, true}, {"faux", false, true},
		{"VERDADERO", true, true}, {"verdadero", true, true}, {"FALSO", false, true}, {"falso", false, true},
		{"WAAR", true, true}, {"waar", true, true}, {"ONWAAR", false, true}, {"onwaar", false, true},
		{"VERO", true, true}, {"Vero", true, true},
		{"PRAWDA", true, true}, {"prawda", true, true},
		{"FAŁSZ", false, true}, {"fałsz", false, true}, {"Fałsz", false, true}, {"FAłSZ", false, true},
		// Not booleans: other words, near misses, and the unaccented Polish
		// word (FALSZ is not what Excel writes; guessing is not our job).
		{"FALSZ", false, false}, {"maybe", false, false}, {"", false, false},
		{"2", false, false}, {"-1", false, false}, {"1.0", false, false},
		{"ja", false, false}, {"oui", false, false}, {"WAHR ", false, false},
		{"ｔｒｕｅ", false, false}, // full-width letters are not folded to ASCII
	}
	for _, tt := range tests {
		got, ok := parseBool(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestBoolFormsNamesEverySpelling(t *testing.T) {
	const want = "true/false, yes/no, 1/0, WAHR/FALSCH, VRAI/FAUX, VERDADERO/FALSO, WAAR/ONWAAR, VERO/FALSO, PRAWDA/FAŁSZ"
	if boolForms != want {
		t.Errorf("boolForms = %q, want %q", boolForms, want)
	}
	for _, w := range boolWords {
		if v, ok := parseBool(w.yes); !ok || !v {
			t.Errorf("%q is listed as true but parses as %v, %v", w.yes, v, ok)
		}
		if v, ok := parseBool(w.no); !ok || v {
			t.Errorf("%q is listed as false but parses as %v, %v", w.no, v, ok)
		}
	}
}
