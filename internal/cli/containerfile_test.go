package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestContainerfile checks what can be checked without a container engine:
// the image runs as a non-root user on a base with CA certificates, the
// build stage's Go is new enough for go.mod, and the build command the
// Containerfile runs works here and gives a static binary that reports the
// version passed in.
func TestContainerfile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the Containerfile's build runs in a Linux shell")
	}
	data, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Instructions, with continuation lines joined and comments dropped.
	var instr []string
	cur := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		if cur += line; strings.TrimSpace(cur) != "" {
			instr = append(instr, strings.Join(strings.Fields(cur), " "))
		}
		cur = ""
	}
	var froms, builds []string
	user := ""
	for _, in := range instr {
		switch {
		case strings.HasPrefix(in, "FROM "):
			froms = append(froms, in)
		case strings.HasPrefix(in, "RUN ") && strings.Contains(in, "go build"):
			builds = append(builds, strings.TrimPrefix(in, "RUN "))
		case strings.HasPrefix(in, "USER "):
			user = strings.TrimPrefix(in, "USER ")
		}
	}
	if len(froms) != 2 || len(builds) != 1 {
		t.Fatalf("want two stages and one go build, got %q and %q", froms, builds)
	}
	if !strings.Contains(froms[1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[1], ":nonroot") {
		t.Errorf("final stage %q: want distroless static, nonroot", froms[1])
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("USER %q: want a non-root user", user)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	need := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(gomod))
	have := regexp.MustCompile(`golang:(\d+)\.(\d+)`).FindStringSubmatch(froms[0])
	if need == nil || have == nil || have[1] != need[1] || len(have[2]) < len(need[2]) || (len(have[2]) == len(need[2]) && have[2] < need[2]) {
		t.Errorf("build stage %q: want Go %s.%s or newer, as go.mod says", froms[0], need[1], need[2])
	}

	// Run the build command as the Containerfile does, with the build
	// arguments set and the output redirected to a temporary folder.
	out := t.TempDir()
	cmdline := strings.ReplaceAll(builds[0], "/out/enrollbatch", filepath.Join(out, "enrollbatch"))
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Env = append(os.Environ(), "VERSION=v9.9.9", "COMMIT=0123456789abcdef0123456789abcdef01234567", "DATE=2026-12-01T00:00:00Z")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}
	bin := filepath.Join(out, "enrollbatch")
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(meta), "CGO_ENABLED=0") {
		t.Errorf("the binary is not static:\n%s", meta)
	}
	got := versionOutput(t, bin, "--version")
	if !strings.HasPrefix(got, "enrollbatch v9.9.9\ncommit 0123456789abcdef0123456789abcdef01234567\nbuilt 2026-12-01T00:00:00Z\n") {
		t.Errorf("--version printed\n%s", got)
	}
}
