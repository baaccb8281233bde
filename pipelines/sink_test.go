package pipelines

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/topology"
)

// TestSourceSinkStopsWhileItsBatchWaitsForTheRegistry: a stop that cuts
// short a batch whose schema the registry does not answer for abandons
// the batch and returns nil. The sink blocks rebalances while it holds polled
// records (BlockRebalanceOnPoll); before every return path allowed them
// again, leaving the group on the way out waited for that forever (a
// `baton run` SIGTERMed just after joining hung for good).
func TestSourceSinkStopsWhileItsBatchWaitsForTheRegistry(t *testing.T) {
	testenv.Require(t, "kafka", "clickhouse")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prefix := testenv.Unique("sinkstop")
	topics := topology.New(prefix + ".")
	testenv.DeleteTopicsAtCleanup(t, testenv.Brokers(), topics.Prefix)
	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addr: testenv.ClickHouseAddr(), Database: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	defer ch.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+prefix)
	kcl, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer kcl.Close()
	source := topics.Source(schemas.WMS)
	if err := topology.EnsureTopics(ctx, kadm.NewClient(kcl), append(topics.Sources(), topics.Topic(topology.DeadLetter))...); err != nil {
		t.Fatal(err)
	}
	// Confluent wire format with a schema ID the registry is asked for.
	if err := kcl.ProduceSync(ctx, &kgo.Record{Topic: source.Name, Value: []byte{0, 0, 0, 0x30, 0x39, 2, 'x'}}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	asked := make(chan struct{}, 1)
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		http.Error(w, `{"error_code":50003,"message":"down for the test"}`, http.StatusServiceUnavailable)
	}))
	defer registry.Close()
	rcl, err := sr.NewClient(sr.URLs(registry.URL))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	cfg := SourceSinkConfig{Brokers: testenv.Brokers(), Topics: topics, Group: prefix + "-sink", FlushInterval: 100 * time.Millisecond,
		SessionTimeout: 6 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sink, err := NewSourceSink(ctx, cfg, schemas.NewDecoder(rcl), ch, &records.DeadLetters{Stage: "sink", Topic: topics.Name(topology.DeadLetter), Counter: m.DeadLetters}, m)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sink.Run(runCtx) }()
	select {
	case <-asked:
	case err := <-done:
		t.Fatalf("the sink returned before asking the registry: %v", err)
	case <-ctx.Done():
		t.Fatal("the sink never asked the registry for the record's schema")
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after a stop: %v, want nil (the batch is abandoned, not failed)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sink did not return within 30 s of the stop")
	}
}
