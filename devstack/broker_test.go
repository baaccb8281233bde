package devstack

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBroker runs RunBroker on port with dir and returns its address and a
// stop function (also run at cleanup) that waits until RunBroker returned.
func startBroker(t *testing.T, port int, dir string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- RunBroker(ctx, BrokerConfig{Port: port, DataDir: dir, Logf: t.Logf}, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("RunBroker(port %d, %q): %v", port, dir, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("broker not ready after 10s")
	}
	if want := "127.0.0.1:" + strconv.Itoa(port); port != 0 && addr != want {
		t.Errorf("broker listens on %s, want %s", addr, want)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunBroker returned %v after cancel", err)
		}
	}
	t.Cleanup(stop)
	return addr, stop
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestBrokerPersistsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port, dir := freePort(t), t.TempDir()
	const (
		topic = "orders"
		group = "order-timeline"
		n     = 10
	)

	addr, stop := startBroker(t, port, dir)
	cl := newClient(t, addr)
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	var want []string
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: int32(i % 2), Key: []byte(fmt.Sprint("order-", i)), Value: []byte(fmt.Sprint("status-", i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		want = append(want, string(r.Key)+"="+string(r.Value))
	}
	var committed kadm.Offsets
	committed.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3, LeaderEpoch: -1})
	committed.Add(kadm.Offset{Topic: topic, Partition: 1, At: 4, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, group, committed); err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
	cl.Close()
	stop()

	addr, _ = startBroker(t, port, dir)
	cl = newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	adm = kadm.NewClient(cl)

	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := topics[topic]; !ok || d.Err != nil || len(d.Partitions) != 2 {
		t.Fatalf("after restart topic %q = %+v, want it with 2 partitions", topic, d)
	}

	offsets, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range committed.Sorted() {
		got, ok := offsets.Lookup(topic, o.Partition)
		if !ok || got.Err != nil || got.At != o.At {
			t.Errorf("after restart group %q partition %d offset = %+v, want %d", group, o.Partition, got, o.At)
		}
	}

	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume after restart (got %d of %d records): %v", len(got), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Key)+"="+string(r.Value)) })
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("records after restart:\ngot  %v\nwant %v", got, want)
	}
}

func TestBrokerConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr, _ := startBroker(t, 0, "")
	// Ask for auto-creation from the client side: the broker must still
	// refuse, so a misspelt topic fails instead of appearing.
	cl := newClient(t, addr, kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(1))
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: "never-created", Value: []byte("x")}).FirstErr()
	if err != kerr.UnknownTopicOrPartition {
		t.Errorf("producing to a missing topic: got %v, want %v", err, kerr.UnknownTopicOrPartition)
	}
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("never-created") {
		t.Error("broker auto-created a topic")
	}

	cfgs, err := kadm.NewClient(cl).DescribeBrokerConfigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfgs.On("0", nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := false
	for _, kv := range c.Configs {
		if kv.Key == "log.cleaner.backoff.ms" {
			ok = true
			if kv.MaybeValue() != strconv.Itoa(compactionBackoff) {
				t.Errorf("log.cleaner.backoff.ms = %q, want %d (compaction off: see compactionBackoff)", kv.MaybeValue(), compactionBackoff)
			}
		}
	}
	if !ok {
		t.Error("broker does not report log.cleaner.backoff.ms")
	}
}

// A read_committed consumer of several partitions whose fetches reach their
// response-wide byte limit mid-partition never reads an aborted
// transaction's records (see keepAbortedIndex).
func TestReadCommittedSkipsAbortedTransactionsAtTheFetchLimit(t *testing.T) {
	addr, _ := startBroker(t, 0, t.TempDir())
	ctx := context.Background()
	const topic, partitions = "txn", 6
	if _, err := kadm.NewClient(newClient(t, addr)).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	aborted := map[string]bool{}
	producer := newClient(t, addr, kgo.TransactionalID("aborts"), kgo.DefaultProduceTopic(topic))
	for txn := range 12 {
		if err := producer.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		abort := txn%3 == 1
		for i := range 300 {
			v := fmt.Sprintf("txn %d record %d", txn, i)
			aborted[v] = abort
			producer.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(v)}, nil)
		}
		if err := producer.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := producer.EndTransaction(ctx, kgo.TransactionEndTry(!abort)); err != nil {
			t.Fatal(err)
		}
	}
	// Limits far below the topic's size: most fetches stop mid-partition.
	consumer := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxBytes(40<<10), kgo.FetchMaxPartitionBytes(30<<10))
	var committed, abortedRead int
	for committed+abortedRead < 8*300 {
		pollCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fetches := consumer.PollFetches(pollCtx)
		cancel()
		if fetches.NumRecords() == 0 {
			t.Fatalf("read %d committed records of %d, then nothing for 10 s", committed, 8*300)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if aborted[string(r.Value)] {
				abortedRead++
			} else {
				committed++
			}
		})
	}
	if abortedRead > 0 {
		t.Errorf("read_committed consumer read %d records of aborted transactions (and %d committed)", abortedRead, committed)
	}
}
