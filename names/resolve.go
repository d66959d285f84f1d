package names

import (
	"context"
	"strings"
	"sync"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
)

// Directory is what Groups reads from Graph; *graph.Client has it.
type Directory interface {
	FindGroups(ctx context.Context, name string) ([]graph.Group, error)
	GetGroup(ctx context.Context, id string) (graph.Group, error)
	GroupOwners(ctx context.Context, id string) ([]graph.DirectoryObject, error)
}

// Groups resolves and checks the deviceGroup cells of a run, looking each
// name, id and owner list up once however many rows give it. It is safe
// for concurrent use.
type Groups struct {
	dir Directory

	mu     sync.Mutex
	lookup map[string]*once[[]graph.Group]           // "name:"+profile.Key or "id:"+id
	owners map[string]*once[[]graph.DirectoryObject] // group id
}

// once is a lookup done at most once.
type once[T any] struct {
	do  sync.Once
	val T
	err error
}

// NewGroups returns a resolver that reads from dir.
func NewGroups(dir Directory) *Groups {
	return &Groups{dir: dir, lookup: make(map[string]*once[[]graph.Group]), owners: make(map[string]*once[[]graph.DirectoryObject])}
}

// Decision is what to do with a row's enrollment-time device group.
type Decision struct {
	Action GroupAction // GroupKeep, GroupClear, or GroupByID/GroupByName: set Group
	Group  graph.Group // the group to set
	Note   string      // something the row's result should carry (see CheckGroup)
}

// Check reads a row's deviceGroup cell and decides: keep (empty), clear
// ("none"), or set a group that passed CheckGroup. A cell that cannot be
// used is a *GroupError; a failed lookup is Graph's error as is (an
// *graph.AuthError when the app may not read groups).
//
// "none" on a row whose mode has no enrollment-time grouping is kept, with
// a note: such a profile has no group to clear.
func (g *Groups) Check(ctx context.Context, cell, mode, tokenType string) (Decision, error) {
	ref := ParseGroupCell(cell)
	switch ref.Action {
	case GroupKeep:
		return Decision{Action: GroupKeep}, nil
	case GroupClear:
		switch p := CheckMode(mode, tokenType); {
		case p != nil && p.Rule == RuleToken:
			return Decision{Action: GroupKeep, Note: "deviceGroup none: nothing to clear, as profiles with the " + profile.TokenStaging + " token have no enrollment-time device group"}, nil
		case p != nil:
			return Decision{Action: GroupKeep, Note: "deviceGroup none: nothing to clear, as " + profile.EffectiveMode(mode) + " profiles have no enrollment-time device group"}, nil
		}
		return Decision{Action: GroupClear}, nil
	}
	if p := CheckMode(mode, tokenType); p != nil {
		return Decision{}, &GroupError{Given: ref.Given, Problems: []Problem{*p}}
	}
	found, err := g.find(ctx, ref)
	if err != nil {
		return Decision{}, err
	}
	grp, err := PickGroup(ref, found)
	if err != nil {
		return Decision{}, err
	}
	owners, err := g.ownersOf(ctx, grp.ID)
	if err != nil {
		return Decision{}, err
	}
	note, err := CheckGroup(grp, owners, mode, tokenType)
	if err != nil {
		return Decision{}, err
	}
	return Decision{Action: ref.Action, Group: grp, Note: note}, nil
}

// find looks ref up once per run.
func (g *Groups) find(ctx context.Context, ref GroupRef) ([]graph.Group, error) {
	key := "id:" + ref.ID
	if ref.Action == GroupByName {
		key = "name:" + profile.Key(ref.Given)
	}
	g.mu.Lock()
	o, ok := g.lookup[key]
	if !ok {
		o = &once[[]graph.Group]{}
		g.lookup[key] = o
	}
	g.mu.Unlock()
	o.do.Do(func() {
		if ref.Action == GroupByName {
			o.val, o.err = g.dir.FindGroups(ctx, ref.Given)
			return
		}
		grp, err := g.dir.GetGroup(ctx, ref.ID)
		switch {
		case graph.IsNotFound(err):
			// No such group: PickGroup says so.
		case err != nil:
			o.err = err
		default:
			o.val = []graph.Group{grp}
		}
	})
	return o.val, o.err
}

// ownersOf reads a group's owners once per run.
func (g *Groups) ownersOf(ctx context.Context, id string) ([]graph.DirectoryObject, error) {
	key := strings.ToLower(id)
	g.mu.Lock()
	o, ok := g.owners[key]
	if !ok {
		o = &once[[]graph.DirectoryObject]{}
		g.owners[key] = o
	}
	g.mu.Unlock()
	o.do.Do(func() { o.val, o.err = g.dir.GroupOwners(ctx, id) })
	return o.val, o.err
}
