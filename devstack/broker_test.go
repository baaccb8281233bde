package devstack

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/baton-pipeline/baton/internal/testenv"
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

// The tests below run the broker as a process of its own (this test binary,
// see TestMain), so that they can SIGKILL it.

const (
	envBrokerProcessDir  = "DEVSTACK_TEST_BROKER_DIR"
	envBrokerProcessPort = "DEVSTACK_TEST_BROKER_PORT"
	// envBrokerMaxOpenFiles, if set, is the process's BrokerConfig.MaxOpenFiles.
	envBrokerMaxOpenFiles = "DEVSTACK_TEST_BROKER_MAX_OPEN_FILES"
)

// TestMain runs RunBroker until SIGTERM when started by startBrokerProcess,
// and the tests otherwise.
func TestMain(m *testing.M) {
	dir := os.Getenv(envBrokerProcessDir)
	if dir == "" {
		os.Exit(m.Run())
	}
	port, err := strconv.Atoi(os.Getenv(envBrokerProcessPort))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	cfg := BrokerConfig{Port: port, DataDir: dir, Logf: logf}
	if v := os.Getenv(envBrokerMaxOpenFiles); v != "" {
		if cfg.MaxOpenFiles, err = strconv.ParseUint(v, 10, 64); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := RunBroker(ctx, cfg, func(addr string) {
		fmt.Println("listening on", addr)
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// brokerProcess is a broker running in a child process.
type brokerProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	log    *testenv.SyncBuffer // its stderr
}

// startBrokerProcess runs a broker on port with dir in a child process,
// with env added to its environment, and waits until it accepts clients.
// Its log is shown if the test fails.
func startBrokerProcess(t *testing.T, port int, dir string, env ...string) *brokerProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envBrokerProcessDir+"="+dir, envBrokerProcessPort+"="+strconv.Itoa(port))
	cmd.Env = append(cmd.Env, env...)
	log := &testenv.SyncBuffer{}
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &brokerProcess{cmd: cmd, exited: make(chan struct{}), log: log}
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrs <- a
			}
		}
		cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-b.exited
		if t.Failed() {
			t.Logf("log of the broker process %d:\n%s", cmd.Process.Pid, log.String())
		}
	})
	select {
	case b.addr = <-addrs:
	case <-b.exited:
		t.Fatalf("broker process exited before it listened: %v", cmd.ProcessState)
	case <-time.After(20 * time.Second):
		t.Fatal("broker process not listening after 20s")
	}
	return b
}

// signal sends sig to the broker process and waits until it exited.
func (b *brokerProcess) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("broker process still running 20s after %v", sig)
	}
}

// produceInTxn begins a transaction as txnID (transaction timeout timeout)
// and produces values to topic's partition 0, leaving it open.
func produceInTxn(t *testing.T, addr, topic, txnID string, timeout time.Duration, values ...string) *kgo.Client {
	t.Helper()
	ctx := context.Background()
	cl := newClient(t, addr, kgo.TransactionalID(txnID), kgo.TransactionTimeout(timeout),
		kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		cl.Produce(ctx, &kgo.Record{Value: []byte(v)}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return cl
}

func values(prefix string, n int) []string {
	var vs []string
	for i := range n {
		vs = append(vs, fmt.Sprint(prefix, i))
	}
	return vs
}

// readToEnd reads partition 0 of topic from the start as baton's state
// restore does (read_committed, transaction markers kept) until it reads the
// record at the end offset listed first, minus one, and returns the data
// records it read. The test fails if it does not get there within 10s.
func readToEnd(t *testing.T, addr, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(newClient(t, addr)).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	cl := newClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	var data []string
	next := int64(0)
	for next < end.Offset {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read_committed reader of %s read up to offset %d (data %q), not to the end offset %d, in 10s", topic, next, data, end.Offset)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				data = append(data, string(r.Value))
			}
			next = r.Offset + 1
		})
	}
	return data
}

// lastStableOffset lists the last stable offset of topic's partition 0.
func lastStableOffset(t *testing.T, addr, topic string) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1 // read_committed: the last stable offset
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1 // the end
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), newClient(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		t.Fatal(err)
	}
	return p.Offset
}

