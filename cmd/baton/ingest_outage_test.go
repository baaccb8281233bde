package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/devstack"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// TestIngestStartsWithoutKafka starts `baton ingest` against a broker
// address nobody listens on: it serves at once, is alive (/healthz 200)
// but not ready (/readyz 503), and answers deliveries 503 with
// Retry-After. Then a broker starts on that address: /readyz turns 200,
// deliveries are accepted, and every delivery answered 200 is in the
// topic, before and after.
func TestIngestStartsWithoutKafka(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "registry")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	brokerAddr, listen, metrics := freeAddr(t), freeAddr(t), freeAddr(t)
	_, portText, _ := net.SplitHostPort(brokerAddr)
	port, _ := strconv.Atoi(portText)
	prefix := testenv.Unique("ingestdown") + "."

	cmd, stderr, exited := startIngest(t, ctx, listen, []string{"--metrics-addr", metrics, "--retry-after", "3s"},
		"BATON_BROKERS="+brokerAddr, "BATON_TOPIC_PREFIX="+prefix)
	base := "http://" + listen
	get := func(path string) (int, http.Header, string) { return httpGet(t, base+path) }
	wms := &wmsSender{t: t, base: base}
	deliver := wms.send

	if code, _, body := get("/healthz"); code != 200 || !strings.Contains(body, `"kafka":"connecting`) {
		t.Errorf("/healthz without Kafka: %d %s, want 200 saying Kafka is connecting", code, body)
	}
	if code, hdr, body := get("/readyz"); code != 503 || hdr.Get("Retry-After") != "3" || !strings.Contains(body, `"ready":false`) {
		t.Errorf("/readyz without Kafka: %d (Retry-After %q) %s, want 503", code, hdr.Get("Retry-After"), body)
	}
	if _, code, hdr := deliver(); code != 503 || hdr.Get("Retry-After") != "3" {
		t.Fatalf("a delivery without Kafka: %d (Retry-After %q), want 503 with Retry-After 3", code, hdr.Get("Retry-After"))
	}

	// The broker comes up; deliveries keep arriving meanwhile.
	brokerCtx, stopBroker := context.WithCancel(context.Background())
	defer stopBroker()
	go devstack.RunBroker(brokerCtx, devstack.BrokerConfig{Port: port}, nil)
	var acked []string
	for len(acked) == 0 {
		id, code, _ := deliver()
		switch code {
		case 200:
			acked = append(acked, id)
		case 503:
		default:
			t.Fatalf("delivery %s while Kafka comes up: %d", id, code)
		}
		if ctx.Err() != nil {
			t.Fatalf("no delivery accepted 90 s after the broker started:\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _, body := get("/readyz"); code != 200 || !strings.Contains(body, `"kafka":"ok"`) {
		t.Errorf("/readyz once deliveries are accepted: %d %s", code, body)
	}
	for range 20 {
		id, code, _ := deliver()
		if code != 200 {
			t.Fatalf("delivery %s with Kafka up: %d", id, code)
		}
		acked = append(acked, id)
	}

	for _, id := range missingEvents(t, ctx, brokerAddr, topology.New(prefix).Source(schemas.WMS).Name, acked) {
		t.Errorf("delivery %s was answered 200 but is not in the topic", id)
	}

	m := scrape(t, metrics)
	for _, want := range []string{"baton_ingest_kafka_ready 1", `baton_webhook_requests_total{outcome="unavailable",vendor="wms"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("baton ingest after SIGTERM: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Kafka is reachable: accepting deliveries") {
		t.Errorf("log does not say Kafka became reachable:\n%s", stderr.String())
	}
}

// missingEvents reads topic on brokers (the dev stack's registry) until
// every event ID of ids is in it, or ctx ends, and returns those not found.
func missingEvents(t *testing.T, ctx context.Context, brokers, topic string, ids []string) []string {
	svc := devServices()
	svc.brokers = []string{brokers}
	return missingEventsOn(t, ctx, svc, topic, ids)
}

// missingEventsOn is missingEvents on the given services.
func missingEventsOn(t *testing.T, ctx context.Context, svc services, topic string, ids []string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(svc.brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dec := (&stack{t: t, svc: svc}).decoder()
	stored := map[string]bool{}
	for {
		var missing []string
		for _, id := range ids {
			if !stored[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || ctx.Err() != nil {
			return missing
		}
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if d, err := dec.Decode(ctx, r.Value); err == nil {
				stored[d.Plain["event_id"].(string)] = true
			}
		})
	}
}

// httpGet returns the status, headers and body of GET url.
func httpGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// wmsSender delivers signed WMS events w-1, w-2, … to a gateway.
type wmsSender struct {
	t    *testing.T
	base string
	n    int
}

// send delivers the next event; it returns its ID and the answer.
func (w *wmsSender) send() (string, int, http.Header) {
	w.n++
	id := fmt.Sprintf("w-%d", w.n)
	body := []byte(`{"event_id":"` + id + `","order_id":"o-1","warehouse_id":"DC1","status":"picked","items":[],"occurred_at":"2026-11-01T10:00:00Z"}`)
	h := http.Header{}
	h.Set(generic.SignatureHeader, generic.Sign("generic-shh", body))
	code, hdr, _ := postWebhook(w.t, w.base, "wms", h, body)
	return id, code, hdr
}
