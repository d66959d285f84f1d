package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"
)

// stopGrace is how long requests in flight may go on after a stop (a signal
// or the deadline) before they are cancelled, so that a run has written its
// outputs and exited within Kubernetes' default 30 s grace period whatever
// the service does.
const stopGrace = 20 * time.Second

// defaultDeadline is --deadline's default: generous for the largest runs at
// Intune's write limit (20,000 rows take under two hours), but finite, so
// that a run stuck behind a service that keeps asking to wait still ends.
const defaultDeadline = 6 * time.Hour

// stopper turns stop signals and the run's deadline into the job's two
// stops. The first signal, or the deadline, closes stop: no row is handed
// out and nothing new is sent. Requests in flight may finish for stopGrace;
// then, or at a second signal, ctx is cancelled and they are cut off.
type stopper struct {
	stop   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	w      io.Writer

	mu     sync.Mutex
	why    string // why the run stopped; "" while it runs
	sigs   chan os.Signal
	timers []*time.Timer
	done   chan struct{}
}

// startStopper starts listening for stop signals and arms the deadline.
func startStopper(ctx context.Context, w io.Writer, deadline time.Duration) *stopper {
	s := &stopper{stop: make(chan struct{}), w: w, sigs: make(chan os.Signal, 2), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(ctx)
	signal.Notify(s.sigs, stopSignals...)
	s.timers = append(s.timers, time.AfterFunc(deadline, func() {
		s.soft(fmt.Sprintf("the run's deadline (--deadline %s) was reached", deadline))
	}))
	go func() {
		n := 0
		for {
			select {
			case sig := <-s.sigs:
				n++
				if n == 1 {
					s.soft("signal " + sig.String())
				} else {
					fmt.Fprintln(s.w, "stopping now: cancelling the requests in flight")
					s.cancel()
				}
			case <-s.done:
				return
			}
		}
	}()
	return s
}

// soft stops the run: nothing new leaves, and requests in flight get
// stopGrace to finish.
func (s *stopper) soft(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.why != "" {
		return
	}
	s.why = why
	close(s.stop)
	fmt.Fprintf(s.w, "stopping (%s): sending nothing new, letting the requests in flight finish for up to %s, then writing the results (signal again to cancel them now)\n", why, stopGrace)
	s.timers = append(s.timers, time.AfterFunc(stopGrace, func() {
		fmt.Fprintf(s.w, "stopping now: requests still in flight after %s are cancelled\n", stopGrace)
		s.cancel()
	}))
}

// stopped says why the run was stopped; "" when it was not.
func (s *stopper) stopped() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why
}

// end stops listening. Signals after it take their default action again.
// The context stays usable (it is cancelled only by a stop).
func (s *stopper) end() {
	signal.Stop(s.sigs)
	s.mu.Lock()
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}
