package cli

import (
	"os"
	"runtime/debug"
)

// runMemoryLimit sets the soft memory limit of a run (runtime/debug
// SetMemoryLimit) unless GOMEMLIMIT is set: what a run holds at its peak
// does not grow with the rows (two QR sheet parts of pagesPerFile pages,
// about 0.8 MiB a page, and what is in flight), so the limit is that plus
// 60 MiB. On a loaded machine the collector lets garbage pile up above the
// live memory between cycles; near the limit it collects sooner instead.
// It is a soft limit: a run that needs more (a --split-by over many values
// holds its labels) goes above it, the collector working harder. It
// returns the limit set, 0 when GOMEMLIMIT decides.
func runMemoryLimit(pagesPerFile int) int64 {
	return setMemoryLimit(int64(60+pagesPerFile*4/5) << 20)
}

// tenantsMemoryLimit is runMemoryLimit for a run over several tenants:
// sheets writes at once (see writeSlots), each as one run's, and about
// 4 MiB for each of inFlight tenants whose rows are in flight, capped at
// 176 MiB. Between collections the heap may grow to three times what is
// live (GOGC 200, unless GOGC is set): the tenants bench measured half the
// CPU of the default at 50 and 500 tenants, the cap keeping the peak near
// 190 MiB, under the 256 MiB a small container has (docs/speed.md).
func tenantsMemoryLimit(pagesPerFile, sheets, inFlight int) int64 {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	mib := min(60+sheets*pagesPerFile*4/5+inFlight*4, 176)
	return setMemoryLimit(int64(mib) << 20)
}

// setMemoryLimit sets the soft memory limit, unless GOMEMLIMIT is set.
func setMemoryLimit(limit int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	debug.SetMemoryLimit(limit)
	return limit
}
