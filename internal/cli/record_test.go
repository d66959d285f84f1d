package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// errInUse is what Windows says when a rename meets a file open in Excel.
var errInUse = errors.New("The process cannot access the file because it is being used by another process.")

// failRenames makes output's renames onto final names (not temporary ones)
// fail as on Windows when fail says so, for the rest of the test.
func failRenames(t *testing.T, fail func(dst string) bool) {
	t.Helper()
	orig := atomicfile.Rename
	atomicfile.Rename = func(src, dst string) error {
		if !strings.HasPrefix(filepath.Base(dst), ".") && fail(dst) {
			return &os.LinkError{Op: "rename", Old: src, New: dst, Err: errInUse}
		}
		return orig(src, dst)
	}
	t.Cleanup(func() { atomicfile.Rename = orig })
}

// runHere runs the command in this process (so that atomicfile.Rename can be
// replaced) and returns the exit code and stderr.
func runHere(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), args)
	return m.exitCode(err), stderr.String()
}

// TestRecordKeptWhenResultsCannotBePutInPlace: when results.xlsx cannot be
// replaced (Windows: open in Excel), the complete record is kept under
// another name, named on the last line, and the run exits 1.
func TestRecordKeptWhenResultsCannotBePutInPlace(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	tests := []struct {
		name string
		fail func(out string) func(dst string) bool
		dir  func(out string) string
		ext  string
	}{
		{"results.xlsx in use", func(out string) func(string) bool {
			return func(dst string) bool { return dst == filepath.Join(out, "results.xlsx") }
		}, func(out string) string { return out }, ".xlsx"},
		{"no workbook can be put in the folder", func(out string) func(string) bool {
			return func(dst string) bool { return filepath.Dir(dst) == out && filepath.Ext(dst) == ".xlsx" }
		}, func(out string) string { return out }, ".csv"},
		{"nothing can be put in the folder", func(out string) func(string) bool {
			return func(dst string) bool { return filepath.Dir(dst) == out }
		}, func(string) string { return tmp }, ".xlsx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			failRenames(t, tc.fail(out))
			code, stderr := runHere(t, "run", "--simulate", "--input", "samples/profiles.csv", "--out", out, "--rate", "0")
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			matches, _ := filepath.Glob(filepath.Join(tc.dir(out), "*results-*"+tc.ext))
			if len(matches) != 1 {
				t.Fatalf("kept files %v, want one *%s in %s\n%s", matches, tc.ext, tc.dir(out), stderr)
			}
			kept := matches[0]
			if !strings.Contains(last, kept) || !strings.Contains(last, "open in Excel") {
				t.Errorf("last line %q does not name %s", last, kept)
			}
			if _, err := os.Stat(filepath.Join(out, "results.xlsx")); !os.IsNotExist(err) {
				t.Errorf("results.xlsx: %v", err)
			}
			if tc.ext == ".xlsx" {
				rs := readResults(t, kept)
				if len(rs) == 0 || statuses(rs)[results.Created] != len(rs) {
					t.Errorf("kept record: %v", statuses(rs))
				}
			} else if data, err := os.ReadFile(kept); err != nil || !bytes.Contains(data, []byte("created")) {
				t.Errorf("kept CSV: %v", err)
			}
			os.Remove(kept)
		})
	}
}

// TestFailedSheetRemovesEarlierOne: when this run's QR sheet cannot be
// written, the earlier run's sheet goes, so the folder never holds codes
// that do not match its results.
func TestFailedSheetRemovesEarlierOne(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	_, url := simServer(t, sim.Options{})
	out := t.TempDir()
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("first run exit %d:\n%s", code, stderr)
	}
	pdf := filepath.Join(out, "qr-codes.pdf")
	if _, err := os.Stat(pdf); err != nil {
		t.Fatal(err)
	}
	failRenames(t, func(dst string) bool { return dst == pdf })
	t.Setenv("GRAPH_ACCESS_TOKEN", "t")
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv}
	err := m.Run(context.Background(), []string{"run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0", "--qr-existing"})
	if code := m.exitCode(err); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(pdf); !os.IsNotExist(err) {
		t.Errorf("the earlier sheet is still there: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "removed the earlier "+pdf) {
		t.Errorf("stderr does not say the earlier sheet was removed:\n%s", stderr.String())
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if c := statuses(rs); c[results.Exists] != len(rs) {
		t.Errorf("results of the second run: %v", c)
	}
}

// TestPreflightStopsBeforePosting: a run whose outputs could not be written
// exits 2 before any request: an input too wide for Excel, an output folder
// that cannot take files.
func TestPreflightStopsBeforePosting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("displayName")
	for i := 0; i < output.MaxColumns-len(output.Columns)+1; i++ {
		fmt.Fprintf(&b, ",x%d", i)
	}
	b.WriteString("\nKiosk 1\n")
	wide := filepath.Join(dir, "wide.csv")
	os.WriteFile(wide, []byte(b.String()), 0o600)
	blocked := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(filepath.Join(blocked, ".results.xlsx.tmp-check", "x"), 0o700) // the rename check cannot land
	tests := []struct {
		name, in, out, says string
	}{
		{"wider than Excel", wide, t.TempDir(), "more than Excel's 16384"},
		{"folder refuses the outputs", "samples/profiles.csv", blocked, "cannot take results.xlsx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{})
			code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", tc.in, "--out", tc.out, "--rate", "0")
			if code != 2 || !strings.Contains(stderr, tc.says) || !strings.Contains(stderr, "nothing was sent") {
				t.Fatalf("exit %d, want 2 saying %q:\n%s", code, tc.says, stderr)
			}
			if n := s.Stats().Requests; n != 0 {
				t.Errorf("%d request(s) sent", n)
			}
		})
	}
}

// TestResultsPlaceTakenStopsBeforePosting: the built binary finds a folder
// where results.xlsx should go: enrollbatch never replaces what it did not
// write, so the run stops before anything is sent (exit 2), naming it. (The
// fallbacks for a results.xlsx that cannot be put in place after the run,
// such as one open in Excel on Windows, are tested by
// TestRecordKeptWhenResultsCannotBePutInPlace.)
func TestResultsPlaceTakenStopsBeforePosting(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{})
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "results.xlsx", "inside"), 0o700)
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0")
	if code != 2 || !strings.Contains(stderr, "results.xlsx is a folder") {
		t.Fatalf("exit %d, want 2 naming the folder:\n%s", code, stderr)
	}
	if n := s.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
