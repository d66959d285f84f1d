package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// referenceTenant seeds profiles of every kind the export must carry.
func referenceTenant(s *sim.Server) {
	exp := time.Date(2027, 5, 31, 17, 30, 0, 0, time.UTC)
	s.SeedProfiles(
		profile.Profile{DisplayName: "Site 12 Tills", Description: "front of store", RoleScopeTagIDs: []string{"0", "14"},
			EnrollmentMode: "corporateOwnedDedicatedDevice", EnrollmentTokenType: "corporateOwnedDedicatedDeviceWithAzureADSharedMode",
			DeviceNameTemplate: "TILL-{{SERIAL}}", TokenExpirationDateTime: exp},
		// An open network: a WPA one needs its password typed again
		// before the export validates, since the service never returns it.
		profile.Profile{DisplayName: "Site 12 AOSP Scanners", EnrollmentMode: "corporateOwnedAOSPUserlessDevice",
			EnrollmentTokenUsageCnt: 250, ConfigureWifi: true, WifiSsid: "STORE12-GUEST", WifiSecurityType: "none", WifiHidden: true,
			TokenExpirationDateTime: time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)},
		profile.Profile{DisplayName: "Site 12 Managers", EnrollmentMode: "corporateOwnedFullyManaged", EnrollmentTokenType: "deviceStaging",
			IsTeamsDeviceProfile: false, TokenExpirationDateTime: exp},
		profile.Profile{DisplayName: "Site 7 Kiosk", Description: "not under the prefix"},
	)
}

// comparable returns each profile's writable properties in words, by
// name, for comparing tenants.
func comparable(s *sim.Server, prefix string) map[string][]string {
	out := map[string][]string{}
	for _, p := range s.Profiles() {
		if !strings.HasPrefix(p.DisplayName, prefix) {
			continue
		}
		var vals []string
		for _, name := range plan.Select()[1:] {
			v := plan.Value(p, name)
			if t, ok := v.(time.Time); ok {
				v = t.UTC().Truncate(time.Second).Format(time.RFC3339)
			}
			vals = append(vals, fmt.Sprintf("%s=%v", name, v))
		}
		out[p.DisplayName] = vals
	}
	return out
}

