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
