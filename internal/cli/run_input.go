package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// inputScan is what the first pass over the input found.
type inputScan struct {
	file   *input.File     // headers, extra columns and warnings; no rows
	census batch.Census    // the rows, counted
	names  map[string]bool // profile.Key of every row's name, with --prune
	// unnamed lists the lines (at most maxUnnamed of them) of rows whose
	// displayName could not be read, and unnamedCount counts them all:
	// such a row may name a profile, so prune deletes nothing then.
	unnamed      []int
	unnamedCount int
	sum          [sha256.Size]byte // the file's content before the pass
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

// scanInput reads the input once as a stream, validating every row and
// keeping only counts (and the names, for --prune).
func scanInput(path, sheet string, names bool) (*inputScan, error) {
	sum, err := hashFile(path)
	if err != nil {
		return nil, err
	}
	r, err := input.Open(path, input.Options{Sheet: sheet})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &inputScan{sum: sum}
	if names {
		s.names = map[string]bool{}
	}
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s.census.Count(&row)
		if !names {
			continue
		}
		if row.NameUnknown() {
			if s.unnamedCount++; len(s.unnamed) < maxUnnamed {
				s.unnamed = append(s.unnamed, row.Line)
			}
			continue
		}
		s.names[profile.Key(row.DisplayName)] = true
	}
	s.file = r.File()
	return s, nil
}

// unnamedError is the error of --prune over a sheet with rows whose names
// cannot be read, or nil.
func (s *inputScan) unnamedError(path string) error {
	if s.unnamedCount == 0 {
		return nil
	}
	lines := make([]string, len(s.unnamed))
	for i, l := range s.unnamed {
		lines[i] = strconv.Itoa(l)
	}
	more := ""
	if s.unnamedCount > len(s.unnamed) {
		more = fmt.Sprintf(" and %d more", s.unnamedCount-len(s.unnamed))
	}
	return usagef("%s: row(s) %s%s have no displayName that could be read; every row protects the profile it names, so --prune deletes nothing while one cannot be read: fill in those names (or delete those rows), then run again; nothing was sent",
		path, strings.Join(lines, ", "), more)
}

// errInputChanged is the error of an input file that changed between the
// two passes over it.
var errInputChanged = errors.New("the file changed while the run read it (saved again?); nothing more was sent: run the same command again")

// notSentChanged is the message of a row never sent because the file
// changed before the second pass.
const notSentChanged = "not sent: the input file changed while the run read it; run the same command again"

// stream runs the job over a second pass of the input, recording every
// result as it is settled. When the file changed since the first pass,
// nothing is sent, and each row of the file as it is now is recorded
// not_attempted.
func (m *Main) stream(ctx context.Context, job *batch.Job, path, sheet string, scan *inputScan, rec *output.Record) error {
	sum, err := hashFile(path)
	if err != nil {
		return err
	}
	r, err := input.Open(path, input.Options{Sheet: sheet})
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
			rec.Add(&results.Result{Row: row.Line, DisplayName: row.DisplayName, Description: row.Description,
				Extras: row.Extras, Status: results.NotAttempted, ErrorMessage: notSentChanged})
		}
		return fmt.Errorf("read %s: %w", path, errInputChanged)
	}
	rows := 0
	next := func() (input.Row, error) {
		row, err := r.Next()
		if err == nil {
			if rows++; rows > scan.census.Rows {
				return input.Row{}, errInputChanged
			}
		}
		return row, err
	}
	// rec.add never fails: what the spool cannot take is held in memory.
	err = job.Stream(ctx, scan.census, next, rec.Add)
	if err == nil && rows != scan.census.Rows {
		err = fmt.Errorf("read %s: %w", path, errInputChanged)
	}
	if err == nil {
		if after, herr := hashFile(path); herr != nil || after != sum {
			err = fmt.Errorf("read %s: %w", path, errInputChanged)
		}
	}
	return err
}
