// Package batch runs the job: it checks which rows already exist in the
// tenant, fans the rest out to a bounded group of workers that share one
// pacer, retries what the service failed in a transient way without ever
// creating a profile twice, and records the outcome of every row.
//
// A row's failure is that row's result, never the group's error: only a
// fatal condition (the token rejected twice, a missing permission) cancels
// the run. When the job is asked to stop, no further rows are handed out,
// requests in flight finish, and rows never sent stay not_attempted.
package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/provisioning"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// OnExists says what to do with a row whose name is already in the tenant.
type OnExists string

// The choices of --on-exists.
const (
	Skip   OnExists = "skip"   // report exists, post nothing
	Create OnExists = "create" // post anyway (a second profile with that name)
	Fail   OnExists = "fail"   // report the row failed
	Update OnExists = "update" // patch the properties that differ (status updated)
)

// DefaultTokenValidity is the token lifetime asked for when a row gives no
// tokenExpirationDateTime.
const DefaultTokenValidity = 90 * 24 * time.Hour

// Options tune a job.
type Options struct {
	Concurrency   int              // workers; at least 1
	MaxRetries    int              // resends of a row after a transient failure
	OnExists      OnExists         // default Skip
	Strict        bool             // post nothing when any row is invalid
	DryRun        bool             // look up names and compare, change nothing: a plan
	UpdateSecrets bool             // with Update: send a row's wifiPassword even when no other Wi-Fi setting changed
	QRExisting    bool             // fetch the QR content of rows that exist, to print them
	RenewWithin   time.Duration    // renew tokens of existing profiles that expire within this window; 0 is off
	TokenValidity time.Duration    // token lifetime when a row gives no expiry; default DefaultTokenValidity
	Now           func() time.Time // clock for expiry decisions; default time.Now
	Log           *slog.Logger     // one event per row; nil for none
	Progress      func(done, total int)
	State         func(what string) // what the job is doing now, for the progress display
	// Prepare is called in the worker once a row's QR content is known, so
	// that costly work (encoding the QR code) is spread over every core.
	Prepare func(r *results.Result)
	// Stop, when closed, hands out no more rows; requests in flight finish.
	Stop <-chan struct{}
}

// Job creates profiles through one Graph client.
type Job struct {
	Client *graph.Client
	Options
}

// ListError is returned when the tenant's profiles could not be listed:
// nothing was posted.
type ListError struct{ Err error }

func (e *ListError) Error() string { return "list the tenant's profiles: " + e.Err.Error() }
func (e *ListError) Unwrap() error { return e.Err }

type kind int

const (
	doCreate kind = iota + 1
	doRenew
	doFetch
	doUpdate
)

// Census is what a first pass over the input found: a job that streams
// its rows needs it before the first row is sent (--strict holds every row
// back when one is invalid, and a file of invalid rows lists nothing).
type Census struct {
	Rows         int   // non-blank rows
	Invalid      int   // rows with problems
	Unsendable   int   // rows invalid whether or not their profile exists
	InvalidLines []int // the first ten invalid rows, for messages
}

// Count adds row to the census.
func (c *Census) Count(row *input.Row) {
	c.Rows++
	if row.Valid() {
		return
	}
	c.Invalid++
	if !input.OnlyForNew(row.Problems) {
		c.Unsendable++
	}
	if len(c.InvalidLines) < 10 {
		c.InvalidLines = append(c.InvalidLines, row.Line)
	}
}

// CensusOf counts rows.
func CensusOf(rows []input.Row) Census {
	var c Census
	for i := range rows {
		c.Count(&rows[i])
	}
	return c
}

// Run processes rows and returns one result per row, in the same order.
// The error is non-nil only when the run was aborted (an *graph.AuthError)
// or could not start (a *ListError); the results are complete even then.
func (j *Job) Run(ctx context.Context, rows []input.Row) ([]results.Result, error) {
	rs := make([]results.Result, 0, len(rows))
	i := 0
	next := func() (input.Row, error) {
		if i == len(rows) {
			return input.Row{}, io.EOF
		}
		i++
		return rows[i-1], nil
	}
	err := j.Stream(ctx, CensusOf(rows), next, func(r *results.Result) error {
		rs = append(rs, *r)
		return nil
	})
	noteEarlierSharedIDs(rs, j.Log)
	return rs, err
}

