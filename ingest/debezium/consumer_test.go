package debezium

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/internal/testenv"
)

// recordingHandler is a test double of the gateway's Handler (not of
// Kafka): it verifies and adapts like the gateway, records every call, and
// answers 503 for the offsets told to, as the gateway does while Kafka is
// away.
type recordingHandler struct {
	mu    sync.Mutex
	calls []handled
	// unavailable maps an offset to how many 503s it gets first (-1:
	// always).
	unavailable map[int64]int
}

type handled struct {
	offset   int64
	status   int
	events   []map[string]any
	received time.Time
	trusted  bool
	origin   *kgo.Record
}

func (h *recordingHandler) Handle(ctx context.Context, a ingest.Adapter, req ingest.Request) ingest.Outcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := handled{offset: req.Origin.Offset, received: req.Received, trusted: req.Trusted, origin: req.Origin}
	out := func() ingest.Outcome {
		if err := a.Verify(req); err != nil {
			return ingest.Outcome{Status: http.StatusUnauthorized, Err: err}
		}
		if n := h.unavailable[c.offset]; n != 0 {
			if n > 0 {
				h.unavailable[c.offset] = n - 1
			}
			return ingest.Outcome{Status: http.StatusServiceUnavailable, Err: errors.New("kafka unavailable")}
		}
		events, err := a.Adapt(req)
		if err != nil {
			return ingest.Outcome{Status: http.StatusBadRequest, Err: err}
		}
		c.events = events
		return ingest.Outcome{Status: http.StatusOK, Events: len(events)}
	}()
	c.status = out.Status
	h.calls = append(h.calls, c)
	return out
}

func (h *recordingHandler) snapshot() []handled {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]handled(nil), h.calls...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setup creates a one-partition topic (so order is total) holding values.
func setup(t *testing.T, values ...[]byte) (topic string, adm *kadm.Client, times []time.Time, produce func([]byte)) {
	t.Helper()
	testenv.Require(t, "kafka")
	ctx := context.Background()
	topic = testenv.Unique("debezium_test")
	testenv.DeleteTopicsAtCleanup(t, testenv.Brokers(), topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm = kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, 1, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	produce = func(v []byte) {
		ts := base.Add(time.Duration(len(times)) * time.Second)
		times = append(times, ts)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v, Timestamp: ts}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	for _, v := range values {
		produce(v)
	}
	return topic, adm, times, produce
}

func run(t *testing.T, topic, group string, h ingest.Handler) (cancel func() error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunConsumer(ctx, ConsumerConfig{
			Brokers: testenv.Brokers(), Topic: topic, Group: group,
			Adapter: New("", DefaultColumns), Handler: h,
		})
	}()
	return func() error {
		stop()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("RunConsumer did not return after cancel")
			return nil
		}
	}
}

func committed(t *testing.T, adm *kadm.Client, group, topic string) int64 {
	t.Helper()
	offs, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok {
		return -1
	}
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	return o.At
}

