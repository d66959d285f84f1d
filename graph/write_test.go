package graph

import (
	"context"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

func TestPatchRetriesTransientFailuresAndLostAnswers(t *testing.T) {
	cases := []struct {
		name    string
		faults  []sim.Fault
		patches int
	}{
		{"plain", nil, 1},
		{"503 then 200", []sim.Fault{{Op: sim.OpPatch, Status: 503}}, 2},
		{"429 with Retry-After", []sim.Fault{{Op: sim.OpPatch, Status: 429, RetryAfter: "0.01"}}, 2},
		{"no answer, then 504", []sim.Fault{{Op: sim.OpPatch, Drop: true}, {Op: sim.OpPatch, Status: 504}}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newClient(t, sim.Options{})
			p := s.Seed("Dock 4")[0]
			s.Inject(tc.faults...)
			got, resp, err := c.Patch(context.Background(), p.ID, map[string]any{"description": "loading bay"})
			if err != nil {
				t.Fatalf("Patch: %v", err)
			}
			if resp.Status != 200 || got.Description != "loading bay" || got.ID != p.ID {
				t.Errorf("Patch returned %d %+v", resp.Status, got)
			}
			if n := s.Stats().Patches; n != tc.patches {
				t.Errorf("%d PATCH requests, want %d", n, tc.patches)
			}
			ps := s.Patches()
			if last := ps[len(ps)-1].Body; last["@odata.type"] == nil || len(last) != 2 {
				t.Errorf("PATCH body %v: want @odata.type and description only", last)
			}
		})
	}
}

func TestPatchFailureCarriesTheServiceError(t *testing.T) {
	s, c := newClient(t, sim.Options{})
	p := s.Seed("Dock 5")[0]
	_, _, err := c.Patch(context.Background(), p.ID, map[string]any{"wifiSecurityType": "wpa3"})
	ge, ok := err.(*Error)
	if !ok || ge.Status != 400 || ge.Code != "BadRequest" || ge.RequestID == "" {
		t.Fatalf("Patch error %#v", err)
	}
	if n := s.Stats().Patches; n != 1 {
		t.Errorf("a 400 was sent %d times", n)
	}
}

func TestDelete(t *testing.T) {
	s, c := newClient(t, sim.Options{})
	p := s.Seed("Till 9")[0]
	s.Inject(sim.Fault{Op: sim.OpDelete, Status: 503})
	if _, err := c.Delete(context.Background(), p.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := s.Profile(p.ID); ok {
		t.Error("profile still there")
	}
	_, err := c.Delete(context.Background(), p.ID)
	if !IsNotFound(err) {
		t.Errorf("second Delete: %v, want a 404", err)
	}
}
