package qrsheet

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/qr"
)

// peakHeap samples the live heap while f runs and returns its peak in MiB.
func peakHeap(f func()) float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return float64(peak.Load()) / (1 << 20)
}

// BenchmarkSheetParts compares ways of writing a 2,400-label sheet (400
// pages): one gofpdf document holding every page, and parts of 50 or 100
// pages, laid out on every core or on one. It reports the peak live heap.
//
//	go test ./qrsheet -run '^$' -bench SheetParts -benchtime 1x -count 3
func BenchmarkSheetParts(b *testing.B) {
	labels := makeLabels(2400, siteName, later)
	for i := range labels {
		c, err := qr.Encode(labels[i].Content)
		if err != nil {
			b.Fatal(err)
		}
		labels[i].Code = c
	}
	for _, tc := range []struct {
		name           string
		pages, workers int
	}{
		{"one file", 1 << 20, 0},
		{"parts of 100 pages", 100, 0},
		{"parts of 50 pages", 50, 0},
		{"parts of 100 pages, one core", 100, 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			var peak float64
			for i := 0; b.Loop(); i++ {
				path := filepath.Join(dir, fmt.Sprintf("run%d", i), "qr-codes.pdf")
				if err := mkdir(filepath.Dir(path)); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, peakHeap(func() {
					if err := WritePDF(path, labels, Options{Now: testNow, MaxPages: tc.pages, Workers: tc.workers}); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(peak, "peak-heap-MiB")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/sheet")
		})
	}
}

func mkdir(p string) error { return os.MkdirAll(p, 0o700) }
