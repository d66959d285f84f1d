// Package results holds the record a run leaves: one Result per non-blank
// input row, with the status the row ended in, and the facts of the run.
// The batch fills it, the output package writes it as a workbook, a CSV and
// a QR sheet, and reads a workbook back for reprints.
package results

import (
	"fmt"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/qr"
)

// Status is what became of one input row.
type Status string

// The statuses a row can end in.
const (
	Created      Status = "created"       // the profile was created by this run
	Exists       Status = "exists"        // a profile with the name was already in the tenant; nothing posted
	Invalid      Status = "invalid"       // the row failed validation; nothing posted
	Failed       Status = "failed"        // the service refused it, or retries ran out
	NotAttempted Status = "not_attempted" // the run stopped, or --strict held it back, before the row was finished
	Planned      Status = "planned"       // dry run: would be posted
	Renewed      Status = "renewed"       // the profile existed and got a fresh token
	Updated      Status = "updated"       // the profile existed and the properties listed in Changes were patched
	Deleted      Status = "deleted"       // the profile was deleted from the tenant
	NotFound     Status = "not_found"     // no profile with the name is in the tenant (delete, revoke)
	Revoked      Status = "revoked"       // revoke: the profile's token was revoked
)

// Statuses lists every status in the order summaries show them.
var Statuses = []Status{Created, Updated, Renewed, Exists, Deleted, Revoked, Planned, NotFound, Invalid, Failed, NotAttempted}

// OK reports whether a row in this status needs nothing more.
func (s Status) OK() bool {
	return s == Created || s == Exists || s == Planned || s == Renewed || s == Updated || s == Deleted || s == Revoked
}

// Result is the outcome of one input row.
type Result struct {
	Row             int       // row number the person sees in the input
	DisplayName     string    // as given in the input, trimmed
	Description     string    // as given in the input
	Status          Status    // what became of the row
	ID              string    // the profile's id in the tenant
	HTTPStatus      int       // status of the last response for this row
	Attempts        int       // POST attempts made
	ErrorCode       string    // the service's error code, or a local one
	ErrorMessage    string    // readable message: validation problems or the service's inner message
	ErrorRaw        string    // the service's message as sent, when it differs from ErrorMessage
	RequestID       string    // the service's request-id of the last response
	ClientRequestID string    // the client-request-id the job sent last
	TokenExpiration time.Time // expiry of the enrollment token; zero when unknown
	QRCodeContent   string    // the provisioning payload the QR code carries
	QRCodeImage     []byte    // a PNG from the service, when it gave no content
	QR              *qr.Code  `json:"-"` // QRCodeContent encoded, filled by the workers
	Extras          []string  // the input's extra columns, aligned with Run.ExtraHeaders
	Changes         []string  // what an update changed or a plan would change, one "property: old → new" each
	Action          Action    // what the row does, or in a dry run would do, to the tenant; empty for nothing
	Replaces        bool      // the QR payload changed: this code replaces codes printed before
	Notes           []string  // warnings and notices about the row: values changed, columns ignored, layout moved
	EnrollmentMode  string    // the profile's enrollmentMode, as the row gives it or the tenant holds it; empty when unknown
	// InFlight marks a spool entry written right before a destructive
	// request (a DELETE, a revokeToken) was sent: the entry that settles it
	// follows unless the run was killed first. It is never in a results
	// file; a rerun asks the tenant what became of it.
	InFlight bool `json:",omitempty"`
}

// Action is what a row does to the tenant, or would do in a dry run.
type Action string

// The actions a plan counts.
const (
	ActCreate Action = "create" // post a new profile
	ActUpdate Action = "update" // patch the properties listed in Changes
	ActDelete Action = "delete" // delete the profile
	ActRevoke Action = "revoke" // revoke the profile's token
)

