package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"golang.org/x/mod/module"
)

// The values release builds set at link time in package main (-X
// main.version=…), handed over by SetVersion. Empty values fall back to
// what the Go toolchain recorded in the binary (see buildVersion).
var (
	version string
	commit  string
	date    string
)

// SetVersion records the version, commit and build date linked into the
// program.
func SetVersion(v, c, d string) { version, commit, date = v, c, d }

// versionInfo is what `enrollbatch version` reports.
type versionInfo struct {
	Version  string // e.g. v1.2.0, or "devel" for a local build without a tag
	Commit   string // the full revision, "-dirty" appended for uncommitted changes; "unknown" when not recorded
	Date     string // build date (release builds) or commit time (local builds), RFC 3339; "unknown" when not recorded
	Go       string // the toolchain that built the binary
	Platform string // GOOS/GOARCH
}

// String is the text the version command prints.
func (v versionInfo) String() string {
	return fmt.Sprintf("enrollbatch %s\ncommit %s\nbuilt %s\n%s %s\n", v.Version, v.Commit, v.Date, v.Go, v.Platform)
}

// buildVersion reports the running binary's version.
func buildVersion() versionInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return describeBuild(bi, version, commit, date)
}

// describeBuild combines the link-time values with the build information the
// toolchain recorded. Link-time values win. Otherwise:
//   - `go install github.com/enrollbatch/enrollbatch@v1.2.0` records the
//     module version; a pseudo-version (…@latest before any tag, or @main)
//     also names the commit and its time;
//   - `go build` in a checkout records "(devel)", or since Go 1.24 a version
//     derived from the tag or commit, and, when VCS stamping is on (the
//     default, unless -buildvcs=false), vcs.revision, vcs.time and
//     vcs.modified, which name the commit in full.
func describeBuild(bi *debug.BuildInfo, ldVersion, ldCommit, ldDate string) versionInfo {
	v := versionInfo{Version: ldVersion, Commit: ldCommit, Date: ldDate,
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		mv := bi.Main.Version
		if v.Version == "" && mv != "" && mv != "(devel)" {
			v.Version = mv
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		// A checkout's own stamp names the whole commit; a pseudo-version
		// (go install …@main) names its first 12 digits.
		if rev := settings["vcs.revision"]; rev != "" && v.Commit == "" {
			v.Commit = rev
			if settings["vcs.modified"] == "true" {
				v.Commit += "-dirty"
			}
		}
		if t := settings["vcs.time"]; t != "" && v.Date == "" {
			v.Date = t
		}
		if module.IsPseudoVersion(mv) {
			if rev, err := module.PseudoVersionRev(mv); err == nil && v.Commit == "" {
				v.Commit = rev
			}
			if t, err := module.PseudoVersionTime(mv); err == nil && v.Date == "" {
				v.Date = t.UTC().Format("2006-01-02T15:04:05Z")
			}
		}
		if os, arch := settings["GOOS"], settings["GOARCH"]; os != "" && arch != "" {
			v.Platform = os + "/" + arch
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.Date == "" {
		v.Date = "unknown"
	}
	return v
}

// versionCommand prints the version; it takes no flags.
func (m *Main) versionCommand(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "--help", "-help", "-h":
			fmt.Fprint(m.Stdout, "Usage: enrollbatch version (or enrollbatch --version)\n\nPrints the version, the commit and the build date.\n")
			return errHelp
		}
		return usagef("version takes no arguments (got %q)", args[0])
	}
	fmt.Fprint(m.Stdout, buildVersion())
	return nil
}
