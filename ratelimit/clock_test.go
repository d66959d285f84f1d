package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// epoch0 is where every fake clock of these tests starts.
var epoch0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// guard returns a context that ends the test's waiting on the fake clock if a
// bug leaves a goroutine that never sleeps; it does not time anything.
func guard(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitSleepers blocks until n goroutines sleep on fc.
func waitSleepers(t testing.TB, fc *FakeClock, n int) {
	t.Helper()
	if err := fc.BlockUntilContext(guard(t), n); err != nil {
		t.Fatalf("waiting for %d sleepers (have %d): %v", n, fc.Sleepers(), err)
	}
}

func TestFakeClockSleepWakesWhenDue(t *testing.T) {
	fc := NewFakeClock(epoch0)
	done := make(chan error, 1)
	go func() { done <- fc.Sleep(context.Background(), 3*time.Second) }()
	waitSleepers(t, fc, 1)
	if next, ok := fc.NextWake(); !ok || !next.Equal(epoch0.Add(3*time.Second)) {
		t.Fatalf("NextWake = %v, %v; want %v", next, ok, epoch0.Add(3*time.Second))
	}
	fc.Advance(2999 * time.Millisecond)
	if fc.Sleepers() != 1 {
		t.Fatalf("sleeper woke %v before its time", fc.Now().Sub(epoch0))
	}
	fc.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	if fc.Sleepers() != 0 {
		t.Fatalf("Sleepers = %d after wake-up", fc.Sleepers())
	}
}

func TestFakeClockSleepCancelled(t *testing.T) {
	fc := NewFakeClock(epoch0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fc.Sleep(ctx, time.Hour) }()
	waitSleepers(t, fc, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if fc.Sleepers() != 0 {
		t.Fatalf("cancelled sleeper still counted")
	}
	if err := fc.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) with ended context = %v", err)
	}
}

func TestFakeClockStepWakesOneInOrder(t *testing.T) {
	fc := NewFakeClock(epoch0)
	order := make(chan int, 3)
	// Sleeper 1 and 2 share a wake-up time; 1 sleeps first and must wake first.
	for i, d := range []time.Duration{2 * time.Second, 2 * time.Second, time.Second} {
		go func() {
			_ = fc.Sleep(context.Background(), d)
			order <- i
		}()
		waitSleepers(t, fc, i+1)
	}
	var got []int
	for range 3 {
		now, ok := fc.Step()
		if !ok {
			t.Fatal("Step found nobody sleeping")
		}
		got = append(got, <-order)
		if want := []time.Duration{time.Second, 2 * time.Second, 2 * time.Second}[len(got)-1]; now.Sub(epoch0) != want {
			t.Fatalf("after step %d the clock reads +%v, want +%v", len(got), now.Sub(epoch0), want)
		}
	}
	if want := []int{2, 0, 1}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("wake order %v, want %v", got, want)
	}
	if _, ok := fc.Step(); ok {
		t.Fatal("Step reported a sleeper when none was left")
	}
}

func TestRealClock(t *testing.T) {
	c := RealClock()
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Fatalf("RealClock.Now %v is before %v", now, before)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// An ended context returns at once, however long the sleep.
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep with ended context = %v", err)
	}
	if err := c.Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0) = %v", err)
	}
}
