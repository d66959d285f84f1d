package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/names"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
)

// This file is the stage between the two passes over the input that turns
// the names a sheet gives into the ids Graph wants: the role scope tags of
// roleScopeTagIds (ids and names mixed) and the group of deviceGroup.
//
// The first pass (Census.Count) keeps only distinct values: whether any
// roleScopeTagIds entry is a name, each deviceGroup cell to look up, and
// the valid rows grouped by what decides their names (their tag entries,
// group cell, mode and token type), counted. Before anything is posted,
// Stream lists the tenant's scope tags once (only when some entry is a
// name) and looks each group up once with its owners (names.Groups), and
// counts the rows that the answers make invalid, so that --strict holds
// them back like any other invalid row. The second pass then resolves each
// row from those answers, without another request.

// StateNames is the state the job reports while it looks the sheet's
// scope tags and device groups up.
const StateNames = "looking up scope tags and device groups"

// NamesError is returned by Stream when the scope tags or groups the rows
// name could not be looked up (for a reason other than a permission, which
// is an *graph.AuthError): nothing was posted.
type NamesError struct{ Err error }

func (e *NamesError) Error() string { return e.Err.Error() }
func (e *NamesError) Unwrap() error { return e.Err }

// nameNeeds is what the first pass found that only the tenant can answer.
type nameNeeds struct {
	tagNames bool                // some roleScopeTagIds entry is a name, not an id
	groups   map[string]string   // deviceGroup cells to look up, by names.Groups' key
	sigs     map[string]*nameSig // valid rows, by what decides their names
}

// nameSig is what decides whether a row's names resolve, and the valid
// rows of the first pass that share it.
type nameSig struct {
	tags              []string
	cell, mode, token string
	rows              int
	lines             []int // the first maxSigLines of them
}

const maxSigLines = 10

// lookups reports whether the tenant must be asked anything.
func (n *nameNeeds) lookups() bool {
	return n != nil && (n.tagNames || len(n.groups) > 0)
}

// groupLookup reports whether a deviceGroup cell names a group to look up,
// and its key (a name compared as profile.Key, an id in lower case).
func groupLookup(row *input.Row) (string, bool) {
	ref := names.ParseGroupCell(row.DeviceGroup)
	switch {
	case problemOn(row, input.DeviceGroupColumn):
		return "", false // the reader refused it (the mode has no grouping)
	case ref.Action == names.GroupByName:
		return "name:" + profile.Key(ref.Given), true
	case ref.Action == names.GroupByID:
		return "id:" + ref.ID, true
	}
	return "", false
}

// problemOn reports whether the row has a problem on column.
func problemOn(row *input.Row, column string) bool {
	return slices.ContainsFunc(row.Problems, func(p input.Problem) bool { return p.Column == column })
}

// digits reports whether a roleScopeTagIds entry is an id (ASCII digits).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// countNames adds what row names to the census.
func (c *Census) countNames(row *input.Row) {
	tags, _ := row.Body["roleScopeTagIds"].([]string)
	key, lookup := groupLookup(row)
	if len(tags) == 0 && !lookup {
		return
	}
	n := c.names
	if n == nil {
		n = &nameNeeds{groups: map[string]string{}, sigs: map[string]*nameSig{}}
		c.names = n
	}
	for _, t := range tags {
		n.tagNames = n.tagNames || !digits(t)
	}
	sig := nameSig{tags: tags}
	if lookup {
		if _, seen := n.groups[key]; !seen {
			n.groups[key] = row.DeviceGroup
		}
		sig.cell = row.DeviceGroup
		sig.mode, _ = row.Body["enrollmentMode"].(string)
		sig.token, _ = row.Body["enrollmentTokenType"].(string)
	}
	if !row.Valid() {
		return // invalid whatever its names say
	}
	k := strings.Join(tags, "\x1f") + "\x1e" + key + "\x1e" + sig.mode + "\x1e" + sig.token
	s, ok := n.sigs[k]
	if !ok {
		s = &sig
		n.sigs[k] = s
	}
	s.rows++
	if len(s.lines) < maxSigLines {
		s.lines = append(s.lines, row.Line)
	}
}

// resolver answers, for each row of the second pass, what its names stand
// for. It is safe for concurrent use.
type resolver struct {
	tags     *names.Tags       // nil: no entry is a name, ids are sent as given
	tagNames map[string]string // tag id -> displayName
	groups   *names.Groups     // every lookup made before the second pass
	client   *graph.Client     // for the names of groups a profile has now
	mu       sync.Mutex        // guards current
	current  map[string]string // group id (lower case) -> displayName, or "" when unknown
	ctx      context.Context   // of the lookups, for names.Groups' cached answers
}