// InputError is returned by Stream when the rows could not be read to the
// end: the rows read were settled and emitted, the rest have no result.
type InputError struct{ Err error }

func (e *InputError) Error() string { return "read the input: " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// EmitError is returned by Stream when emit failed: no further row was
// sent, and the results emit did not take (the failed one and every later
// one, in input order) are in Unsaved.
type EmitError struct {
	Err     error
	Unsaved []results.Result
}

func (e *EmitError) Error() string { return "record results: " + e.Err.Error() }
func (e *EmitError) Unwrap() error { return e.Err }

// Stream processes the rows next yields (io.EOF after the last) and hands
// each row's result to emit in input order, as soon as it and every row
// before it are settled, so that a run of any size holds only the rows in
// flight. emit is called by one goroutine at a time. census must count the
// rows next yields (a first pass over the input).
//
// The error is a *graph.AuthError or a "run aborted" error when the run
// was aborted, a *ListError when the tenant could not be listed (every row
// is emitted, not attempted), an *InputError when next failed, or an
// *EmitError when emit did.
func (j *Job) Stream(ctx context.Context, census Census, next func() (input.Row, error), emit func(*results.Result) error) error {
	if j.Concurrency < 1 {
		j.Concurrency = 1
	}
	if j.OnExists == "" {
		j.OnExists = Skip
	}
	if j.TokenValidity <= 0 {
		j.TokenValidity = DefaultTokenValidity
	}
	if j.Now == nil {
		j.Now = time.Now
	}
	out := newOrdered(j, emit, census.Rows, 1024+8*j.Concurrency)
	hold := func(why string) error {
		for idx := 0; ; idx++ {
			out.reserve(idx)
			row, err := next()
			if err == io.EOF {
				return out.wait()
			}
			if err != nil {
				out.wait()
				return &InputError{Err: err}
			}
			it := newItem(idx, row)
			if it.r.Status != results.Invalid && why != "" {
				it.r.Status, it.r.ErrorMessage = results.NotAttempted, why
			}
			if out.put(it) != nil {
				return out.wait()
			}
		}
	}
	switch {
	case j.Strict && census.Invalid > 0:
		return hold(fmt.Sprintf("held back by --strict: %s invalid; fix them and run again", invalidRows(census)))
	case census.Unsendable == census.Rows:
		return hold("")
	}

	j.state(StateListing)
	existing, err := j.Client.List(ctx, listSelect()...)
	if err != nil {
		if herr := hold("not attempted: the tenant's profiles could not be listed, so nothing was posted"); herr != nil {
			return herr
		}
		if graph.IsAuth(err) {
			return err
		}
		return &ListError{Err: err}
	}
	t := &tenant{byName: make(map[string]profile.Profile, len(existing)), before: make(map[string]bool, len(existing))}
	for k, p := range existing {
		t.before[p.ID] = true
		if p.IsTeamsDeviceProfile && t.teams == nil {
			t.teams = &existing[k]
		}
		if _, dup := t.byName[profile.Key(p.DisplayName)]; !dup {
			t.byName[profile.Key(p.DisplayName)] = p
		}
	}
	existing = nil

	j.state("creating")
	w := &worker{Job: j, before: t.before, out: out}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(j.Concurrency)
	now := j.Now()
	var readErr error
	for idx := 0; ; idx++ {
		out.reserve(idx)
		row, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		it := newItem(idx, row)
		j.classify(it, t, now)
		if it.kind == 0 || j.DryRun {
			if out.put(it) != nil {
				break
			}
			continue
		}
		if out.failed() {
			out.put(it) // never sent: recorded with the unsaved rows
			break
		}
		if j.stopped() || gctx.Err() != nil {
			it.notSent(j.stopped())
			out.put(it)
			continue
		}
		g.Go(func() error {
			if j.stopped() || gctx.Err() != nil {
				it.notSent(j.stopped())
				out.put(it)
				return nil
			}
			var err error
			switch it.kind {
			case doCreate:
				err = w.create(gctx, it)
			case doRenew:
				err = w.renew(gctx, it)
			case doFetch:
				err = w.fetch(gctx, it)
			case doUpdate:
				err = w.update(gctx, it)
			}
			w.logRow(&it.r)
			it.logged = true
			out.put(it)
			return err
		})
	}
	err = g.Wait()
	if oerr := out.wait(); oerr != nil {
		return oerr
	}
	if readErr != nil {
		return &InputError{Err: readErr}
	}
	if err != nil && !graph.IsAuth(err) {
		err = fmt.Errorf("run aborted: %w", err)
	}
	return err
}

// tenant is what the listing found, read-only once rows are sent.
type tenant struct {
	byName map[string]profile.Profile // by profile.Key of the name; the first of equal names
	before map[string]bool            // ids in the tenant before the run
	teams  *profile.Profile           // the tenant's Teams device profile, if any
}

// item is one row on its way through the job: read, classified, worked on
// by one worker at most, then emitted and dropped.
type item struct {
	idx    int // position in the input, from 0
	row    input.Row
	r      results.Result
	kind   kind
	diff   plan.Diff // doUpdate: what to patch
	renew  bool      // doUpdate: renew the token as well
	mode   string    // the tenant's mode, for a row that gives none
	logged bool      // the row's event is logged
}

// newItem starts row's result: not attempted, or invalid with its problems.
func newItem(idx int, row input.Row) *item {
	it := &item{idx: idx, row: row}
	it.r = results.Result{
		Row: row.Line, DisplayName: row.DisplayName, Description: row.Description,
		Extras: row.Extras, Status: results.NotAttempted,
		Notes: append([]string(nil), row.Notes...),
	}
	if !row.Valid() {
		it.r.Status = results.Invalid
		it.r.ErrorCode = "InvalidInput"
		it.r.ErrorMessage = problemText(row.Problems)
	}
	return it
}

// notSent settles a row whose work was never sent because the run was
// stopped (or cancelled): not_attempted, with what that left in the tenant.
func (it *item) notSent(stopped bool) {
	how := "cancelled"
	if stopped {
		how = "stopped"
	}
	left := "no profile exists for it"
	switch it.kind {
	case doUpdate:
		left = "the profile is unchanged"
	case doRenew:
		left = "the profile keeps its old token"
	case doFetch:
		left = "the profile exists; its QR code was not read"
	}
	it.r.Status = results.NotAttempted
	it.r.ErrorMessage = how + " before the row was sent; " + left + ": run the same command again to finish it"
}

// classify decides what the job does with the row, by what the tenant
// holds: its kind of work, or none with the result settled.
func (j *Job) classify(it *item, t *tenant, now time.Time) {
	r, row := &it.r, &it.row
	p, found := t.byName[profile.Key(row.DisplayName)]
	if note := profile.MatchNote(row.DisplayName, p.DisplayName); found && note != "" {
		r.Notes = append(r.Notes, note)
	}
	if r.Status == results.Invalid {
		if found && j.OnExists == Skip && input.OnlyForNew(row.Problems) {
			// Nothing of the row is sent: its past expiry does not
			// matter, as a daily run over an old sheet shows.
			r.Status, r.ID, r.ErrorCode, r.ErrorMessage = results.Exists, p.ID, "", ""
			r.TokenExpiration = inRowZone(p.TokenExpirationDateTime, *row)
			r.Notes = append(r.Notes, "ignored: "+problemText(row.Problems)+" (the profile exists and nothing was sent)")
		}
		return
	}
	if on, _ := row.Body["isTeamsDeviceProfile"].(bool); on && t.teams != nil &&
		(!found || j.OnExists == Create || j.OnExists == Update && t.teams.ID != p.ID) {
		// One Teams device profile per tenant, and the tenant has
		// another: posting or patching this row would make two.
		r.Status, r.ErrorCode = results.Invalid, "InvalidInput"
		r.ErrorMessage = fmt.Sprintf("isTeamsDeviceProfile: the tenant already has a Teams device profile, %q (%s); one profile per tenant may be for Teams devices (%s)",
			t.teams.DisplayName, t.teams.ID, profile.PageAOSPAssociate)
		return
	}
	switch {
	case found && j.OnExists == Fail:
		r.Status, r.ID = results.Failed, p.ID
		r.ErrorCode = "AlreadyExists"
		r.ErrorMessage = "a profile with this name is already in the tenant (--on-exists fail)"
	case found && (j.OnExists == Skip || j.OnExists == Update):
		r.Status, r.ID, r.TokenExpiration = results.Exists, p.ID, inRowZone(p.TokenExpirationDateTime, *row)
		d := plan.Compare(row.Given(), p, plan.Options{UpdateSecrets: j.UpdateSecrets})
		expiring := j.RenewWithin > 0 && (p.TokenExpirationDateTime.IsZero() || p.TokenExpirationDateTime.Before(now.Add(j.RenewWithin)))
		if _, given := row.Body["enrollmentMode"]; !given && p.EnrollmentMode != "" {
			it.mode = p.EnrollmentMode // a new token follows the tenant's mode
		}
		if expiring && !p.TokenExpirationDateTime.IsZero() {
			if d, _ := j.lifetime(row, it.mode, now); now.Add(d).Before(p.TokenExpirationDateTime) {
				// --renew-within never shortens a token.
				r.Notes = append(r.Notes, fmt.Sprintf("not renewed: a new token would expire %s, before the current one (%s); give a longer --token-validity or tokenExpirationDateTime",
					now.Add(d).UTC().Format(time.RFC3339), p.TokenExpirationDateTime.UTC().Format(time.RFC3339)))
				expiring = false
			}
		}
		switch {
		case !d.Empty() && j.OnExists == Update:
			r.Changes, r.Action = d.Strings(), results.ActUpdate
			if d.Payload {
				r.Changes = append(r.Changes, StaleNote)
			}
			it.diff, it.renew = d, expiring
			it.kind = doUpdate
			if j.DryRun {
				r.Status = results.Planned
			}
		case !d.Empty():
			r.Notes = append(r.Notes, "the tenant's profile differs from the row ("+strings.Join(d.Strings(), "; ")+"); nothing was changed: run with --on-exists update to apply the row")
			fallthrough
		default:
			known, why := p.Known()
			switch {
			case !known && (expiring || j.QRExisting):
				// A mode or token type this tool does not know: its
				// token lifetime and QR payload cannot be vouched for.
				r.Notes = append(r.Notes, "not renewed nor printed: the tenant's profile has "+why)
			case expiring:
				it.kind = doRenew
			case j.QRExisting:
				it.kind = doFetch
			}
		}
	default:
		it.kind = doCreate
		r.Action = results.ActCreate
		if j.DryRun {
			r.Status = results.Planned
		}
	}
}

// invalidRows names the invalid rows: "row 3 is" or "rows 3, 7 and 9 are",
// the first ten of them.
func invalidRows(c Census) string {
	nums := make([]string, len(c.InvalidLines))
	for i, l := range c.InvalidLines {
		nums[i] = fmt.Sprint(l)
	}
	switch {
	case c.Invalid == 1:
		return "row " + nums[0] + " is"
	case c.Invalid > len(nums):
		return fmt.Sprintf("rows %s and %d more are", strings.Join(nums, ", "), c.Invalid-len(nums))
	default:
		return "rows " + strings.Join(nums[:len(nums)-1], ", ") + " and " + nums[len(nums)-1] + " are"
	}
}

// inRowZone returns t, a time from the service (UTC), in the zone the row
// gave its tokenExpirationDateTime in, so that labels and logs show the
// expiry as the user wrote it: 2027-03-31T23:30-05:00 stays 31 March.
func inRowZone(t time.Time, row input.Row) time.Time {
	if t.IsZero() || row.TokenExpiration.IsZero() || row.TokenExpiration.Location() == time.UTC {
		return t
	}
	return t.In(row.TokenExpiration.Location())
}

// StateListing is the state the job reports while it lists the tenant.
const StateListing = "listing the tenant"

// state tells the progress display what the job is doing.
func (j *Job) state(s string) {
	if j.State != nil {
		j.State(s)
	}
}

func (j *Job) stopped() bool {
	if j.Stop == nil {
		return false
	}
	select {
	case <-j.Stop:
		return true
	default:
		return false
	}
}

func problemText(ps []input.Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.Column != "" {
			parts[i] = p.Column + ": " + p.Message
		} else {
			parts[i] = p.Message
		}
	}
	return strings.Join(parts, "; ")
}

