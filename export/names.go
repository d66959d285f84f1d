package export

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/names"
	"github.com/enrollbatch/enrollbatch/profile"
)

// This file writes scope tags and device groups by name, so that a sheet
// exported from one tenant runs in another where the same names exist
// (ids differ in every tenant). A name is written only when it reads back
// as the same tag or group: otherwise the id is, with a warning.

// DefaultTagID is the id of Intune's built-in Default scope tag, the same
// in every tenant: it is written as its id, so that a sheet whose profiles
// have only the Default tag runs without reading the tenant's tags.
const DefaultTagID = "0"

// Names are the cells an export writes by name. The zero value (or nil)
// writes ids, and no device groups.
type Names struct {
	tags   map[string]string // scope tag id -> what the cell says for it
	groups map[string]string // profile id -> its deviceGroup cell
}

// actionConcurrency bounds the device group read-backs in flight; the
// client's pacer keeps them within the service's budgets.
const actionConcurrency = 8

// give500Up is how many device group read-backs may answer 500 before any
// succeeds until the export stops asking: the actions have been reported
// to answer 500 to app-only tokens, and each is retried.
const give500Up = 3

// FetchNames reads what writing ps by name needs: the tenant's scope tags
// (one listing, when a profile has a tag besides Default), each profile's
// enrollment-time device group (retrieveEnrollmentTimeDeviceMembershipTarget,
// for the modes that have one), and each of those groups (its name, and
// whether another group has the same name). warn receives, once each,
// what is written as an id or left out, and why.
//
// The error is the failure to read the tags (a 403 is an
// *graph.AuthError naming graph.PermissionScopeTags: a tag id is not
// written instead, since another tenant may give that id to another tag),
// an *graph.AuthError that ends the export, or another failure to read.
// Groups that cannot be read are written as their ids, which no other
// tenant has.
func FetchNames(ctx context.Context, c *graph.Client, ps []profile.Profile, warn func(string)) (*Names, error) {
	n := &Names{}
	var mu sync.Mutex
	say := warn
	warn = func(w string) { // one at a time: the read-backs run in parallel
		mu.Lock()
		defer mu.Unlock()
		say(w)
	}
	if err := n.fetchTags(ctx, c, ps, warn); err != nil {
		return nil, err
	}
	if err := n.fetchGroups(ctx, c, ps, warn); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Names) fetchTags(ctx context.Context, c *graph.Client, ps []profile.Profile, warn func(string)) error {
	users := map[string][]string{} // tag id -> the profiles that have it
	for _, p := range ps {
		for _, id := range p.RoleScopeTagIDs {
			if id = strings.TrimSpace(id); id != DefaultTagID && id != "" {
				users[id] = append(users[id], p.DisplayName)
			}
		}
	}
	if len(users) == 0 {
		return nil
	}
	tags, err := c.ListRoleScopeTags(ctx)
	if err != nil {
		return fmt.Errorf("list the tenant's scope tags, to write them by name: %w", err)
	}
	keys := map[string]int{}
	for _, t := range tags {
		keys[profile.Key(t.DisplayName)]++
	}
	n.tags = map[string]string{}
	for _, id := range slicesSorted(users) {
		i := slices.IndexFunc(tags, func(t graph.ScopeTag) bool { return t.ID == id })
		if i < 0 {
			warn(fmt.Sprintf("scope tag id %s (%s) is not among the tenant's scope tags: it is written as its id", id, listed(users[id])))
			continue
		}
		t := tags[i]
		why := ""
		switch name := strings.TrimSpace(t.DisplayName); {
		case name == "":
			why = "it has no name"
		case strings.ContainsAny(name, ",;\r\n"):
			why = "its name holds a separator of roleScopeTagIds (a comma, semicolon or line break)"
		case isDigits(name):
			why = "its name is a number, which the sheet reads as an id"
		case keys[profile.Key(name)] > 1:
			why = fmt.Sprintf("%d scope tags of this tenant have its name", keys[profile.Key(name)])
		default:
			n.tags[id] = name
			continue
		}
		warn(fmt.Sprintf("scope tag %q (id %s) is written as its id, since %s; in another tenant, give the name of the tag meant there", t.DisplayName, id, why))
	}
	return nil
}

