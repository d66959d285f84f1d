// Package removal deletes enrollment profiles from the tenant: those a
// file names, those whose names start with a prefix, or (for run --prune)
// those under a prefix that no row of the sheet names.
//
// It works in two steps so that people see what will go before anything
// goes: Plan matches names against the tenant's listing and returns one
// result per profile to delete (or per name that is not there), and Apply
// deletes the planned ones. A profile that devices enrolled with
// (enrolledDeviceCount > 0) is only deleted with Force, because those
// devices were set up with it.
package removal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// Select names the properties a listing for Plan needs.
var Select = []string{"id", "displayName", "description", "enrolledDeviceCount", "tokenExpirationDateTime"}

// Name is a profile name given in a file, with the row that gives it.
type Name struct {
	Row         int
	DisplayName string
	Extras      []string
}

// CodeEnrolled is the error code of a profile kept because devices
// enrolled with it.
const CodeEnrolled = "HasEnrolledDevices"

// Plan returns what deleting would do: for each name, the tenant's profiles
// with that name (profile.Key), or a not_found result (invalid for a row
// without a name); for a prefix, every
// profile whose name starts with it (case is ignored), except those named
// in keep. Profiles to delete are planned with Action delete; those with
// enrolled devices fail unless force. Results for a prefix come sorted by
// name.
func Plan(all []profile.Profile, names []Name, prefix string, keep map[string]bool, force bool) []results.Result {
	byKey := map[string][]profile.Profile{}
	for _, p := range all {
		k := profile.Key(p.DisplayName)
		byKey[k] = append(byKey[k], p)
	}
	var rs []results.Result
	add := func(row int, extras []string, p profile.Profile) {
		r := results.Result{Row: row, DisplayName: p.DisplayName, Description: p.Description, ID: p.ID,
			Status: results.Planned, Action: results.ActDelete, TokenExpiration: p.TokenExpirationDateTime, Extras: extras}
		if p.EnrolledDeviceCount > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d device(s) enrolled with this profile", p.EnrolledDeviceCount))
			if !force {
				r.Status, r.ErrorCode = results.Failed, CodeEnrolled
				r.ErrorMessage = fmt.Sprintf("%d device(s) enrolled with this profile; it was kept: pass --force to delete it anyway", p.EnrolledDeviceCount)
			}
		}
		rs = append(rs, r)
	}
	if prefix == "" {
		for _, n := range names {
			if strings.TrimSpace(n.DisplayName) == "" {
				rs = append(rs, results.Result{Row: n.Row, Status: results.Invalid, Extras: n.Extras,
					ErrorCode: "InvalidInput", ErrorMessage: "displayName is empty: nothing to delete"})
				continue
			}
			ps := byKey[profile.Key(n.DisplayName)]
			if len(ps) == 0 {
				rs = append(rs, results.Result{Row: n.Row, DisplayName: n.DisplayName, Status: results.NotFound,
					Extras: n.Extras, ErrorMessage: "no profile with this name is in the tenant"})
				continue
			}
			for _, p := range ps {
				add(n.Row, n.Extras, p)
				if note := profile.MatchNote(n.DisplayName, p.DisplayName); note != "" {
					rs[len(rs)-1].Notes = append(rs[len(rs)-1].Notes, note)
				}
			}
		}
		return rs
	}
	var under []profile.Profile
	for _, p := range all {
		if profile.HasNamePrefix(p.DisplayName, prefix) && !keep[profile.Key(p.DisplayName)] {
			under = append(under, p)
		}
	}
	slices.SortStableFunc(under, func(a, b profile.Profile) int {
		return strings.Compare(profile.Key(a.DisplayName), profile.Key(b.DisplayName))
	})
	for _, p := range under {
		add(0, nil, p)
	}
	return rs
}

