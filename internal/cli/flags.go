package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/console"
	"github.com/enrollbatch/enrollbatch/profile"
)

// parse parses args; --help prints the usage to stdout and ends the
// command. Arguments that are not flags are refused.
func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	pos, err := m.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q (see enrollbatch %s --help)", fs.Name(), pos[0], fs.Name())
	}
	return nil
}

// parseInput parses args like parse, and also takes the input file as the
// only argument that is not a flag ("enrollbatch run profiles.xlsx").
func (m *Main) parseInput(fs *flag.FlagSet, args []string, input *string) error {
	pos, err := m.parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
	case len(pos) > 1:
		return usagef("%s: unexpected argument %q: give one input file (see enrollbatch %s --help)", fs.Name(), pos[1], fs.Name())
	case *input != "" && *input != pos[0]:
		return usagef("%s: the input is given twice (--input %s and %s): give one", fs.Name(), *input, pos[0])
	default:
		*input = pos[0]
	}
	return nil
}

func (m *Main) parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	// Parse quietly: --help prints to stdout, and errors are reported once,
	// by the caller, with the exit code.
	pos, err := cliflag.Parse(fs, args)
	fs.SetOutput(m.Stderr)
	if err != nil {
		if errors.Is(err, cliflag.ErrHelp) {
			fs.SetOutput(m.Stdout)
			fs.Usage()
			return nil, errHelp
		}
		return nil, usagef("%s %w (see enrollbatch %s --help)", fs.Name(), err, fs.Name())
	}
	return pos, nil
}

// parseDays parses a duration that may be given in days: "14d", "90d",
// "36h", "1h30m".
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (use 14d, 36h or 90m)", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration (use 14d, 36h or 90m)", s)
	}
	return v, nil
}

// daysFlag is a flag.Value for durations in days.
type daysFlag struct{ d *time.Duration }

func (f daysFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return "0"
	}
	if *f.d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", *f.d/(24*time.Hour))
	}
	return f.d.String()
}

func (f daysFlag) Set(s string) error {
	d, err := parseDays(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// logFlags are the logging flags every command that talks to Graph has.
type logFlags struct {
	format  string
	verbose bool
}

func (l *logFlags) register(fs *flag.FlagSet) {
	cliflag.ChoiceVar(fs, &l.format, "log-format", "text", "log format: text or json", "text", "json")
	fs.BoolVar(&l.verbose, "verbose", false, "log every request and rate change (debug level)")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	// Text logs are for people watching a terminal: only what went wrong,
	// unless --verbose. JSON logs are for collectors: one event per row.
	lvl := slog.LevelWarn
	if l.format == "json" {
		lvl = slog.LevelInfo
	}
	if l.verbose {
		lvl = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if l.format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(console.NewPeopleHandler(w, lvl)), nil
}

// checkNamePrefix refuses a --name-prefix that was given but is blank, in
// every command that takes one: it would select every profile.
func checkNamePrefix(fs *flag.FlagSet, prefix string) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "name-prefix" })
	if !given {
		return nil
	}
	if err := profile.CheckPrefix(prefix); err != nil {
		return usagef("--name-prefix %q: %w", prefix, err)
	}
	return nil
}