type worker struct {
	*Job
	before map[string]bool // ids in the tenant before the run
	out    *ordered
}

// logRow logs the event of one row's outcome: at info level for rows that
// ended well or were never tried, at warning level for rows that need
// attention (so text logs, which show warnings only, list them with their
// problems).
func (j *Job) logRow(r *results.Result) {
	if j.Log == nil {
		return
	}
	attrs := []any{"row", r.Row, "displayName", r.DisplayName, "status", string(r.Status)}
	if r.Attempts > 0 {
		attrs = append(attrs, "attempt", r.Attempts, "request-id", r.RequestID, "client-request-id", r.ClientRequestID)
	}
	if r.ID != "" {
		attrs = append(attrs, "id", r.ID)
	}
	if len(r.Changes) > 0 {
		attrs = append(attrs, "changes", r.Changes)
	}
	if len(r.Notes) > 0 {
		attrs = append(attrs, "notes", r.Notes)
	}
	if r.ErrorMessage != "" {
		attrs = append(attrs, "error", r.ErrorMessage)
	}
	lvl := slog.LevelInfo
	if r.Status == results.Invalid || r.Status == results.Failed {
		lvl = slog.LevelWarn
	}
	j.Log.Log(context.Background(), lvl, "row", attrs...)
}

// logRest logs the rows that no worker finished (invalid, exists, planned,
// not attempted), in input order, so that every input row has an event.
// record copies what an error says into the result.
func record(r *results.Result, err error) {
	var ge *graph.Error
	if errors.As(err, &ge) {
		r.HTTPStatus = ge.Status
		r.ErrorCode = ge.Code
		if ge.Transport != nil {
			r.ErrorCode = "NoResponse"
		}
		if ge.Incomplete {
			r.ErrorCode = "IncompleteAnswer"
		}
		r.ErrorMessage = ge.Readable()
		if ge.Message != r.ErrorMessage {
			r.ErrorRaw = ge.Message
		} else {
			r.ErrorRaw = ""
		}
		if ge.RequestID != "" {
			r.RequestID = ge.RequestID
		}
		r.ClientRequestID = ge.ClientRequestID
		return
	}
	r.ErrorMessage = err.Error()
}