// Plan counts what a run does or, in a dry run, would do.
type Plan struct {
	Create, Update, Delete int // rows that are (or would be) created, updated, deleted
	Unchanged              int // rows whose profile matches (exists)
	Invalid                int // rows that failed validation
	Other                  int // rows failed, not attempted or not found
}

// Merge adds the counts of q, another tenant's plan, to p.
func (p *Plan) Merge(q Plan) {
	p.Create += q.Create
	p.Update += q.Update
	p.Delete += q.Delete
	p.Unchanged += q.Unchanged
	p.Invalid += q.Invalid
	p.Other += q.Other
}

// PlanOf counts the results by what they do to the tenant.
func PlanOf(rs []Result) Plan {
	var p Plan
	for i := range rs {
		p.Add(&rs[i])
	}
	return p
}

// Add counts r.
func (p *Plan) Add(r *Result) {
	switch {
	case r.Status == Invalid:
		p.Invalid++
	case r.Status == Exists:
		p.Unchanged++
	case r.Action == ActCreate && (r.Status == Planned || r.Status == Created):
		p.Create++
	case r.Action == ActUpdate && (r.Status == Planned || r.Status == Updated):
		p.Update++
	case r.Action == ActDelete && (r.Status == Planned || r.Status == Deleted):
		p.Delete++
	case r.Status == Created:
		p.Create++
	case r.Status == Updated:
		p.Update++
	case r.Status == Deleted:
		p.Delete++
	case r.Status == Renewed:
		p.Unchanged++
	default:
		p.Other++
	}
}

// String words the plan: "3 to create, 7 to update, 30 unchanged, 1
// invalid", with ", 2 to delete" and ", 1 failed or not done" when there
// are such rows.
func (p Plan) String() string {
	s := fmt.Sprintf("%d to create, %d to update, %d unchanged, %d invalid", p.Create, p.Update, p.Unchanged, p.Invalid)
	if p.Delete > 0 {
		s += fmt.Sprintf(", %d to delete", p.Delete)
	}
	if p.Other > 0 {
		s += fmt.Sprintf(", %d failed or not done", p.Other)
	}
	return s
}

// Done words what a run did, in the plan's order: "3 created, 7
// updated, 30 unchanged, 1 invalid", with deleted and failed rows when
// there are any.
func (p Plan) Done() string {
	s := fmt.Sprintf("%d created, %d updated, %d unchanged, %d invalid", p.Create, p.Update, p.Unchanged, p.Invalid)
	if p.Delete > 0 {
		s += fmt.Sprintf(", %d deleted", p.Delete)
	}
	if p.Other > 0 {
		s += fmt.Sprintf(", %d failed or not done", p.Other)
	}
	return s
}

// Run describes one run of the job for the Summary sheet and the log.
type Run struct {
	Command      string    // "run", "validate", "qr", ...
	Input        string    // input file
	Sheet        string    // sheet read, for XLSX input
	Start, End   time.Time // wall clock
	GraphURL     string    // base URL, or "simulator"
	Concurrency  int
	Rate         float64 // requests per second; 0 = no client-side limit
	DryRun       bool
	Interrupted  bool          // stopped by a signal
	Aborted      string        // why the run was aborted, if it was
	ExtraHeaders []string      // headers of the input's extra columns
	Delimiter    rune          // the input CSV's delimiter, used again in results.csv; 0 for comma
	Requests     int           // HTTP requests sent
	Throttled    int           // 429 responses seen
	Paused       time.Duration // time every request was held back by Retry-After
	Tenant       string        // the tenant of a run over several tenants, as the sheet names it; "" otherwise
}

