// Package tenant names the customer tenants of a run that works on several
// of them (a managed service provider's), and picks the share of them one
// process takes (--shard).
//
// A tenant is named by its id (a GUID) or by one of its verified domains
// (contoso.onmicrosoft.com). Both are compared in lower case; a tenant
// named both ways in one sheet is two names for one tenant, which the
// run's tenant lock catches once it has signed in (see the manual).
package tenant

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/enrollbatch/enrollbatch/profile"
)

// Column is the input column that names each row's tenant.
const Column = "tenant"

// Parse checks a tenant as a person wrote it and returns the form the run
// uses: trimmed and in lower case. The error says what a tenant looks like.
func Parse(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case t == "":
		return "", fmt.Errorf("is empty; give the tenant's id (a GUID) or a verified domain such as contoso.onmicrosoft.com")
	case profile.IsGUID(t):
		return t, nil
	case isDomain(t):
		return t, nil
	case t == "common" || t == "organizations" || t == "consumers":
		return "", fmt.Errorf("%q names no single tenant; give the customer tenant's id (a GUID) or a verified domain such as contoso.onmicrosoft.com", s)
	}
	return "", fmt.Errorf("%q is neither a tenant id (a GUID) nor a domain such as contoso.onmicrosoft.com", s)
}

// isDomain reports whether s (in lower case) is a DNS name of at least two
// labels: letters, digits and hyphens, no label starting or ending with a
// hyphen, at most 253 characters. It is also a safe folder name.
func isDomain(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Shard is the share of the tenants one process takes: the tenants whose
// place in the sorted list, counted from 0, is K modulo N. The zero value
// takes every tenant.
type Shard struct{ K, N int }

// ParseShard reads "K/N" (K counted from 0, as a Kubernetes indexed Job's
// completion index is).
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	ki, err1 := strconv.Atoi(strings.TrimSpace(k))
	ni, err2 := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("%q: use K/N, such as 0/4 for the first of four shares", s)
	case ni < 1:
		return Shard{}, fmt.Errorf("%q: N is the number of shares, 1 or more", s)
	case ki < 0 || ki >= ni:
		return Shard{}, fmt.Errorf("%q: K counts from 0 to %d (N-1), as a Kubernetes indexed Job's JOB_COMPLETION_INDEX does", s, ni-1)
	}
	return Shard{K: ki, N: ni}, nil
}

// Take returns the tenants of sorted (in the order given) that belong to
// the shard.
func (s Shard) Take(sorted []string) []string {
	if s.N <= 1 {
		return sorted
	}
	var out []string
	for i, t := range sorted {
		if i%s.N == s.K {
			out = append(out, t)
		}
	}
	return out
}

// String is "K/N", or "" for every tenant.
func (s Shard) String() string {
	if s.N <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}
