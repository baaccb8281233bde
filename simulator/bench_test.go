package simulator_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/simulator"
)

// BenchmarkGenerate measures generation throughput with the default shares
// and rate, emitting into a callback that keeps nothing.
func BenchmarkGenerate(b *testing.B) {
	cfg := simulator.DefaultConfig(20000, 1)
	events := 0
	start := time.Now()
	for b.Loop() {
		st, err := simulator.Generate(cfg, func(simulator.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		events += st.Events
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(events)/float64(b.N)/float64(cfg.Orders), "events/order")
}

// BenchmarkGenerateMemory is the memory sanity check: 200,000 orders at the
// default rate (about 70 days of orders, longer than any order's
// lifecycle, so the buffer reaches its plateau), reporting the most events
// buffered at once and the peak live heap sampled while emitting.
func BenchmarkGenerateMemory(b *testing.B) {
	cfg := simulator.DefaultConfig(200000, 1)
	for b.Loop() {
		var peak uint64
		var ms runtime.MemStats
		n := 0
		st, err := simulator.Generate(cfg, func(simulator.Event) error {
			if n++; n%500000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.MaxBuffered), "max-buffered-events")
		b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MiB")
		b.ReportMetric(float64(st.Events), "events")
	}
}
