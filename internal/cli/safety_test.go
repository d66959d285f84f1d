package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// This file holds the tests of what enrollbatch never does: delete,
// revoke or overwrite what the user did not mean, or lose the record of
// what it did. Each drives the built binary against the simulator.

var tokenEnv = []string{"GRAPH_ACCESS_TOKEN=t"}

// writeFile writes content to name in a new temporary folder and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tenantNames lists the names of the simulator's profiles, sorted.
func tenantNames(s *sim.Server) []string {
	var names []string
	for _, p := range s.Profiles() {
		names = append(names, p.DisplayName)
	}
	slices.Sort(names)
	return names
}

// TestLookAlikeNamesAreTheSameName: a tenant's "Café Kasse 1" written with a
// combining accent and "Café Kasse 2" with a no-break space are the names a
// person types in the sheet: prune keeps them, run does not create them
// again, and delete and revoke find them, each with a note.
func TestLookAlikeNamesAreTheSameName(t *testing.T) {
	t.Parallel()
	const (
		decomposed = "Cafe\u0301 Kasse 1"
		nbsp       = "Caf\u00e9\u00a0Kasse 2"
	)
	sheet := writeFile(t, "cafe.csv", "displayName\nCafé Kasse 1\nCafé Kasse 2\n")

	s, url := simServer(t, sim.Options{OmitImage: true})
	s.Seed(decomposed, nbsp, "Café Kasse 3")
	out := t.TempDir()
	code, stdout, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0",
		"--prune", "--name-prefix", "Café Kasse", "--yes")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := tenantNames(s), []string{decomposed, nbsp}; !slices.Equal(got, want) {
		t.Errorf("tenant holds %q, want %q (only Café Kasse 3 pruned, nothing created)", got, want)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	for _, r := range rs {
		if r.Row == 0 {
			continue
		}
		if r.Status != results.Exists || !strings.Contains(strings.Join(r.Notes, " "), "after Unicode normalization") {
			t.Errorf("row %d %q: %s, notes %q; want exists with a normalization note", r.Row, r.DisplayName, r.Status, r.Notes)
		}
	}

	for _, cmd := range []string{"delete", "revoke"} {
		code, stdout, stderr = run(t, tokenEnv, cmd, "--graph-url", url, "--input", sheet, "--dry-run", "--out", t.TempDir())
		if code != 0 || strings.Contains(stdout, "not in the tenant") || strings.Count(stdout, "would ") != 2 {
			t.Errorf("%s --dry-run exit %d, want both profiles found:\n%s\n%s", cmd, code, stdout, stderr)
		}
	}
}

