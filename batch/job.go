package batch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/names"
	"github.com/enrollbatch/enrollbatch/plan"
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
	MaxRetries    int              // resends of a create after a transient failure other than throttling (graph.Retries); reads and updates follow the client's
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

	names *resolver // the sheet's scope tags and device groups, once looked up (names.go)
}

// ListError is returned when the tenant's profiles could not be listed:
// nothing was posted.
type ListError struct{ Err error }

func (e *ListError) Error() string { return "list the tenant's profiles: " + e.Err.Error() }
func (e *ListError) Unwrap() error { return e.Err }

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
	j.names = nil
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
			j.names.apply(&row)
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
	// The names the rows give, looked up once before anything is posted
	// (names.go); the rows they make invalid count for --strict.
	if census.names.lookups() {
		j.state(StateNames)
		res, err := j.lookUpNames(ctx, census.names)
		if err != nil {
			if herr := hold("not attempted: the scope tags or device groups the sheet names could not be looked up, so nothing was posted"); herr != nil {
				return herr
			}
			if graph.IsAuth(err) {
				return err
			}
			return &NamesError{Err: err}
		}
		j.names = res
		census = res.recount(census)
		if j.Strict && census.Invalid > 0 {
			return hold(fmt.Sprintf("held back by --strict: %s invalid; fix them and run again", invalidRows(census)))
		}
	} else {
		j.names, _ = j.lookUpNames(ctx, nil)
	}

	j.state(StateListing)
	t, err := j.listTenant(ctx)
	if err != nil {
		if herr := hold("not attempted: the tenant's profiles could not be listed, so nothing was posted"); herr != nil {
			return herr
		}
		if graph.IsAuth(err) {
			return err
		}
		return &ListError{Err: err}
	}

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
		group := j.names.apply(&row)
		it := newItem(idx, row)
		it.group = group
		j.classify(it, t, now)
		if it.kind == 0 || j.DryRun && !it.readGroup {
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
			switch {
			case j.DryRun:
				err = w.planGroup(gctx, it)
			case it.kind == doCreate:
				err = w.create(gctx, it)
			case it.kind == doRenew:
				err = w.renew(gctx, it)
			case it.kind == doFetch:
				err = w.fetch(gctx, it)
			case it.kind == doUpdate:
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

// kind is the work a row needs, as classify decides it; 0 for none.
type kind int

const (
	doCreate kind = iota + 1 // post it (create.go)
	doRenew                  // renew the token of its profile (update.go)
	doFetch                  // read its profile's QR content (content.go)
	doUpdate                 // patch its profile (update.go)
)

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
	// group is what to do with the profile's enrollment-time device
	// group (names.go, group.go); readGroup says the existing profile's
	// must be read back and compared first (--on-exists update).
	group     names.Decision
	readGroup bool
}

// newItem starts row's result: not attempted, or invalid with its problems.
func newItem(idx int, row input.Row) *item {
	it := &item{idx: idx, row: row}
	it.r = results.Result{
		Row: row.Line, DisplayName: row.DisplayName, Description: row.Description,
		Extras: row.Extras, Status: results.NotAttempted,
		Notes: append([]string(nil), row.Notes...),
	}
	if it.r.DisplayName == "" {
		it.r.DisplayName = row.NameGiven // shown, never matched: the row is invalid
	}
	it.r.EnrollmentMode, _ = row.Body["enrollmentMode"].(string)
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

// StateListing is the state the job reports while it lists the tenant.
const StateListing = "listing the tenant"

// state tells the progress display what the job is doing.
func (j *Job) state(s string) {
	if j.State != nil {
		j.State(s)
	}
}

// stopped reports whether Stop is closed.
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

// worker does the work of the rows the fan-out hands it: create (create.go),
// update and renew (update.go), fetch (content.go). One worker serves every
// goroutine of the group; it holds nothing of a row.
type worker struct {
	*Job
	before map[string]bool // ids in the tenant before the run
	out    *ordered
}
