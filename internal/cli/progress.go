package cli

import (
	"time"

	"github.com/enrollbatch/enrollbatch/console"
)

// newProgress returns the progress display --progress asks for: a bar on
// a terminal, plain status lines when stderr is not one but --progress
// always is given (and in JSON mode, where a bar would not be JSON), or
// nothing. pausedUntil tells the Retry-After countdown.
func (m *Main) newProgress(mode, logFormat string, pausedUntil func() time.Time) *console.Progress {
	term := console.IsTerminal(m.Stderr)
	opts := console.ProgressOptions{PausedUntil: pausedUntil}
	switch {
	case mode == "never", mode == "auto" && !term:
		opts.Mode = console.Off
	case term && logFormat != "json":
		opts.Mode = console.Bar
		opts.ANSI = console.EnableANSI(m.Stderr)
	default:
		opts.Mode = console.Lines
	}
	return console.NewProgress(m.Stderr, opts)
}