// TestOneNamePrefixRule: every command that takes --name-prefix refuses a
// blank one, and none of them trims the tenant's names.
func TestOneNamePrefixRule(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	s.Seed("Kasse 1", " Kasse 9", "Kassel 2")
	sheet := writeFile(t, "k.csv", "displayName\nKasse 1\n")
	for _, args := range [][]string{
		{"delete", "--dry-run"},
		{"revoke", "--dry-run"},
		{"export", "--out", filepath.Join(t.TempDir(), "x.csv")},
		{"qr", "--from-tenant", "--out", filepath.Join(t.TempDir(), "x.pdf")},
		{"run", "--input", sheet, "--prune", "--dry-run", "--out", t.TempDir()},
	} {
		for _, blank := range []string{" ", "\u00a0"} {
			a := append(slices.Clone(args), "--graph-url", url, "--name-prefix", blank)
			code, _, stderr := run(t, tokenEnv, a...)
			if code != 2 || !strings.Contains(stderr, "empty or only spaces") {
				t.Errorf("%s with the prefix %q: exit %d, want 2 and the blank-prefix error:\n%s", args[0], blank, code, stderr)
			}
		}
	}
	// No command selects " Kasse 9" for the prefix "Kasse".
	for _, cmd := range []string{"delete", "revoke"} {
		code, stdout, stderr := run(t, tokenEnv, cmd, "--graph-url", url, "--name-prefix", "Kasse", "--dry-run", "--out", t.TempDir())
		if code != 0 || strings.Contains(stdout, " Kasse 9") || !strings.Contains(stdout, "Kasse 1") || !strings.Contains(stdout, "Kassel 2") {
			t.Errorf("%s --name-prefix Kasse exit %d:\n%s\n%s", cmd, code, stdout, stderr)
		}
	}
	export := filepath.Join(t.TempDir(), "e.csv")
	if code, _, stderr := run(t, tokenEnv, "export", "--graph-url", url, "--name-prefix", "Kasse", "--out", export); code != 0 {
		t.Fatalf("export exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(export); strings.Contains(string(b), " Kasse 9") {
		t.Errorf("export selected \" Kasse 9\":\n%s", b)
	}
}

// TestPruneDeletesNothingWhileANameCannotBeRead: a sheet written by a
// script with formulas that have no saved value, or a row whose name cell
// is empty, may name profiles; prune then deletes nothing and says which
// rows, before anything is sent.
func TestPruneDeletesNothingWhileANameCannotBeRead(t *testing.T) {
	t.Parallel()
	formulas := filepath.Join(t.TempDir(), "formulas.xlsx")
	wb := excelize.NewFile()
	wb.SetSheetRow("Sheet1", "A1", &[]any{"displayName", "description"})
	for i := 2; i <= 4; i++ {
		wb.SetCellFormula("Sheet1", fmt.Sprintf("A%d", i), fmt.Sprintf(`CONCAT("Kasse ",ROW()-1)`))
		wb.SetCellValue("Sheet1", fmt.Sprintf("B%d", i), "till")
	}
	if err := wb.SaveAs(formulas); err != nil {
		t.Fatal(err)
	}
	emptyName := writeFile(t, "empty.csv", "displayName,description\nKasse 1,till\n,till two\nKasse 3,till\n")
	for _, tc := range []struct {
		name, sheet, rows string
	}{
		{"formulas without saved values", formulas, "row(s) 2, 3, 4"},
		{"an empty name cell", emptyName, "row(s) 3 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{OmitImage: true})
			s.Seed("Kasse 1", "Kasse 2", "Kasse 3")
			code, stdout, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", tc.sheet, "--out", t.TempDir(), "--rate", "0",
				"--prune", "--name-prefix", "Kasse", "--yes")
			if code != 2 || !strings.Contains(stderr, tc.rows) || !strings.Contains(stderr, "--prune deletes nothing") {
				t.Errorf("exit %d, want 2 naming %s:\n%s\n%s", code, tc.rows, stdout, stderr)
			}
			if st := s.Stats(); st.Deletes+st.Creates != 0 || len(s.Profiles()) != 3 {
				t.Errorf("%d deletes and %d creates; tenant %q", st.Deletes, st.Creates, tenantNames(s))
			}
		})
	}
}

// signalWhen starts the built binary with args, sends it sig once cond
// holds, and returns its exit code and stderr.
func signalWhen(t *testing.T, sig os.Signal, cond func() bool, args ...string) (int, string) {
	t.Helper()
	cmd, stderr := start(t, args...)
	waitUntil(t, cmd, stderr, "the condition", cond)
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// TestStopDuringUpdate: rows whose PATCH was never sent when a stop signal
// came are not_attempted, never exists or unchanged.
func TestStopDuringUpdate(t *testing.T) {
	t.Parallel()
	const n = 30
	s, url := simServer(t, sim.Options{OmitImage: true, Latency: 100 * time.Millisecond})
	var b strings.Builder
	b.WriteString("displayName,description\n")
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("Till %02d", i)
		s.Seed(name)
		fmt.Fprintf(&b, "%s,changed\n", name)
	}
	sheet := writeFile(t, "tills.csv", b.String())
	out := t.TempDir()
	code, stderr := signalWhen(t, syscall.SIGTERM, func() bool { return s.Stats().Patches >= 3 },
		"run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0", "--concurrency", "2", "--on-exists", "update")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if len(rs) != n {
		t.Fatalf("%d results, want %d", len(rs), n)
	}
	c := statuses(rs)
	if c[results.Updated] != s.Stats().Patches || c[results.Updated]+c[results.NotAttempted] != n {
		t.Errorf("statuses %v after %d patches; want updated = patches, the rest not_attempted", c, s.Stats().Patches)
	}
	for _, r := range rs {
		if r.Status == results.NotAttempted && !strings.Contains(r.ErrorMessage, "the profile is unchanged") {
			t.Errorf("row %d: %q", r.Row, r.ErrorMessage)
		}
	}
}

