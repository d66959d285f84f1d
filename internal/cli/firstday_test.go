package cli

import (
	"strings"
	"testing"
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
