// Package plan compares what a spreadsheet row asks for with the profile
// the tenant holds, and says what an update would change: the properties
// that differ, each with its old and new value in words, the body of the
// PATCH that would apply them, and whether the change alters the QR payload
// (so that codes printed earlier no longer enroll devices the new way).
//
// Only writable properties the row gives are compared (profile.Writable);
// an empty cell never clears a value. Dates are compared as instants (to
// the second), lists as sets, strings after trimming, GUIDs without regard
// to case. Secrets cannot be compared, because the service never returns
// them: see Options.UpdateSecrets.
package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

// Arrow separates the old value from the new one in a change's text.
const Arrow = " → "

// SecretChanged is the text that stands for a secret's values.
const SecretChanged = "(changed)"

// wifiSettings are the properties that make up the Wi-Fi network a device
// joins during setup; the password belongs with them.
var wifiSettings = []string{"configureWifi", "wifiSsid", "wifiSecurityType", "wifiHidden"}

// payloadProperties are the properties the QR payload is built from,
// besides the token: the enrollment mode (which sets whether system apps
// stay enabled) and the Wi-Fi settings with their password.
var payloadProperties = []string{"enrollmentMode", "configureWifi", "wifiSsid", "wifiPassword", "wifiSecurityType", "wifiHidden"}

// InPayload reports whether the property is part of the QR payload.
func InPayload(name string) bool { return slices.Contains(payloadProperties, name) }

// Options tune Compare.
type Options struct {
	// UpdateSecrets sends a secret the row gives (wifiPassword) even when
	// nothing else about the Wi-Fi network changes. Without it the password
	// is sent only together with a change of another Wi-Fi setting, since
	// the service never returns it and it cannot be compared.
	UpdateSecrets bool
}

// Change is one property that differs.
type Change struct {
	Property string
	Old, New string // the values in words; empty for a secret
	Secret   bool   // Old and New are never shown
	Payload  bool   // the property is part of the QR payload
}

// String is the change as the results show it: "description: old → new",
// or "wifiPassword: (changed)" for a secret.
func (c Change) String() string {
	if c.Secret {
		return c.Property + ": " + SecretChanged
	}
	return c.Property + ": " + c.Old + Arrow + c.New
}

// Diff is what an update of one profile would do.
type Diff struct {
	Changes []Change       // in schema order
	Patch   map[string]any // the PATCH body: exactly the changed properties, as the row typed them
	// Payload reports whether a changed property is part of the QR payload.
	Payload bool
}

// Empty reports whether the row matches the profile.
func (d Diff) Empty() bool { return len(d.Changes) == 0 }

// Strings returns the changes as the results show them.
func (d Diff) Strings() []string {
	out := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		out[i] = c.String()
	}
	return out
}

// Compare compares the properties body gives (an input row's body: strings,
// bools, int32s, string lists and RFC 3339 dates) with the tenant's profile
// p, which must have been read with every writable property selected
// (Select).
func Compare(body map[string]any, p profile.Profile, opts Options) Diff {
	var d Diff
	add := func(prop profile.Property, old, new string, v any) {
		c := Change{Property: prop.Name, Old: old, New: new, Secret: prop.Secret, Payload: InPayload(prop.Name)}
		if c.Secret {
			c.Old, c.New = "", ""
		}
		d.Changes = append(d.Changes, c)
		if d.Patch == nil {
			d.Patch = map[string]any{}
		}
		d.Patch[prop.Name] = v
		d.Payload = d.Payload || c.Payload
	}
	var secret []profile.Property
	for _, prop := range profile.Writable() {
		v, given := body[prop.Name]
		if !given {
			continue
		}
		if prop.Secret {
			secret = append(secret, prop)
			continue
		}
		old := current(p, prop.Name)
		if !equal(prop.Kind, old, v) {
			add(prop, words(prop.Kind, old), words(prop.Kind, v), v)
		}
	}
	wifiChanged := false
	for _, c := range d.Changes {
		wifiChanged = wifiChanged || slices.Contains(wifiSettings, c.Property)
	}
	for _, prop := range secret {
		if prop.Name == "wifiPassword" && (wifiChanged || opts.UpdateSecrets) {
			add(prop, "", "", body[prop.Name])
		}
	}
	// Keep the schema's order, with the secret where it belongs.
	order := map[string]int{}
	for i, prop := range profile.Properties {
		order[prop.Name] = i
	}
	slices.SortStableFunc(d.Changes, func(a, b Change) int { return order[a.Property] - order[b.Property] })
	return d
}