// spoolResults reads the spools in out.
func spoolResults(t *testing.T, out string) []results.Result {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(out, results.SpoolPattern))
	var rs []results.Result
	for _, p := range paths {
		got, _, err := results.ReadSpool(p)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, got...)
	}
	return rs
}

// TestKilledPruneRecordsEachDeletion: a prune killed with SIGKILL has put
// every deletion whose answer arrived in its spool, and the rerun's results
// hold every profile the two runs deleted.
//
// Like TestKillThenRerun, it does not run in parallel with other tests.
func TestKilledPruneRecordsEachDeletion(t *testing.T) {
	const n = 20
	s, url := simServer(t, sim.Options{OmitImage: true, Latency: 100 * time.Millisecond})
	for i := 1; i <= n; i++ {
		s.Seed(fmt.Sprintf("Kasse %02d", i))
	}
	sheet := writeFile(t, "keep.csv", "displayName\nKasse 01\n")
	out := t.TempDir()
	args := []string{"run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0", "--concurrency", "2", "--prune", "--name-prefix", "Kasse", "--yes"}
	signalWhen(t, syscall.SIGKILL, func() bool { return s.Stats().Deletes >= 6 }, args...)
	deleted := 0
	for _, r := range spoolResults(t, out) {
		if r.Status == results.Deleted {
			deleted++
		}
	}
	// At most the deletes in flight (2) had no answer yet.
	if got := s.Stats().Deletes; deleted < got-2 {
		t.Errorf("the spool records %d deletions of the %d the tenant received", deleted, got)
	}
	code, _, stderr := run(t, tokenEnv, args...)
	if code != 0 {
		t.Fatalf("rerun exit %d\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	gone := map[string]bool{}
	for _, r := range rs {
		if r.Status == results.Deleted {
			gone[r.DisplayName] = true
		}
	}
	if len(gone) != n-1 || !slices.Equal(tenantNames(s), []string{"Kasse 01"}) {
		t.Errorf("results show %d deleted, tenant holds %q; want %d deleted", len(gone), tenantNames(s), n-1)
	}
	if left := spoolResults(t, out); len(left) != 0 {
		t.Errorf("%d spooled results left after the rerun wrote them all", len(left))
	}
}

// TestRerunKeepsASpoolItDidNotUse: after a kill, the spool is the only
// record of what was created; a rerun whose listing fails settles none of
// those rows, so it keeps the spool.
//
// Like TestKillThenRerun, it does not run in parallel with other tests.
func TestRerunKeepsASpoolItDidNotUse(t *testing.T) {
	s, url := simServer(t, sim.Options{OmitImage: true, Latency: 100 * time.Millisecond})
	in := writeNames(t, 30, "Kiosk %02d")
	out := t.TempDir()
	args := []string{"run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--concurrency", "3", "--max-retries", "0"}
	signalWhen(t, syscall.SIGKILL, func() bool { return s.Stats().Created >= 6 }, args...)
	before := spoolResults(t, out)
	if len(before) == 0 {
		t.Fatal("the killed run left no spool")
	}
	s.Inject(sim.Fault{Op: sim.OpList, Status: 500, Count: -1})
	code, _, stderr := run(t, tokenEnv, args...)
	if code == 0 {
		t.Fatalf("rerun with a failing listing exit 0\n%s", stderr)
	}
	if after := spoolResults(t, out); len(after) < len(before) {
		t.Errorf("the rerun removed the spool (%d results before, %d after):\n%s", len(before), len(after), stderr)
	}
}

// TestDeleteAndRevokeStopOnASignal: SIGTERM stops delete and revoke as it
// stops run: nothing new is sent, every profile ends in the results with
// its status, and the exit code is 1.
func TestDeleteAndRevokeStopOnASignal(t *testing.T) {
	t.Parallel()
	const n = 20
	for _, tc := range []struct {
		cmd    string
		done   results.Status
		sent   func(sim.Stats) int
		extras []string
	}{
		{"delete", results.Deleted, func(s sim.Stats) int { return s.Deletes }, []string{"--concurrency", "2"}},
		{"revoke", results.Revoked, func(s sim.Stats) int { return s.RevokeTokens }, nil},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{OmitImage: true, Latency: 100 * time.Millisecond})
			for i := 1; i <= n; i++ {
				s.Seed(fmt.Sprintf("Kasse %02d", i))
			}
			out := t.TempDir()
			args := append([]string{tc.cmd, "--graph-url", url, "--name-prefix", "Kasse", "--yes", "--out", out}, tc.extras...)
			code, stderr := signalWhen(t, syscall.SIGTERM, func() bool { return tc.sent(s.Stats()) >= 4 }, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			rs := readResults(t, filepath.Join(out, "results.xlsx"))
			c := statuses(rs)
			if len(rs) != n || c[tc.done] != tc.sent(s.Stats()) || c[tc.done]+c[results.NotAttempted] != n {
				t.Errorf("%d results %v after %d sent; want %d, %s = sent, the rest not_attempted", len(rs), c, tc.sent(s.Stats()), n, tc.done)
			}
			for _, r := range rs {
				if r.Status == results.Failed {
					t.Errorf("%s failed: %s", r.DisplayName, r.ErrorMessage)
				}
			}
		})
	}
}

