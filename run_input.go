package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
)

// inputScan is what the first pass over the input found.
type inputScan struct {
	file   *input.File     // headers, extra columns and warnings; no rows
	census batch.Census    // the rows, counted
	names  map[string]bool // profile.Key of every row's name, with --prune
	size   int64           // the file's size and time, to tell whether it
	mtime  time.Time       // changed before the second pass
}

// scanInput reads the input once as a stream, validating every row and
// keeping only counts (and the names, for --prune).
func scanInput(path, sheet string, names bool) (*inputScan, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	r, err := input.Open(path, input.Options{Sheet: sheet})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &inputScan{size: fi.Size(), mtime: fi.ModTime()}
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
		if names && row.DisplayName != "" {
			s.names[profile.Key(row.DisplayName)] = true
		}
	}
	s.file = r.File()
	return s, nil
}

// errInputChanged is the error of an input file that changed between the
// two passes over it.
var errInputChanged = errors.New("the file changed while the run read it (saved again?); nothing more was sent: run the same command again")

// stream runs the job over a second pass of the input, recording every
// result as it is settled.
func (m *Main) stream(ctx context.Context, job *batch.Job, path, sheet string, scan *inputScan, rec *record) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() != scan.size || !fi.ModTime().Equal(scan.mtime) {
		return fmt.Errorf("read %s: %w", path, errInputChanged)
	}
	r, err := input.Open(path, input.Options{Sheet: sheet})
	if err != nil {
		return err
	}
	defer r.Close()
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
	err = job.Stream(ctx, scan.census, next, rec.add)
	if err == nil && rows != scan.census.Rows {
		err = fmt.Errorf("read %s: %w", path, errInputChanged)
	}
	return err
}
