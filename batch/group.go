package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/names"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// This file sets a profile's enrollment-time device group, the group of
// the row's deviceGroup cell, checked before anything was posted
// (names.go): after the create, and with --on-exists update when the
// group the profile has (read back with
// retrieveEnrollmentTimeDeviceMembershipTarget) is another; "none" clears
// it. A group the service refuses fails the row with the service's
// reason; the profile stays, and a rerun with --on-exists update sets the
// group.

// groupNamed renders a group as `"Leeds Scanners" (id 1f0c…)`.
func groupNamed(g graph.Group) string { return fmt.Sprintf("%q (id %s)", g.DisplayName, g.ID) }

// setsGroup reports whether the decision sets a group.
func setsGroup(d names.Decision) bool {
	return d.Action == names.GroupByName || d.Action == names.GroupByID
}

// groupAllowed checks, for a row whose profile exists, that the profile's
// mode and token type (the row's, or else the tenant's) have an
// enrollment-time device group, and reports whether the group is to be
// read back. A group to set on one that has none makes the row invalid
// (invalid true); "none" there is nothing to do, with a note.
func (j *Job) groupAllowed(it *item, p profile.Profile) (read, invalid bool) {
	mode, ok := it.row.Body["enrollmentMode"].(string)
	if !ok {
		mode = p.EnrollmentMode
	}
	token, ok := it.row.Body["enrollmentTokenType"].(string)
	if !ok {
		token = p.EnrollmentTokenType
	}
	prob := names.CheckMode(mode, token)
	switch {
	case prob == nil:
		return true, false
	case it.group.Action == names.GroupClear:
		it.r.Notes = append(it.r.Notes, "deviceGroup none: nothing to clear, as the tenant's profile ("+profile.EffectiveMode(mode)+", token type "+
			orDefault(token, profile.TokenDefault)+") has no enrollment-time device group")
		return false, false
	}
	r := &it.r
	r.Status, r.ErrorCode, r.Action, r.Changes = results.Invalid, "InvalidInput", "", nil
	it.kind, it.diff = 0, plan.Diff{}
	r.ErrorMessage = "deviceGroup: " + (&names.GroupError{Given: it.group.Group.DisplayName, Group: it.group.Group,
		Problems: []names.Problem{*prob}}).Error() + " (the mode and token type are the tenant's profile's, as the row gives none)"
	return false, true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// groupAfterCreate sets the device group of a profile the run created, and
// reports whether the row may go on (to read its QR code). When the group
// could not be set, the row is failed and its QR code is not read, so that
// no device enrolls outside the group; the error is returned only when it
// aborts the run.
func (w *worker) groupAfterCreate(ctx context.Context, it *item) (bool, error) {
	g := it.group
	if !setsGroup(g) {
		return true, nil
	}
	r := &it.r
	err := w.Client.SetDeviceGroup(ctx, r.ID, g.Group.ID)
	if err == nil {
		r.Notes = append(r.Notes, "deviceGroup: set to "+groupNamed(g.Group))
		return true, nil
	}
	w.groupFailed(r, g.Group, err, fmt.Sprintf("the profile was created (id %s), but its enrollment-time device group was not set", r.ID),
		"its QR code was not read, so that no device enrolls outside the group: mend this, then run the same command with --on-exists update --qr-existing, which sets the group and prints the code")
	return false, abortError(err)
}

// syncGroup reads back the enrollment-time device group of the row's
// existing profile and, unless this is a dry run, sets or clears it when
// it is not the row's. The change goes into the row's Changes ("deviceGroup:
// Old → New"). changed reports a change made (or planned); ok false means
// the row failed, with err when that aborts the run. patched says an
// update of the profile came first, for the message.
func (w *worker) syncGroup(ctx context.Context, it *item, patched bool) (changed, ok bool, err error) {
	r, g := &it.r, it.group
	what := "the profile is otherwise unchanged"
	if patched {
		what = "the profile was updated (" + strings.Join(r.Changes, "; ") + ")"
	}
	cur, err := w.Client.RetrieveDeviceGroup(ctx, r.ID)
	if err != nil {
		w.groupFailed(r, g.Group, err, "reading back its enrollment-time device group failed", what+"; run the same command again")
		return false, false, abortError(err)
	}
	ids := cur.GroupIDs()
	var to string
	switch g.Action {
	case names.GroupClear:
		if len(ids) == 0 {
			return false, true, nil
		}
		to = "(empty)"
	default:
		if len(ids) == 1 && strings.EqualFold(ids[0], g.Group.ID) {
			return false, true, nil
		}
		to = g.Group.DisplayName
	}
	change := "deviceGroup: " + w.names.groupWords(ctx, ids) + plan.Arrow + to
	if w.DryRun {
		r.Changes = append(r.Changes, change)
		r.Status, r.Action = results.Planned, results.ActUpdate
		return true, true, nil
	}
	if g.Action == names.GroupClear {
		err = w.Client.ClearDeviceGroup(ctx, r.ID)
	} else {
		err = w.Client.SetDeviceGroup(ctx, r.ID, g.Group.ID)
	}
	if err != nil {
		doing := "setting its enrollment-time device group failed"
		if g.Action == names.GroupClear {
			doing = "clearing its enrollment-time device group failed"
		}
		w.groupFailed(r, g.Group, err, doing, what+"; mend this, then run the same command again")
		return false, false, abortError(err)
	}
	r.Changes = append(r.Changes, change)
	r.Action = results.ActUpdate
	return true, true, nil
}

// planGroup is a dry run's work on a row that needs its profile's device
// group read back: the read, and the change it would make.
func (w *worker) planGroup(ctx context.Context, it *item) error {
	if !it.readGroup {
		return nil
	}
	_, _, err := w.syncGroup(ctx, it, false)
	return err
}

// groupFailed settles the row failed for a device group action that did
// not succeed: what happened, the service's reason (for a group it
// refused, what the validation code means for this group), and next.
func (w *worker) groupFailed(r *results.Result, g graph.Group, err error, happened, next string) {
	record(r, err)
	r.Status = results.Failed
	reason := r.ErrorMessage
	var de *graph.DeviceGroupError
	switch {
	case errors.Is(err, ratelimit.ErrStopped):
		reason = "the run was stopped first"
	case errors.As(err, &de) && de.Err == nil:
		// The service answered with a validation result that failed.
		r.ErrorCode = orDefault(de.Code, "ValidationFailed")
		why := de.Why
		if de.Code != "" {
			why = graph.TargetCodeFix(de.Code, g.DisplayName)
		}
		reason = fmt.Sprintf("the service refused group %s with %s: %s", groupNamed(g), orDefault(de.Code, "validationSucceeded false"), why)
	case errors.As(err, &de):
		reason += "; " + de.Why
	}
	r.ErrorMessage = happened + ": " + reason + "; " + next
}

// abortError returns err when it aborts the run (an *graph.AuthError),
// else nil: a device group that failed fails only its row.
func abortError(err error) error {
	if graph.IsAuth(err) {
		return err
	}
	return nil
}