// TestDeleteAndRevokeTakeTheTenantLock: while a run holds the tenant, a
// delete or revoke against it (also through another spelling of the same
// host) is refused before it sends anything.
func TestDeleteAndRevokeTakeTheTenantLock(t *testing.T) {
	t.Parallel()
	s, listing, url := gatedSimServer(t, sim.Options{})
	s.Seed("Kasse 1")
	cache := t.TempDir()
	holder, herr := startIn(t, cache, "run", "--graph-url", url, "--input", writeNames(t, 2, "Door %d"), "--out", t.TempDir(), "--rate", "0")
	waitFor(t, holder, herr, "the listing", listing.holding)
	other := strings.Replace(url, "127.0.0.1", "localhost", 1)
	for _, args := range [][]string{
		{"delete", "--graph-url", url, "--name-prefix", "Kasse", "--yes"},
		{"revoke", "--graph-url", url, "--name-prefix", "Kasse", "--yes"},
		{"delete", "--graph-url", other, "--name-prefix", "Kasse", "--yes"},
	} {
		before := s.Stats().Requests
		cmd, stderr := startIn(t, cache, append(args, "--out", t.TempDir())...)
		if code := exitCode(t, cmd); code != 2 || !strings.Contains(stderr.String(), "holds ") {
			t.Errorf("%v: exit %d, want 2 naming the holder:\n%s", args, code, stderr)
		}
		if got := s.Stats().Requests - before; got != 0 {
			t.Errorf("%v sent %d request(s) while the tenant was held", args, got)
		}
	}
	listing.open()
	if code := exitCode(t, holder); code != 0 {
		t.Fatalf("holder exit %d:\n%s", code, herr)
	}
	if got := tenantNames(s); !slices.Contains(got, "Kasse 1") {
		t.Errorf("Kasse 1 gone: %q", got)
	}
}

// TestDryRunKeepsTheFolderRecord: a plan goes to plan.xlsx; the results and
// QR sheet a real run left in the folder are untouched.
func TestDryRunKeepsTheFolderRecord(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{})
	in := writeNames(t, 3, "Kasse %d")
	out := t.TempDir()
	if code, _, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("run exit %d\n%s", code, stderr)
	}
	files := []string{"results.xlsx", "qr-codes.pdf"}
	before := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		before[f] = b
	}
	for _, args := range [][]string{
		{"run", "--input", in, "--dry-run", "--on-exists", "update"},
		{"delete", "--name-prefix", "Kasse", "--dry-run"},
		{"revoke", "--name-prefix", "Kasse", "--dry-run"},
	} {
		os.Remove(filepath.Join(out, "plan.xlsx"))
		code, _, stderr := run(t, tokenEnv, append(args, "--graph-url", url, "--out", out, "--rate", "0")...)
		if code != 0 {
			t.Fatalf("%v exit %d\n%s", args, code, stderr)
		}
		for _, f := range files {
			if b, err := os.ReadFile(filepath.Join(out, f)); err != nil || !bytes.Equal(b, before[f]) {
				t.Errorf("%v changed %s (%v)", args, f, err)
			}
		}
		rs := readResults(t, filepath.Join(out, "plan.xlsx"))
		if len(rs) != 3 {
			t.Errorf("%v: plan of %d rows, want 3", args, len(rs))
		}
		if args[0] == "run" {
			for _, r := range rs {
				if r.Row == 0 {
					t.Errorf("%v: plan row shown as 0", args)
				}
			}
		}
	}
	if st := s.Stats(); st.Deletes+st.RevokeTokens+st.Patches != 0 {
		t.Errorf("a plan changed the tenant: %+v", st)
	}
}

