package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// parkFor is how long a finished worker sleeps on the fake clock: far beyond
// any wake-up time of the tests, so Step never picks it.
const parkFor = 100000 * time.Hour

// workers runs goroutines that wait on a FakeClock. A worker that has
// finished parks on the clock, so "every worker sleeps" (settle) is a stable
// state the test can wait for before it moves the clock, whether the workers
// are still working or done.
type workers struct {
	t        testing.TB
	fc       *FakeClock
	n        int
	finished atomic.Int64
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// startWorkers starts n workers running work(ctx, i).
func startWorkers(t testing.TB, fc *FakeClock, n int, work func(ctx context.Context, i int)) *workers {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workers{t: t, fc: fc, n: n, cancel: cancel}
	t.Cleanup(w.stop)
	for i := range n {
		w.wg.Go(func() {
			work(ctx, i)
			w.finished.Add(1)
			_ = fc.Sleep(ctx, parkFor)
		})
	}
	return w
}

// settle blocks until every worker sleeps on the clock.
func (w *workers) settle() {
	w.t.Helper()
	waitSleepers(w.t, w.fc, w.n)
}

// done returns how many workers have finished. Call it after settle.
func (w *workers) done() int { return int(w.finished.Load()) }

// run steps the clock one sleeper at a time until every worker has finished.
func (w *workers) run() {
	w.t.Helper()
	for {
		w.settle()
		if w.done() == w.n {
			w.stop()
			return
		}
		w.fc.Step()
	}
}

func (w *workers) stop() {
	w.cancel()
	w.wg.Wait()
}