// Options tune Apply.
type Options struct {
	Concurrency int          // deletes in flight; at least 1
	Log         *slog.Logger // one event per profile; nil for none
	// Force deletes profiles that devices enrolled with.
	Force bool
	// Keep, when set, is asked about each profile as it is right before its
	// DELETE (read again for it): a reason not to delete it, or "". Prune
	// keeps a profile renamed out of its prefix, or to a name a row of the
	// sheet gives.
	Keep func(p profile.Profile) string
	// Record, when set, is given every result once, one at a time: first
	// those with nothing to delete, then each deletion as soon as it is
	// settled, so that a run killed halfway has recorded every deletion
	// it made.
	Record func(r *results.Result)
	// Intend, when set, is given each result right before its DELETE is
	// sent, so that a run killed before the answer arrives has a record of
	// what it may have deleted.
	Intend func(r *results.Result)
}

// Apply deletes the profiles of the planned results (Action delete), or
// revokes their tokens (Action revoke), and sets each one's status; it
// logs each result, and gives it to Options.Record, once. Each profile is
// read again right before its request, so that the decision never rests on
// a stale listing: one that is gone is not_found, one that devices enrolled
// with since the listing is not deleted (unless Force), and one that Keep
// gives a reason for is left alone with that reason as a note (status
// exists, under its name now). A 404 to the DELETE means the profile is
// gone already (an earlier attempt whose answer was lost, or someone
// else): deleted, with a note. A stop before a request was sent leaves the
// result not_attempted. It returns an authentication or permission error,
// which stops it; the results not yet done are then not_attempted.
func Apply(ctx context.Context, c *graph.Client, rs []results.Result, opts Options) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(opts.Concurrency, 1))
	var mu sync.Mutex
	if opts.Intend != nil {
		intend := opts.Intend
		opts.Intend = func(r *results.Result) {
			mu.Lock()
			defer mu.Unlock()
			intend(r)
		}
	}
	settle := func(r *results.Result) {
		mu.Lock()
		defer mu.Unlock()
		if opts.Log != nil {
			logResult(opts.Log, r)
		}
		if opts.Record != nil {
			opts.Record(r)
		}
	}
	for i := range rs {
		if !Pending(rs[i]) {
			settle(&rs[i])
		}
	}
	for i := range rs {
		r := &rs[i]
		if !Pending(*r) {
			continue
		}
		r.Status = results.NotAttempted
		r.ErrorMessage = notSent(r.Action)
		g.Go(func() error {
			err := actOn(gctx, c, r, opts)
			settle(r)
			if graph.IsAuth(err) {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// notSent is the message of an action a stop left unsent.
func notSent(a results.Action) string {
	what := "this profile's delete"
	if a == results.ActRevoke {
		what = "the revocation of this profile's token"
	}
	return "not done: the run stopped before " + what + " was sent; run again to finish it"
}

// actOn reads r's profile again and deletes it, or revokes its token, if
// that should still be done.
func actOn(ctx context.Context, c *graph.Client, r *results.Result, opts Options) error {
	if ctx.Err() != nil {
		return nil
	}
	p, err := c.Get(ctx, r.ID, Select...)
	switch {
	case unsent(ctx, err):
		return nil
	case graph.IsNotFound(err):
		r.Status, r.ErrorMessage, r.HTTPStatus = results.NotFound, "", 404
		r.Notes = append(r.Notes, "not done: the profile was gone when read again right before the request")
		return nil
	case err != nil:
		r.Status = results.Failed
		describe(r, err)
		r.ErrorMessage = "not done: reading the profile again before the request failed: " + r.ErrorMessage
		return err
	}
	if p.DisplayName != r.DisplayName {
		r.Notes = append(r.Notes, fmt.Sprintf("renamed since it was listed (then %q)", r.DisplayName))
		r.DisplayName = p.DisplayName
	}
	r.TokenExpiration = p.TokenExpirationDateTime
	if why := keep(p, r.Action, opts); why != "" {
		r.Status, r.ErrorMessage = results.Exists, ""
		r.Notes = append(r.Notes, "left alone: "+why)
		if r.Action == results.ActDelete && p.EnrolledDeviceCount > 0 && !opts.Force {
			r.Status, r.ErrorCode = results.Failed, CodeEnrolled
			r.ErrorMessage = why + "; it was kept: pass --force to delete it anyway"
		}
		r.Action = ""
		return nil
	}
	r.Attempts = 1
	if opts.Intend != nil {
		opts.Intend(r)
	}
	var resp *graph.Response
	if r.Action == results.ActRevoke {
		err = c.RevokeToken(ctx, r.ID)
	} else {
		resp, err = c.Delete(ctx, r.ID)
	}
	r.ErrorMessage = ""
	switch {
	case err == nil && r.Action == results.ActRevoke:
		r.Status, r.TokenExpiration = results.Revoked, time.Time{}
	case err == nil:
		r.Status, r.HTTPStatus = results.Deleted, resp.Status
		r.RequestID, r.ClientRequestID = resp.RequestID, resp.ClientRequestID
	case unsent(ctx, err):
		r.Attempts = 0
		r.ErrorMessage = notSent(r.Action)
	case graph.IsNotFound(err) && r.Action == results.ActDelete:
		r.Status, r.HTTPStatus = results.Deleted, 404
		r.Notes = append(r.Notes, "already gone when the delete arrived (deleted by an earlier attempt or by someone else)")
	default:
		r.Status = results.Failed
		describe(r, err)
	}
	return err
}

// keep is the reason to keep p after all, read again right before its
// delete, or "".
func keep(p profile.Profile, a results.Action, opts Options) string {
	if a == results.ActDelete && p.EnrolledDeviceCount > 0 && !opts.Force {
		return fmt.Sprintf("%d device(s) enrolled with this profile", p.EnrolledDeviceCount)
	}
	if opts.Keep != nil {
		return opts.Keep(p)
	}
	return ""
}

// unsent reports an error that means the request was never sent: a stop
// (the pacer's gate shut) or a cancel before it left.
func unsent(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	var ge *graph.Error
	return errors.Is(err, ratelimit.ErrStopped) || !errors.As(err, &ge) && ctx.Err() != nil
}

// describe copies what an error says into the result.
func describe(r *results.Result, err error) {
	var ge *graph.Error
	if errors.As(err, &ge) {
		r.HTTPStatus, r.ErrorCode, r.ErrorMessage = ge.Status, ge.Code, ge.Readable()
		if ge.Transport != nil {
			r.ErrorCode = "NoResponse"
		}
		if ge.Message != r.ErrorMessage {
			r.ErrorRaw = ge.Message
		}
		r.RequestID, r.ClientRequestID = ge.RequestID, ge.ClientRequestID
		return
	}
	r.ErrorMessage = err.Error()
}

func logResult(log *slog.Logger, r *results.Result) {
	attrs := []any{"row", r.Row, "displayName", r.DisplayName, "status", string(r.Status), "id", r.ID}
	if r.RequestID != "" {
		attrs = append(attrs, "request-id", r.RequestID)
	}
	if len(r.Notes) > 0 {
		attrs = append(attrs, "notes", r.Notes)
	}
	if r.ErrorMessage != "" {
		attrs = append(attrs, "error", r.ErrorMessage)
	}
	lvl := slog.LevelInfo
	if r.Status == results.Failed {
		lvl = slog.LevelWarn
	}
	log.Log(context.Background(), lvl, "row", attrs...)
}

// Log logs every result, for a dry run or a run that holds the deletions
// back; Apply logs the results it is given itself.
func Log(log *slog.Logger, rs []results.Result) {
	if log == nil {
		return
	}
	for i := range rs {
		logResult(log, &rs[i])
	}
}

// Pending reports a result that Apply would act on.
func Pending(r results.Result) bool {
	return r.Status == results.Planned && (r.Action == results.ActDelete || r.Action == results.ActRevoke)
}

// Describe words one planned deletion for the list shown before anything
// is deleted.
func Describe(r results.Result) string {
	s := fmt.Sprintf("%s (%s)", r.DisplayName, r.ID)
	if len(r.Notes) > 0 {
		s += ": " + strings.Join(r.Notes, "; ")
	}
	switch {
	case r.Status == results.Failed:
		s += ": kept without --force"
	case Pending(r):
		// What it would kill, for the person deciding.
		s += ": every QR code printed for it stops working"
		if r.Action == results.ActDelete {
			s += ", and the profile is gone from the Intune admin center"
		}
	}
	return s
}
