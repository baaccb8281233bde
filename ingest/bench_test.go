package ingest_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
)

// BenchmarkGatewayLoopback measures sustained webhooks/s and latency
// percentiles of the gateway against the real broker: 32 senders post a
// mix of the six vendors' webhooks (Shopify orders/updated: 3 events,
// Zendesk: 1, wms: 2, notifications: 1, EasyPost tracker.updated: one per
// tracking detail, AfterShip: one per checkpoint) over keep-alive loopback
// HTTP; each is answered only after Kafka acknowledged its events.
//
// By default it serves an in-process gateway on the dev stack. With
// BATON_BENCH_INGEST_URL it drives a running `baton ingest` instead,
// started with the test secrets:
//
//	BATON_SHOPIFY_SECRET=shopify-secret BATON_ZENDESK_SECRET=zendesk-secret \
//	BATON_WEBHOOK_SECRET=generic-secret BATON_EASYPOST_SECRET=easypost-secret \
//	BATON_AFTERSHIP_SECRET=aftership-secret bin/baton ingest
//	BATON_BENCH_INGEST_URL=http://127.0.0.1:8080 go test -run '^$' -bench GatewayLoopback -benchtime 30000x ./ingest/
func BenchmarkGatewayLoopback(b *testing.B) {
	const workers = 32
	base := os.Getenv("BATON_BENCH_INGEST_URL")
	if base == "" {
		h := devHarness(b, nil, loadAdapters()...)
		base = h.srv.URL
	} else {
		testenv.Require(b, "kafka")
	}
	mix := newLoadMix(b, 1)
	mix.adapters = nil // no oracle: build fast, only send
	deliveries := make([]delivery, b.N)
	run := time.Now().UnixNano() // unique IDs per run, so nothing is a re-delivery
	for i := range deliveries {
		deliveries[i] = mix.unique(int(run%1_000_000_000)+i, false)
	}
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer cl.CloseIdleConnections()
	latencies := make([]time.Duration, len(deliveries))
	failed := make([]string, 0)
	var mu sync.Mutex
	next := make(chan int, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := deliveries[i]
				t0 := time.Now()
				r := postTo(b, cl, base, d.vendor, d.header, d.body)
				latencies[i] = time.Since(t0)
				if r.status != http.StatusOK {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%s: %d %s", d.vendor, r.status, r.err))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range deliveries {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if len(failed) > 0 {
		b.Fatalf("%d of %d webhooks not accepted, first: %s", len(failed), len(deliveries), failed[0])
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(deliveries))/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "max-ms")
}