// Select lists the properties to $select to compare rows with profiles:
// id, displayName, the token's expiry and every writable property the
// service returns (not the write-only Wi-Fi password).
func Select() []string {
	out := []string{"id"}
	for _, prop := range profile.Writable() {
		if !prop.Secret {
			out = append(out, prop.Name)
		}
	}
	return out
}

// current returns the profile's value of a writable property, typed the
// way an input row types it.
func current(p profile.Profile, name string) any {
	switch name {
	case "displayName":
		return p.DisplayName
	case "description":
		return p.Description
	case "tokenExpirationDateTime":
		return p.TokenExpirationDateTime
	case "roleScopeTagIds":
		return p.RoleScopeTagIDs
	case "accountId":
		return p.AccountID
	case "enrollmentMode":
		return p.EnrollmentMode
	case "enrollmentTokenType":
		return p.EnrollmentTokenType
	case "enrollmentTokenUsageCount":
		return p.EnrollmentTokenUsageCnt
	case "isTeamsDeviceProfile":
		return p.IsTeamsDeviceProfile
	case "configureWifi":
		return p.ConfigureWifi
	case "wifiSsid":
		return p.WifiSsid
	case "wifiSecurityType":
		return p.WifiSecurityType
	case "wifiHidden":
		return p.WifiHidden
	case "deviceNameTemplate":
		return p.DeviceNameTemplate
	}
	return nil
}

// Value returns the profile's value of a writable property typed the way
// an input row types it (dates as time.Time), for writers such as export.
func Value(p profile.Profile, name string) any { return current(p, name) }

// equal compares a tenant value with a row value of the given kind.
func equal(k profile.Kind, old, new any) bool {
	switch k {
	case profile.DateTime:
		a, aok := instant(old)
		b, bok := instant(new)
		if !aok || !bok {
			return aok == bok
		}
		if (profile.IsThroughDay(a) || profile.IsThroughDay(b)) && profile.SameDay(a, b) {
			return true // a date alone ("through that day") matches any moment of that day
		}
		d := a.Sub(b)
		return d < time.Second && d > -time.Second
	case profile.StringList:
		return slices.Equal(set(old), set(new))
	case profile.GUID:
		return strings.EqualFold(strings.TrimSpace(text(old)), strings.TrimSpace(text(new)))
	case profile.String, profile.Enum:
		return strings.TrimSpace(text(old)) == strings.TrimSpace(text(new))
	}
	return words(k, old) == words(k, new)
}

// instant reads a date given as time.Time or an RFC 3339 string; a zero
// time is no date.
func instant(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case string:
		if strings.TrimSpace(t) == "" {
			return time.Time{}, false
		}
		tt, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t))
		return tt, err == nil
	}
	return time.Time{}, false
}

// set returns a list's distinct trimmed, non-empty values, sorted.
func set(v any) []string {
	var in []string
	switch l := v.(type) {
	case []string:
		in = l
	case []any:
		for _, x := range l {
			in = append(in, fmt.Sprint(x))
		}
	case string:
		in = []string{l}
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// words renders a value of the given kind for a change's text.
func words(k profile.Kind, v any) string {
	if k == profile.DateTime {
		if d, ok := instant(v); ok {
			return d.UTC().Format(time.RFC3339)
		}
		return "(empty)"
	}
	switch t := v.(type) {
	case nil:
		return "(empty)"
	case string:
		if strings.TrimSpace(t) == "" {
			return "(empty)"
		}
		return strings.TrimSpace(t)
	case []string:
		if len(t) == 0 {
			return "(empty)"
		}
		return strings.Join(t, ", ")
	case bool:
		return strconv.FormatBool(t)
	case int32:
		return strconv.Itoa(int(t))
	}
	return fmt.Sprint(v)
}
