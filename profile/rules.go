package profile

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// The documentation pages the rules below come from, named as Microsoft
// names the files, so that messages and the README can cite them.
const (
	PageResource      = "Graph docs, intune-androidforwork-androiddeviceownerenrollmentprofile"
	PageTokenType     = "Graph docs, intune-androidforwork-androiddeviceownerenrollmenttokentype"
	PageDedicated     = "Intune docs, android-kiosk-enroll"
	PageFullyManaged  = "Intune docs, android-fully-managed-enroll"
	PageWorkProfile   = "Intune docs, android-corporate-owned-work-profile-enroll"
	PageAOSPUserless  = "Intune docs, android-aosp-corporate-owned-userless-enroll"
	PageAOSPAssociate = "Intune docs, android-aosp-corporate-owned-user-associated-enroll"
)

// The enrollment modes, by name.
const (
	ModeDedicated      = "corporateOwnedDedicatedDevice"
	ModeFullyManaged   = "corporateOwnedFullyManaged"
	ModeWorkProfile    = "corporateOwnedWorkProfile"
	ModeAOSPUserless   = "corporateOwnedAOSPUserlessDevice"
	ModeAOSPAssociated = "corporateOwnedAOSPUserAssociatedDevice"
)

// The enrollment token types, by name.
const (
	TokenDefault    = "default"
	TokenSharedMode = "corporateOwnedDedicatedDeviceWithAzureADSharedMode"
	TokenStaging    = "deviceStaging"
)

// EnrollmentTokenTypes are the values of enrollmentTokenType in the beta
// schema.
var EnrollmentTokenTypes = []string{TokenDefault, TokenSharedMode, TokenStaging}

// KnownMode reports whether mode is one of EnrollmentModes. The service may
// return others (a tenant can hold profiles of modes this tool does not
// know); code that reads profiles must carry on with them.
func KnownMode(mode string) bool { return slices.Contains(EnrollmentModes, mode) }

// KnownTokenType reports whether t is one of EnrollmentTokenTypes.
func KnownTokenType(t string) bool { return slices.Contains(EnrollmentTokenTypes, t) }

// IsAOSP reports whether mode is one of the Android Open Source Project
// modes.
func IsAOSP(mode string) bool { return mode == ModeAOSPUserless || mode == ModeAOSPAssociated }

// EffectiveMode is the mode a profile has when mode is what the row gave:
// an empty mode is a dedicated device, the service's default.
func EffectiveMode(mode string) string {
	if mode == "" {
		return ModeDedicated
	}
	return mode
}

// TokenLimit is the longest a token may last, as a calendar span (years or
// days from now), with the page that says so.
type TokenLimit struct {
	Years, Days int
	Source      string
}

// Latest is the latest expiry the limit allows for a token made at now.
func (l TokenLimit) Latest(now time.Time) time.Time { return now.UTC().AddDate(l.Years, 0, l.Days) }

// Max is the longest validity, from now, that the limit allows.
func (l TokenLimit) Max(now time.Time) time.Duration { return l.Latest(now).Sub(now) }

// String names the limit for people: "65 years", "90 days".
func (l TokenLimit) String() string {
	if l.Years > 0 {
		return fmt.Sprintf("%d years", l.Years)
	}
	return fmt.Sprintf("%d days", l.Days)
}

// TokenLimitFor returns the documented limit on a token's lifetime for the
// enrollment mode (empty means a dedicated device). AOSP userless tokens
// last at most 90 days; every other page says up to 65 years. A mode
// outside EnrollmentModes gets the 65 years of the other modes.
func TokenLimitFor(mode string) TokenLimit {
	switch EffectiveMode(mode) {
	case ModeAOSPUserless:
		return TokenLimit{Days: 90, Source: PageAOSPUserless}
	case ModeAOSPAssociated:
		return TokenLimit{Years: 65, Source: PageAOSPAssociate}
	case ModeFullyManaged:
		return TokenLimit{Years: 65, Source: PageFullyManaged}
	case ModeWorkProfile:
		return TokenLimit{Years: 65, Source: PageWorkProfile}
	}
	return TokenLimit{Years: 65, Source: PageDedicated}
}

// MaxTokenValidity is the longest token lifetime, from now, that mode
// allows. createToken takes the lifetime in seconds as an Int32, so it is
// never more than 2^31-1 seconds (68 years).
func MaxTokenValidity(mode string, now time.Time) time.Duration {
	return min(TokenLimitFor(mode).Max(now), (1<<31-1)*time.Second)
}

// TokenTypeModes returns the modes a token type is documented for, or nil
// when it applies to every mode (default, or a type this tool does not
// know).
func TokenTypeModes(tokenType string) []string {
	switch tokenType {
	case TokenSharedMode:
		return []string{ModeDedicated}
	case TokenStaging:
		return []string{ModeFullyManaged, ModeWorkProfile}
	}
	return nil
}