func createTopic(t *testing.T, addr, topic string) {
	t.Helper()
	resp, err := kadm.NewClient(newClient(t, addr)).CreateTopic(context.Background(), 1, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

func assertRecords(t *testing.T, when string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: read_committed reader read %q, want %q", when, got, want)
	}
}

// A transaction open when the broker crashed is aborted with markers when
// it restarts (see broker_recovery.go): a read_committed reader gets to the
// end of the partition, and a producer with the same transactional ID that
// comes back and commits has its records read.
func TestBrokerAbortsTransactionLeftOpenByACrash(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	const topic = "changelog"
	b := startBrokerProcess(t, port, dir)
	createTopic(t, b.addr, topic)
	committed := produceInTxn(t, b.addr, topic, "other", time.Minute, values("committed-", 5)...)
	if err := committed.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// Open until the broker's crash; the timeout is far above the
	// reader's bound, so no timeout aborts it in this test.
	produceInTxn(t, b.addr, topic, "stage", time.Minute, values("open-", 20)...).Close()
	b.signal(t, syscall.SIGKILL)

	b = startBrokerProcess(t, port, dir)
	assertRecords(t, "after the crash", readToEnd(t, b.addr, topic), values("committed-", 5))
	if lso, hwm := lastStableOffset(t, b.addr, topic), int64(5+1+20+1); lso != hwm {
		t.Errorf("after the crash the last stable offset is %d, want %d (5 records and a marker, 20 records and a marker)", lso, hwm)
	}

	back := produceInTxn(t, b.addr, topic, "stage", time.Minute, values("back-", 3)...)
	if err := back.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	assertRecords(t, "after the producer came back and committed", readToEnd(t, b.addr, topic),
		append(values("committed-", 5), values("back-", 3)...))
}

// A transaction open at a clean shutdown survives the restart; if the broker
// then crashes before the transaction ends, it is aborted at the next start
// like one open at the crash, not left holding the last stable offset, nor
// later served as committed.
func TestBrokerAbortsTransactionOpenAtACleanShutdownThenACrash(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	const topic = "changelog"
	b := startBrokerProcess(t, port, dir)
	createTopic(t, b.addr, topic)
	produceInTxn(t, b.addr, topic, "stage", time.Minute, values("open-", 20)...).Close()
	b.signal(t, syscall.SIGTERM)
	b = startBrokerProcess(t, port, dir)
	b.signal(t, syscall.SIGKILL) // before the transaction's timeout

	b = startBrokerProcess(t, port, dir)
	assertRecords(t, "after the crash", readToEnd(t, b.addr, topic), nil)
	committed := produceInTxn(t, b.addr, topic, "other", time.Minute, values("committed-", 5)...)
	if err := committed.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	assertRecords(t, "after another producer committed", readToEnd(t, b.addr, topic), values("committed-", 5))
}

// A producer that goes away with a transaction open while the broker keeps
// running has it aborted, markers written, when its transaction timeout
// passes: a read_committed reader gets to the end of the partition.
func TestBrokerAbortsTransactionOfAGoneProducer(t *testing.T) {
	b := startBrokerProcess(t, freePort(t), t.TempDir())
	const topic = "changelog"
	createTopic(t, b.addr, topic)
	committed := produceInTxn(t, b.addr, topic, "other", time.Minute, values("committed-", 5)...)
	if err := committed.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	produceInTxn(t, b.addr, topic, "stage", 2*time.Second, values("open-", 20)...).Close()
	assertRecords(t, "after the transaction timeout", readToEnd(t, b.addr, topic), values("committed-", 5))
}

// The broker tells a clean stop from a crash, whatever it held: an idle
// broker's SIGTERM used to look like a crash (kfake saves no session
// state when there is nothing to carry over), so every start after
// `make dev-down` ran the crash recovery.
func TestBrokerTellsACleanStopFromACrash(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	b := startBrokerProcess(t, port, dir)
	createTopic(t, b.addr, "idle")
	b.signal(t, syscall.SIGTERM)
	if crashedLastRun(dir) {
		t.Error("after SIGTERM of an idle broker: crashedLastRun is true")
	}
	b = startBrokerProcess(t, port, dir)
	if strings.Contains(b.log.String(), "crash recovery") {
		t.Errorf("the start after a clean stop ran the crash recovery; log:\n%s", b.log.String())
	}
	b.signal(t, syscall.SIGKILL)
	if !crashedLastRun(dir) {
		t.Error("after SIGKILL: crashedLastRun is false")
	}
}
