package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name                 string
		bi                   *debug.BuildInfo
		ldV, ldC, ldD        string
		wantV, wantC, wantD  string
		wantGo, wantPlatform string
	}{
		{
			name: "release build: link-time values win",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs.revision", "aaaa", "vcs.time", "2020-01-01T00:00:00Z", "GOOS", "windows", "GOARCH", "arm64")},
			ldV: "v1.2.0", ldC: "0123456789abcdef0123456789abcdef01234567", ldD: "2026-12-01T20:00:00Z",
			wantV: "v1.2.0", wantC: "0123456789abcdef0123456789abcdef01234567", wantD: "2026-12-01T20:00:00Z",
			wantGo: "go1.26.8", wantPlatform: "windows/arm64",
		},
		{
			name:  "go install @v1.3.0",
			bi:    &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/enrollbatch/enrollbatch", Version: "v1.3.0"}},
			wantV: "v1.3.0", wantC: "unknown", wantD: "unknown", wantGo: "go1.26.8",
		},
		{
			name:  "go install @latest before a tag: a pseudo-version names commit and time",
			bi:    &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201200802-6b78d0c20374"}},
			wantV: "v0.0.0-20261201200802-6b78d0c20374", wantC: "6b78d0c20374", wantD: "2026-12-01T20:08:02Z", wantGo: "go1.26.8",
		},
		{
			name:  "go install @main after a tag",
			bi:    &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.1-0.20261201200802-6b78d0c20374"}},
			wantV: "v1.2.1-0.20261201200802-6b78d0c20374", wantC: "6b78d0c20374", wantD: "2026-12-01T20:08:02Z", wantGo: "go1.26.8",
		},
		{
			name: "local build with VCS stamping, uncommitted changes",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs", "git", "vcs.revision", "6b78d0c2037497347db1bc6b69fa7e32b811b965", "vcs.time", "2026-12-01T20:08:02Z", "vcs.modified", "true")},
			wantV: "devel", wantC: "6b78d0c2037497347db1bc6b69fa7e32b811b965-dirty", wantD: "2026-12-01T20:08:02Z", wantGo: "go1.26.8",
		},
		{
			name: "local build in a clean checkout: Go derives a pseudo-version, vcs.revision gives the full commit",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201215642-95976e7154b6"},
				Settings: vcs("vcs", "git", "vcs.revision", "95976e7154b69f19c05d26514f6c65644c098776", "vcs.time", "2026-12-01T21:56:42Z", "vcs.modified", "false")},
			wantV: "v0.0.0-20261201215642-95976e7154b6", wantC: "95976e7154b69f19c05d26514f6c65644c098776", wantD: "2026-12-01T21:56:42Z", wantGo: "go1.26.8",
		},
		{
			name:  "local build without VCS stamping",
			bi:    &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			wantV: "devel", wantC: "unknown", wantD: "unknown", wantGo: "go1.26.8",
		},
		{
			name:  "no build information at all",
			wantV: "devel", wantC: "unknown", wantD: "unknown", wantGo: runtime.Version(),
		},
		{
			name:  "only a link-time version",
			bi:    &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			ldV:   "v2.0.0-rc1",
			wantV: "v2.0.0-rc1", wantC: "unknown", wantD: "unknown", wantGo: "go1.26.8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeBuild(tt.bi, tt.ldV, tt.ldC, tt.ldD)
			if got.Version != tt.wantV || got.Commit != tt.wantC || got.Date != tt.wantD || got.Go != tt.wantGo {
				t.Errorf("got %+v, want version %q commit %q date %q go %q", got, tt.wantV, tt.wantC, tt.wantD, tt.wantGo)
			}
			platform := tt.wantPlatform
			if platform == "" {
				platform = runtime.GOOS + "/" + runtime.GOARCH
			}
			if got.Platform != platform {
				t.Errorf("platform %q, want %q", got.Platform, platform)
			}
		})
	}
}

// buildBinary builds the command into dir with extra go build arguments.
func buildBinary(t *testing.T, dir string, args ...string) string {
	t.Helper()
	bin := filepath.Join(dir, "enrollbatch")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, args...), ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
	return bin
}

// versionOutput runs bin with args and returns stdout, failing on a non-zero exit.
func versionOutput(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return string(out)
}