func clearError(r *results.Result) {
	r.ErrorCode, r.ErrorMessage, r.ErrorRaw = "", "", ""
}

// create posts the row, resending after transient failures. Before any resend
// it looks the name up, since the failed attempt may have created the
// profile: a profile with the name that was not in the tenant before the run
// is taken as this row's.
func (w *worker) create(ctx context.Context, it *item) error {
	row, r := &it.row, &it.r
	maybe := false // an earlier attempt may have created the profile
	failures := 0  // transient failures other than throttling
	throttles := 0 // throttled answers; the pacer slows down for them
	for attempt := 1; ; attempt++ {
		if maybe {
			p, found, err := w.lookup(ctx, row.DisplayName)
			if errors.Is(err, ratelimit.ErrStopped) {
				r.Status = results.Failed
				r.ErrorMessage = "stopped before the row was settled: an earlier attempt may have created the profile (" + r.ErrorMessage + "); rerun with --on-exists skip to find out"
				return nil
			}
			if err != nil {
				if graph.IsAuth(err) {
					record(r, err)
					r.Status = results.Failed
					return err
				}
				record(r, err)
				r.Status = results.Failed
				r.ErrorMessage = "the profile may have been created, but looking it up failed: " + r.ErrorMessage + "; rerun with --on-exists skip to settle it"
				return nil
			}
			if found {
				return w.adopt(ctx, it, p)
			}
			if w.stopped() {
				r.Status = results.NotAttempted
				r.ErrorMessage = "stopped before the row was finished; no profile exists for it: " + r.ErrorMessage
				return nil
			}
		}
		r.Attempts = attempt
		p, resp, err := w.Client.Create(ctx, row.Body)
		if err == nil {
			clearError(r)
			r.Status, r.ID, r.HTTPStatus = results.Created, p.ID, resp.Status
			r.RequestID, r.ClientRequestID = resp.RequestID, resp.ClientRequestID
			r.TokenExpiration = inRowZone(p.TokenExpirationDateTime, *row)
			return w.complete(ctx, it, p)
		}
		record(r, err)
		r.Status = results.Failed
		if graph.IsAuth(err) {
			return err
		}
		var ge *graph.Error
		if !errors.As(err, &ge) {
			stopped := errors.Is(err, ratelimit.ErrStopped)
			if (ctx.Err() != nil || stopped) && !maybe {
				// Stopped or cancelled while waiting for the pacer (also
				// during a Retry-After pause): never sent.
				r.Status, r.Attempts = results.NotAttempted, attempt-1
				r.ErrorMessage = "cancelled before the request was sent; no profile exists for it"
				if stopped {
					r.ErrorMessage = "stopped before the request was sent; no profile exists for it"
				}
			}
			var se *graph.SignInError
			if errors.As(err, &se) && !maybe {
				// No token, so nothing was sent: no profile exists for it.
				r.Status, r.Attempts = results.NotAttempted, attempt-1
				r.ErrorMessage = "not sent: " + err.Error() + "; run the same command again to create it"
			}
			return nil
		}
		if ctx.Err() != nil {
			r.ErrorMessage = "cancelled while the request was in flight; it may have been created: rerun with --on-exists skip to find out"
			return nil
		}
		if !ge.Transient() {
			return nil
		}
		maybe = maybe || ge.MaybeApplied()
		if ge.Throttled() {
			throttles++
		} else {
			failures++
		}
		if failures > w.MaxRetries || throttles > graph.MaxThrottled {
			if maybe {
				// Settle whether the last attempt created it.
				if p, found, lerr := w.lookup(ctx, row.DisplayName); lerr == nil && found {
					return w.adopt(ctx, it, p)
				}
			}
			r.ErrorMessage = fmt.Sprintf("gave up after %d attempts: %s", attempt, r.ErrorMessage)
			return nil
		}
		if !ge.HasRetryAfter && !w.stopped() && w.Client.Pacer != nil {
			if err := w.Client.Pacer.Sleep(ctx, w.Client.Pacer.Backoff(attempt)); err != nil {
				r.ErrorMessage = "cancelled while waiting to retry; it may have been created: rerun with --on-exists skip to find out"
				return nil
			}
		}
	}
}

