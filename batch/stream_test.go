package batch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// source yields rows one by one, as the input reader does, and counts
// them.
type source struct {
	rows []input.Row
	read atomic.Int64
	fail error // returned instead of the row after failAt rows
	at   int
}

func (s *source) next() (input.Row, error) {
	n := int(s.read.Load())
	if s.fail != nil && n == s.at {
		return input.Row{}, s.fail
	}
	if n == len(s.rows) {
		return input.Row{}, io.EOF
	}
	s.read.Add(1)
	return s.rows[n], nil
}

// TestStreamHoldsAWindowBehindASlowRow holds the first row's create until
// the reader has gone as far ahead as the job lets it: the results come out
// in input order, and at no time are more rows read than the window beyond
// the first row not yet emitted.
func TestStreamHoldsAWindowBehindASlowRow(t *testing.T) {
	s := sim.New(sim.Options{OmitImage: true})
	const concurrency = 4
	window := 1024 + 8*concurrency
	src := &source{rows: makeRows(window+300, "Belt")}
	var emitted atomic.Int64
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "Profiles") {
			body := new(strings.Builder)
			io.Copy(body, r.Body)
			r.Body = io.NopCloser(strings.NewReader(body.String()))
			if strings.Contains(body.String(), `"Belt 001"`) {
				<-release
			}
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), Pacer: ratelimit.New(ratelimit.Config{}), MaxRetries: 6, RequestTimeout: 10 * time.Second}
	job := &Job{Client: c, Options: Options{Concurrency: concurrency, MaxRetries: 6}}
	var worst int64
	next := func() (input.Row, error) {
		ahead := src.read.Load() - emitted.Load()
		worst = max(worst, ahead)
		if ahead == int64(window-1) {
			// The reader is as far ahead as it may go: let the first row
			// finish, or it would wait for it for ever.
			select {
			case <-release:
			default:
				close(release)
			}
		}
		return src.next()
	}
	var order []int
	err := job.Stream(context.Background(), CensusOf(src.rows), next, func(r *results.Result) error {
		order = append(order, r.Row)
		emitted.Add(1)
		if r.Status != results.Created {
			t.Errorf("row %d: %s %s", r.Row, r.Status, r.ErrorMessage)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != len(src.rows) {
		t.Fatalf("%d results for %d rows", len(order), len(src.rows))
	}
	for i, row := range order {
		if row != src.rows[i].Line {
			t.Fatalf("result %d is row %d, want row %d", i, row, src.rows[i].Line)
		}
	}
	if worst >= int64(window) {
		t.Errorf("the reader ran %d rows ahead of the results; the window is %d", worst, window)
	}
	if worst < int64(window-1) {
		t.Errorf("the reader never reached the window (%d ahead at most): the test did not hold the first row", worst)
	}
}

// TestStreamEmitFailureStopsSending fails emit at the tenth result: nothing
// more is sent, and every profile created has its result, emitted or
// unsaved.
func TestStreamEmitFailureStopsSending(t *testing.T) {
	s, job := setup(t, sim.Options{})
	src := &source{rows: makeRows(200, "Till")}
	n := 0
	full := errors.New("no space left on device")
	err := job.Stream(context.Background(), CensusOf(src.rows), src.next, func(r *results.Result) error {
		if n == 9 {
			return full
		}
		n++
		return nil
	})
	var ee *EmitError
	if !errors.As(err, &ee) || !errors.Is(err, full) {
		t.Fatalf("error %v, want an EmitError", err)
	}
	recorded := n + len(ee.Unsaved)
	if got := len(s.Profiles()); got > recorded {
		t.Errorf("%d profiles in the tenant, %d rows recorded", got, recorded)
	}
	if int(src.read.Load()) >= len(src.rows) {
		t.Errorf("every row was read after emit failed")
	}
	for i := 1; i < len(ee.Unsaved); i++ {
		if ee.Unsaved[i].Row <= ee.Unsaved[i-1].Row {
			t.Fatalf("unsaved rows out of order: %d after %d", ee.Unsaved[i].Row, ee.Unsaved[i-1].Row)
		}
	}
	if len(ee.Unsaved) == 0 || ee.Unsaved[0].Row != src.rows[9].Line {
		t.Errorf("unsaved rows start at %v, want row %d", ee.Unsaved, src.rows[9].Line)
	}
}

// TestStreamInputError breaks the input off after five rows: those five are
// settled and emitted, and the error says the input could not be read.
func TestStreamInputError(t *testing.T) {
	s, job := setup(t, sim.Options{})
	bad := errors.New("unexpected end of the zip file")
	src := &source{rows: makeRows(20, "Kiosk"), fail: bad, at: 5}
	var got []results.Result
	err := job.Stream(context.Background(), CensusOf(src.rows), src.next, func(r *results.Result) error {
		got = append(got, *r)
		return nil
	})
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, bad) {
		t.Fatalf("error %v, want an InputError", err)
	}
	if len(got) != 5 || len(s.Profiles()) != 5 {
		t.Fatalf("%d results and %d profiles, want 5 of each", len(got), len(s.Profiles()))
	}
	for _, r := range got {
		if r.Status != results.Created {
			t.Errorf("row %d: %s", r.Row, r.Status)
		}
	}
}
