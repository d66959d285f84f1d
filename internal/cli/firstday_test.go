package cli

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/qrsheet"
)

// This file holds the tests of a new admin's first hour: what the program
// says to a person at a terminal.

// TestSignInLeadsAPersonToTheInteractiveSignIn: with no credentials, run
// and doctor offer --auth device-code and browser before the unattended
// methods; doctor's advice for a person is about their Intune role and the
// delegated permission; an authority that cannot be reached is exit 1.
func TestSignInLeadsAPersonToTheInteractiveSignIn(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"run", "--input", "samples/profiles.csv", "--out", t.TempDir()},
		{"doctor"},
	} {
		code, stdout, stderr := run(t, nil, args...)
		all := stdout + stderr
		i, j := strings.Index(all, "--auth device-code"), strings.Index(all, "GRAPH_ACCESS_TOKEN")
		if code != 2 || i < 0 || j < 0 || i > j || !strings.Contains(all, "--auth browser") {
			t.Errorf("%s with no credentials: exit %d, want 2 offering --auth device-code first:\n%s", args[0], code, all)
		}
	}
	env := []string{"AZURE_AUTHORITY_HOST=https://authority.invalid/"}
	code, stdout, stderr := run(t, env, "doctor", "--auth", "device-code")
	all := stdout + stderr
	if code != 1 {
		t.Errorf("doctor with an authority that does not resolve: exit %d, want 1 (not a refusal):\n%s", code, all)
	}
	for _, want := range []string{"does not resolve", "Intune role", "delegated permission"} {
		if !strings.Contains(all, want) {
			t.Errorf("doctor --auth device-code lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "application permission") {
		t.Errorf("doctor --auth device-code gives an app registration's advice:\n%s", all)
	}
}

// TestHelpIsGroupedWithExamples: help run shows examples and its flags by
// group, spelled with two dashes as the README spells them.
func TestHelpIsGroupedWithExamples(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, nil, "help", "run")
	if code != 0 {
		t.Fatalf("help run: exit %d\n%s", code, stderr)
	}
	order := []string{"Examples:", "enrollbatch run profiles.xlsx --auth device-code --dry-run",
		"\nInput:\n  --input", "\nWhat to change:", "\nOutputs:", "\nQR sheet:", "\nSigning in:", "\nPacing:", "\nLogging and debugging:\n", "--cpuprofile"}
	at := 0
	for _, want := range order {
		i := strings.Index(stdout[at:], want)
		if i < 0 {
			t.Fatalf("help run lacks %q after byte %d:\n%s", want, at, stdout)
		}
		at += i
	}
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") {
			t.Errorf("a flag with one dash: %q", line)
		}
	}
}

// TestSimulationNeverPassesForReal: a --simulate run says so on the
// terminal, its sheet says so on every page and label and still scans, and
// a rerun into the same folder meets the profiles the first run created,
// as it would in a tenant.
func TestSimulationNeverPassesForReal(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	out := t.TempDir()
	args := []string{"run", "--simulate", "--input", "samples/profiles.csv", "--out", out}
	code, _, stderr := run(t, nil, args...)
	if code != 0 || !strings.Contains(stderr, "simulation: nothing is sent to Microsoft") {
		t.Fatalf("exit %d, want 0 and the terminal saying it is a simulation:\n%s", code, stderr)
	}
	pdf := filepath.Join(out, "qr-codes.pdf")
	text := pdfText(t, pdf)
	pages := strings.Count(text, "\f")
	if n := strings.Count(text, qrsheet.SimulatedMark+": these codes enroll nothing"); n == 0 || n != pages {
		t.Errorf("%d page(s) marked of %d:\n%s", n, pages, text)
	}
	if labels := strings.Count(text, "Simulation: not a real code"); labels != 15 {
		t.Errorf("%d label(s) marked, want 15", labels)
	}
	if codes := sheetCodes(t, pdf); len(codes) != 15 {
		t.Errorf("%d codes scan on the marked sheet, want 15", len(codes))
	}
	code, _, stderr = run(t, nil, args...)
	if code != 0 || !strings.Contains(stderr, "15 row(s): exists 15") {
		t.Errorf("rerun: exit %d, want every profile found:\n%s", code, stderr)
	}
}

