package batch

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/results"
)

// TestCreateGivesUpByTheSharedCount checks when a create that keeps
// failing is given up: throttled answers do not use up --max-retries, and
// are capped by graph.MaxThrottled.
func TestCreateGivesUpByTheSharedCount(t *testing.T) {
	tests := []struct {
		name     string
		retries  int
		faults   []sim.Fault
		attempts int
	}{
		{"failures", 2, []sim.Fault{{Op: sim.OpCreate, Status: http.StatusBadGateway, Count: -1}}, 3},
		{"throttles first", 2, []sim.Fault{
			{Op: sim.OpCreate, Status: http.StatusTooManyRequests, Count: 4},
			{Op: sim.OpCreate, Status: http.StatusInternalServerError, Count: -1},
		}, 7},
		{"throttles only", 0, []sim.Fault{{Op: sim.OpCreate, Status: http.StatusTooManyRequests, Count: -1}}, graph.MaxThrottled + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, job := setup(t, sim.Options{})
			job.Concurrency = 1
			job.MaxRetries = tc.retries
			s.Inject(tc.faults...)
			rs, err := job.Run(context.Background(), makeRows(1, "Gate"))
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.Status != results.Failed || r.Attempts != tc.attempts ||
				!strings.HasPrefix(r.ErrorMessage, fmt.Sprintf("gave up after %d attempts: ", tc.attempts)) {
				t.Errorf("%s after %d attempts (%s), want failed after %d", r.Status, r.Attempts, r.ErrorMessage, tc.attempts)
			}
			if st := s.Stats(); st.Posts != tc.attempts || len(s.Profiles()) != 0 {
				t.Errorf("%d posts, %d profiles; want %d posts, none created", st.Posts, len(s.Profiles()), tc.attempts)
			}
		})
	}
}
