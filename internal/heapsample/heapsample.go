// Package heapsample measures the heap in use after a collection, at
// points a test chooses, for the tests that bound what a writer holds
// however many rows it writes. It is imported by tests only.
package heapsample

import "runtime"

// Sampler keeps the samples taken so far.
type Sampler struct {
	Peak    uint64   // the largest sample
	Samples int      // how many were taken
	All     []uint64 // every sample, in order
}

// Sample collects garbage, then records and returns the bytes of heap in
// use (runtime.MemStats.HeapInuse).
func (h *Sampler) Sample() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.Samples++
	h.Peak = max(h.Peak, ms.HeapInuse)
	h.All = append(h.All, ms.HeapInuse)
	return ms.HeapInuse
}
