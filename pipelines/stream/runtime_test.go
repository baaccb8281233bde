package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The exactly-once runtime (stateful) tested on its own, in process, on
// franz-go's kfake broker with injected faults: a produce that fails and
// aborts its transaction, a fenced producer, a second process joining
// mid-batch, a restore held by a crashed owner's open transaction. The
// stage under test is the smallest stateful one, a counter: each input
// record of key k yields the output "k=n" (n: how many records of k so
// far) and the changelog record (k, n). Exactly once then has a sharp
// form: the committed output holds "k=1" … "k=N" once each, N being the
// number of input records of k, and the changelog's last value of k is N.
// A record processed twice shows as a count past N or a repeated line; a
// lost one as a missing line; a state restored wrong as counts that
// restart or jump.

const (
	runtimeIn        = "in"
	runtimeOut       = "out"
	runtimeChangelog = "changelog"
	runtimeFence     = "fence" // written by the fencing producer only
	runtimeParts     = 3
)

// counts is the counter stage's state of one partition: records per key.
type counts map[string]int

// runtimeCluster starts an in-process broker holding the counter stage's
// topics.
func runtimeCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(runtimeParts, runtimeIn, runtimeOut, runtimeChangelog, runtimeFence))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// counterStage builds the counter stage on brokers; delay, if set, is
// spent on each record (a slow batch, for a rebalance to land in).
func counterStage(t *testing.T, brokers []string, delay time.Duration) *Stage[counts] {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config[counts]{
		Name: "count", Brokers: brokers, Group: "count", Inputs: []string{runtimeIn}, Changelog: runtimeChangelog,
		CaughtUpTopics: []string{runtimeIn}, SessionTimeout: 6 * time.Second,
		Metrics: testMetrics(reg), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	cfg.NewState = func() counts { return counts{} }
	cfg.Apply = func(st counts, key string, value []byte) error {
		n, err := strconv.Atoi(string(value))
		st[key] = n
		return err
	}
	cfg.Size = func(st counts) int { return len(st) }
	cfg.Process = func(_ context.Context, st counts, r *kgo.Record, w Writer) error {
		if delay > 0 {
			time.Sleep(delay)
		}
		k := string(r.Key)
		st[k]++
		n := strconv.Itoa(st[k])
		w.SetState(r.Partition, k, []byte(n), time.Time{})
		w.Produce(&kgo.Record{Topic: runtimeOut, Key: r.Key, Value: []byte(k + "=" + n)})
		return nil
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testMetrics are a Stage's collectors, registered on reg.
func testMetrics(reg prometheus.Registerer) Metrics {
	byStage := func(name string, more ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: name}, append([]string{"stage"}, more...))
	}
	m := Metrics{
		RecordsConsumed: byStage("records_consumed_total", "topic"),
		Retries:         byStage("retries_total"),
		FetchErrors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fetch_errors_total", Help: "fetch errors"}, []string{"topic"}),
		StateEntries:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "state_entries", Help: "state entries"}, []string{"stage"}),
		RestoreSeconds:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "restore_seconds", Help: "restore seconds"}, []string{"stage"}),
		Transactions:    byStage("transactions_total", "outcome"),
		Latency:         prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency_seconds", Help: "latency"}, []string{"stage"}),
	}
	reg.MustRegister(m.RecordsConsumed, m.Retries, m.FetchErrors, m.StateEntries, m.RestoreSeconds, m.Transactions, m.Latency)
	return m
}

// testWriter sends a logger's lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// produceInput writes records keys of each of keys k0…k(keys-1),
// round-robin, and returns how many each key got.
func produceInput(t *testing.T, brokers []string, keys, records int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(runtimeIn))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := map[string]int{}
	rs := make([]*kgo.Record, records)
	for i := range rs {
		k := fmt.Sprintf("k%d", i%keys)
		want[k]++
		rs[i] = &kgo.Record{Key: []byte(k), Value: []byte(strconv.Itoa(i))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return want
}

// runUntilCaughtUp runs s until it has processed everything, within a
// minute.
func runUntilCaughtUp(t *testing.T, s *Stage[counts]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the stage had not caught up after a minute")
	}
}

// readCommitted reads topic's committed data records from the start to
// its end offsets.
func readCommitted(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords()) // a marker may be the last offset: it tells the end is reached
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := EndOffsets(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		t.Fatal(err)
	}
	next := map[int32]int64{}
	caughtUp := func() bool {
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			if next[o.Partition] < o.Offset {
				done = false
			}
		})
		return done
	}
	var out []*kgo.Record
	for !caughtUp() {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: not at its end offsets after 30 s", topic)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
	return out
}