// TestVersionFromLdflags builds the binary the way the release does and
// checks that both spellings of the command report the link-time values.
func TestVersionFromLdflags(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir(), "-ldflags",
		"-X main.version=v1.4.2 -X main.commit=0123456789abcdef0123456789abcdef01234567 -X main.date=2026-12-01T20:00:00Z")
	want := "enrollbatch v1.4.2\ncommit 0123456789abcdef0123456789abcdef01234567\nbuilt 2026-12-01T20:00:00Z\n" +
		runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		if got := versionOutput(t, bin, args...); got != want {
			t.Errorf("%v printed\n%s\nwant\n%s", args, got, want)
		}
	}
	code, _, stderr := run(t, nil, "version", "extra")
	if code != exitUsage || !strings.Contains(stderr, "takes no arguments") {
		t.Errorf("version extra: exit %d, %q; want 2 and a message", code, stderr)
	}
}

// TestVersionFromBuildInfo builds without -ldflags, with VCS stamping asked
// for, and checks that the binary reports what the toolchain recorded in it.
func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir(), "-buildvcs=true")
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	wantVersion := "devel"
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "mod" && f[2] != "(devel)" {
			// Go stamps a checkout with a pseudo-version of its commit.
			wantVersion = f[2]
		}
		if len(f) == 2 && f[0] == "build" {
			if k, v, ok := strings.Cut(f[1], "="); ok {
				settings[k] = v
			}
		}
	}
	wantCommit, wantDate := "unknown", "unknown"
	if rev := settings["vcs.revision"]; rev != "" {
		wantCommit, wantDate = rev, settings["vcs.time"]
		if settings["vcs.modified"] == "true" {
			wantCommit += "-dirty"
		}
	} else if os.Getenv("CI") != "" {
		t.Fatalf("CI builds from a git clone, but the binary records no vcs.revision:\n%s", meta)
	} else {
		t.Log("this checkout is not stamped with VCS information (a linked worktree, or no git): checking the unknown case")
	}
	got := versionOutput(t, bin, "version")
	want := "enrollbatch " + wantVersion + "\ncommit " + wantCommit + "\nbuilt " + wantDate + "\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("version printed\n%s\nwant it to start\n%s", got, want)
	}
}

// TestVersionAfterGoInstall runs `go install github.com/enrollbatch/enrollbatch@v0.9.0`
// against a module proxy on disk that serves this source tree as v0.9.0,
// the way a user installs a release, and checks the version the binary reports.
func TestVersionAfterGoInstall(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the module again; skipped with -short")
	}
	const mod, ver = "github.com/enrollbatch/enrollbatch", "v0.9.0"
	proxy := t.TempDir()
	dir := filepath.Join(proxy, mod, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"list":        []byte(ver + "\n"),
		ver + ".info": []byte(`{"Version":"` + ver + `","Time":"2026-12-01T20:00:00Z"}`),
		ver + ".mod":  gomod,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zf, err := os.Create(filepath.Join(dir, ver+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(zf, module.Version{Path: mod, Version: ver}, root); err != nil {
		t.Fatalf("zip the module: %v", err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}

	// A module cache of the test's own, so the v0.9.0 it makes never
	// lingers; the dependencies come from the shared cache's downloads
	// (a module cache's download folder is a valid GOPROXY), else upstream.
	//
	// The build is the release's (CGO_ENABLED=0, -trimpath), which reports
	// its version as any build does. Without -trimpath every package's
	// build cache key holds its folder, and the folders of this temporary
	// module cache are new each time: the whole dependency tree would be
	// compiled again (two minutes on two cores). With it, the key holds
	// the module's path and version, so the packages compiled by an
	// earlier run, by CI's release builds or by TestContainerfile are
	// reused.
	shared := filepath.Join(goEnv(t, "GOMODCACHE"), "cache", "download")
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", mod+"@"+ver)
	cmd.Dir = t.TempDir() // outside this module, as a user runs it
	cmd.Env = append(os.Environ(),
		"GOBIN="+gobin,
		"GOPROXY="+fileURL(proxy)+","+fileURL(shared)+","+goEnv(t, "GOPROXY"),
		"GONOSUMDB="+mod,
		"GOMODCACHE="+filepath.Join(t.TempDir(), "mod"),
		"GOFLAGS=-modcacherw -trimpath", // -modcacherw so the test's cache can be removed
		"CGO_ENABLED=0",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", mod, ver, err, out)
	}
	got := versionOutput(t, filepath.Join(gobin, "enrollbatch"), "--version")
	if !strings.HasPrefix(got, "enrollbatch "+ver+"\n") {
		t.Errorf("after go install @%s, --version printed\n%s", ver, got)
	}
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// fileURL is a file:// URL for a local folder, as GOPROXY takes it.
func fileURL(dir string) string {
	dir = filepath.ToSlash(dir)
	if !strings.HasPrefix(dir, "/") {
		dir = "/" + dir // C:/... on Windows
	}
	return "file://" + dir
}