// adopt takes p, found by name after an attempt whose answer was lost, as
// the profile this row created.
func (w *worker) adopt(ctx context.Context, it *item, p profile.Profile) error {
	r := &it.r
	clearError(r)
	r.Status, r.ID, r.TokenExpiration = results.Created, p.ID, inRowZone(p.TokenExpirationDateTime, it.row)
	return w.fetch(ctx, it)
}

// lookup finds a profile named name that was not in the tenant before the
// run.
func (w *worker) lookup(ctx context.Context, name string) (profile.Profile, bool, error) {
	ps, err := w.Client.FindByName(ctx, name, "id", "displayName", "tokenExpirationDateTime")
	if err != nil {
		return profile.Profile{}, false, err
	}
	key := profile.Key(name)
	for _, p := range ps {
		if !w.before[p.ID] && profile.Key(p.DisplayName) == key {
			return p, true, nil
		}
	}
	return profile.Profile{}, false, nil
}

// selectQR names what a GET must select to return the token and QR code.
var selectQR = []string{"id", "displayName", "tokenValue", "tokenCreationDateTime", "tokenExpirationDateTime", "qrCodeContent", "qrCodeImage"}

// complete makes sure a created profile has a token and QR content: when the
// service returned neither, it creates a token and reads them back.
func (w *worker) complete(ctx context.Context, it *item, p profile.Profile) error {
	r := &it.r
	switch {
	case p.QRCodeContent != "":
		var img []byte
		if p.QRCodeImage != nil {
			img = p.QRCodeImage.Value
		}
		w.setContent(r, p.QRCodeContent, img)
		w.prepare(r)
		return nil
	case p.TokenValue == "":
		if err := w.Client.CreateToken(ctx, p.ID, w.validity(it)); err != nil {
			if tokenRefused(r, err) {
				r.Status = results.Failed
				r.ErrorMessage = "the profile was created without a token, and " + r.ErrorMessage
				return nil
			}
			return w.contentFailed(r, "create its token", err)
		}
	}
	return w.fetch(ctx, it)
}

