package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMainStartsTheCommandLine builds the program as a release does, with
// the version linked into package main, and runs it: main hands the
// version to the command line and exits with the code of the command.
func TestMainStartsTheCommandLine(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "enrollbatch")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123456789abcdef0123456789abcdef01234567", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "enrollbatch v9.8.7\ncommit 0123456789abcdef0123456789abcdef01234567\n") {
		t.Errorf("version: %v\n%s", err, out)
	}
	err = exec.Command(bin, "no-such-command").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("an unknown command: %v, want exit 2", err)
	}
}
