package input

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/suggest"
)

// enumWord is another way to write an enumeration value: the name the
// Intune admin center shows for it, or a common short name.
type enumWord struct {
	word  string // as the admin center or people write it
	value string // the value it stands for
}

// enumWords lists, per property, the words read as its values. They are
// the names the Intune admin center shows, as the Intune docs give them
// (android-kiosk-enroll, android-fully-managed-enroll,
// android-corporate-owned-work-profile-enroll, the two
// android-aosp-corporate-owned-* pages and device-staging-overview: the
// enrollment profile lists, the token type choices and the Wi-Fi types),
// their short forms, and the names people use for them (COSU, WPA2-PSK).
// They are matched ignoring case, spaces and punctuation, and a trailing
// "device", "devices" or "token" (see wordKey), so "Corporate-owned,
// userless devices" and "corporate owned userless" are the same word.
var enumWords = map[string][]enumWord{
	"enrollmentMode": {
		{"Corporate-owned dedicated devices", profile.ModeDedicated},
		{"Dedicated devices", profile.ModeDedicated},
		{"COSU", profile.ModeDedicated},
		{"Corporate-owned, fully managed user devices", profile.ModeFullyManaged},
		{"Corporate-owned, fully managed", profile.ModeFullyManaged},
		{"Fully managed", profile.ModeFullyManaged},
		{"COBO", profile.ModeFullyManaged},
		{"Corporate-owned devices with work profile", profile.ModeWorkProfile},
		{"Corporate-owned with work profile", profile.ModeWorkProfile},
		{"Corporate-owned work profile", profile.ModeWorkProfile},
		{"COPE", profile.ModeWorkProfile},
		{"Corporate-owned, userless devices", profile.ModeAOSPUserless},
		{"Corporate-owned AOSP userless devices", profile.ModeAOSPUserless},
		{"AOSP userless", profile.ModeAOSPUserless},
		{"Corporate-owned, user-associated devices", profile.ModeAOSPAssociated},
		{"Corporate-owned AOSP user-associated devices", profile.ModeAOSPAssociated},
		{"AOSP user-associated", profile.ModeAOSPAssociated},
	},
	"enrollmentTokenType": {
		{"Corporate-owned dedicated device (default)", profile.TokenDefault},
		{"Corporate-owned, fully managed (default)", profile.TokenDefault},
		{"Corporate-owned with work profile (default)", profile.TokenDefault},
		{"Corporate-owned work profile (default)", profile.TokenDefault},
		{"Corporate-owned dedicated device with Microsoft Entra ID shared mode", profile.TokenSharedMode},
		{"Corporate-owned dedicated device with Azure AD shared mode", profile.TokenSharedMode},
		{"Microsoft Entra ID shared mode", profile.TokenSharedMode},
		{"Microsoft Entra shared device mode", profile.TokenSharedMode},
		{"Azure AD shared mode", profile.TokenSharedMode},
		{"Shared device mode", profile.TokenSharedMode},
		{"Device staging", profile.TokenStaging},
		{"Staging", profile.TokenStaging},
		{"Corporate-owned, fully managed, via staging", profile.TokenStaging},
		{"Corporate-owned with work profile, via staging", profile.TokenStaging},
		{"Corporate-owned work profile, via staging", profile.TokenStaging},
	},
	"wifiSecurityType": {
		{"WPA Pre-shared key", "wpa"},
		{"WPA-PSK", "wpa"},
		{"WPA2", "wpa"},
		{"WPA2-PSK", "wpa"},
		{"WPA2 Personal", "wpa"},
		{"WEP Pre-shared key", "wep"},
	},
}

// letterKey is s in lower case, letters and digits only.
func letterKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// wordKey is the form enumeration values and words are compared in: the
// letterKey without a trailing "device", "devices" or "token" (unless that
// is all there is).
func wordKey(s string) string {
	k := letterKey(s)
	for _, suffix := range []string{"devices", "device", "token"} {
		if len(k) > len(suffix) && strings.HasSuffix(k, suffix) {
			return strings.TrimSuffix(k, suffix)
		}
	}
	return k
}

// enumKeys maps, per property, each value's and each word's wordKey to
// the value, and their letterKey too, which nearEnum needs to see a typo
// in a trailing "device".
var enumKeys = func() map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, p := range profile.Properties {
		if p.Kind != profile.Enum {
			continue
		}
		keys := map[string]string{}
		add := func(s, v string) {
			keys[wordKey(s)] = v
			keys[letterKey(s)] = v
		}
		for _, v := range p.Values {
			add(v, v)
		}
		for _, w := range enumWords[p.Name] {
			add(w.word, w.value)
		}
		m[p.Name] = keys
	}
	return m
}()

// convertEnum reads the value of an enumeration property: one of its
// values in any case, as it is; or, with a note saying what it was read
// as, the value written with other spaces or punctuation, or one of the
// property's enumWords. Anything else is a problem that lists the values
// and, when the text is a typo or two away from a value or word, suggests
// that value.
func convertEnum(p profile.Property, text string) (v any, msg, note string) {
	for _, v := range p.Values {
		if strings.EqualFold(v, text) {
			return v, "", ""
		}
	}
	for _, key := range []string{wordKey(text), letterKey(text)} {
		if v, ok := enumKeys[p.Name][key]; ok {
			return v, "", fmt.Sprintf("%s was read as %s", shown(p, text), v)
		}
	}
	msg = fmt.Sprintf("%s is not one of %s", shown(p, text), strings.Join(p.Values, ", "))
	if v, ok := nearEnum(p.Name, text); ok {
		msg += fmt.Sprintf("; did you mean %s?", v)
	}
	return nil, msg, ""
}

// nearEnum returns the value of property name that text is a typo or two
// away from: the value whose key, or the key of one of whose words, is
// closest to text's (see suggest.Distance), within one edit for keys shorter
// than 10 characters, two below 20 and three above. There is no
// suggestion when two values are as close, nor when the digits differ
// (WPA3 is not a mistyped WPA2).
func nearEnum(name, text string) (string, bool) {
	best, bestDist, tie := "", 0, false
	for _, key := range []string{wordKey(text), letterKey(text)} {
		if key == "" {
			continue
		}
		for k, v := range enumKeys[name] {
			if digits(k) != digits(key) {
				continue
			}
			allowed := 1
			switch {
			case len(k) >= 20:
				allowed = 3
			case len(k) >= 10:
				allowed = 2
			}
			if n := utf8.RuneCountInString(key) - len(k); n > allowed || -n > allowed { // keys of values and words are ASCII
				continue // more edits than allowed; no need to count
			}
			d := suggest.Distance(key, k)
			switch {
			case d > allowed:
			case best == "" || d < bestDist:
				best, bestDist, tie = v, d, false
			case d == bestDist && v != best:
				tie = true
			}
		}
	}
	return best, best != "" && !tie
}

// digits returns the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}