// TestSheetNamesTheTenantAndEachMode: each page's header names the tenant
// (its organization's name, or --title), and each label its enrollment
// mode, so GMS and AOSP codes no longer look alike.
func TestSheetNamesTheTenantAndEachMode(t *testing.T) {
	t.Parallel()
	s := sim.New(sim.Options{Organization: "Contoso Retail"})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	url := hs.URL + "/beta"
	out := t.TempDir()
	if code, _, stderr := run(t, tokenEnv, "run", "--graph-url", url, "--input", filepath.Join("internal", "cli", "testdata", "every-mode.csv"), "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	text := pdfText(t, filepath.Join(out, "qr-codes.pdf"))
	if pages := strings.Count(text, "\f"); strings.Count(text, "Contoso Retail") != pages {
		t.Errorf("the tenant is not named on each of %d page(s):\n%s", pages, text)
	}
	for _, mode := range []string{"Mode: Dedicated device", "Mode: Fully managed", "Mode: Work profile", "Mode: AOSP, userless", "Mode: AOSP, user-associated"} {
		if !strings.Contains(text, mode) {
			t.Errorf("no label says %q", mode)
		}
	}
	pdf := filepath.Join(t.TempDir(), "again.pdf")
	if code, _, stderr := run(t, tokenEnv, "qr", "--results", filepath.Join(out, "results.xlsx"), "--graph-url", url, "--out", pdf, "--title", "Fabrikam"); code != 1 { // two codes carry a Wi-Fi password: not printable from results
		t.Fatalf("qr exit %d\n%s", code, stderr)
	}
	if text := pdfText(t, pdf); !strings.Contains(text, "Fabrikam") || strings.Contains(text, "Contoso") {
		t.Errorf("--title does not name the tenant:\n%s", text)
	}
}

// TestExportOpensInExcelAndRunsAsItIs: an export's CSV starts with the
// byte order mark Excel needs, takes the delimiter asked for, and
// validates and runs again as it is: its id column is understood, and the
// Wi-Fi password it cannot hold means "keep the one set".
func TestExportOpensInExcelAndRunsAsItIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tenant := filepath.Join(dir, "tenant.json")
	sheet := filepath.Join("internal", "cli", "testdata", "every-mode.csv")
	if code, _, stderr := run(t, nil, "run", "--simulate", "--sim-tenant", tenant, "--input", sheet, "--out", filepath.Join(dir, "first")); code != 0 {
		t.Fatalf("first run exit %d\n%s", code, stderr)
	}
	for _, tc := range []struct{ delimiter, sep string }{{"comma", ","}, {"semicolon", ";"}} {
		exported := filepath.Join(dir, "export-"+tc.delimiter+".csv")
		if code, _, stderr := run(t, nil, "export", "--simulate", "--sim-tenant", tenant, "--out", exported, "--delimiter", tc.delimiter); code != 0 {
			t.Fatalf("export exit %d\n%s", code, stderr)
		}
		b, _ := os.ReadFile(exported)
		if !bytes.HasPrefix(b, []byte("\ufeffdisplayName"+tc.sep)) {
			t.Errorf("export with %s: starts %q, want a byte order mark and the delimiter", tc.delimiter, b[:min(len(b), 20)])
		}
		code, stdout, _ := run(t, nil, "validate", exported)
		if code != 0 || strings.Contains(stdout, "warning") || !strings.Contains(stdout, "10 valid, 0 invalid") {
			t.Errorf("validate of the export: exit %d\n%s", code, stdout)
		}
		code, _, stderr := run(t, nil, "run", "--simulate", "--sim-tenant", tenant, "--input", exported, "--on-exists", "update", "--out", filepath.Join(dir, "again-"+tc.delimiter))
		if code != 0 || !strings.Contains(stderr, "10 row(s): exists 10") {
			t.Errorf("the export run again with --on-exists update: exit %d\n%s", code, stderr)
		}
	}
}

// A date without a time means the token is valid through that day: the
// run sends 23:59:59 UTC of it, the label says "valid through" that day
// wherever the run happens, and a rerun with --on-exists update finds the
// profile unchanged.
func TestDateAloneValidThroughThatDay(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	day := time.Now().UTC().AddDate(0, 2, 0).Format("2006-01-02")
	in := filepath.Join(t.TempDir(), "p.csv")
	if err := os.WriteFile(in, []byte("displayName,tokenExpirationDateTime\nTill 1,"+day+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env := []string{"TZ=America/Los_Angeles"} // where 23:59 UTC is the afternoon
	if code, _, stderr := run(t, env, "run", in, "--simulate", "--out", out); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, output.ResultsFile))
	if len(rs) != 1 || !rs[0].TokenExpiration.Equal(profile.ThroughDay(rs[0].TokenExpiration)) || rs[0].TokenExpiration.UTC().Format("2006-01-02") != day {
		t.Fatalf("expiry %v; want %s 23:59:59 UTC", rs[0].TokenExpiration, day)
	}
	text, err := tool("pdftotext", "-layout", filepath.Join(out, output.SheetFile), "-")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Token valid through " + day + " (23:59 UTC)"; !strings.Contains(string(text), want) {
		t.Errorf("the label does not say %q:\n%s", want, text)
	}
	code, _, stderr := run(t, env, "run", in, "--simulate", "--out", out, "--on-exists", "update", "--dry-run")
	if code != 0 || !strings.Contains(stderr, "1 unchanged") {
		t.Errorf("the plan of a rerun: exit %d\n%s", code, stderr)
	}
}
