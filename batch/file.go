package batch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
	tenants "github.com/enrollbatch/enrollbatch/tenant"
)

// This file is the stage before the job and its way in: a first pass
// over an input file (ScanFile) that validates and counts every row and
// keeps the names prune must protect, then the job over a second pass
// (StreamFile), which holds only the rows in flight. The two passes
// compare the file's content.

// Scan is what the first pass over the input found.
type Scan struct {
	File   *input.File     // headers, extra columns and warnings; no rows
	Census Census          // the rows, counted
	Names  map[string]bool // profile.Key of every row's name, with --prune
	// Unnamed lists the lines (at most maxUnnamed of them) of rows whose
	// displayName could not be read, and UnnamedCount counts them all:
	// such a row may name a profile, so prune deletes nothing then.
	Unnamed      []int
	UnnamedCount int
	// Tenant is the tenant whose rows this scan counted, in a file with a
	// tenant column; "" for a scan of every row.
	Tenant string
	// Tenants holds, for a file with a tenant column, one Scan per tenant
	// the rows name (each with its own census and names: names are unique
	// per tenant); NoTenant lists the lines (at most maxUnnamed) of rows
	// whose tenant cell names no tenant, and NoTenantCount counts them.
	Tenants       map[string]*Scan
	NoTenant      []int
	NoTenantCount int
	sum           [sha256.Size]byte // the file's content before the pass
	// split, for one tenant's scan in a run over several, holds the rows
	// of the run's tenants put aside by SplitFile: the tenant's pass reads
	// its own rows from there, not the whole file.
	split *input.Split
}

// maxUnnamed bounds the lines an error about unreadable names lists.
const maxUnnamed = 10

// hashFile is the SHA-256 of the file's content. Two passes over the
// input compare it, not the size and time, which a copy with the times
// kept, or a share with coarse times, leaves as they were.
func hashFile(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once
		}
		return sum, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("read %s: %w", path, err)
	}
	h.Sum(sum[:0])
	return sum, nil
}

// ScanFile reads the input once as a stream, validating every row and
// keeping only counts (and the names, for --prune).
func ScanFile(path, sheet string, names bool) (*Scan, error) {
	sum, err := hashFile(path)
	if err != nil {
		return nil, err
	}
	r, err := input.Open(path, input.Options{Sheet: sheet})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := newScan(sum, names, "")
	split := r.File().HasTenants()
	if split {
		s.Tenants = map[string]*Scan{}
	}
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s.count(&row)
		if !split {
			continue
		}
		if row.Tenant == "" {
			if s.NoTenantCount++; len(s.NoTenant) < maxUnnamed {
				s.NoTenant = append(s.NoTenant, row.Line)
			}
			continue
		}
		ts := s.Tenants[row.Tenant]
		if ts == nil {
			ts = newScan(sum, names, row.Tenant)
			ts.File = r.File()
			s.Tenants[row.Tenant] = ts
		}
		ts.count(&row)
	}
	s.File = r.File()
	return s, nil
}

func newScan(sum [sha256.Size]byte, names bool, tenant string) *Scan {
	s := &Scan{sum: sum, Tenant: tenant}
	if names {
		s.Names = map[string]bool{}
	}
	return s
}

// count adds a row to the scan.
func (s *Scan) count(row *input.Row) {
	s.Census.Count(row)
	if s.Names == nil {
		return
	}
	if row.NameUnknown() {
		if s.UnnamedCount++; len(s.Unnamed) < maxUnnamed {
			s.Unnamed = append(s.Unnamed, row.Line)
		}
		return
	}
	s.Names[profile.Key(row.DisplayName)] = true
}

