package removal

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

func TestPlan(t *testing.T) {
	all := []profile.Profile{
		{ID: "1", DisplayName: "Site 12 Dock"},
		{ID: "2", DisplayName: "site 12 dock"}, // a duplicate name
		{ID: "3", DisplayName: "Site 12 Till", EnrolledDeviceCount: 2},
		{ID: "4", DisplayName: "Site 120 Office"},
		{ID: "5", DisplayName: "Site 13 Dock"},
	}
	type want struct {
		id     string
		status results.Status
	}
	cases := []struct {
		name   string
		names  []Name
		prefix string
		keep   map[string]bool
		force  bool
		want   []want
	}{
		{"by name, every profile with it", []Name{{Row: 2, DisplayName: " SITE 12 DOCK"}}, "", nil, false,
			[]want{{"1", results.Planned}, {"2", results.Planned}}},
		{"by name, not found", []Name{{Row: 3, DisplayName: "Nowhere"}}, "", nil, false,
			[]want{{"", results.NotFound}}},
		{"a row without a name", []Name{{Row: 4, DisplayName: " "}}, "", nil, false,
			[]want{{"", results.Invalid}}},
		{"enrolled devices kept", []Name{{Row: 2, DisplayName: "Site 12 Till"}}, "", nil, false,
			[]want{{"3", results.Failed}}},
		{"enrolled devices with force", []Name{{Row: 2, DisplayName: "Site 12 Till"}}, "", nil, true,
			[]want{{"3", results.Planned}}},
		{"prefix, case ignored, sorted", nil, "SITE 12 ", nil, true,
			[]want{{"1", results.Planned}, {"2", results.Planned}, {"3", results.Planned}}},
		{"prefix keeps what rows name", nil, "Site 12", map[string]bool{"site 12 dock": true}, false,
			[]want{{"3", results.Failed}, {"4", results.Planned}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := Plan(all, tc.names, tc.prefix, tc.keep, tc.force)
			var got []want
			for _, r := range rs {
				got = append(got, want{r.ID, r.Status})
				if r.Status == results.Planned && r.Action != results.ActDelete {
					t.Errorf("%s planned without the delete action", r.DisplayName)
				}
				if r.Status == results.Failed && r.ErrorCode != CodeEnrolled {
					t.Errorf("%s failed with %q", r.DisplayName, r.ErrorCode)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("plan %v, want %v", got, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	cases := []struct {
		name    string
		faults  []sim.Fault
		status  results.Status
		code    string
		deletes int
	}{
		{"deleted", nil, results.Deleted, "", 1},
		{"503 then deleted", []sim.Fault{{Op: sim.OpDelete, Status: 503}}, results.Deleted, "", 2},
		{"no answer, then deleted", []sim.Fault{{Op: sim.OpDelete, Drop: true}}, results.Deleted, "", 2},
		{"refused", []sim.Fault{{Op: sim.OpDelete, Status: 400, Code: "BadRequest", Message: "Profile is assigned."}}, results.Failed, "BadRequest", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Options{OmitImage: true})
			hs := httptest.NewServer(s)
			defer hs.Close()
			c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client(), MaxRetries: 3,
				Pacer: ratelimit.New(ratelimit.Config{BackoffBase: time.Microsecond, BackoffCap: time.Millisecond})}
			p := s.Seed("Dock")[0]
			s.Inject(tc.faults...)
			rs := Plan([]profile.Profile{p}, nil, "Dock", nil, false)
			if err := Apply(context.Background(), c, rs, Options{Concurrency: 2}); err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.Status != tc.status || r.ErrorCode != tc.code {
				t.Errorf("%s %q %q, want %s %q", r.Status, r.ErrorCode, r.ErrorMessage, tc.status, tc.code)
			}
			if n := s.Stats().Deletes; n != tc.deletes {
				t.Errorf("%d DELETEs, want %d", n, tc.deletes)
			}
			if _, there := s.Profile(p.ID); there != (tc.status == results.Failed) {
				t.Errorf("profile still there: %v", there)
			}
		})
	}
}

func TestApplyCountsA404AsDeleted(t *testing.T) {
	s := sim.New(sim.Options{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client()}
	p := s.Seed("Dock")[0]
	rs := Plan([]profile.Profile{p}, nil, "Dock", nil, false)
	if _, err := c.Delete(context.Background(), p.ID); err != nil { // someone else got there first
		t.Fatal(err)
	}
	if err := Apply(context.Background(), c, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != results.Deleted || len(rs[0].Notes) != 1 {
		t.Errorf("%s %q", rs[0].Status, rs[0].Notes)
	}
}
