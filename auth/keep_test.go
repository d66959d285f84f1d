package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A person's sign-in is kept between commands: the second command (a new
// source, as a new process makes) gets its token from the kept sign-in,
// with no prompt and no device code request; the record holds no secret
// and is mode 0600; after SignOut the next command prompts again. The
// tokens are kept in the system's store (on Linux, a file encrypted with a
// key in the kernel keyring).
func TestKeptSignIn(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	a := newFakeAuthority(t)
	env := envOf(map[string]string{EnvAuthorityHost: a.url()})
	var notes []string
	command := func() (TokenSource, *syncBuffer) {
		var prompt syncBuffer
		ts := newSource(t, a, Options{Mode: ModeDeviceCode, Getenv: env, Prompt: &prompt, GraphURL: "https://graph.microsoft.com/beta",
			KeepSignIn: true, KeepNote: func(s string) { notes = append(notes, s) }})
		return ts, &prompt
	}
	ts, prompt := command()
	mustToken(t, ts, false)
	if !strings.Contains(prompt.String(), "FAKE-CODE") {
		t.Fatalf("the first command did not prompt: %q", prompt.String())
	}
	if _, err := persistentCache(); err != nil {
		// A system with no store (a container without a keyring): the
		// person is told, once, and signs in for this command only.
		if len(notes) != 1 || !strings.Contains(notes[0], "kept for this command only") {
			t.Errorf("no store (%v), and the notes are %q", err, notes)
		}
		t.Logf("no store to keep a sign-in in here (%v): checked the fallback only", err)
		return
	}
	dir, _ := keepFolder()
	recs, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(recs) != 1 {
		t.Fatalf("records kept: %v", recs)
	}
	b, _ := os.ReadFile(recs[0])
	if fi, _ := os.Stat(recs[0]); fi.Mode().Perm() != 0o600 || strings.Contains(string(b), "refresh-") || strings.Contains(string(b), "user-token") {
		t.Errorf("record %s (mode %v) holds %s", recs[0], fi.Mode().Perm(), b)
	}
	codes := func() int { return strings.Count(strings.Join(a.grants(), " "), "devicecode") }
	before := codes()

	ts, prompt = command()
	mustToken(t, ts, false)
	if prompt.String() != "" || codes() != before {
		t.Errorf("the second command prompted (%q) or asked for a device code (%d → %d)", prompt.String(), before, codes())
	}
	if len(notes) > 0 {
		t.Errorf("notes %q", notes)
	}

	removed, err := SignOut()
	if err != nil || len(removed) == 0 {
		t.Fatalf("SignOut: %v, %v", removed, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the records are still there: %v", err)
	}
	ts, prompt = command()
	mustToken(t, ts, false)
	if !strings.Contains(prompt.String(), "FAKE-CODE") {
		t.Errorf("after sign-out the command did not prompt: %q", prompt.String())
	}
}