// TestNoCommandReplacesAFileItDidNotWrite: export, qr and run never write
// over a file enrollbatch did not write (export and qr with --force do),
// and never over their own input.
func TestNoCommandReplacesAFileItDidNotWrite(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{})
	s.Seed("Kasse 1")
	dir := t.TempDir()
	sheet := filepath.Join(dir, "profiles.csv")
	const mine = "displayName,wifiPassword,Site\nKasse 1,secret,Leeds\nKasse 2,secret,York\n"
	os.WriteFile(sheet, []byte(mine), 0o600)
	out := t.TempDir()
	if code, _, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0", "--results-csv"); code != 1 && code != 0 {
		t.Fatalf("run exit %d\n%s", code, stderr)
	}
	resultsCSV := filepath.Join(out, "results.csv")
	p2 := filepath.Join(dir, "p2.csv")
	os.WriteFile(p2, []byte("displayName\nKasse 9\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		file string // must be as it was
	}{
		{"export over a sheet", []string{"export", "--out", sheet}, sheet},
		{"qr over a CSV", []string{"qr", "--from-tenant", "--name-prefix", "Kasse", "--out", p2}, p2},
		{"qr over a non-PDF name", []string{"qr", "--results", filepath.Join(out, "results.xlsx"), "--out", p2 + ".pdf.csv"}, p2},
		{"run over its own input", []string{"run", "--input", resultsCSV, "--out", out, "--results-csv"}, resultsCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.file)
			code, _, stderr := run(t, tokenEnv, append(tc.args, "--graph-url", url, "--rate", "0")...)
			if code != 2 {
				t.Errorf("exit %d, want 2:\n%s", code, stderr)
			}
			if after, _ := os.ReadFile(tc.file); !bytes.Equal(after, before) {
				t.Errorf("%s was changed", tc.file)
			}
		})
	}
	// --force replaces for export and qr, never an input.
	if code, _, stderr := run(t, tokenEnv, "export", "--graph-url", url, "--out", sheet, "--force"); code != 0 {
		t.Errorf("export --force exit %d\n%s", code, stderr)
	}
	pdf := filepath.Join(out, "qr-codes.pdf")
	if code, _, stderr := run(t, tokenEnv, "qr", "--results", pdf, "--out", pdf, "--force"); code != 2 {
		t.Errorf("qr over its own input with --force: exit %d, want 2\n%s", code, stderr)
	}
}

// TestPruneReadsEachProfileAgain: a profile renamed out of the prefix, or
// enrolled with, while the run works is not deleted, and its result says
// why under the name it has now.
func TestPruneReadsEachProfileAgain(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true, Latency: 50 * time.Millisecond})
	ps := s.Seed("Kasse 8", "Kasse 9", "Kasse 10")
	var b strings.Builder
	b.WriteString("displayName\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "Kasse neu %d\n", i)
	}
	sheet := writeFile(t, "k.csv", b.String())
	out := t.TempDir()
	cmd, stderr := start(t, "run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0", "--concurrency", "1",
		"--prune", "--name-prefix", "Kasse", "--yes")
	waitUntil(t, cmd, stderr, "the first create", func() bool { return s.Stats().Creates >= 1 })
	c := &graph.Client{BaseURL: url, HTTP: http.DefaultClient}
	if _, _, err := c.Patch(context.Background(), ps[0].ID, map[string]any{"displayName": "Archiv 8 (keep)"}); err != nil {
		t.Fatal(err)
	}
	s.SetEnrolledDeviceCount(ps[1].ID, 3)
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("exit %v, want 1 (a profile kept for its devices)\n%s", err, stderr)
	}
	names := tenantNames(s)
	if !slices.Contains(names, "Archiv 8 (keep)") || !slices.Contains(names, "Kasse 9") || slices.Contains(names, "Kasse 10") {
		t.Errorf("tenant holds %q; want Archiv 8 (keep) and Kasse 9 kept, Kasse 10 pruned", names)
	}
	for _, r := range readResults(t, filepath.Join(out, "results.xlsx")) {
		notes := strings.Join(r.Notes, "; ") + r.ErrorMessage
		switch r.ID {
		case ps[0].ID:
			if r.Status != results.Exists || r.DisplayName != "Archiv 8 (keep)" || !strings.Contains(notes, "no longer starts with") {
				t.Errorf("renamed profile: %s %q %q", r.Status, r.DisplayName, notes)
			}
		case ps[1].ID:
			if r.Status != results.Failed || !strings.Contains(notes, "3 device(s) enrolled") {
				t.Errorf("enrolled profile: %s %q", r.Status, notes)
			}
		case ps[2].ID:
			if r.Status != results.Deleted {
				t.Errorf("Kasse 10: %s %q", r.Status, notes)
			}
		}
	}
}

