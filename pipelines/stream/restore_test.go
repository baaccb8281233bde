package stream

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/internal/testenv"
)

// TestARestoreHeldByAnOpenTransactionIsReportedStalled: a changelog
// partition whose tail is a transaction that stays open holds a restore
// (read_committed stops at the last stable offset). The restore must not
// stop early — it would restore a partial state — but it must not wait
// silently either: it logs what it waits for, and past the stall
// threshold the partition is stalled (baton_stage_stalled_seconds,
// /readyz). When the transaction commits, the restore reads it and ends,
// and the stall is over.
func TestARestoreHeldByAnOpenTransactionIsReportedStalled(t *testing.T) {
	testenv.Require(t, "kafka")
	topic := testenv.Unique("restore-held")
	testenv.DeleteTopicsAtCleanup(t, testenv.Brokers(), topic)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	plain, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := kadm.NewClient(plain).CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if err := plain.ProduceSync(ctx, &kgo.Record{Key: []byte(k), Value: []byte("committed")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	txn, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...), kgo.DefaultProduceTopic(topic),
		kgo.TransactionalID(testenv.Unique("held")), kgo.TransactionTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Key: []byte("c"), Value: []byte("in an open transaction")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ends, err := EndOffsets(ctx, kadm.NewClient(plain), topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)

	var log testenv.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	stalls := NewStalls(prometheus.NewRegistry(), logger)
	stalls.After = 6 * time.Second
	stalls.Running("normalize", true)
	s := &Stage[map[string]string]{cfg: Config[map[string]string]{Name: "normalize", Changelog: topic,
		Brokers: testenv.Brokers(), Metrics: testMetrics(prometheus.NewRegistry()), Stalls: stalls, Logger: logger}}
	reader, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	state := map[string]string{}
	done := make(chan error, 1)
	go func() {
		done <- s.readChangelog(ctx, reader, 0, end.Offset, func(r *kgo.Record) error {
			state[string(r.Key)] = string(r.Value)
			return nil
		})
	}()

	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case err := <-done:
				t.Fatalf("the restore ended (%v) while %s", err, what)
			case <-time.After(200 * time.Millisecond):
			}
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
			}
		}
	}
	waitUntil("waiting for the partition to count as stalled, and logged so", func() bool {
		return len(stalls.Stalled()) > 0 && strings.Contains(log.String(), "partition stalled")
	})
	if got := stalls.Stalled(); len(got) != 1 || !strings.Contains(got[0], "normalize partition 0 (restore)") || !strings.Contains(got[0], "open transaction") {
		t.Errorf("Stalled() = %q, want normalize partition 0's restore, waiting for an open transaction", got)
	}
	if !strings.Contains(log.String(), "restore waiting") {
		t.Errorf("the wait was not logged:\n%s", log.String())
	}

	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("the restore did not end after the transaction committed; log:\n%s", log.String())
	}
	if len(state) != 3 || state["c"] != "in an open transaction" {
		t.Errorf("restored %v, want a, b and the transaction's c", state)
	}
	if got := stalls.Stalled(); len(got) != 0 {
		t.Errorf("still stalled after the restore ended: %q", got)
	}
}