// lookUpNames asks the tenant what the first pass found: the scope tags
// (one listing) and each group with its owners (once each, at most
// Concurrency at a time). A *names.GroupError is an answer, kept for the
// rows; any other failure is returned.
func (j *Job) lookUpNames(ctx context.Context, n *nameNeeds) (*resolver, error) {
	r := &resolver{groups: names.NewGroups(j.Client), client: j.Client, current: map[string]string{}, ctx: ctx}
	if n == nil {
		return r, nil
	}
	if n.tagNames {
		tags, err := j.Client.ListRoleScopeTags(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the tenant's scope tags, to read the names in roleScopeTagIds: %w", err)
		}
		r.tags = names.NewTags(tags)
		r.tagNames = make(map[string]string, len(tags))
		for _, t := range tags {
			r.tagNames[t.ID] = t.DisplayName
		}
	}
	keys := slices.Sorted(maps.Keys(n.groups))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(j.Concurrency, 1))
	for _, k := range keys {
		cell := n.groups[k]
		g.Go(func() error {
			// The mode of a dedicated device passes names.CheckMode, so
			// the group and its owners are read; each row's own mode is
			// checked in the second pass, from these answers.
			_, err := r.groups.Check(gctx, cell, "", "")
			var ge *names.GroupError
			if err != nil && !errors.As(err, &ge) {
				return fmt.Errorf("look up device group %q: %w", cell, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return r, nil
}

// recount adds to c the rows of the first pass that the answers make
// invalid.
func (r *resolver) recount(c Census) Census {
	if c.names == nil {
		return c
	}
	lines := slices.Clone(c.InvalidLines)
	for _, s := range c.names.sigs {
		row := input.Row{Body: map[string]any{}, DeviceGroup: s.cell}
		if len(s.tags) > 0 {
			row.Body["roleScopeTagIds"] = s.tags
		}
		if s.mode != "" {
			row.Body["enrollmentMode"] = s.mode
		}
		if s.token != "" {
			row.Body["enrollmentTokenType"] = s.token
		}
		r.apply(&row)
		if row.Valid() {
			continue
		}
		c.Invalid += s.rows
		lines = append(lines, s.lines...)
	}
	sort.Ints(lines)
	c.InvalidLines = lines[:min(len(lines), 10)]
	return c
}

// apply resolves the row's names: its roleScopeTagIds become ids (with a
// note naming each name's id), and its deviceGroup is checked. A name
// that cannot be used is a problem on the row, which then posts nothing
// (it matters only when the row's values are sent: see
// input.Problem.ForNew). It returns what to do with the row's
// enrollment-time device group. A nil resolver leaves the row alone.
func (r *resolver) apply(row *input.Row) names.Decision {
	if r == nil {
		return names.Decision{}
	}
	bad := func(column, msg string) {
		row.Problems = append(slices.Clip(row.Problems), input.Problem{Row: row.Line, Column: column, Message: msg, ForNew: true})
	}
	if list, ok := row.Body["roleScopeTagIds"].([]string); ok && r.tags != nil {
		ids, err := r.tags.Resolve(list)
		var te names.TagErrors
		switch {
		case errors.As(err, &te):
			msgs := make([]string, len(te))
			for i, e := range te {
				msgs[i] = e.Error()
			}
			bad("roleScopeTagIds", strings.Join(msgs, "; "))
		case err != nil:
			bad("roleScopeTagIds", err.Error())
		default:
			body := maps.Clone(row.Body) // the caller's row keeps its own
			body["roleScopeTagIds"] = ids
			row.Body = body
			if note := r.tagNote(list); note != "" {
				row.Notes = append(slices.Clip(row.Notes), note)
			}
		}
	}
	if row.DeviceGroup == "" || problemOn(row, input.DeviceGroupColumn) {
		return names.Decision{}
	}
	mode, _ := row.Body["enrollmentMode"].(string)
	token, _ := row.Body["enrollmentTokenType"].(string)
	d, err := r.groups.Check(r.ctx, row.DeviceGroup, mode, token)
	if err != nil {
		bad(input.DeviceGroupColumn, err.Error())
		return names.Decision{}
	}
	if d.Note != "" {
		note := d.Note
		if !strings.HasPrefix(note, input.DeviceGroupColumn) {
			note = input.DeviceGroupColumn + ": " + note
		}
		row.Notes = append(slices.Clip(row.Notes), note)
	}
	return d
}

// tagNote says which id each name of a roleScopeTagIds cell stands for:
// `roleScopeTagIds: "Leeds DC" is 40, "Default" is 0 (sent as ids)`; ""
// when the cell gives ids only.
func (r *resolver) tagNote(entries []string) string {
	var parts []string
	for _, e := range entries {
		if digits(e) {
			continue
		}
		if ids, err := r.tags.Resolve([]string{e}); err == nil && len(ids) == 1 {
			parts = append(parts, fmt.Sprintf("%q is %s", e, ids[0]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "roleScopeTagIds: " + strings.Join(parts, ", ") + " (sent as ids)"
}

// tagWords renders a list of tag ids with their names, for a change:
// "Default (0), Leeds DC (40)".
func (r *resolver) tagWords(ids string) string {
	if r == nil || r.tagNames == nil || ids == "(empty)" {
		return ids
	}
	parts := strings.Split(ids, ", ")
	for i, id := range parts {
		if name, ok := r.tagNames[id]; ok {
			parts[i] = fmt.Sprintf("%s (%s)", name, id)
		}
	}
	return strings.Join(parts, ", ")
}

// changeStrings renders a diff's changes as the results show them, scope
// tags with their names when the tenant's tags were listed.
func (j *Job) changeStrings(d plan.Diff) []string {
	out := d.Strings()
	for i, c := range d.Changes {
		if c.Property == "roleScopeTagIds" && j.names != nil && j.names.tagNames != nil {
			c.Old, c.New = j.names.tagWords(c.Old), j.names.tagWords(c.New)
			out[i] = c.String()
		}
	}
	return out
}

// groupWords names the groups of ids for a change: their display names
// (read once each; the id when the group cannot be read), or "(empty)".
func (r *resolver) groupWords(ctx context.Context, ids []string) string {
	if len(ids) == 0 {
		return "(empty)"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = r.groupName(ctx, id)
	}
	return strings.Join(parts, ", ")
}

func (r *resolver) groupName(ctx context.Context, id string) string {
	k := strings.ToLower(id)
	r.mu.Lock()
	name, ok := r.current[k]
	r.mu.Unlock()
	if !ok {
		if g, err := r.client.GetGroup(ctx, id); err == nil {
			name = g.DisplayName
		}
		r.mu.Lock()
		r.current[k] = name
		r.mu.Unlock()
	}
	if strings.TrimSpace(name) == "" {
		return "group " + id
	}
	return name
}