// TestRerunPrintsEveryLiveCodeOrSaysWhy: a rerun into the same folder puts
// on its sheet every profile the folder's runs created that the tenant
// still holds with the same token, and each row whose code it cannot print
// says why: a token revoked or renewed elsewhere since, or a code that
// carries a Wi-Fi password the results never keep.
func TestRerunPrintsEveryLiveCodeOrSaysWhy(t *testing.T) {
	t.Parallel()
	_, url := simServer(t, sim.Options{})
	sheet := filepath.Join("internal", "cli", "testdata", "every-mode.csv")
	out := t.TempDir()
	args := []string{"run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0"}
	if code, _, stderr := run(t, tokenEnv, args...); code != 0 {
		t.Fatalf("first run exit %d\n%s", code, stderr)
	}
	// Mode 1's token is revoked, Mode 2's renewed from another folder.
	if code, _, stderr := run(t, tokenEnv, "revoke", "--graph-url", url, "--name-prefix", "Mode 1", "--yes", "--out", t.TempDir()); code != 1 && code != 0 {
		t.Fatalf("revoke exit %d\n%s", code, stderr)
	}
	renew := writeFile(t, "renew.csv", "displayName,enrollmentMode,tokenExpirationDateTime\nMode 2,corporateOwnedFullyManaged,"+time.Now().AddDate(1, 0, 0).Format("2006-01-02")+"\n")
	if code, _, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", renew, "--out", t.TempDir(), "--rate", "0", "--renew-within", "3650d"); code != 0 {
		t.Fatalf("renew exit %d\n%s", code, stderr)
	}
	code, _, stderr := run(t, tokenEnv, args...)
	if code != 0 {
		t.Fatalf("rerun exit %d\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	why := map[string]string{
		"Mode 1":  "revoked",
		"Mode 10": "Wi-Fi password",
		"Mode 4":  "Wi-Fi password",
		"Mode 2":  "replaced",
	}
	for _, r := range rs {
		if r.Row == 0 {
			continue
		}
		notes := strings.Join(r.Notes, "; ")
		if w, stale := why[r.DisplayName]; stale {
			if r.Printable() || !strings.Contains(notes, output.StaleCarryNote) || !strings.Contains(notes, w) {
				t.Errorf("%s: printable %v, notes %q; want it left off the sheet, saying %q", r.DisplayName, r.Printable(), notes, w)
			}
			continue
		}
		if !r.Printable() {
			t.Errorf("%s: not on the rerun's sheet, notes %q", r.DisplayName, notes)
		}
	}
}