func TestExportRoundTrips(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".xlsx", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			ref, refURL := simServer(t, sim.Options{OmitImage: true})
			referenceTenant(ref)
			env := []string{"GRAPH_ACCESS_TOKEN=t"}
			dir := t.TempDir()
			file := filepath.Join(dir, "export"+ext)
			code, _, stderr := run(t, env, "export", "--graph-url", refURL, "--out", file, "--name-prefix", "site 12 ")
			if code != 0 || !strings.Contains(stderr, "3 profile(s)") {
				t.Fatalf("export exit %d: %s", code, stderr)
			}
			if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("export file %v mode %v", err, fi.Mode())
			}
			// The reader takes it as it is: template headers, sorted, valid.
			f, err := input.Read(file, input.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range f.Rows {
				names = append(names, r.DisplayName)
				if !r.Valid() {
					t.Errorf("row %d is invalid: %v", r.Line, r.Problems)
				}
			}
			if !slices.Equal(names, []string{"Site 12 AOSP Scanners", "Site 12 Managers", "Site 12 Tills"}) {
				t.Errorf("exported names %q", names)
			}
			if f.Headers[len(f.Headers)-1] != "id" {
				t.Errorf("headers %q: want id last", f.Headers)
			}
			for i, p := range input.TemplateProperties() {
				if f.Headers[i] != p.Name {
					t.Errorf("header %d %q, want %q", i, f.Headers[i], p.Name)
				}
			}

			// Against the same tenant: nothing posted nor patched.
			before := ref.Stats()
			code, _, stderr = run(t, env, "run", "--graph-url", refURL, "--input", file, "--out", filepath.Join(dir, "same"), "--rate", "0", "--on-exists", "update")
			if code != 0 {
				t.Fatalf("run on the same tenant exit %d: %s", code, stderr)
			}
			after := ref.Stats()
			if after.Creates != before.Creates || after.Patches != 0 {
				t.Errorf("run on the same tenant: %d creates, %d patches", after.Creates-before.Creates, after.Patches)
			}
			rs := readResults(t, filepath.Join(dir, "same", "results.xlsx"))
			if statuses(rs)[results.Exists] != 3 {
				t.Errorf("same tenant statuses %v", statuses(rs))
			}

			// Against an empty tenant: the same profiles again.
			empty, emptyURL := simServer(t, sim.Options{OmitImage: true})
			code, _, stderr = run(t, env, "run", "--graph-url", emptyURL, "--input", file, "--out", filepath.Join(dir, "new"), "--rate", "0")
			if code != 0 {
				t.Fatalf("run on an empty tenant exit %d: %s", code, stderr)
			}
			want, got := comparable(ref, "Site 12 "), comparable(empty, "Site 12 ")
			if len(got) != 3 {
				t.Fatalf("%d profiles recreated", len(got))
			}
			for name, w := range want {
				if !slices.Equal(got[name], w) {
					t.Errorf("%s recreated as\n %q\nwant\n %q", name, got[name], w)
				}
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	seed := func(s *sim.Server) map[string]string {
		ids := map[string]string{}
		for _, p := range s.Seed("Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 1") {
			ids[p.DisplayName] = p.ID
		}
		s.SetEnrolledDeviceCount(ids["Site 12 Till"], 3)
		return ids
	}
	names := func(s *sim.Server) []string {
		var out []string
		for _, p := range s.Profiles() {
			out = append(out, p.DisplayName)
		}
		slices.Sort(out)
		return out
	}
	list := filepath.Join(t.TempDir(), "closed.csv")
	os.WriteFile(list, []byte("displayName,Site\nSite 12 Dock 2,12\nsite 13 dock 1 ,13\nSite 99 Gone,99\n"), 0o600)
	cases := []struct {
		name    string
		args    []string
		code    int
		left    []string
		status  map[results.Status]int
		stdout  []string
		stderr  string
		deletes int
	}{
		{"prefix without --yes off a terminal", []string{"--name-prefix", "Site 12 "}, 2,
			[]string{"Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 1"}, nil,
			[]string{"will delete Site 12 Dock 1", "will delete Site 12 Dock 2", "keep Site 12 Till"}, "pass --yes", 0},
		{"prefix dry run", []string{"--name-prefix", "site 12 ", "--dry-run"}, 1,
			[]string{"Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 1"},
			map[results.Status]int{results.Planned: 2, results.Failed: 1}, []string{"would delete Site 12 Dock 1"}, "", 0},
		{"prefix with --yes keeps enrolled", []string{"--name-prefix", "Site 12 ", "--yes"}, 1,
			[]string{"Site 12 Till", "Site 13 Dock 1"}, map[results.Status]int{results.Deleted: 2, results.Failed: 1}, nil, "", 2},
		{"prefix with --yes --force", []string{"--name-prefix", "Site 12 ", "--yes", "--force"}, 0,
			[]string{"Site 13 Dock 1"}, map[results.Status]int{results.Deleted: 3}, nil, "", 3},
		{"file with --yes", []string{"--input", list, "--yes"}, 1,
			[]string{"Site 12 Dock 1", "Site 12 Till"}, map[results.Status]int{results.Deleted: 2, results.NotFound: 1},
			[]string{"not in the tenant: Site 99 Gone"}, "", 2},
		{"file dry run", []string{"--input", list, "--dry-run"}, 1,
			[]string{"Site 12 Dock 1", "Site 12 Dock 2", "Site 12 Till", "Site 13 Dock 1"},
			map[results.Status]int{results.Planned: 2, results.NotFound: 1}, nil, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{})
			seed(s)
			out := t.TempDir()
			args := append([]string{"delete", "--graph-url", url, "--out", out, "--rate", "0"}, tc.args...)
			code, stdout, stderr := run(t, env, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			if got := names(s); !slices.Equal(got, tc.left) {
				t.Errorf("left in the tenant %q, want %q", got, tc.left)
			}
			if n := s.Stats().Deletes; n != tc.deletes {
				t.Errorf("%d DELETEs, want %d", n, tc.deletes)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if tc.status == nil {
				if _, err := os.Stat(filepath.Join(out, "results.xlsx")); !os.IsNotExist(err) {
					t.Errorf("a refused delete wrote results")
				}
				return
			}
			file := "results.xlsx"
			if slices.Contains(tc.args, "--dry-run") {
				file = "plan.xlsx"
			}
			rs := readResults(t, filepath.Join(out, file))
			got := statuses(rs)
			for st, n := range tc.status {
				if got[st] != n {
					t.Errorf("statuses %v, want %v", got, tc.status)
					break
				}
			}
		})
	}
}

// TestDeleteAsksOnATerminal runs the command in-process with a terminal
// that answers.
func TestDeleteAsksOnATerminal(t *testing.T) {
	for _, answer := range []string{"y\n", "n\n", "\n"} {
		s, url := simServer(t, sim.Options{})
		s.Seed("Site 12 Dock 1")
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
			if k == "GRAPH_ACCESS_TOKEN" {
				return "t"
			}
			return ""
		}, Stdin: strings.NewReader(answer), StdinTerminal: func() bool { return true }}
		err := m.Run(context.Background(), []string{"delete", "--graph-url", url, "--name-prefix", "Site 12", "--out", t.TempDir(), "--rate", "0"})
		deleted := len(s.Profiles()) == 0
		if !strings.Contains(stderr.String(), "Delete 1 profile(s) from the tenant? [y/N]") {
			t.Errorf("answer %q: no question asked: %s", answer, stderr.String())
		}
		if yes := answer == "y\n"; deleted != yes || (err == nil) != yes {
			t.Errorf("answer %q: deleted %v, err %v", answer, deleted, err)
		}
		if answer != "y\n" && m.exitCode(err) != 1 {
			t.Errorf("answer %q: exit %d, want 1", answer, m.exitCode(err))
		}
	}
}
