package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Spool keeps a run's results on disk as they are settled, in input order,
// so that the run holds none of them in memory and the outputs are written
// from it afterwards; a run killed before it wrote its outputs leaves the
// spool behind as its record. It is a file of JSON lines, one Result each,
// mode 0600: it holds the QR payloads, Wi-Fi passwords included, so it is
// as secret as the QR sheet, and it is removed once the outputs are written.
type Spool struct {
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
	n    int
	err  error
	path string
}

// SpoolPattern is the name pattern of spool files (os.CreateTemp).
const SpoolPattern = ".enrollbatch-results-*.jsonl"

// CreateSpool starts a spool in dir.
func CreateSpool(dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, SpoolPattern)
	if err != nil {
		return nil, fmt.Errorf("create results spool: %w", err)
	}
	if err := f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create results spool: %w", err)
	}
	s := &Spool{f: f, w: bufio.NewWriterSize(f, 64<<10), path: f.Name()}
	s.enc = json.NewEncoder(s.w)
	return s, nil
}

// Path is the spool's file.
func (s *Spool) Path() string { return s.path }

// Len is the number of results added.
func (s *Spool) Len() int { return s.n }

// Add appends r. Each result reaches the file before Add returns, so a
// killed run's spool holds every result settled before it died. The first
// error is returned again by every later Add.
func (s *Spool) Add(r *Result) error {
	if s.err != nil {
		return s.err
	}
	if err := s.enc.Encode(r); err != nil {
		s.err = fmt.Errorf("write results spool %s: %w", s.path, err)
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("write results spool %s: %w", s.path, err)
		return s.err
	}
	s.n++
	return nil
}

// Source yields the results added so far, in order, read back from the
// file: every range reads it again from the start.
func (s *Spool) Source() Source {
	return func(yield func(*Result, error) bool) {
		if err := s.w.Flush(); err != nil {
			yield(nil, fmt.Errorf("write results spool %s: %w", s.path, err))
			return
		}
		f, err := os.Open(s.path)
		if err != nil {
			yield(nil, fmt.Errorf("read results spool: %w", err))
			return
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
		for i := 0; i < s.n; i++ {
			var r Result
			if err := dec.Decode(&r); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				yield(nil, fmt.Errorf("read results spool %s: result %d: %w", s.path, i+1, err))
				return
			}
			if r.InFlight {
				continue // settled by a later entry
			}
			if !yield(&r, nil) {
				return
			}
		}
	}
}

// Remove closes and deletes the spool.
func (s *Spool) Remove() error {
	s.f.Close()
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove results spool: %w", err)
	}
	return nil
}

// Then is the source of src's results followed by more's.
func (src Source) Then(more []Result) Source {
	return func(yield func(*Result, error) bool) {
		for r, err := range src {
			if !yield(r, err) || err != nil {
				return
			}
		}
		for i := range more {
			if !yield(&more[i], nil) {
				return
			}
		}
	}
}

// ReadSpool reads the results a spool file holds, for a spool that a run
// stopped before it wrote its outputs left behind. A last line cut off
// (the run was killed while writing it) is left out; torn reports whether
// one was.
func ReadSpool(path string) (rs []Result, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("read results spool: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if !bytes.HasSuffix(sc.Bytes(), []byte("}")) {
				// Only the last line can be cut off.
				if sc.Scan() {
					return nil, false, fmt.Errorf("read results spool %s: line %d: %w", path, line, err)
				}
				return rs, true, nil
			}
			return nil, false, fmt.Errorf("read results spool %s: line %d: %w", path, line, err)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("read results spool %s: %w", path, err)
	}
	return rs, false, nil
}
