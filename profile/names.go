package profile

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// This file is the one home of how names compare: every command that
// matches a sheet's name, a --name-prefix or a carried record against the
// tenant's profiles goes through Key and HasNamePrefix, so that create,
// update, prune, delete, revoke, export and qr agree on what "the same
// name" is.
//
// Names compare after Unicode normalization (NFC: "é" typed as e plus a
// combining accent, as macOS and some portals write it, is the same as the
// one-character "é") and with any space character (a no-break space, a
// thin space, an ideographic space) read as a plain space. Case is
// ignored. Invisible format characters (a zero-width space) are kept: a
// name that holds one is another name.

// fold is name in NFC with every space character a plain space, in lower
// case. It does not trim: a prefix match sees leading spaces.
func fold(name string) string {
	name = norm.NFC.String(name)
	if strings.IndexFunc(name, otherSpace) >= 0 {
		name = strings.Map(func(r rune) rune {
			if otherSpace(r) {
				return ' '
			}
			return r
		}, name)
	}
	return strings.ToLower(name)
}

// otherSpace reports a space character other than the plain space.
func otherSpace(r rune) bool {
	return r != ' ' && (unicode.IsSpace(r) || unicode.Is(unicode.Zs, r))
}

// Key normalises a display name for comparison: NFC, any space character
// as a space, surrounding space trimmed, lower case. Two profiles whose
// keys are equal have the same name as far as enrollbatch is concerned.
func Key(displayName string) string {
	return strings.TrimSpace(fold(displayName))
}

// HasNamePrefix reports whether name starts with prefix under the rules of
// Key, except that neither is trimmed: " Kasse 9" does not start with
// "Kasse".
func HasNamePrefix(name, prefix string) bool {
	return strings.HasPrefix(fold(name), fold(prefix))
}

// ErrBlankPrefix is the error of a --name-prefix that is empty or only
// spaces: it would select every profile of the tenant.
var ErrBlankPrefix = errors.New("the name prefix is empty or only spaces, which would select every profile of the tenant: give the start of the names to select, such as \"Kasse \"")

// CheckPrefix refuses a blank name prefix.
func CheckPrefix(prefix string) error {
	if strings.TrimSpace(fold(prefix)) == "" {
		return ErrBlankPrefix
	}
	return nil
}

// MatchNote is the note for a row whose name given matched the tenant's
// name found only after normalization, or "" when they are written the
// same way (but for case and surrounding space).
func MatchNote(given, found string) string {
	if strings.EqualFold(strings.TrimSpace(given), strings.TrimSpace(found)) || Key(given) != Key(found) {
		return ""
	}
	var how []string
	if norm.NFC.String(given) != given || norm.NFC.String(found) != found {
		how = append(how, "accents written as combining characters")
	}
	if strings.IndexFunc(given, otherSpace) >= 0 || strings.IndexFunc(found, otherSpace) >= 0 {
		how = append(how, "a no-break or other special space")
	}
	return fmt.Sprintf("name matched the tenant's %q after Unicode normalization (%s); they are treated as the same name", found, strings.Join(how, " and "))
}

// IsGUID reports whether s is a GUID in its 8-4-4-4-12 hex form, as Graph
// writes ids (accountId, a group's object id).
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