// TenantList returns the tenants the rows name, sorted.
func (s *Scan) TenantList() []string {
	ts := make([]string, 0, len(s.Tenants))
	for t := range s.Tenants {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// NoTenantError is the error of a file with a tenant column in which some
// rows name no tenant, or nil: such a row cannot be sent anywhere, and no
// tenant is guessed for it.
func (s *Scan) NoTenantError(path string) error {
	if s.NoTenantCount == 0 {
		return nil
	}
	return fmt.Errorf("%s: row(s) %s in column %q name no tenant; give each row its tenant's id or verified domain (such as contoso.onmicrosoft.com), then run again; nothing was sent",
		path, lineList(s.NoTenant, s.NoTenantCount), tenants.Column)
}

// lineList names lines: "3, 7 and 2 more".
func lineList(lines []int, count int) string {
	ls := make([]string, len(lines))
	for i, l := range lines {
		ls[i] = strconv.Itoa(l)
	}
	more := ""
	if count > len(lines) {
		more = fmt.Sprintf(" and %d more", count-len(lines))
	}
	return strings.Join(ls, ", ") + more
}

// UnnamedError is the error of --prune over a sheet with rows whose names
// cannot be read, or nil.
func (s *Scan) UnnamedError(path string) error {
	if s.UnnamedCount == 0 {
		return nil
	}
	return fmt.Errorf("%s: row(s) %s have no displayName that could be read; every row protects the profile it names, so --prune deletes nothing while one cannot be read: fill in those names (or delete those rows), then run again; nothing was sent",
		path, lineList(s.Unnamed, s.UnnamedCount))
}

// ErrInputChanged is the error of an input file that changed between the
// two passes over it.
var ErrInputChanged = errors.New("the file changed while the run read it (saved again?); nothing more was sent: run the same command again")

// NotSentChanged is the message of a row never sent because the file
// changed before the second pass.
const NotSentChanged = "not sent: the input file changed while the run read it; run the same command again"

// StreamFile runs the job over a second pass (of the scan's tenant's
// rows only, for a scan of one tenant) of the input, recording every
// result as it is settled. When the file changed since the first pass,
// nothing is sent, and each row of the file as it is now is recorded
// not_attempted.
func (j *Job) StreamFile(ctx context.Context, path, sheet string, scan *Scan, record func(*results.Result) error) error {
	if scan.split != nil {
		// SplitFile compared the file's content after its pass with the
		// scan's: the rows put aside are those the scan counted.
		r := scan.split.Open(scan.Tenant, input.Options{})
		defer r.Close()
		return j.streamRows(ctx, path, scan, r, record)
	}
	sum, err := hashFile(path)
	if err != nil {
		return err
	}
	r, err := input.Open(path, input.Options{Sheet: sheet, Tenant: scan.Tenant})
	if err != nil {
		return err
	}
	defer r.Close()
	if sum != scan.sum {
		for {
			row, err := r.Next()
			if err != nil {
				break
			}
			record(&results.Result{Row: row.Line, DisplayName: row.DisplayName, Description: row.Description,
				Extras: row.Extras, Status: results.NotAttempted, ErrorMessage: NotSentChanged})
		}
		return fmt.Errorf("read %s: %w", path, ErrInputChanged)
	}
	err = j.streamRows(ctx, path, scan, r, record)
	if err == nil {
		if after, herr := hashFile(path); herr != nil || after != sum {
			err = fmt.Errorf("read %s: %w", path, ErrInputChanged)
		}
	}
	return err
}

// streamRows runs the job over the rows r gives, which must be as many as
// the scan counted.
func (j *Job) streamRows(ctx context.Context, path string, scan *Scan, r *input.Reader, record func(*results.Result) error) error {
	rows := 0
	next := func() (input.Row, error) {
		row, err := r.Next()
		if err == nil {
			if rows++; rows > scan.Census.Rows {
				return input.Row{}, ErrInputChanged
			}
		}
		return row, err
	}
	err := j.Stream(ctx, scan.Census, next, record)
	if err == nil && rows != scan.Census.Rows {
		err = fmt.Errorf("read %s: %w", path, ErrInputChanged)
	}
	return err
}

// SplitFile reads the input once more in a run over several tenants,
// putting the rows of each of tenants aside (input.SplitTenants, in a
// spool in dir), and hands them to the tenants' scans in scans: each
// tenant's StreamFile and FailFile then read that tenant's rows only. A
// pass over the whole file per tenant made the reading grow with the
// tenants times the rows: a workbook of 10,000 rows over 500 tenants was
// parsed 500 times.
//
// The file's content must be the scan's after this pass. When it is not,
// or the rows cannot be put aside, nothing is handed over and
// the error says why; each tenant's pass then reads the file itself, as
// it would without SplitFile (and finds the change, if there is one).
// release, once every tenant's pass is over, removes the spool.
func SplitFile(path, sheet, dir string, scans map[string]*Scan, tenants []string) (release func() error, err error) {
	if len(tenants) == 0 {
		return func() error { return nil }, nil
	}
	sp, err := input.SplitTenants(path, input.Options{Sheet: sheet}, tenants, dir)
	if err != nil {
		return nil, err
	}
	// Nothing is sent during this pass: the content after it being the
	// scan's is enough.
	if after, err := hashFile(path); err != nil || after != scans[tenants[0]].sum {
		sp.Close()
		if err == nil {
			err = fmt.Errorf("read %s: %w", path, ErrInputChanged)
		}
		return nil, err
	}
	for _, t := range tenants {
		scans[t].split = sp
	}
	return func() error {
		for _, t := range tenants {
			scans[t].split = nil
		}
		return sp.Close()
	}, nil
}

// FailFile records every row of the scan (of its tenant's rows, for a scan
// of one tenant) without sending anything: a valid row failed with why, an
// invalid one invalid with its problems. It is the record of a tenant the
// run could not work in (no sign-in, no consent), whose rows still each
// end in the results with a status.
func FailFile(path, sheet string, scan *Scan, why string, record func(*results.Result) error) error {
	var r *input.Reader
	if scan.split != nil {
		r = scan.split.Open(scan.Tenant, input.Options{})
	} else {
		var err error
		if r, err = input.Open(path, input.Options{Sheet: sheet, Tenant: scan.Tenant}); err != nil {
			return err
		}
	}
	defer r.Close()
	for idx := 0; ; idx++ {
		row, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &InputError{Err: err}
		}
		it := newItem(idx, row)
		if it.r.Status != results.Invalid {
			it.r.Status, it.r.ErrorMessage = results.Failed, why
		}
		if err := record(&it.r); err != nil {
			return &EmitError{Err: err}
		}
	}
}
