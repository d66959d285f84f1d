package cli

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

// defaultParallel is how many tests run at once when go test is not given
// -parallel. Most tests here spend their time waiting: on a child process,
// a simulator's latency, a grace period or a sign-in's retries, not on the
// CPU. The testing package's default, GOMAXPROCS, would leave the CPU idle
// while two of them wait.
func defaultParallel() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// setDefaultParallel sets -test.parallel to defaultParallel unless the
// command line set it. It runs in TestMain, after flag.Parse.
func setDefaultParallel() {
	given := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			given = true
		}
	})
	if !given {
		flag.Set("test.parallel", strconv.Itoa(defaultParallel()))
	}
}

// toolSlots bounds how many of the external renderers and decoders
// (pdftoppm, pdftotext, zbarimg) run at once: one per CPU. Each keeps a
// CPU busy for a second or more per page of a QR sheet; unbounded, the
// tests that decode sheets would starve the tests, running at the same
// time, that time how soon a run stops.
var toolSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// tool runs an external renderer or decoder when a slot is free and
// returns its standard output, as exec.Cmd's Output does.
func tool(name string, args ...string) ([]byte, error) {
	toolSlots <- struct{}{}
	defer func() { <-toolSlots }()
	return exec.Command(name, args...).Output()
}

// toolCombined is tool returning standard output and standard error, as
// exec.Cmd's CombinedOutput does.
func toolCombined(name string, args ...string) ([]byte, error) {
	toolSlots <- struct{}{}
	defer func() { <-toolSlots }()
	return exec.Command(name, args...).CombinedOutput()
}

// gate holds the first request to a handler until the test opens it. A run
// takes its locks before its first request, so a run whose first request
// is held keeps its locks for as long as the test needs, however slowly a
// busy machine starts the runs that must find them taken.
type gate struct {
	h       http.Handler
	arrived atomic.Bool
	release chan struct{}
	once    sync.Once
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.arrived.CompareAndSwap(false, true) {
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
	}
	g.h.ServeHTTP(w, r)
}

// holding reports whether the first request has arrived (and is held,
// until open).
func (g *gate) holding() bool { return g.arrived.Load() }

// open lets the held request, and every later one, through.
func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// gatedSimServer is simServer with a gate in front of the simulator.
func gatedSimServer(t *testing.T, o sim.Options) (*sim.Server, *gate, string) {
	t.Helper()
	s := sim.New(o)
	g := &gate{h: s, release: make(chan struct{})}
	hs := httptest.NewServer(g)
	t.Cleanup(hs.Close)
	t.Cleanup(g.open) // runs first: Close waits for the held request
	return s, g, hs.URL + "/beta"
}