// assertExactlyOnce checks the committed output and changelog against the
// input's counts per key.
func assertExactlyOnce(t *testing.T, brokers []string, want map[string]int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range readCommitted(t, brokers, runtimeOut) {
		seen[string(r.Value)]++
	}
	for k, n := range want {
		for i := 1; i <= n; i++ {
			line := k + "=" + strconv.Itoa(i)
			switch seen[line] {
			case 1:
			case 0:
				t.Errorf("output %q is missing (a record lost, or a state restored wrong)", line)
			default:
				t.Errorf("output %q is there %d times (a record processed twice)", line, seen[line])
			}
			delete(seen, line)
		}
	}
	for line, c := range seen {
		t.Errorf("output %q (%d times) should not exist: counts past the input's", line, c)
	}
	last := map[string]int{}
	for _, r := range readCommitted(t, brokers, runtimeChangelog) {
		n, _ := strconv.Atoi(string(r.Value))
		last[string(r.Key)] = n
	}
	for k, n := range want {
		if last[k] != n {
			t.Errorf("changelog's last count of %s is %d, want %d", k, last[k], n)
		}
	}
}

// brokersOf is the cluster's bootstrap list.
func brokersOf(c *kfake.Cluster) []string { return c.ListenAddrs() }

// TestRuntimeCountsEveryRecordOnce: no fault, the baseline the fault
// tests are read against.
func TestRuntimeCountsEveryRecordOnce(t *testing.T) {
	brokers := brokersOf(runtimeCluster(t))
	want := produceInput(t, brokers, 30, 3000)
	runUntilCaughtUp(t, counterStage(t, brokers, 0))
	assertExactlyOnce(t, brokers, want)
}

// failTransactionalProduce answers the nth transactional produce request
// with code on every partition, and counts the requests it failed. (The
// request names topics by ID, so it cannot be picked by topic name: each
// transaction of the counter stage writes the output and the changelog.)
func failTransactionalProduce(c *kfake.Cluster, nth int64, code int16, failed *atomic.Int64) {
	var seen atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if pr.TransactionID == nil || seen.Add(1) != nth {
			return nil, nil, false
		}
		failed.Add(1)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range pr.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
}

// TestRuntimeAbortsATransactionWhoseProduceFailedAndProcessesItAgain: the
// aborted batch's changes to the in-memory states are undone (restored
// from the changelog), and the batch is processed again.
func TestRuntimeAbortsATransactionWhoseProduceFailedAndProcessesItAgain(t *testing.T) {
	c := runtimeCluster(t)
	brokers := brokersOf(c)
	want := produceInput(t, brokers, 30, 3000)
	s := counterStage(t, brokers, 0)
	s.batchLimit.n = 500 // several transactions, so the failure lands mid-run
	var failed atomic.Int64
	failTransactionalProduce(c, 2, kerr.InvalidRecord.Code, &failed)
	runUntilCaughtUp(t, s)
	if failed.Load() == 0 {
		t.Fatal("no produce was failed: the test did not test an abort")
	}
	if n := testutil.ToFloat64(s.cfg.Metrics.Transactions.WithLabelValues("count", "aborted")); n < 1 {
		t.Errorf("%v transactions aborted, want at least 1", n)
	}
	assertExactlyOnce(t, brokers, want)
}