// fetch reads a profile's token expiry and QR content.
func (w *worker) fetch(ctx context.Context, it *item) error {
	r := &it.r
	p, err := w.Client.Get(ctx, r.ID, selectQR...)
	if err != nil {
		return w.contentFailed(r, "read its QR code", err)
	}
	if !p.TokenExpirationDateTime.IsZero() {
		r.TokenExpiration = inRowZone(p.TokenExpirationDateTime, it.row)
	}
	var img []byte
	if p.QRCodeImage != nil {
		img = p.QRCodeImage.Value
	}
	w.setContent(r, p.QRCodeContent, img)
	w.prepare(r)
	return nil
}

// setContent records what the row's code prints: the provisioning JSON
// found in the service's qrCodeContent and qrCodeImage (see package
// provisioning). What was done to the service's content goes into the
// row's notes; warnings go into the log as well.
func (w *worker) setContent(r *results.Result, content string, img []byte) {
	pl := provisioning.Resolve(content, img)
	r.QRCodeContent, r.QRCodeImage = pl.Content, pl.Image
	r.Notes = append(r.Notes, pl.Notes...)
	r.Notes = append(r.Notes, pl.Warnings...)
	if w.Log != nil {
		for _, warn := range pl.Warnings {
			w.Log.Warn("qr code", "row", r.Row, "displayName", r.DisplayName, "id", r.ID, "warning", warn)
		}
	}
}