func (n *Names) fetchGroups(ctx context.Context, c *graph.Client, ps []profile.Profile, warn func(string)) error {
	var (
		mu       sync.Mutex
		targets  = map[string]string{} // profile id -> group id
		failed   []string              // profiles whose group could not be read
		firstErr error
		ok, err5 atomic.Int32
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(actionConcurrency)
	for _, p := range ps {
		if names.CheckMode(p.EnrollmentMode, p.EnrollmentTokenType) != nil {
			continue // AOSP, or the staging token: no device group
		}
		g.Go(func() error {
			if err5.Load() >= give500Up && ok.Load() == 0 {
				mu.Lock()
				failed = append(failed, p.DisplayName)
				mu.Unlock()
				return nil
			}
			res, err := c.RetrieveDeviceGroup(gctx, p.ID)
			var de *graph.DeviceGroupError
			switch {
			case errors.As(err, &de):
				if de.Err != nil && de.Err.Status == http.StatusInternalServerError {
					err5.Add(1)
				}
				mu.Lock()
				failed = append(failed, p.DisplayName)
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return nil
			case err != nil:
				return fmt.Errorf("read the device group of %q: %w", p.DisplayName, err)
			}
			ok.Add(1)
			ids := res.GroupIDs()
			switch len(ids) {
			case 0:
				return nil
			case 1:
				mu.Lock()
				targets[p.ID] = ids[0]
				mu.Unlock()
			default:
				warn(fmt.Sprintf("profile %q has %d enrollment-time device groups (%s); the sheet takes one, so its deviceGroup is left empty (left alone by a run)",
					p.DisplayName, len(ids), strings.Join(ids, ", ")))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		why := "see the error"
		if firstErr != nil {
			why = firstErr.Error()
		}
		warn(fmt.Sprintf("the device group of %s could not be read, so deviceGroup is left empty (left alone by a run): %s", listed(failed), why))
	}
	if len(targets) == 0 {
		return nil
	}
	cells, err := groupCells(ctx, c, targets, warn)
	if err != nil {
		return err
	}
	n.groups = map[string]string{}
	for pid, gid := range targets {
		if cell, ok := cells[strings.ToLower(gid)]; ok {
			n.groups[pid] = cell
		}
	}
	return nil
}

// groupCells returns the deviceGroup cell of each group id of targets (by
// id in lower case): its name when that names it alone, else its id. A
// group that no longer exists gets no cell.
func groupCells(ctx context.Context, c *graph.Client, targets map[string]string, warn func(string)) (map[string]string, error) {
	ids := map[string]bool{}
	for _, gid := range targets {
		ids[strings.ToLower(gid)] = true
	}
	cells := map[string]string{}
	for _, id := range slicesSorted(ids) {
		grp, err := c.GetGroup(ctx, id)
		switch {
		case graph.IsNotFound(err):
			warn(fmt.Sprintf("device group %s no longer exists in Entra ID; the deviceGroup of its profiles is left empty", id))
			continue
		case graph.IsAuth(err):
			warn(fmt.Sprintf("device groups are written as their ids, which no other tenant has: %v", err))
			for _, id := range slicesSorted(ids) {
				cells[id] = id
			}
			return cells, nil
		case err != nil:
			return nil, fmt.Errorf("read device group %s: %w", id, err)
		}
		cells[id] = id
		name := strings.TrimSpace(grp.DisplayName)
		if ref := names.ParseGroupCell(name); ref.Action != names.GroupByName {
			why := "its name reads as an id"
			switch ref.Action {
			case names.GroupClear:
				why = "its name reads as none, which clears the group"
			case names.GroupKeep:
				why = "it has no name"
			}
			warn(fmt.Sprintf("device group %q (id %s) is written as its id, since %s", grp.DisplayName, id, why))
			continue
		}
		same, err := c.FindGroups(ctx, name)
		switch {
		case graph.IsAuth(err):
			warn(fmt.Sprintf("device group %q (id %s) is written as its id: %v", grp.DisplayName, id, err))
			continue
		case err != nil:
			return nil, fmt.Errorf("look up device group %q: %w", name, err)
		case len(same) > 1:
			warn(fmt.Sprintf("device group %q (id %s) is written as its id, since %d groups have its name", grp.DisplayName, id, len(same)))
			continue
		}
		cells[id] = name
	}
	return cells, nil
}

// tagCell renders a profile's scope tags, by name where Names has one.
func (n *Names) tagCell(ids []string) any {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if n != nil {
			if name, ok := n.tags[strings.TrimSpace(id)]; ok {
				out[i] = name
			}
		}
	}
	return strings.Join(out, ", ")
}

// cell is the package's cell, with scope tags and the device group by
// name.
func (n *Names) cell(p profile.Profile, name string) any {
	switch name {
	case "roleScopeTagIds":
		return n.tagCell(p.RoleScopeTagIDs)
	case input.DeviceGroupColumn:
		if n == nil || n.groups[p.ID] == "" {
			return nil
		}
		return n.groups[p.ID]
	}
	return cell(p, name)
}

// listed names at most five profiles: `"A", "B" and 3 more`.
func listed(names []string) string {
	const most = 5
	q := make([]string, 0, min(len(names), most))
	for _, s := range names[:min(len(names), most)] {
		q = append(q, fmt.Sprintf("%q", s))
	}
	s := strings.Join(q, ", ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	if len(names) == 1 {
		return "profile " + s
	}
	return "profiles " + s
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func slicesSorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
