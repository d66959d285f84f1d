package sim

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/profile"
)

// This file describes the tenants of a Cloud and reads them from a file.

// TenantSpec describes one simulated tenant of a Cloud. Its limits and
// latency, when not zero, replace those of the Cloud's base Options; its
// scope tags and groups are added to the base's.
//
// In JSON (see ReadTenants) the members are named as the fields, in lower
// camel case, and durations are Go duration strings:
//
//	{"id": "…", "domain": "contoso.onmicrosoft.com", "organization": "Contoso",
//	 "notConsented": false, "limit": 0, "window": "1s", "writeLimit": 100,
//	 "writeWindow": "20s", "latency": "30ms", "retryAfter": "seconds",
//	 "scopeTags": […], "groups": […], "profiles": [{"displayName": "Leeds 1"}]}
type TenantSpec struct {
	// ID is the tenant's id (a GUID), the tid of the tokens that act on
	// it. When empty, it is derived from Domain (a name-based UUID, see
	// DomainTenantID), so that every run gives a tenant the same id.
	ID string
	// Domain is the tenant's initial domain, e.g.
	// "contoso.onmicrosoft.com"; optional when ID is given.
	Domain string
	// Organization is the name GET /organization answers; default the
	// first label of Domain with a capital ("Contoso"), else the base's.
	Organization string
	// NotConsented models a tenant whose administrator never consented to
	// the app: no service principal of the app is there. Cloud.Token
	// refuses to sign in to it (AADSTS700016), and a token naming it
	// anyway carries no permission, so Graph answers every request 403.
	NotConsented bool
	// Granted, when not nil, are the permissions the tenant's tokens carry
	// (Options.Granted): an empty list models a tenant where the app was
	// consented without the Intune permission, or that has no Intune
	// licence, which Graph answers 403.
	Granted []string
	// Limit, Window, WriteLimit, WriteWindow, Latency and RetryAfter
	// replace the base Options' fields of the same names when not zero.
	Limit       int
	Window      time.Duration
	WriteLimit  int
	WriteWindow time.Duration
	Latency     time.Duration
	RetryAfter  string
	// Tenant holds the scope tags and groups to seed.
	Tenant
	// Profiles are seeded as if created earlier (see Server.SeedProfiles);
	// each needs a displayName.
	Profiles []profile.Profile
}

// tenantSpecJSON is TenantSpec as a file writes it.
type tenantSpecJSON struct {
	ID           string            `json:"id,omitempty"`
	Domain       string            `json:"domain,omitempty"`
	Organization string            `json:"organization,omitempty"`
	NotConsented bool              `json:"notConsented,omitempty"`
	Granted      *[]string         `json:"granted,omitempty"` // an empty list is kept: it grants nothing
	Limit        int               `json:"limit,omitempty"`
	Window       string            `json:"window,omitempty"`
	WriteLimit   int               `json:"writeLimit,omitempty"`
	WriteWindow  string            `json:"writeWindow,omitempty"`
	Latency      string            `json:"latency,omitempty"`
	RetryAfter   string            `json:"retryAfter,omitempty"`
	ScopeTags    []ScopeTag        `json:"scopeTags,omitempty"`
	Groups       []Group           `json:"groups,omitempty"`
	Profiles     []json.RawMessage `json:"profiles,omitempty"`
}

// UnmarshalJSON reads a tenant as ReadTenants describes it; unknown
// members are refused, and a duration that does not parse is named.
func (t *TenantSpec) UnmarshalJSON(data []byte) error {
	var j tenantSpecJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	out := TenantSpec{ID: j.ID, Domain: j.Domain, Organization: j.Organization, NotConsented: j.NotConsented,
		Limit: j.Limit, WriteLimit: j.WriteLimit, RetryAfter: j.RetryAfter,
		Tenant: Tenant{ScopeTags: j.ScopeTags, Groups: j.Groups}}
	if j.Granted != nil {
		out.Granted = append([]string{}, (*j.Granted)...)
	}
	for _, d := range []struct {
		name string
		v    string
		to   *time.Duration
	}{{"window", j.Window, &out.Window}, {"writeWindow", j.WriteWindow, &out.WriteWindow}, {"latency", j.Latency, &out.Latency}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration such as \"20s\" or \"150ms\"", d.name, d.v)
		}
		*d.to = v
	}
	for i, raw := range j.Profiles {
		var p profile.Profile
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("profile %d: %w", i+1, err)
		}
		if len(p.Unreadable) > 0 {
			return fmt.Errorf("profile %d: %s", i+1, strings.Join(p.Unreadable, "; "))
		}
		out.Profiles = append(out.Profiles, p)
	}
	*t = out
	return nil
}

// MarshalJSON writes a tenant as ReadTenants reads it, leaving out zero
// members.
func (t TenantSpec) MarshalJSON() ([]byte, error) {
	j := tenantSpecJSON{ID: t.ID, Domain: t.Domain, Organization: t.Organization, NotConsented: t.NotConsented,
		Limit: t.Limit, WriteLimit: t.WriteLimit, RetryAfter: t.RetryAfter,
		ScopeTags: t.ScopeTags, Groups: t.Groups}
	if t.Granted != nil {
		g := t.Granted
		j.Granted = &g
	}
	for _, d := range []struct {
		v  time.Duration
		to *string
	}{{t.Window, &j.Window}, {t.WriteWindow, &j.WriteWindow}, {t.Latency, &j.Latency}} {
		if d.v != 0 {
			*d.to = d.v.String()
		}
	}
	for _, p := range t.Profiles {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		j.Profiles = append(j.Profiles, b)
	}
	return json.Marshal(j)
}

