package cli

import (
	"math"
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
