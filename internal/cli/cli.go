// Package cli is enrollbatch's command line: one file per command, each
// parsing its flags and calling the packages that do the work, and Main,
// which runs a command and maps its error to the exit code in one place.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/enrollbatch/enrollbatch/console"
	"github.com/enrollbatch/enrollbatch/results"

	"github.com/enrollbatch/enrollbatch/graph"
)

// Execute runs the command named by args and returns its exit code, having
// reported the error if there was one. With --log-format json every line
// the command prints, on stdout and stderr, is one JSON object.
func (m *Main) Execute(ctx context.Context, args []string) int {
	if jsonLogs(args) {
		out := &console.JSONLines{W: m.Stdout}
		errw := &console.JSONLines{W: m.Stderr}
		m.Stdout, m.Stderr = out, errw
		defer out.Flush()
		defer errw.Flush()
	}
	return m.exitCode(m.Run(ctx, args))
}

// jsonLogs reports whether args ask for --log-format json (in any of the
// spellings the flag package takes).
func jsonLogs(args []string) bool {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, val, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "log-format" {
			continue
		}
		if !ok && i+1 < len(args) {
			val = args[i+1]
		}
		return strings.EqualFold(strings.TrimSpace(val), "json")
	}
	return false
}

// Main is the program: its streams and environment, so that tests can run
// it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Stdin answers confirmation questions; they are asked only when
	// StdinTerminal reports that a person is there.
	Stdin         io.Reader
	StdinTerminal func() bool
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Stdin: os.Stdin, StdinTerminal: func() bool { return isTerminal(os.Stdin) }}
}

// Exit codes.
const (
	exitOK      = 0
	exitRows    = 1
	exitUsage   = 2
	exitAborted = 3
)

// usageError is a mistake in how the tool was called or configured, or an
// input it cannot read: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// rowsError says that some rows did not end well: exit 1. The details are
// in the results and the summary already printed.
type rowsError struct{ n int }

func (e *rowsError) Error() string {
	return fmt.Sprintf("%d row(s) were not done; see the results", e.n)
}

// noRows is the error for an input with headers and no rows: exit 1,
// since there is nothing to do and a scheduled run should notice.
func noRows(path string) error {
	return fmt.Errorf("%s: no rows to process: the file has a header row and nothing under it; add one row per profile", path)
}

// rowsOutcome is the error of a command whose rows are done: a *rowsError
// (exit 1) when some row did not end well, else nil.
func rowsOutcome(rs []results.Result) error {
	bad := 0
	for _, r := range rs {
		if !r.Status.OK() {
			bad++
		}
	}
	if bad > 0 {
		return &rowsError{n: bad}
	}
	return nil
}

// errHelp is returned after --help printed the usage: exit 0.
var errHelp = errors.New("help shown")

func (m *Main) exitCode(err error) int {
	var ue *usageError
	var re *rowsError
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ee):
		fmt.Fprintln(m.Stderr, "enrollbatch:", err)
		return ee.code
	case errors.As(err, &re):
		return exitRows
	case errors.As(err, &ue), isNoCredentials(err):
		fmt.Fprintln(m.Stderr, "enrollbatch:", err)
		return exitUsage
	case graph.IsAuth(err) || isSignInFailure(err):
		fmt.Fprintln(m.Stderr, "enrollbatch: aborted:", err)
		return exitAborted
	default:
		fmt.Fprintln(m.Stderr, "enrollbatch:", err)
		return exitRows
	}
}

const usage = `enrollbatch creates Android Device Owner enrollment profiles in Microsoft Intune
from a CSV or XLSX file and prints their QR codes.

Usage:
  enrollbatch run --input FILE [flags]      create the profiles, write results and QR sheet
  enrollbatch validate --input FILE         check a file and print every problem
  enrollbatch qr [flags]                    print a QR sheet again (from results or the tenant)
  enrollbatch template --out FILE           write a template to fill in (.xlsx or .csv)
  enrollbatch revoke [flags]                revoke enrollment tokens (lost sheets)
  enrollbatch export --out FILE             write the tenant's profiles in the input format
  enrollbatch delete [flags]                delete profiles named in a file or under a prefix
  enrollbatch sim --listen ADDR             serve the Graph simulator for trying the tool
  enrollbatch doctor [flags]                check a tenant before the first run (changes nothing)
  enrollbatch signout                       forget the sign-in kept between commands
  enrollbatch version                       print the version, commit and build date (also --version)

Run "enrollbatch help COMMAND" or "enrollbatch COMMAND --help" for the flags of a command.
`

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return m.runCommand(ctx, rest)
	case "validate":
		return m.validateCommand(ctx, rest)
	case "qr":
		return m.qrCommand(ctx, rest)
	case "template":
		return m.templateCommand(ctx, rest)
	case "revoke":
		return m.revokeCommand(ctx, rest)
	case "export":
		return m.exportCommand(ctx, rest)
	case "delete":
		return m.deleteCommand(ctx, rest)
	case "sim":
		return m.simCommand(ctx, rest)
	case "doctor":
		return m.doctorCommand(ctx, rest)
	case "signout", "sign-out":
		return m.signoutCommand(ctx, rest)
	case "version", "--version", "-version":
		return m.versionCommand(rest)
	case "help", "-h", "--help", "-help":
		if cmd == "help" && len(rest) > 0 && rest[0] != "help" {
			// "help run" is "run --help".
			return m.Run(ctx, []string{rest[0], "--help"})
		}
		fmt.Fprint(m.Stdout, usage)
		return errHelp
	default:
		fmt.Fprint(m.Stderr, usage)
		return usagef("unknown command %q", cmd)
	}
}