// renew creates a fresh token for an existing profile and reads it back.
func (w *worker) renew(ctx context.Context, it *item) error {
	r := &it.r
	r.Attempts++
	if err := w.Client.CreateToken(ctx, r.ID, w.validity(it)); err != nil {
		if errors.Is(err, ratelimit.ErrStopped) {
			r.Attempts--
			r.Status = results.NotAttempted
			r.ErrorMessage = "stopped before the token was renewed; the profile keeps its old token"
			return nil
		}
		if tokenRefused(r, err) {
			r.Status = results.Failed
			r.ErrorMessage = "renewing the token failed: " + r.ErrorMessage
			return nil
		}
		record(r, err)
		r.Status = results.Failed
		r.ErrorMessage = "renewing the token failed: " + r.ErrorMessage
		if graph.IsAuth(err) {
			return err
		}
		return nil
	}
	r.Status = results.Renewed
	return w.fetch(ctx, it)
}

// tokenRefused records a token action the service refused for this
// profile alone (a *graph.TokenError) and reports whether err was one: the
// row fails, the run goes on.
func tokenRefused(r *results.Result, err error) bool {
	var te *graph.TokenError
	if !errors.As(err, &te) {
		return false
	}
	record(r, err)
	r.ErrorMessage = fmt.Sprintf("%s for %q (id %s) answered %d: %s; %s", te.Action, r.DisplayName, te.ID, te.Err.Status, r.ErrorMessage, te.Why)
	return true
}

func (w *worker) contentFailed(r *results.Result, what string, err error) error {
	keep := r.Status
	record(r, err)
	r.Status = keep
	r.ErrorMessage = fmt.Sprintf("the profile is in the tenant, but the job could not %s: %s; print it later with enrollbatch qr --from-tenant", what, r.ErrorMessage)
	if graph.IsAuth(err) {
		return err
	}
	return nil
}

func (w *worker) prepare(r *results.Result) {
	if w.Prepare != nil && (r.QRCodeContent != "" || len(r.QRCodeImage) > 0) {
		w.Prepare(r)
	}
}