// ReadTenants reads a tenants file:
//
//	{"tenants": [
//	  {"domain": "contoso.onmicrosoft.com", "organization": "Contoso", "writeLimit": 100, "writeWindow": "20s"},
//	  {"id": "6f1c…", "domain": "northwind.onmicrosoft.com", "notConsented": true}
//	]}
//
// Each tenant is a TenantSpec. Unknown members are refused, at every
// level, so that a misspelt one is not silently ignored. Every tenant needs
// an id or a domain; an id must be a GUID, limits and durations must not
// be negative, retryAfter must be one of the RetryAfter formats, scope
// tags, groups and profiles need a displayName, and no two tenants may
// share an id (given or derived) or a domain. Errors name the tenant (its
// place in the list, and its domain or id) and the member at fault.
// Returned specs have their ids filled in.
func ReadTenants(r io.Reader) ([]TenantSpec, error) {
	var doc struct {
		Tenants []json.RawMessage `json:"tenants"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("tenants file: %w", err)
	}
	if len(doc.Tenants) == 0 {
		return nil, errors.New(`tenants file: no tenants (want {"tenants": [{"domain": "contoso.onmicrosoft.com"}, …]})`)
	}
	specs := make([]TenantSpec, 0, len(doc.Tenants))
	ids := make(map[string]int)
	domains := make(map[string]int)
	for i, raw := range doc.Tenants {
		var s TenantSpec
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("tenants file: tenant %d%s: %w", i+1, nameOf(raw), err)
		}
		where := fmt.Sprintf("tenants file: tenant %d%s", i+1, s.label())
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if s.ID == "" {
			s.ID = DomainTenantID(s.Domain)
		}
		if j, ok := ids[strings.ToLower(s.ID)]; ok {
			return nil, fmt.Errorf("%s: id %s is also tenant %d's", where, s.ID, j+1)
		}
		ids[strings.ToLower(s.ID)] = i
		if s.Domain != "" {
			if j, ok := domains[strings.ToLower(s.Domain)]; ok {
				return nil, fmt.Errorf("%s: domain %s is also tenant %d's", where, s.Domain, j+1)
			}
			domains[strings.ToLower(s.Domain)] = i
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// LoadTenants reads a tenants file (see ReadTenants).
func LoadTenants(path string) ([]TenantSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadTenants(f)
}

// nameOf names a tenant whose JSON did not decode by its domain or id,
// when those at least can be read.
func nameOf(raw []byte) string {
	var n struct {
		ID     any `json:"id"`
		Domain any `json:"domain"`
	}
	_ = json.Unmarshal(raw, &n)
	d, _ := n.Domain.(string)
	id, _ := n.ID.(string)
	return TenantSpec{ID: id, Domain: d}.label()
}

// label is " (domain)" or " (id)", or "" for a tenant with neither.
func (t TenantSpec) label() string {
	switch {
	case t.Domain != "":
		return " (" + t.Domain + ")"
	case t.ID != "":
		return " (" + t.ID + ")"
	}
	return ""
}

// check refuses a tenant the Cloud could not serve as described.
func (t TenantSpec) check() error {
	if t.ID == "" && t.Domain == "" {
		return errors.New("needs an id (a GUID) or a domain")
	}
	if t.ID != "" && !profile.IsGUID(t.ID) {
		return fmt.Errorf("id %q is not a GUID", t.ID)
	}
	if t.Domain != "" && !isDomain(t.Domain) {
		return fmt.Errorf("domain %q is not a domain name such as contoso.onmicrosoft.com", t.Domain)
	}
	for _, n := range []struct {
		name string
		v    int64
	}{{"limit", int64(t.Limit)}, {"writeLimit", int64(t.WriteLimit)}, {"window", int64(t.Window)},
		{"writeWindow", int64(t.WriteWindow)}, {"latency", int64(t.Latency)}} {
		if n.v < 0 {
			return fmt.Errorf("%s must not be negative", n.name)
		}
	}
	switch t.RetryAfter {
	case "", RetryAfterSeconds, RetryAfterFractional, RetryAfterDate:
	default:
		return fmt.Errorf("retryAfter %q: use %q, %q or %q", t.RetryAfter, RetryAfterSeconds, RetryAfterFractional, RetryAfterDate)
	}
	if err := t.Tenant.check(); err != nil {
		return err
	}
	for i, p := range t.Profiles {
		if strings.TrimSpace(p.DisplayName) == "" {
			return fmt.Errorf("profile %d has no displayName", i+1)
		}
	}
	return nil
}

// isDomain reports whether s looks like a DNS name: dot-separated labels
// of letters, digits and hyphens.
func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// dnsNamespace is the UUID namespace of DNS names (RFC 9562, appendix A).
var dnsNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// DomainTenantID is the id a Cloud gives a tenant known only by its
// domain: the name-based (SHA-1, version 5) UUID of the lower-cased domain
// in the DNS namespace. The same domain always gets the same id.
func DomainTenantID(domain string) string {
	h := sha1.New()
	h.Write(dnsNamespace[:])
	h.Write([]byte(strings.ToLower(strings.TrimSpace(domain))))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// domainOrganization is the organization name a domain suggests: its
// first label with a capital ("contoso.onmicrosoft.com": "Contoso").
func domainOrganization(domain string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(domain), ".")
	r, n := utf8.DecodeRuneInString(first)
	if n == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + first[n:]
}
