//go:build !windows

package cli

import (
	"os"
	"syscall"
)

// stopSignals stop a run cleanly: Ctrl-C, a service manager's or
// Kubernetes' SIGTERM, and SIGHUP from a closed terminal or a dropped SSH
// session.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