// TestRuntimeReplacesAFencedProducer: mid-run, another producer starts
// with the stage's transactional ID, as a zombie's successor does; the
// broker bumps the epoch and aborts the stage's open transaction, and
// every later request of the stage's producer is fenced. The stage opens
// a new session, joins afresh and processes from the committed offsets.
func TestRuntimeReplacesAFencedProducer(t *testing.T) {
	c := runtimeCluster(t)
	brokers := brokersOf(c)
	want := produceInput(t, brokers, 30, 3000)
	txnIDs := make(chan string, 10)
	c.ControlKey(int16(kmsg.InitProducerID), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if id := req.(*kmsg.InitProducerIDRequest).TransactionalID; id != nil {
			select {
			case txnIDs <- *id:
			default:
			}
		}
		return nil, nil, false
	})
	s := counterStage(t, brokers, 200*time.Microsecond)
	s.batchLimit.n = 300
	var wg sync.WaitGroup
	wg.Go(func() { runUntilCaughtUp(t, s) })

	time.Sleep(300 * time.Millisecond) // into its first transactions
	successor, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.TransactionalID(<-txnIDs), kgo.DefaultProduceTopic(runtimeFence))
	if err != nil {
		t.Fatal(err)
	}
	defer successor.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := successor.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := successor.ProduceSync(ctx, &kgo.Record{Value: []byte("fence")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := successor.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := testutil.ToFloat64(s.cfg.Metrics.Transactions.WithLabelValues("count", "fenced")); n < 1 {
		t.Errorf("%v fenced sessions counted, want at least 1: the test did not test fencing", n)
	}
	assertExactlyOnce(t, brokers, want)
}

// TestRuntimeHandsPartitionsOverMidBatch: a second process joins while
// the first is in the middle of a slow batch. The first loses partitions
// with a transaction in flight; whatever it had not committed is the new
// owner's to process, restored from the changelog, and nothing is counted
// twice or lost.
func TestRuntimeHandsPartitionsOverMidBatch(t *testing.T) {
	brokers := brokersOf(runtimeCluster(t))
	want := produceInput(t, brokers, 30, 3000)
	first := counterStage(t, brokers, 500*time.Microsecond) // 1.5 s of work
	first.batchLimit.n = 400
	var wg sync.WaitGroup
	wg.Go(func() { runUntilCaughtUp(t, first) })
	time.Sleep(300 * time.Millisecond) // into its first batches
	second := counterStage(t, brokers, 500*time.Microsecond)
	wg.Go(func() { runUntilCaughtUp(t, second) })
	wg.Wait()
	consumed := func(s *Stage[counts]) float64 {
		return testutil.ToFloat64(s.cfg.Metrics.RecordsConsumed.WithLabelValues("count", runtimeIn))
	}
	if consumed(second) == 0 {
		t.Fatal("the second process consumed nothing: no hand-over was tested")
	}
	t.Logf("records consumed: first %v, second %v (3,000 in the input; a batch taken over is consumed twice)", consumed(first), consumed(second))
	assertExactlyOnce(t, brokers, want)
}

// TestRuntimeRestoreWaitsOutACrashedOwnersOpenTransaction: a crashed
// owner left a changelog transaction open (a count nobody committed). A
// new owner's restore must not read past it as if it were committed, nor
// stop before it: it waits until the broker aborts it at its timeout,
// then restores exactly the committed counts.
func TestRuntimeRestoreWaitsOutACrashedOwnersOpenTransaction(t *testing.T) {
	brokers := brokersOf(runtimeCluster(t))
	want := produceInput(t, brokers, 30, 1500)
	runUntilCaughtUp(t, counterStage(t, brokers, 0))

	// The crashed owner: a transaction on every changelog partition,
	// never ended, with counts far past the input's.
	zombie, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.TransactionalID("crashed-owner"),
		kgo.TransactionTimeout(3*time.Second), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for p := range int32(runtimeParts) {
		for k := range 30 {
			rec := &kgo.Record{Topic: runtimeChangelog, Partition: p, Key: []byte(fmt.Sprintf("k%d", k)), Value: []byte("999")}
			if err := zombie.ProduceSync(ctx, rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	zombie.Close() // no EndTransaction: as if killed

	for k, n := range produceInput(t, brokers, 30, 1500) {
		want[k] += n
	}
	start := time.Now()
	runUntilCaughtUp(t, counterStage(t, brokers, 0))
	t.Logf("the second run took %v (the open transaction's timeout is 3 s)", time.Since(start).Round(time.Millisecond))
	assertExactlyOnce(t, brokers, want)
}

// TestRuntimeUntilCaughtUpWaitsForItsUpstream: a stage run until caught up
// behind a stage still writing its input (StageConfig.Upstream) processes
// what comes but does not stop while the upstream runs, even when it has
// caught up with what its input holds so far; once the upstream closes it
// takes its target then and stops with everything processed.
func TestRuntimeUntilCaughtUpWaitsForItsUpstream(t *testing.T) {
	brokers := brokersOf(runtimeCluster(t))
	upstream := make(chan struct{})
	s := counterStage(t, brokers, 0)
	s.cfg.Upstream = upstream
	first := produceInput(t, brokers, 5, 40)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Run(ctx) }()
	waitForOutputs(t, brokers, 40)
	select {
	case err := <-stopped:
		t.Fatalf("the stage stopped (err %v) while its upstream still ran", err)
	case <-time.After(3 * time.Second): // several quiet polls, each caught up with the input so far
	}
	second := produceInput(t, brokers, 5, 60) // the upstream's last records
	close(upstream)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the stage did not stop within a minute of its upstream's end")
	}
	for k, n := range second {
		first[k] += n
	}
	assertExactlyOnce(t, brokers, first)
}

// waitForOutputs waits until the counter stage's output topic holds n
// committed records.
func waitForOutputs(t *testing.T, brokers []string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(readCommitted(t, brokers, runtimeOut)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d outputs after 30 s", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