// TestRunConsumer: every record reaches the handler once it succeeds, in
// order, as a trusted delivery timed by the record; a 503 is retried until
// it succeeds; a tombstone and a malformed record are moved past; the
// offsets are committed; a restarted consumer resumes after them.
func TestRunConsumer(t *testing.T) {
	values := [][]byte{
		ingesttest.Fixture(t, "pg_create.json"),
		nil, // tombstone
		ingesttest.Fixture(t, "pg_update.json"),
		[]byte(`{"op":`), // malformed: the handler dead-letters it
		ingesttest.Fixture(t, "pg_delete.json"),
	}
	topic, adm, times, produce := setup(t, values...)
	group := testenv.Unique("debezium_group")
	h := &recordingHandler{unavailable: map[int64]int{2: 2}} // the update meets Kafka down twice
	stop := run(t, topic, group, h)
	waitFor(t, "all records handled", func() bool {
		calls := h.snapshot()
		return len(calls) > 0 && calls[len(calls)-1].offset == 4
	})
	if err := stop(); err != nil {
		t.Fatalf("RunConsumer: %v", err)
	}

	calls := h.snapshot()
	wantOffsets := []int64{0, 1, 2, 2, 2, 3, 4}
	wantStatus := []int{200, 200, 503, 503, 200, 400, 200}
	wantEvents := []int{1, 0, -1, -1, 1, -1, 1}
	if len(calls) != len(wantOffsets) {
		t.Fatalf("got %d handler calls, want %d: %+v", len(calls), len(wantOffsets), calls)
	}
	for i, c := range calls {
		if c.offset != wantOffsets[i] || c.status != wantStatus[i] {
			t.Errorf("call %d: offset %d status %d, want offset %d status %d", i, c.offset, c.status, wantOffsets[i], wantStatus[i])
		}
		if wantEvents[i] >= 0 && len(c.events) != wantEvents[i] {
			t.Errorf("call %d: %d events, want %d", i, len(c.events), wantEvents[i])
		}
		if !c.trusted || c.origin == nil || c.origin.Topic != topic {
			t.Errorf("call %d: trusted %v origin %v: want a trusted delivery naming its record", i, c.trusted, c.origin)
		}
		if !c.received.Equal(times[c.offset]) {
			t.Errorf("call %d: received %v, want the record timestamp %v", i, c.received, times[c.offset])
		}
	}
	if got := calls[4].events[0]["status"]; got != "on_hold" {
		t.Errorf("update event status %v, want on_hold", got)
	}
	if got := committed(t, adm, group, topic); got != 5 {
		t.Fatalf("committed offset %d, want 5 (all handled)", got)
	}

	// A restart of the group resumes after the committed offsets: it sees
	// only the record produced since.
	h2 := &recordingHandler{}
	stop2 := run(t, topic, group, h2)
	produce(ingesttest.Fixture(t, "mysql_update.json"))
	waitFor(t, "the new record", func() bool { return len(h2.snapshot()) > 0 })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if calls := h2.snapshot(); len(calls) != 1 || calls[0].offset != 5 || calls[0].status != 200 {
		t.Fatalf("restarted consumer handled %+v, want only offset 5", calls)
	}
}

// TestRunConsumerDoesNotCommitPast503: while the handler cannot produce a
// record, the consumer keeps retrying it and never commits past it; after a
// stop, a restarted consumer starts at that record.
func TestRunConsumerDoesNotCommitPast503(t *testing.T) {
	topic, adm, _, _ := setup(t, ingesttest.Fixture(t, "pg_create.json"), ingesttest.Fixture(t, "pg_update.json"), ingesttest.Fixture(t, "pg_delete.json"))
	group := testenv.Unique("debezium_group")
	h := &recordingHandler{unavailable: map[int64]int{1: -1}} // Kafka stays down for offset 1
	stop := run(t, topic, group, h)
	waitFor(t, "offset 1 retried", func() bool {
		n := 0
		for _, c := range h.snapshot() {
			if c.offset == 1 {
				n++
			}
		}
		return n >= 3
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.snapshot() {
		if c.offset == 2 {
			t.Fatal("the consumer went past a record it could not produce")
		}
	}
	if got := committed(t, adm, group, topic); got != 1 {
		t.Fatalf("committed offset %d, want 1 (record 0 handled, record 1 not)", got)
	}

	h2 := &recordingHandler{}
	stop2 := run(t, topic, group, h2)
	waitFor(t, "records 1 and 2 after restart", func() bool { return len(h2.snapshot()) == 2 })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if calls := h2.snapshot(); calls[0].offset != 1 || calls[1].offset != 2 || calls[0].status != 200 {
		t.Fatalf("after restart got %+v, want offsets 1 and 2 handled", calls)
	}
	if got := committed(t, adm, group, topic); got != 3 {
		t.Fatalf("committed offset %d, want 3", got)
	}
}

func TestRunConsumerConfig(t *testing.T) {
	err := RunConsumer(context.Background(), ConsumerConfig{Topic: "t"})
	if err == nil || !errorsContains(err, "Brokers", "Group", "Adapter", "Handler") {
		t.Fatalf("want the missing fields named, got %v", err)
	}
	err = RunConsumer(context.Background(), ConsumerConfig{Brokers: []string{"x"}, Topic: "t", Group: "g", Adapter: New("", ColumnMap{OrderID: "id"}), Handler: &recordingHandler{}})
	if err == nil || !errorsContains(err, "Status must name a column") {
		t.Fatalf("want the column map refused, got %v", err)
	}
}

func errorsContains(err error, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return false
		}
	}
	return true
}
