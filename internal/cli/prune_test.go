package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/results"
)

func TestPrune(t *testing.T) {
	t.Parallel()
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	sheet := filepath.Join(t.TempDir(), "site12.csv")
	os.WriteFile(sheet, []byte("displayName,description\nSite 12 Dock 1,kept\nSite 12 Dock 3,new\nSite 12 Bad,\"x\",extra\n"), 0o600)
	cases := []struct {
		name     string
		args     []string
		code     int
		left     []string
		statuses map[results.Status]int
		stdout   string
		stderr   string
	}{
		{"without a prefix", []string{"--prune"}, 2, nil, nil, "", "--prune needs --name-prefix"},
		{"dry run", []string{"--prune", "--name-prefix", "site 12 ", "--dry-run"}, 1,
			[]string{"Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 2"},
			map[results.Status]int{results.Exists: 1, results.Planned: 2, results.Failed: 1},
			"would delete Site 12 Dock 2", "plan: 1 to create, 0 to update, 1 unchanged, 1 invalid, 1 to delete, 1 failed or not done"},
		{"off a terminal without --yes", []string{"--prune", "--name-prefix", "Site 12 "}, 2,
			[]string{"Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 2"}, nil,
			"will delete Site 12 Dock 2", "pass --yes"},
		{"with --yes", []string{"--prune", "--name-prefix", "Site 12 ", "--yes"}, 1,
			[]string{"Site 12 Dock 1", "Site 12 Dock 3", "Site 12 Till", "Site 13 Dock 2"},
			map[results.Status]int{results.Exists: 1, results.Created: 1, results.Deleted: 1, results.Failed: 1}, "keep Site 12 Till", ""},
		{"with --yes --force", []string{"--prune", "--name-prefix", "Site 12 ", "--yes", "--force"}, 1,
			[]string{"Site 12 Dock 1", "Site 12 Dock 3", "Site 13 Dock 2"},
			map[results.Status]int{results.Exists: 1, results.Created: 1, results.Deleted: 2}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{OmitImage: true})
			ps := s.Seed("Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 2")
			s.SetEnrolledDeviceCount(ps[2].ID, 5)
			out := t.TempDir()
			code, stdout, stderr := run(t, env, append([]string{"run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout lacks %q or stderr lacks %q:\n%s\n%s", tc.stdout, tc.stderr, stdout, stderr)
			}
			if tc.left != nil {
				var left []string
				for _, p := range s.Profiles() {
					left = append(left, p.DisplayName)
				}
				slices.Sort(left)
				if !slices.Equal(left, tc.left) {
					t.Errorf("left %q, want %q", left, tc.left)
				}
			}
			if tc.statuses == nil {
				if n := s.Stats().Creates + s.Stats().Deletes; n != 0 {
					t.Errorf("a refused run made %d writes", n)
				}
				return
			}
			file := "results.xlsx"
			if slices.Contains(tc.args, "--dry-run") {
				file = "plan.xlsx"
			}
			got := statuses(readResults(t, filepath.Join(out, file)))
			for st, n := range tc.statuses {
				if got[st] != n {
					t.Errorf("statuses %v, want %v", got, tc.statuses)
					break
				}
			}
		})
	}
}
