package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

const validWMS = `{"event_id":"w-1","order_id":"o-1","warehouse_id":"DC1","status":"packed","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:01Z"}
{"event_id":"w-2","order_id":"o-1","warehouse_id":"DC1","status":"shipped","shipment_id":"s-1","tracking_number":"1Z1","carrier":"UPS","items":[{"sku":"A","quantity":1}],"occurred_at":"2026-11-01T11:00:00Z","recorded_at":"2026-11-01T11:00:02Z"}

{"event_id":"w-3","order_id":"o-2","warehouse_id":"DC2","status":"released","occurred_at":"2026-11-01T12:00:00Z","recorded_at":"2026-11-01T12:00:00Z"}
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// consumeAll reads every record of a topic from the start.
func (s *stack) consumeAll(topic string, want int) []*kgo.Record {
	s.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.svc.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			s.t.Fatalf("%s: got %d records, want %d", topic, len(out), want)
		}
		out = append(out, f.Records()...)
	}
	return out
}

func (s *stack) decoder() *schemas.Decoder {
	cl, err := sr.NewClient(sr.URLs(s.svc.registry))
	if err != nil {
		s.t.Fatal(err)
	}
	return schemas.NewDecoder(cl)
}

func TestProduceValidFileLandsAsAvroKeyedByOrderID(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRun("produce", "--system", "wms", writeFile(t, "wms.jsonl", validWMS))
	topic := s.topics().Source(schemas.WMS).Name
	recs := s.consumeAll(topic, 3)
	dec := s.decoder()
	got := map[string]string{}
	for _, r := range recs {
		d, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		got[d.Plain["event_id"].(string)] = string(r.Key)
	}
	want := map[string]string{"w-1": "o-1", "w-2": "o-1", "w-3": "o-2"}
	for id, key := range want {
		if got[id] != key {
			t.Errorf("event %s keyed %q, want %q (all: %v)", id, got[id], key, got)
		}
	}
}

func TestProduceFileWithABadLineProducesNothingAndNamesTheLine(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	bad := strings.Replace(validWMS, `"status":"released"`, `"status":"released","occurred_at":"soon"`, 1)
	bad = strings.Replace(bad, `"occurred_at":"2026-11-01T12:00:00Z",`, ``, 1)
	_, errOut, err := s.run("produce", "--system", "wms", writeFile(t, "bad.jsonl", bad))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("produce with a bad line: err = %v, want exit status 1\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "line 4: occurred_at: expected an RFC 3339 time") || !strings.Contains(errOut, "nothing produced") {
		t.Errorf("error does not name line 4 and its reason:\n%s", errOut)
	}
	// Nothing reached Kafka: validation failed before baton even connected,
	// so the topic was never created.
	topics, err := s.adm.ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has(s.topics().Source(schemas.WMS).Name) {
		t.Errorf("topic %s exists after a rejected file", s.topics().Source(schemas.WMS).Name)
	}
}

func TestKcatListsTheSourceTopics(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRun("topics")
	out, err := exec.Command("kcat", "-L", "-b", testenv.Brokers()[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -L: %v\n%s", err, out)
	}
	for _, tp := range s.topics().All() {
		if !strings.Contains(string(out), `topic "`+tp.Name+`"`) {
			t.Errorf("kcat does not list %s", tp.Name)
		}
	}
}

func TestSIGTERMFinishesTheBatchCommitsAndExitsZero(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRun("simulate", "--orders", "300", "--seed", "5")
	cmd := s.command("run", "--batch-size", "100", "--flush-interval", "50ms")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "rows in ClickHouse", func() bool { return s.rowsIn("source_events") > 200 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("baton run after SIGTERM: %v, want exit 0\n%s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("baton run did not exit within 30s of SIGTERM\n%s", errb.String())
	}
	// Everything stored is committed: per partition, the committed offset
	// is one past the highest stored offset.
	stored, err := s.ch.MaxOffsets(context.Background(), "source_events", s.sourceTopicNames())
	if err != nil {
		t.Fatal(err)
	}
	committed, err := s.adm.FetchOffsets(context.Background(), s.group)
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	for topic, parts := range stored {
		for p, max := range parts {
			c, ok := committed.Lookup(topic, p)
			if !ok || c.At != max+1 {
				t.Errorf("%s/%d: committed %v, want %d (stored up to %d)", topic, p, c.At, max+1, max)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("nothing stored before SIGTERM")
	}
}

func TestUndecodableRecordsGoToTheDeadLetterTopicWithTheirReason(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRun("produce", "--system", "wms", writeFile(t, "wms.jsonl", validWMS))
	topics := s.topics()
	garbage := &kgo.Record{Topic: topics.Source(schemas.WMS).Name, Key: []byte("o-9"), Value: []byte(`{"not":"avro"}`)}
	if err := s.kcl.ProduceSync(context.Background(), garbage).FirstErr(); err != nil {
		t.Fatal(err)
	}
	s.mustRun("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s")

	var stored uint64
	if err := s.ch.Conn().QueryRow(context.Background(), "SELECT count() FROM "+s.database+".source_events").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 3 {
		t.Errorf("stored %d rows, want the 3 good records", stored)
	}
	// Both stages read the source topic, and each reports the record it
	// could not decode: one dead letter per stage, none more.
	recs := s.consumeAll(topics.Name(topology.DeadLetter), 2)
	stages := map[string]bool{}
	for _, rec := range recs {
		d, err := s.decoder().Decode(context.Background(), rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		dl := d.Plain
		stage, _ := dl["stage"].(string)
		if dl["reason"] != records.ReasonUndecodable || dl["source_topic"] != garbage.Topic || stages[stage] {
			t.Errorf("dead letter = %v", dl)
		}
		stages[stage] = true
		if !strings.Contains(dl["error"].(string), "not Confluent wire format") {
			t.Errorf("dead letter error does not explain: %v", dl["error"])
		}
		if v, _ := dl["value"].(string); v == "" {
			t.Error("dead letter lost the original value")
		}
	}
	if !stages["sink"] || !stages["normalize"] {
		t.Errorf("dead letters from stages %v, want sink and normalize", stages)
	}
}

// TestAnEventPastTheAllowedLatenessIsDeadLetteredTooLate: an order's event
// recorded 40 days before the order's latest, delivered by the same
// warehouse after it, is more than the allowed lateness (--retention, 30
// days) behind its source clock (how far its warehouse partition had come
// when normalize read it): unify dead-letters it too_late with its
// reason, and it changes nothing.
func TestAnEventPastTheAllowedLatenessIsDeadLetteredTooLate(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// Two runs: within one batch unify would apply them in event-time
	// order, the earlier one first.
	for _, event := range []string{
		`{"event_id":"w-1","order_id":"o-1","warehouse_id":"DC1","status":"released","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:01Z"}`,
		`{"event_id":"w-0","order_id":"o-1","warehouse_id":"DC1","status":"released","occurred_at":"2026-09-22T10:00:00Z","recorded_at":"2026-09-22T10:00:01Z"}`,
	} {
		s.mustRun("produce", "--system", "wms", writeFile(t, "wms.jsonl", event+"\n"))
		s.mustRun("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s", "--idle-advance", "0")
	}
	var stage, reason, reasonErr string
	if err := s.ch.Conn().QueryRow(context.Background(), "SELECT stage, reason, error FROM "+s.database+".dead_letters FINAL").Scan(&stage, &reason, &reasonErr); err != nil {
		t.Fatalf("the dead letter: %v", err)
	}
	if stage != "unify" || reason != records.ReasonTooLate || !strings.Contains(reasonErr, "960h0m0s behind its source partition's progress") {
		t.Errorf("dead letter %s/%s: %s; want unify/too_late saying how late", stage, reason, reasonErr)
	}
	if n := s.count("SELECT count() FROM " + s.database + ".canonical_events WHERE source_event_id = 'w-0'"); n != 1 {
		t.Errorf("canonical_events holds the too-late event %d times; want once (normalize passed it on)", n)
	}
	if n := s.count("SELECT count() FROM " + s.database + ".order_transitions_latest WHERE source_event_id = 'w-0'"); n != 0 {
		t.Errorf("the too-late event made %d transitions", n)
	}
}
