// Command enrollbatch creates Android Device Owner enrollment profiles in
// Microsoft Intune from a CSV or XLSX file, through Microsoft Graph, and
// leaves a results workbook and a printable sheet of QR codes.
//
// Usage:
//
//	enrollbatch run --input FILE [flags]
//	enrollbatch validate --input FILE
//	enrollbatch qr --results FILE --out FILE | --from-tenant --name-prefix P --out FILE
//	enrollbatch template --out FILE
//	enrollbatch revoke --input FILE | --name-prefix P [--dry-run] [--yes]
//	enrollbatch export --out FILE [--name-prefix P]
//	enrollbatch delete --input FILE | --name-prefix P [--dry-run] [--yes] [--force]
//	enrollbatch sim --listen ADDR
//	enrollbatch doctor [flags]
//	enrollbatch version (or --version)
//
// Exit codes: 0 every row done; 1 some row invalid, failed or not attempted;
// 2 usage, configuration or unreadable input; 3 aborted on an
// authentication or permission failure.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/enrollbatch/enrollbatch/internal/cli"
)

// Set at link time by release builds, e.g.
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD) -X main.date=2026-12-01T20:00:00Z"
//
// Empty values fall back to what the Go toolchain recorded in the binary.
var (
	version string
	commit  string
	date    string
)

func main() {
	// Most of what a large run allocates is short-lived (the PDF's
	// compressors, response bodies); collecting at 35% heap growth instead
	// of 100% keeps peak memory about a fifth lower for a few percent of
	// CPU (see docs/speed.md). GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(35)
	}
	cli.SetVersion(version, commit, date)
	os.Exit(cli.NewMain().Execute(context.Background(), os.Args[1:]))
}
