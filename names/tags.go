// Package names turns the names admins know into the ids Graph wants: the
// role scope tags of a roleScopeTagIds cell (ids and names mixed), and the
// Entra group of a deviceGroup cell, checked for what enrollment-time
// grouping needs. It does no I/O: the run lists the tenant's tags and looks
// the groups up once (graph.Client.ListRoleScopeTags, FindGroups, GetGroup,
// GroupOwners) and hands the answers here.
//
// Names compare as the job compares profile names (profile.Key): after
// Unicode NFC, with any space character read as a space, surrounding space
// ignored, and without regard to case.
package names

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/suggest"
)

// Tags resolves role scope tags by id or name against the tenant's tags.
// Build it once per run with NewTags; it is safe for concurrent use.
type Tags struct {
	all   []graph.ScopeTag
	byID  map[string]int
	byKey map[string][]int
}

// NewTags indexes the tenant's tags (as graph.Client.ListRoleScopeTags
// returns them, Default "0" included).
func NewTags(tags []graph.ScopeTag) *Tags {
	t := &Tags{all: slices.Clone(tags), byID: make(map[string]int, len(tags)), byKey: make(map[string][]int, len(tags))}
	for i, tag := range t.all {
		t.byID[tag.ID] = i
		k := profile.Key(tag.DisplayName)
		t.byKey[k] = append(t.byKey[k], i)
	}
	return t
}

// Resolve turns the entries of a roleScopeTagIds cell (already split) into
// tag ids, in the order given, without repeats; blank entries are skipped.
//
// An entry of digits only is an id ("0", "12"; leading zeros dropped, so
// "012" is 12); when no tag has that id but one is named so, it is that
// tag. Any other entry is a name; when no tag is named so but one has it
// as its id, it is that tag. An id wins over a name: "14" is the tag with
// id 14 even when another tag is named "14".
//
// The error, when not nil, is a TagErrors holding every entry that names
// no tag or several.
func (t *Tags) Resolve(entries []string) ([]string, error) {
	var ids []string
	var errs TagErrors
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		id, err := t.resolve(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(errs) > 0 {
		return ids, errs
	}
	return ids, nil
}

func (t *Tags) resolve(entry string) (string, *TagError) {
	if digits(entry) {
		id := strings.TrimLeft(entry, "0")
		if id == "" {
			id = "0"
		}
		if _, ok := t.byID[id]; ok {
			return id, nil
		}
		if m := t.byKey[profile.Key(entry)]; len(m) == 1 {
			return t.all[m[0]].ID, nil
		}
		return "", &TagError{Given: entry, ID: true, tags: t.all}
	}
	switch m := t.byKey[profile.Key(entry)]; {
	case len(m) == 1:
		return t.all[m[0]].ID, nil
	case len(m) > 1:
		te := &TagError{Given: entry, tags: t.all}
		for _, i := range m {
			te.Matches = append(te.Matches, t.all[i])
		}
		return "", te
	}
	if _, ok := t.byID[entry]; ok {
		return entry, nil
	}
	return "", &TagError{Given: entry, Suggestions: t.closest(entry), tags: t.all}
}

// digits reports whether s is ASCII digits only.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// maxSuggestions is how many names a "did you mean" offers at most.
const maxSuggestions = 3

// closest returns the tags whose names are nearest to entry by edit
// distance (on the compared forms), when near enough: at most a third of
// the entry's length, from 1 to 3 edits; or one name holding the other.
func (t *Tags) closest(entry string) []graph.ScopeTag {
	k := profile.Key(entry)
	limit := min(max(utf8.RuneCountInString(k)/3, 1), 3)
	best := limit + 1
	var out []graph.ScopeTag
	for _, tag := range t.all {
		tk := profile.Key(tag.DisplayName)
		d := suggest.Distance(k, tk)
		if d > limit && utf8.RuneCountInString(k) >= 3 && utf8.RuneCountInString(tk) >= 3 && (strings.Contains(tk, k) || strings.Contains(k, tk)) {
			d = limit
		}
		switch {
		case d < best:
			best, out = d, []graph.ScopeTag{tag}
		case d == best && len(out) < maxSuggestions:
			out = append(out, tag)
		}
	}
	return out
}

// TagError is an entry of roleScopeTagIds that names no tag of the tenant,
// or names several.
type TagError struct {
	Given       string           // the entry as written
	ID          bool             // the entry is a number, read as an id
	Suggestions []graph.ScopeTag // the nearest names, for "did you mean"
	Matches     []graph.ScopeTag // the tags of that name, when several
	tags        []graph.ScopeTag
}

// maxListed is how many of the tenant's tags an error lists.
const maxListed = 10

func (e *TagError) Error() string {
	switch {
	case len(e.Matches) > 1:
		ids := make([]string, len(e.Matches))
		for i, m := range e.Matches {
			ids[i] = m.ID
		}
		return fmt.Sprintf("%d scope tags are named %q (ids %s): give the id of the one to use instead of the name",
			len(e.Matches), e.Given, strings.Join(ids, ", "))
	case e.ID:
		return fmt.Sprintf("no scope tag in the tenant has id %s (a number is read as an id; give the tag's id or its name); the tenant's tags are %s",
			e.Given, tagList(e.tags))
	case len(e.Suggestions) > 0:
		return fmt.Sprintf("scope tag %q does not exist in the tenant; did you mean %s?", e.Given, orList(e.Suggestions))
	}
	return fmt.Sprintf("scope tag %q does not exist in the tenant; its tags are %s", e.Given, tagList(e.tags))
}

// named renders a tag as `"Leeds" (id 14)`.
func named(t graph.ScopeTag) string { return fmt.Sprintf("%q (id %s)", t.DisplayName, t.ID) }

// orList renders tags as `"A" (id 1), "B" (id 2) or "C" (id 3)`.
func orList(tags []graph.ScopeTag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = named(t)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// tagList renders the tenant's tags as `"Default" (id 0), "Leeds" (id
// 14)`, the first maxListed of them.
func tagList(tags []graph.ScopeTag) string {
	if len(tags) == 0 {
		return "none (the tenant's tags could not be read)"
	}
	parts := make([]string, 0, min(len(tags), maxListed))
	for _, t := range tags[:min(len(tags), maxListed)] {
		parts = append(parts, named(t))
	}
	s := strings.Join(parts, ", ")
	if len(tags) > maxListed {
		s += fmt.Sprintf(" and %d more", len(tags)-maxListed)
	}
	return s
}

// TagErrors are the entries of one roleScopeTagIds cell that could not be
// resolved.
type TagErrors []*TagError

func (e TagErrors) Error() string {
	parts := make([]string, len(e))
	for i, te := range e {
		parts[i] = te.Error()
	}
	return "roleScopeTagIds: " + strings.Join(parts, "; ")
}
