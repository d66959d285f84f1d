package removal

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
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

// TestApplyReadsEachProfileAgain: the decision to delete rests on the
// profile as it is right before its DELETE, not on the listing; each
// result is recorded as it is settled.
func TestApplyReadsEachProfileAgain(t *testing.T) {
	cases := []struct {
		name   string
		change func(s *sim.Server, c *graph.Client, p profile.Profile)
		force  bool
		status results.Status
		note   string
		gone   bool
	}{
		{"unchanged", nil, false, results.Deleted, "", true},
		{"gone since the listing", func(s *sim.Server, c *graph.Client, p profile.Profile) {
			c.Delete(context.Background(), p.ID)
		}, false, results.NotFound, "gone when read again", true},
		{"renamed out of the prefix", func(s *sim.Server, c *graph.Client, p profile.Profile) {
			c.Patch(context.Background(), p.ID, map[string]any{"displayName": "Archiv 8 (keep)"})
		}, false, results.Exists, "no longer starts with", false},
		{"enrolled since the listing", func(s *sim.Server, c *graph.Client, p profile.Profile) {
			s.SetEnrolledDeviceCount(p.ID, 2)
		}, false, results.Failed, "2 device(s) enrolled", false},
		{"enrolled, with force", func(s *sim.Server, c *graph.Client, p profile.Profile) {
			s.SetEnrolledDeviceCount(p.ID, 2)
		}, true, results.Deleted, "", true},
		{"a 404 to the delete", func(s *sim.Server, c *graph.Client, p profile.Profile) {
			s.Inject(sim.Fault{Op: sim.OpDelete, Status: 404, Code: "ResourceNotFound", Message: "gone"})
		}, false, results.Deleted, "already gone", false}, // the fault answers without acting
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Options{OmitImage: true})
			hs := httptest.NewServer(s)
			defer hs.Close()
			c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client()}
			p := s.Seed("Dock 8")[0]
			rs := Plan([]profile.Profile{p}, nil, "Dock", nil, false)
			if tc.change != nil {
				tc.change(s, c, p)
			}
			var recorded []results.Status
			opts := Options{Force: tc.force, Record: func(r *results.Result) { recorded = append(recorded, r.Status) },
				Keep: func(p profile.Profile) string {
					if !profile.HasNamePrefix(p.DisplayName, "Dock") {
						return "its name no longer starts with the prefix"
					}
					return ""
				}}
			if err := Apply(context.Background(), c, rs, opts); err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.Status != tc.status || !strings.Contains(strings.Join(r.Notes, "; ")+r.ErrorMessage, tc.note) {
				t.Errorf("%s %q %q, want %s with %q", r.Status, r.Notes, r.ErrorMessage, tc.status, tc.note)
			}
			if _, there := s.Profile(p.ID); there == tc.gone {
				t.Errorf("profile there: %v", there)
			}
			if !slices.Equal(recorded, []results.Status{tc.status}) {
				t.Errorf("recorded %v", recorded)
			}
		})
	}
}