// TestUnreadableInputStopsBeforeAnythingIsSent: a CSV record with an
// unclosed quote, a UTF-8 file with one stray byte, and a workbook with two
// visible sheets and no --sheet stop the run (exit 2, naming the line, byte
// or sheets) before any request: prune deletes nothing.
func TestUnreadableInputStopsBeforeAnythingIsSent(t *testing.T) {
	t.Parallel()
	twoSheets := filepath.Join(t.TempDir(), "sites.xlsx")
	wb := excelize.NewFile()
	wb.SetSheetName("Sheet1", "Nord")
	wb.NewSheet("Sued")
	wb.SetSheetRow("Nord", "A1", &[]any{"displayName"})
	wb.SetSheetRow("Nord", "A2", &[]any{"Kasse 1"})
	wb.SetSheetRow("Sued", "A1", &[]any{"displayName"})
	wb.SetSheetRow("Sued", "A2", &[]any{"Kasse 2"})
	if err := wb.SaveAs(twoSheets); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		says       []string
	}{
		{"an unclosed quote", writeFile(t, "quote.csv", "displayName,description\nKasse 1,till\nKasse 2,\"27 inch monitor\nKasse 3,till\nKasse 4,till\nKasse 5,till\n"),
			[]string{"line 3"}},
		{"a stray byte in UTF-8", writeFile(t, "mixed.csv", "displayName,description\nCafé 1,till\nCafé 2,caf\x80 till\nCafé 3,till\n"),
			[]string{"line 3", "UTF-8"}},
		{"two visible sheets", twoSheets, []string{`"Nord"`, `"Sued"`, "--sheet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{OmitImage: true})
			s.Seed("Kasse 1", "Kasse 2", "Kasse 3", "Kasse 4", "Kasse 5", "Café 1", "Café 2", "Café 3")
			for _, args := range [][]string{
				{"validate", tc.file},
				{"run", "--input", tc.file, "--graph-url", url, "--out", t.TempDir(), "--prune", "--name-prefix", "Ka", "--yes"},
				{"run", "--input", tc.file, "--graph-url", url, "--out", t.TempDir(), "--prune", "--name-prefix", "Caf", "--yes"},
			} {
				code, stdout, stderr := run(t, tokenEnv, args...)
				if code != 2 {
					t.Errorf("%s: exit %d, want 2\n%s%s", args[0], code, stdout, stderr)
				}
				for _, want := range tc.says {
					if !strings.Contains(stdout+stderr, want) {
						t.Errorf("%s: output lacks %q:\n%s%s", args[0], want, stdout, stderr)
					}
				}
			}
			if st := s.Stats(); st.Requests != 0 {
				t.Errorf("%d requests sent for an input that cannot be read", st.Requests)
			}
		})
	}
	// With --sheet, the sheet named is read.
	s, url := simServer(t, sim.Options{OmitImage: true})
	if code, _, stderr := run(t, tokenEnv, "run", "--input", twoSheets, "--sheet", "Sued", "--graph-url", url, "--out", t.TempDir(), "--rate", "0"); code != 0 || !slices.Equal(tenantNames(s), []string{"Kasse 2"}) {
		t.Errorf("--sheet Sued: exit %d, tenant %q\n%s", code, tenantNames(s), stderr)
	}
}

// TestExportedInvisibleNameRoundTrips: a tenant's name holding a zero-width
// space survives export and a pruning run over that export: the profile is
// kept, and the row says what it holds.
func TestExportedInvisibleNameRoundTrips(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	s.Seed("Kasse\u200b 1", "Kasse 2")
	sheet := filepath.Join(t.TempDir(), "export.csv")
	if code, _, stderr := run(t, tokenEnv, "export", "--graph-url", url, "--out", sheet, "--name-prefix", "Kasse"); code != 0 {
		t.Fatalf("export exit %d\n%s", code, stderr)
	}
	out := t.TempDir()
	code, stdout, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", sheet, "--out", out, "--rate", "0", "--prune", "--name-prefix", "Kasse", "--yes")
	if code != 0 {
		t.Fatalf("run exit %d\n%s%s", code, stdout, stderr)
	}
	if got := tenantNames(s); len(got) != 2 || s.Stats().Deletes != 0 || s.Stats().Creates != 0 {
		t.Errorf("tenant %q after %d deletes and %d creates; want both kept, nothing created", got, s.Stats().Deletes, s.Stats().Creates)
	}
}

// TestHiddenSheetWarningReads: the warning about a hidden sheet is a
// sentence that names it.
func TestHiddenSheetWarningReads(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hidden.xlsx")
	wb := excelize.NewFile()
	wb.SetSheetRow("Sheet1", "A1", &[]any{"displayName"})
	wb.SetSheetRow("Sheet1", "A2", &[]any{"Kasse 1"})
	wb.NewSheet("Old")
	wb.SetSheetVisible("Old", false)
	if err := wb.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := run(t, nil, "validate", path)
	if !strings.Contains(stdout+stderr, `skipped hidden sheet "Old"`) || strings.Contains(stdout+stderr, "one sheet") {
		t.Errorf("hidden-sheet warning:\n%s%s", stdout, stderr)
	}
}
