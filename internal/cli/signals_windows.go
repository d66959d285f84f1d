//go:build windows

package cli

import (
	"os"
	"syscall"
)

// stopSignals stop a run cleanly. Go delivers Ctrl-C and Ctrl-Break as
// os.Interrupt, and closing the console window, logging off or shutting
// down as syscall.SIGTERM (Windows then allows a few seconds only).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
