package qrsheet

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/jung-kurt/gofpdf"
)

// TestOnePartWrittenAtATime holds every part's write until the test lets
// it go: the writer lays out the next part meanwhile, but never finishes
// another while one is being written, so at most two parts are in memory
// however slow writing is.
func TestOnePartWrittenAtATime(t *testing.T) {
	gate := make(chan struct{})
	var inFlight, most, writes atomic.Int32
	real := writePart
	writePart = func(path string, pdf *gofpdf.Fpdf) (string, error) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		writes.Add(1)
		<-gate
		defer inFlight.Add(-1)
		return real(path, pdf)
	}
	t.Cleanup(func() { writePart = real })

	const parts = 6
	labels := makeLabels(6*parts, siteName, later) // one page of 6 per part
	path := filepath.Join(t.TempDir(), "qr-codes.pdf")
	w, err := NewWriter(path, Options{Now: testNow, MaxPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var files []string
	go func() {
		for _, lb := range labels {
			if err := w.Add(lb); err != nil {
				done <- err
				return
			}
		}
		var err error
		files, err = w.Close()
		done <- err
	}()
	for i := 0; i < parts; i++ {
		gate <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d parts were being written at once, want 1", m)
	}
	if int(writes.Load()) != parts || len(files) != parts {
		t.Errorf("%d writes and %d files, want %d", writes.Load(), len(files), parts)
	}
}
