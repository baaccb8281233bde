package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// benchClients is how many HTTP clients ask at once: an agent team's
// worth of open order pages and sidebars.
const benchClients = 16

// BenchmarkServeOrder measures GET /api/orders/{id} of `baton serve` (the
// binary, without the race detector) over a 20,000-order database, with
// benchClients real HTTP clients each asking for orders in a random order.
// It reports requests per second and the latency quantiles of the whole
// run. The target (issue 16) is ≥ 1,000 requests/s with p99 < 50 ms.
//
// The database is simulated and stored by the pipeline first (about three
// minutes), unless BATON_BENCH_SERVE_DATABASE names one that holds such
// data already (e.g. `ORDERS=20000 make demo` leaves it in "baton"):
//
//	go test -run '^$' -bench BenchmarkServeOrder -benchtime 20000x ./cmd/baton/
func BenchmarkServeOrder(b *testing.B) {
	db := os.Getenv("BATON_BENCH_SERVE_DATABASE")
	if db == "" {
		s := newStack(b)
		s.mustRunFast("simulate", "--orders", "20000", "--seed", "7", "--progress", "never")
		s.mustRunFast("run", "--until-caught-up")
		db = s.database
	}
	testenv.Require(b, "clickhouse")
	ch, err := clickhouse.Open(context.Background(), clickhouse.Config{Addr: testenv.ClickHouseAddr(), Database: db, User: "default"})
	if err != nil {
		b.Fatal(err)
	}
	defer ch.Close()
	ids := benchOrderIDs(b, ch)
	addr := freeAddr(b)
	cmd := exec.Command(batonFastBin, "serve", "--listen", addr, "--metrics-addr", "")
	cmd.Env = append(os.Environ(), "BATON_CLICKHOUSE_ADDR="+testenv.ClickHouseAddr(), "BATON_CLICKHOUSE_DATABASE="+db)
	startServe(b, cmd)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	latencies := make([]time.Duration, b.N)
	var next sync.Mutex
	i := 0
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for {
				next.Lock()
				n := i
				i++
				next.Unlock()
				if n >= b.N {
					return
				}
				t0 := time.Now()
				resp, err := client.Get("http://" + addr + "/api/orders/" + ids[n%len(ids)])
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("GET /api/orders/%s: %d", ids[n%len(ids)], resp.StatusCode)
					return
				}
				latencies[n] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	q := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(ids)), "orders")
}

// benchOrderIDs lists the database's orders, shuffled (a fixed seed: runs
// ask in the same order).
func benchOrderIDs(b *testing.B, ch *clickhouse.Client) []string {
	rows, err := ch.Conn().Query(context.Background(), "SELECT DISTINCT order_id FROM "+ch.Database()+".order_states")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		b.Fatalf("database %s holds no order", ch.Database())
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}
