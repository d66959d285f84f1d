package input

import "strings"

// boolWords are the spellings of a boolean that parseBool accepts: English
// words and digits, and the words Excel writes for TRUE and FALSE in German,
// French, Spanish, Dutch, Italian and Polish when it saves a workbook as CSV.
var boolWords = []struct {
	yes, no string
}{
	{"true", "false"},
	{"yes", "no"},
	{"1", "0"},
	{"WAHR", "FALSCH"},     // German
	{"VRAI", "FAUX"},       // French
	{"VERDADERO", "FALSO"}, // Spanish
	{"WAAR", "ONWAAR"},     // Dutch
	{"VERO", "FALSO"},      // Italian
	{"PRAWDA", "FAŁSZ"},    // Polish
}

// boolForms lists the accepted spellings for messages: "true/false, yes/no,
// 1/0, WAHR/FALSCH, …".
var boolForms = func() string {
	var forms []string
	seen := map[string]bool{}
	for _, w := range boolWords {
		f := w.yes + "/" + w.no
		if !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	return strings.Join(forms, ", ")
}()

// parseBool reads a trimmed text cell as a boolean, ignoring case with
// Unicode case folding (so fałsz, FAŁSZ and Fałsz are all false). ok is
// false when s is none of boolWords.
func parseBool(s string) (value, ok bool) {
	for _, w := range boolWords {
		switch {
		case strings.EqualFold(s, w.yes):
			return true, true
		case strings.EqualFold(s, w.no):
			return false, true
		}
	}
	return false, false
}