// Counts returns how many results are in each status.
func Counts(rs []Result) map[Status]int {
	m := make(map[Status]int, len(Statuses))
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

// Tally counts results as they go by, for runs that do not hold them.
type Tally struct {
	Rows   int            // results counted
	Counts map[Status]int // by status
	Plan   Plan           // by what they did to the tenant
	NotOK  int            // results whose status is not OK
	// Printable counts the results with a code to print (see Printable).
	Printable int
}

// Add counts r.
func (t *Tally) Add(r *Result) {
	if t.Counts == nil {
		t.Counts = make(map[Status]int, len(Statuses))
	}
	t.Rows++
	t.Counts[r.Status]++
	t.Plan.Add(r)
	if !r.Status.OK() {
		t.NotOK++
	}
	if r.Printable() {
		t.Printable++
	}
}

// TallyOf counts rs.
func TallyOf(rs []Result) Tally {
	var t Tally
	for i := range rs {
		t.Add(&rs[i])
	}
	return t
}

// Printable reports whether the result has something to print on a QR sheet.
func (r *Result) Printable() bool {
	return (r.Status == Created || r.Status == Exists || r.Status == Renewed || r.Status == Updated) &&
		(r.QRCodeContent != "" || len(r.QRCodeImage) > 0)
}

// Summary is the text printed on stderr at the end of a run: counts by
// status, then the run's traffic.
func (t *Tally) Summary(run Run) string {
	var b strings.Builder
	counts := t.Counts
	fmt.Fprintf(&b, "%d row(s):", t.Rows)
	for _, s := range Statuses {
		if counts[s] > 0 {
			fmt.Fprintf(&b, " %s %d,", s, counts[s])
		}
	}
	out := strings.TrimSuffix(b.String(), ",")
	b.Reset()
	b.WriteString(out)
	b.WriteByte('\n')
	elapsed := run.End.Sub(run.Start)
	achieved := 0.0
	if elapsed > 0 {
		achieved = float64(run.Requests) / elapsed.Seconds()
	}
	fmt.Fprintf(&b, "%d request(s) in %s (%.1f/s), %d throttled (429), paused %s\n",
		run.Requests, elapsed.Round(time.Millisecond), achieved, run.Throttled, run.Paused.Round(time.Millisecond))
	return b.String()
}

// wifiPasswordKey is the provisioning extra that carries the Wi-Fi password
// in a QR payload.
const wifiPasswordKey = `"android.app.extra.PROVISIONING_WIFI_PASSWORD"`

// RedactedMark replaces a Wi-Fi password in stored QR content.
const RedactedMark = "<redacted>"

// StoredContent is the QR content as the results keep it: the same payload
// with any Wi-Fi password replaced by RedactedMark, because results files
// are passed around and a Wi-Fi password never belongs in them. A payload
// with the mark cannot be printed from the results; print it from the
// tenant instead.
func StoredContent(content string) string {
	i := strings.Index(content, wifiPasswordKey)
	if i < 0 {
		return content
	}
	rest := content[i+len(wifiPasswordKey):]
	// Skip the colon and white space up to the opening quote of the value.
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return content
	}
	start := i + len(wifiPasswordKey) + j + 1
	end := start
	for end < len(content) && content[end] != '"' {
		if content[end] == '\\' {
			end++
		}
		end++
	}
	if end > len(content) {
		return content[:start] + RedactedMark + `"`
	}
	return content[:start] + RedactedMark + content[end:]
}

// IsRedacted reports whether stored content had a secret taken out.
func IsRedacted(content string) bool {
	return strings.Contains(content, wifiPasswordKey) && strings.Contains(content, `"`+RedactedMark+`"`)
}

// Source yields results in order, each with the error of reading it (nil,
// or the reason the source could not go on, when the result is nil). A
// source may be ranged over more than once: every range starts from the
// first result, so a writer can make one pass for its rows and another for
// a summary without holding them.
type Source func(yield func(*Result, error) bool)

// FromSlice is the source of the results held in rs.
func FromSlice(rs []Result) Source {
	return func(yield func(*Result, error) bool) {
		for i := range rs {
			if !yield(&rs[i], nil) {
				return
			}
		}
	}
}

// SameExpiry reports whether two token expiries are the same token's: equal
// to the second, since a workbook keeps no fractions of a second.
func SameExpiry(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Second && d < time.Second
}