// listSelect is what the job asks of the tenant listing: what a row is
// compared with (plan.Select), and what the one-per-tenant Teams rule needs.
func listSelect() []string {
	sel := plan.Select()
	for _, name := range []string{"id", "displayName", "tokenExpirationDateTime", "enrollmentMode", "enrollmentTokenType", "isTeamsDeviceProfile"} {
		if !slices.Contains(sel, name) {
			sel = append(sel, name)
		}
	}
	return sel
}

// validity is the token lifetime for the row (Job.lifetime), with a note
// on the row when it was cut to the mode's limit.
func (w *worker) validity(it *item) time.Duration {
	d, note := w.lifetime(&it.row, it.mode, w.Now())
	if note != "" {
		w.note(&it.r, note)
	}
	return d
}

// lifetime is the token lifetime for row: up to its tokenExpirationDateTime
// when given, else --token-validity; never more than the mode allows
// (profile.TokenLimitFor), the row's mode or else tenantMode. The note
// says when the lifetime was cut.
func (j *Job) lifetime(row *input.Row, tenantMode string, now time.Time) (time.Duration, string) {
	d := j.TokenValidity
	fromRow := false
	if exp := row.TokenExpiration; !exp.IsZero() {
		if left := exp.Sub(now); left > time.Hour {
			d, fromRow = left, true
		}
	}
	mode, _ := row.Body["enrollmentMode"].(string)
	if mode == "" {
		mode = tenantMode
	}
	limit := profile.MaxTokenValidity(mode, now)
	if d <= limit {
		return d, ""
	}
	what := fmt.Sprintf("--token-validity %s", days(j.TokenValidity))
	if fromRow {
		what = "tokenExpirationDateTime " + row.TokenExpiration.Format(time.RFC3339)
	}
	return limit, fmt.Sprintf("token lifetime: %s is longer than %s tokens may last (%s, %s); the token was asked for %s",
		what, profile.EffectiveMode(mode), profile.TokenLimitFor(mode), profile.TokenLimitFor(mode).Source, days(limit))
}

// StaleNote ends the changes of an update that alters the QR payload.
const StaleNote = "QR payload changed: codes printed before this update are stale; print the new sheet and destroy the old one"

// update patches the properties of the row that differ from the tenant's
// profile. The client retries it after a transient failure, an update
// being idempotent. When the change alters the QR payload, the new content
// is read back so that a replacement label is printed.
func (w *worker) update(ctx context.Context, it *item) error {
	r := &it.r
	d := it.diff
	r.Attempts++
	_, resp, err := w.Client.Patch(ctx, r.ID, d.Patch)
	if err != nil {
		record(r, err)
		r.Status = results.Failed
		if graph.IsAuth(err) {
			return err
		}
		var ge *graph.Error
		if !errors.As(err, &ge) && (ctx.Err() != nil || errors.Is(err, ratelimit.ErrStopped)) {
			it.notSent(errors.Is(err, ratelimit.ErrStopped))
			r.Attempts--
		}
		return nil
	}
	clearError(r)
	r.Status, r.HTTPStatus = results.Updated, resp.Status
	r.RequestID, r.ClientRequestID = resp.RequestID, resp.ClientRequestID
	if it.renew {
		if err := w.Client.CreateToken(ctx, r.ID, w.validity(it)); err != nil {
			return w.contentFailed(r, "renew its token after the update", err)
		}
		r.Notes = append(r.Notes, "token renewed after the update (--renew-within)")
		r.Replaces = true
		return w.fetch(ctx, it)
	}
	if d.Payload {
		r.Replaces = true
		return w.fetch(ctx, it)
	}
	if w.QRExisting {
		return w.fetch(ctx, it)
	}
	return nil
}

// days renders a lifetime for people, in whole days when it is one.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%.1fd", d.Hours()/24)
}

// note adds a note to r once.
func (w *worker) note(r *results.Result, n string) {
	if !slices.Contains(r.Notes, n) {
		r.Notes = append(r.Notes, n)
		if w.Log != nil {
			w.Log.Warn("note", "row", r.Row, "displayName", r.DisplayName, "note", n)
		}
	}
}
