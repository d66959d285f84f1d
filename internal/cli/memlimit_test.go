package cli

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestRunMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "")
	for _, tc := range []struct {
		pages int
		want  int64
	}{{50, 100 << 20}, {400, 380 << 20}, {1, 60 << 20}} {
		if got := runMemoryLimit(tc.pages); got != tc.want || debug.SetMemoryLimit(-1) != tc.want {
			t.Errorf("%d pages per file: limit %d (runtime %d), want %d", tc.pages, got, debug.SetMemoryLimit(-1), tc.want)
		}
	}
	// GOMEMLIMIT in the environment wins.
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := runMemoryLimit(50); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set the run set a limit of %d", debug.SetMemoryLimit(-1))
	}
}

// A run over several tenants sizes its limit for the sheets written at
// once and the tenants in flight, capped near a small container's memory.
func TestTenantsMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		pages, sheets, inFlight int
		want                    int64
	}{
		{50, 2, 10, 176 << 20},
		{20, 2, 10, (60 + 32 + 40) << 20},
		{50, 2, 64, 176 << 20},
		{0, 1, 1, 64 << 20},
	} {
		if got := tenantsMemoryLimit(tc.pages, tc.sheets, tc.inFlight); got != tc.want || debug.SetMemoryLimit(-1) != tc.want {
			t.Errorf("tenantsMemoryLimit(%d, %d, %d) = %d; want %d", tc.pages, tc.sheets, tc.inFlight, got, tc.want)
		}
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if old := debug.SetGCPercent(100); old != 200 && os.Getenv("GOGC") == "" {
		t.Errorf("GOGC for a run over tenants is %d; want 200", old)
	}
}
