package ingest_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/devstack"
	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// broker is an in-process kfake broker this test can stop and restart.
type broker struct {
	t       testing.TB
	port    int
	dir     string
	addr    string
	cancel  context.CancelFunc
	stopped chan error
}

func startBroker(t testing.TB, port int, dir string) *broker {
	t.Helper()
	b := &broker{t: t, port: port, dir: dir}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *broker) start() {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	stopped := make(chan error, 1)
	go func() {
		stopped <- devstack.RunBroker(ctx, devstack.BrokerConfig{Port: b.port, DataDir: b.dir, Logf: b.t.Logf}, func(a string) { ready <- a })
	}()
	select {
	case b.addr = <-ready:
	case err := <-stopped:
		cancel()
		b.t.Fatalf("broker on port %d: %v", b.port, err)
	case <-time.After(10 * time.Second):
		cancel()
		b.t.Fatal("broker not ready after 10 s")
	}
	b.cancel, b.stopped = cancel, stopped
}

// stop closes the broker (flushing its state to dir) and waits for it.
func (b *broker) stop() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	if err := <-b.stopped; err != nil {
		b.t.Errorf("broker stopped with %v", err)
	}
	b.cancel = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestKafkaOutage stops the broker under the gateway: deliveries get 503
// with Retry-After (nothing acknowledged), and once the broker is back on
// the same port and data, deliveries succeed again (the vendor's retries of
// the refused ones included) and everything acknowledged before, during
// and after is in the topic.
func TestKafkaOutage(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freePort(t), t.TempDir())
	reg, err := devstack.NewRegistry(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	regSrv := httptest.NewServer(reg.Handler())
	t.Cleanup(regSrv.Close)
	const produceTimeout = 2 * time.Second
	h := newHarness(t, []string{b.addr}, regSrv.URL, func(c *ingest.GatewayConfig) {
		c.ProduceTimeout = produceTimeout
		c.RetryAfter = 7 * time.Second
	})

	acked := map[string]bool{}
	deliver := func(id string) response {
		body := fmt.Appendf(nil, `{"event_id":%q,"order_id":"o-%s","warehouse_id":"DC1","status":"packed","occurred_at":"2026-11-01T10:00:00Z"}`, id, id)
		r := h.post("wms", genericHeader(body), body)
		if r.status == http.StatusOK {
			acked[id] = true
		}
		return r
	}
	for i := range 10 {
		if r := deliver(fmt.Sprintf("before-%d", i)); r.status != http.StatusOK {
			t.Fatalf("before the outage: %+v", r)
		}
	}

	b.stop()
	var refused []string
	for i := range 3 {
		id := fmt.Sprintf("during-%d", i)
		start := time.Now()
		r := deliver(id)
		took := time.Since(start)
		if r.status != http.StatusServiceUnavailable || r.retryAfter != "7" {
			t.Fatalf("with the broker down: %d %q Retry-After %q, want 503 with Retry-After 7", r.status, r.err, r.retryAfter)
		}
		if took > produceTimeout+time.Second {
			t.Errorf("503 took %s, want about the %s produce timeout", took, produceTimeout)
		}
		refused = append(refused, id)
	}
	if n, _ := h.metric("baton_webhook_requests_total", "vendor", "wms", "outcome", ingest.OutcomeUnavailable); n != 3 {
		t.Errorf("unavailable outcomes = %v, want 3", n)
	}

	b.start() // same port, same data
	// The vendor retries what was refused until it is accepted.
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range refused {
		for deliver(id).status != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("%s still refused 20 s after the broker came back", id)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for i := range 10 {
		if r := deliver(fmt.Sprintf("after-%d", i)); r.status != http.StatusOK {
			t.Fatalf("after the outage: %+v", r)
		}
	}

	inKafka := h.eventIDs(schemas.WMS)
	for id := range acked {
		if inKafka[id] == 0 {
			t.Errorf("%s was acknowledged but is not in Kafka", id)
		}
	}
	// Acknowledged deliveries are in Kafka once; a refused one may also
	// have landed from its first attempt (a record in flight when the
	// broker went away), which de-duplication by event ID absorbs.
	for id, n := range inKafka {
		if n > 1 && !contains(refused, id) {
			t.Errorf("%s is in Kafka %d times", id, n)
		}
	}
	if len(inKafka) != 23 {
		t.Errorf("%d distinct events in Kafka, want 23: %v", len(inKafka), inKafka)
	}
	t.Logf("events in Kafka after the outage: %d distinct; refused-then-retried counts: %v", len(inKafka), countsOf(inKafka, refused))
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func countsOf(m map[string]int, ids []string) string {
	out := ""
	for _, id := range ids {
		out += id + "=" + strconv.Itoa(m[id]) + " "
	}
	return out
}