// ServiceSetWhy says why a property that the service sets is never sent,
// for the warning a column of that name gets. It is empty for properties a
// person fills in.
func ServiceSetWhy(name string) string {
	switch name {
	case "id":
		return "the service assigns it; profiles are matched by displayName, so an id column (as in an exported file) is ignored"
	case "createdDateTime", "lastModifiedDateTime":
		return "the service stamps it"
	case "tokenValue":
		return "the service creates the token; it is a secret, so the column is also left out of the results"
	case "tokenCreationDateTime":
		return "the service stamps it when it creates a token"
	case "enrolledDeviceCount":
		return "the service counts the devices enrolled with the profile"
	case "enrollmentTokenUsageCount":
		return "it is the number of AOSP devices enrolled with the current token, which the service counts; it is not a limit you set"
	case "qrCodeContent", "qrCodeImage":
		return "the service builds the QR code from the token"
	}
	return ""
}

// DeviceNameTokens are the placeholders a deviceNameTemplate may use, as
// the Graph resource page spells them. {{RAND:x}} (the Intune pages'
// spelling) is accepted as well as {{rand:x}}, x from 1 to 9.
var DeviceNameTokens = []string{"{{SERIAL}}", "{{SERIALLAST4DIGITS}}", "{{ENROLLMENTDATETIME}}", "{{USERNAME}}", "{{DEVICETYPE}}", "{{UPNPREFIX}}", "{{rand:x}}"}

// userTokens are the device-name tokens that need a user.
var userTokens = []string{"{{USERNAME}}", "{{UPNPREFIX}}"}

// DeviceNameToken checks one {{…}} token of a device name template, braces
// included, for the given mode. It returns a problem (the token is not
// documented, or the random-digit count is not 1 to 9), or a note (the
// token is accepted, with a caveat), or neither.
func DeviceNameToken(token, mode string) (problem, note string) {
	if digits, ok := strings.CutPrefix(token, "{{rand:"); ok || strings.HasPrefix(token, "{{RAND:") {
		if !ok {
			digits = strings.TrimPrefix(token, "{{RAND:")
		}
		digits = strings.TrimSuffix(digits, "}}")
		if len(digits) != 1 || digits[0] < '1' || digits[0] > '9' {
			return fmt.Sprintf("%s: the number of random digits must be 1 to 9, e.g. {{rand:4}}", token), ""
		}
		return "", ""
	}
	if token == "{{ENROLLEDDATETIME}}" {
		// Only the AOSP userless page spells it this way.
		return "", fmt.Sprintf("%s is spelled so only on %s; %s and the other pages spell it {{ENROLLMENTDATETIME}}", token, PageAOSPUserless, PageResource)
	}
	for _, t := range DeviceNameTokens {
		if t == token {
			if EffectiveMode(mode) == ModeAOSPUserless && slices.Contains(userTokens, token) {
				return "", fmt.Sprintf("%s stays empty on AOSP userless devices, which have no user (%s does not offer it)", token, PageAOSPUserless)
			}
			return "", ""
		}
		if strings.EqualFold(t, token) {
			return fmt.Sprintf("%s is not a device name token; write it %s", token, t), ""
		}
	}
	return fmt.Sprintf("%s is not a device name token (use %s, where x is 1 to 9 random digits)", token, strings.Join(DeviceNameTokens, ", ")), ""
}

// NameProblem reports what makes s unfit as a profile name, or "": control
// characters (NUL, line breaks, tabs, escapes), and the bidirectional
// controls and zero-width characters that make a printed label read
// differently from the name the tenant holds.
func NameProblem(s string) string {
	for _, r := range s {
		switch {
		case r == 0:
			return "holds a NUL character; remove it"
		case unicode.IsControl(r):
			return fmt.Sprintf("holds the control character %U; names are one line of printable text", r)
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return fmt.Sprintf("holds the invisible direction control %U, which makes the printed label read differently from the name; remove it", r)
		case r >= 0x200B && r <= 0x200D, r == 0xFEFF, r == 0x2060:
			return fmt.Sprintf("holds the zero-width character %U, which makes two names that look the same differ; remove it", r)
		}
	}
	return ""
}

// ModeName is the name a person knows an enrollment mode by, as the Intune
// admin center lists its profiles (short enough for a label), or mode
// itself when it is not one enrollbatch knows.
func ModeName(mode string) string {
	switch mode {
	case ModeDedicated:
		return "Dedicated device"
	case ModeFullyManaged:
		return "Fully managed"
	case ModeWorkProfile:
		return "Work profile (corporate-owned)"
	case ModeAOSPUserless:
		return "AOSP, userless"
	case ModeAOSPAssociated:
		return "AOSP, user-associated"
	}
	return mode
}

// A tokenExpirationDateTime given as a date without a time (2027-05-31,
// 31.05.2027, a date cell) means the token is valid through that day: until
// 23:59:59 UTC of it. Microsoft's pages name no time for a date alone; the
// end of the day is what a person means by "valid until 31 May", and UTC is
// the same moment wherever the run happens.

// ThroughDay is the expiry of a token valid through the UTC day of day:
// 23:59:59 UTC.
func ThroughDay(day time.Time) time.Time {
	y, m, d := day.UTC().Date()
	return time.Date(y, m, d, 23, 59, 59, 0, time.UTC)
}

// IsThroughDay reports whether t is the last second of its UTC day, the
// expiry ThroughDay gives.
func IsThroughDay(t time.Time) bool {
	u := t.UTC()
	return u.Hour() == 23 && u.Minute() == 59 && u.Second() == 59
}

// SameDay reports whether a and b fall on the same UTC day.
func SameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}
