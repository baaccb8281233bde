package pipelines

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/pipelines/stream"
)

// TestLagExporterReadsCommittedOffsetsWhateverTheStageFetches: a group
// that committed 3 of a partition's 10 records and nothing of another's 4
// lags 7 and 4 — though nothing consumes (a sink whose database is down
// fetches nothing, and used to report its last fetch's lag: 0) — and the
// lag follows new records and new commits at the next refresh.
func TestLagExporterReadsCommittedOffsetsWhateverTheStageFetches(t *testing.T) {
	testenv.Require(t, "kafka")
	topic, group := testenv.Unique("lag"), testenv.Unique("lag-group")
	testenv.DeleteTopicsAtCleanup(t, testenv.Brokers(), topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 2, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	produce := func(partition int32, n int) {
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: partition, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit := func(partition int32, at int64) {
		var offsets kadm.Offsets
		offsets.Add(kadm.Offset{Topic: topic, Partition: partition, At: at, LeaderEpoch: -1})
		if err := adm.CommitAllOffsets(ctx, group, offsets); err != nil {
			t.Fatal(err)
		}
	}
	produce(0, 10)
	produce(1, 4)
	commit(0, 3)
	m := NewMetrics(prometheus.NewRegistry())
	stalls := stream.NewStalls(prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	stalls.Now = func() time.Time { return now }
	stalls.Running("sink", true)
	e := &LagExporter{Admin: adm, Sources: []LagSource{{Stage: "sink", Group: group, Topics: []string{topic}}}, Metrics: m, Stalls: stalls}
	lag := func(partition string) float64 {
		return testutil.ToFloat64(m.ConsumerLag.WithLabelValues("sink", topic, partition))
	}
	if err := e.refresh(ctx, e.Sources[0]); err != nil {
		t.Fatal(err)
	}
	if lag("0") != 7 || lag("1") != 4 {
		t.Fatalf("lag = %v and %v, want 7 (10 records, 3 committed) and 4 (no commit: from the start)", lag("0"), lag("1"))
	}
	produce(0, 5)
	commit(1, 4)
	if err := e.refresh(ctx, e.Sources[0]); err != nil {
		t.Fatal(err)
	}
	if lag("0") != 12 || lag("1") != 0 {
		t.Errorf("after 5 more records and a commit of all of partition 1: lag = %v and %v, want 12 and 0", lag("0"), lag("1"))
	}
	// Partition 0 has records and its committed offset stood still from
	// one refresh to the next: it waits, and past DefaultStallAfter it is
	// stalled; partition 1 caught up.
	if got := stalls.Stalled(); len(got) != 0 {
		t.Fatalf("stalled at the first refresh that found partition 0 unmoved: %v", got)
	}
	now = now.Add(stream.DefaultStallAfter)
	if err := e.refresh(ctx, e.Sources[0]); err != nil {
		t.Fatal(err)
	}
	if got := stalls.Stalled(); len(got) != 1 || !strings.Contains(got[0], "sink partition 0 ("+topic+")") {
		t.Errorf("partition 0 unmoved with 12 records to read for %v: Stalled() = %q, want it alone", stream.DefaultStallAfter, got)
	}
	commit(0, 15)
	if err := e.refresh(ctx, e.Sources[0]); err != nil {
		t.Fatal(err)
	}
	if got := stalls.Stalled(); len(got) != 0 {
		t.Errorf("after partition 0 caught up: Stalled() = %q", got)
	}
	// Kafka unreachable: the last values stay, the failure is counted.
	dead, err := kgo.NewClient(kgo.SeedBrokers(testenv.FreeAddr(t)), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	e.Admin = kadm.NewClient(dead)
	e.Interval = 200 * time.Millisecond
	runCtx, stop := context.WithTimeout(ctx, 700*time.Millisecond)
	defer stop()
	e.Run(runCtx)
	if lag("0") != 0 || testutil.ToFloat64(m.LagRefreshErrors.WithLabelValues("sink")) < 1 {
		t.Errorf("with Kafka unreachable: lag %v (want the last value, 0), %v refresh errors (want at least 1)",
			lag("0"), testutil.ToFloat64(m.LagRefreshErrors.WithLabelValues("sink")))
	}
}
