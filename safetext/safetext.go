// Package safetext makes text that comes from outside the program (error
// codes and messages from Microsoft Graph or the sign-in authority, header
// values, pages from a proxy) safe to show on a terminal and to write into
// files: Clean removes terminal escape sequences, control characters and
// bidirectional overrides, and Redact removes secrets that a service echoed
// back.
package safetext

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret that Redact removed.
const Redacted = "[redacted]"

// Clean returns s without terminal escape sequences (ESC and the 8-bit
// introducers CSI, OSC, DCS, SOS, PM and APC, with what they carry), without
// the other C0 and C1 control characters and DEL except line feed and tab,
// and without the bidirectional embedding, override and isolate characters
// (U+202A–U+202E, U+2066–U+2069), which make text display in another order
// than it is stored. Bytes that are not UTF-8 become U+FFFD.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b: // ESC
			i += n + escapeLength(s[i+n:])
			continue
		case r == 0x9b: // CSI
			i += n + csiLength(s[i+n:])
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // OSC, DCS, SOS, PM, APC
			i += n + stringLength(s[i+n:])
			continue
		case dropped(r):
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isClean reports whether s needs no change, so that Clean does not copy
// the common case.
func isClean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || dropped(r) || r == 0x1b || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// dropped reports a control or bidirectional formatting character.
func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// escapeLength is how many bytes after an ESC belong to its sequence:
// a CSI (ESC [), a control string (ESC ], ESC P, ESC X, ESC ^, ESC _), or
// intermediates followed by one final byte.
func escapeLength(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		return 1 + csiLength(s[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + stringLength(s[1:])
	}
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// csiLength is the length of a control sequence's parameters,
// intermediates and final byte.
func csiLength(s string) int {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// stringLength is the length of a control string up to and including its
// terminator (BEL, ESC \ or the 8-bit ST), or to the end of s.
func stringLength(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x07 || r == 0x9c:
			return i + n
		case r == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // a new sequence starts: the string was not terminated
		}
		i += n
	}
	return len(s)
}

// Redact replaces every occurrence of each secret in s by Redacted, also
// where the service echoed it inside a JSON string (escaped once or twice,
// as Intune nests JSON documents in its messages). Empty secrets are
// ignored; longer secrets are replaced first.
func Redact(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	var forms []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		forms = append(forms, sec)
		for _, html := range []bool{false, true} {
			once := jsonEscaped(sec, html)
			forms = append(forms, once, jsonEscaped(once, html))
		}
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		if f != "" && strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}

// jsonEscaped is s as it appears between the quotes of a JSON string, with
// <, > and & escaped (as Go and .NET encoders may do) when html is true.
func jsonEscaped(s string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
