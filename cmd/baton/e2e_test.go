package main

// End-to-end tests of the baton binary against the real dev stack: the
// kfake-based broker, the schema registry and a real ClickHouse server
// (`make test` starts them). Each test uses its own topic prefix, consumer
// group and ClickHouse database, so tests never see each other's data.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/pipelines"
	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/topology"
)

// batonBin is built with the race detector, so the processes the tests
// start are checked too; batonFastBin without it, for the tests whose
// volume (20,000 orders) would take minutes under the detector.
var batonBin, batonFastBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baton-e2e")
	if err != nil {
		panic(err)
	}
	batonBin, batonFastBin = filepath.Join(dir, "baton"), filepath.Join(dir, "baton-fast")
	for _, build := range []*exec.Cmd{exec.Command("go", "build", "-race", "-o", batonBin, "."), exec.Command("go", "build", "-o", batonFastBin, ".")} {
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building baton:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// services are the addresses of a broker, a schema registry and a
// ClickHouse server.
type services struct {
	brokers  []string
	registry string // URL
	chNative string // host:port of the native protocol
	chHTTP   string // host:port of the HTTP interface
}

// devServices are the dev stack's (testenv's).
func devServices() services {
	host, _, _ := strings.Cut(testenv.ClickHouseAddr(), ":")
	return services{brokers: testenv.Brokers(), registry: testenv.RegistryURL(), chNative: testenv.ClickHouseAddr(), chHTTP: host + ":8123"}
}

// stack is one test's isolated slice of the dev stack (or of services
// the test started itself).
type stack struct {
	t        testing.TB
	svc      services
	prefix   string
	appID    string
	group    string // the sink's consumer group
	database string
	kcl      *kgo.Client
	adm      *kadm.Client
	ch       *clickhouse.Client
}

func newStack(t testing.TB) *stack {
	t.Helper()
	testenv.Require(t, "kafka", "registry", "clickhouse")
	s := newStackOn(t, devServices())
	// A stack of its own services keeps its topics in the test's
	// temporary directory; the shared dev broker must be cleaned up.
	testenv.DeleteTopicsAtCleanup(t, s.svc.brokers, s.prefix)
	return s
}

// newStackOn is newStack on the given services.
func newStackOn(t testing.TB, svc services) *stack {
	t.Helper()
	name := testenv.Unique("e2e")
	s := &stack{t: t, svc: svc, prefix: name + ".", appID: name, group: pipelines.StageGroup(name, "sink"), database: name}
	var err error
	s.kcl, err = kgo.NewClient(kgo.SeedBrokers(svc.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kcl.Close)
	s.adm = kadm.NewClient(s.kcl)
	s.ch, err = clickhouse.Open(context.Background(), clickhouse.Config{Addr: svc.chNative, Database: s.database, User: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("BATON_KEEP_FAILED") != "" {
			t.Logf("BATON_KEEP_FAILED: kept database %s for inspection", s.database)
		} else {
			s.ch.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+s.database)
		}
		s.ch.Close()
	})
	return s
}

func (s *stack) topics() topology.Topics { return topology.New(s.prefix) }

// command builds a baton invocation pointed at this test's slice.
func (s *stack) command(args ...string) *exec.Cmd {
	cmd := exec.Command(batonBin, args...)
	cmd.Env = append(os.Environ(),
		"BATON_BROKERS="+strings.Join(s.svc.brokers, ","),
		"BATON_REGISTRY_URL="+s.svc.registry,
		"BATON_CLICKHOUSE_ADDR="+s.svc.chNative,
		"BATON_CLICKHOUSE_DATABASE="+s.database,
		"BATON_TOPIC_PREFIX="+s.prefix,
		"BATON_APP_ID="+s.appID,
		"BATON_METRICS_ADDR=", // tests run in parallel: no fixed port
	)
	return cmd
}

// runLimit bounds one baton invocation in the tests, so a command that
// never finishes fails its test with its log instead of hanging the suite.
const runLimit = 6 * time.Minute

// run runs baton to completion and returns stdout and stderr.
func (s *stack) run(args ...string) (string, string, error) { return s.runBinary(batonBin, args...) }

// runBinary is run with the baton binary bin.
func (s *stack) runBinary(bin string, args ...string) (string, string, error) {
	cmd := s.command(args...)
	cmd.Path = bin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	timer := time.AfterFunc(runLimit, func() { cmd.Process.Signal(syscall.SIGQUIT) }) // SIGQUIT: Go prints every goroutine
	defer timer.Stop()
	err := cmd.Wait()
	return out.String(), errb.String(), err
}

func (s *stack) mustRun(args ...string) string {
	s.t.Helper()
	return s.mustRunBinary(batonBin, args...)
}

// mustRunFast is mustRun with the binary built without the race detector
// (a stage over thousands of orders would take minutes with it).
func (s *stack) mustRunFast(args ...string) string {
	s.t.Helper()
	return s.mustRunBinary(batonFastBin, args...)
}

func (s *stack) mustRunBinary(bin string, args ...string) string {
	s.t.Helper()
	out, errOut, err := s.runBinary(bin, args...)
	if err != nil {
		s.t.Fatalf("baton %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// endOffsets returns the end offset of every partition of the topics.
func (s *stack) endOffsets(topics ...string) map[string]map[int32]int64 {
	s.t.Helper()
	ends, err := s.adm.ListEndOffsets(context.Background(), topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out
}

func (s *stack) sourceTopicNames() []string {
	var names []string
	for _, t := range s.topics().Sources() {
		names = append(names, t.Name)
	}
	return names
}

// rowsIn counts a table's rows, without collapsing re-inserts; 0 while
// the pipeline has not created the table yet.
func (s *stack) rowsIn(table string) uint64 {
	var n uint64
	row := s.ch.Conn().QueryRow(context.Background(), "SELECT count() FROM "+s.database+"."+table)
	if err := row.Scan(&n); err != nil {
		return 0
	}
	return n
}

// assertExactlyStored checks that source_events holds every record of
// every source partition exactly once: per partition, the stored offsets
// are exactly 0..end-1, counted with and without FINAL, so a lost or a
// doubled record fails.
func (s *stack) assertExactlyStored() {
	s.t.Helper()
	ends := s.endOffsets(s.sourceTopicNames()...)
	rows, err := s.ch.Conn().Query(context.Background(), `SELECT topic, kafka_partition, count(), uniqExact(kafka_offset), min(kafka_offset), max(kafka_offset)
		FROM `+s.database+`.source_events GROUP BY topic, kafka_partition`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]map[int32]bool{}
	for rows.Next() {
		var (
			topic          string
			part           int32
			count, uniq    uint64
			minOff, maxOff int64
		)
		if err := rows.Scan(&topic, &part, &count, &uniq, &minOff, &maxOff); err != nil {
			s.t.Fatal(err)
		}
		end := ends[topic][part]
		if count != uint64(end) || uniq != uint64(end) || minOff != 0 || maxOff != end-1 {
			s.t.Errorf("%s/%d: stored %d rows (%d distinct offsets, %d..%d), want exactly offsets 0..%d once each", topic, part, count, uniq, minOff, maxOff, end-1)
		}
		if seen[topic] == nil {
			seen[topic] = map[int32]bool{}
		}
		seen[topic][part] = true
	}
	for topic, parts := range ends {
		for p, end := range parts {
			if end > 0 && !seen[topic][p] {
				s.t.Errorf("%s/%d: %d records produced, none stored", topic, p, end)
			}
		}
	}
}

func (s *stack) totalProduced() int64 {
	var n int64
	for _, parts := range s.endOffsets(s.sourceTopicNames()...) {
		for _, end := range parts {
			n += end
		}
	}
	return n
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPipelineStoresEverySimulatedRecordExactlyOnceAcrossSIGKILL(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRun("simulate", "--orders", "600", "--seed", "11")
	total := s.totalProduced()
	if total < 6000 {
		t.Fatalf("simulate produced only %d records", total)
	}
	// Small batches make a kill land between an insert and its commit.
	for kill := 0; kill < 3; kill++ {
		cmd := s.command("run", "--batch-size", "150", "--flush-interval", "50ms", "--session-timeout", "6s")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		before := s.rowsIn("source_events")
		waitFor(t, 60*time.Second, "the pipeline to store more rows", func() bool { return s.rowsIn("source_events") > before+300 })
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if got := s.rowsIn("source_events"); int64(got) >= total {
			t.Fatalf("kill %d came too late: all %d rows already stored; the test needs a mid-run kill", kill, got)
		}
	}
	// The catch-up without the race detector (the killed runs had it):
	// under -race it takes minutes on two cores.
	s.mustRunFast("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s")
	s.assertExactlyStored()

	// The report counts what was stored, per system.
	out := s.mustRun("report", "--format", "json")
	for _, sys := range schemas.Systems {
		if !strings.Contains(out, `"system": "`+string(sys)+`"`) {
			t.Errorf("report lacks system %s:\n%s", sys, out)
		}
	}
}

// count runs a single-number ClickHouse query.
func (s *stack) count(query string) uint64 {
	s.t.Helper()
	var n uint64
	if err := s.ch.Conn().QueryRow(context.Background(), strings.ReplaceAll(query, "{db}", s.database)).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// heldEvents is the number of events normalize's state holds for their
// link (carrier scans, help-desk events without an order), as a restore
// rebuilds it from the changelog.
func (s *stack) heldEvents() uint64 {
	s.t.Helper()
	var n uint64
	for _, recs := range s.readTopic(s.topics().Name(topology.NormalizeChangelog)) {
		st := normalize.NewState()
		for _, r := range recs {
			if err := st.Apply(normalize.Change{Key: string(r.Key), Value: r.Value}); err != nil {
				s.t.Fatal(err)
			}
		}
		n += uint64(st.HeldCount())
	}
	return n
}

func TestNormalizeEmitsEachSourceEventOnceAcrossSIGKILLWithHeldScans(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// Carrier scans first, their WMS shipment later: the scans are held.
	// They are timed after the simulated backlog, so that its link
	// sources' event time does not pass them by the hold timeout before
	// their link comes (a link later than that is too late: the scans are
	// dead-lettered unlinked, whatever their arrival).
	carrier := `{"event_id":"c-1","tracking_number":"1ZHELD","carrier":"UPS","provider":"easypost","status":"in_transit","sub_status":"arrived_at_facility","occurred_at":"2026-12-05T12:00:00Z","recorded_at":"2026-12-05T12:01:00Z"}
{"event_id":"c-2","tracking_number":"1ZHELD","carrier":"UPS","provider":"easypost","status":"out_for_delivery","occurred_at":"2026-12-05T11:00:00Z","recorded_at":"2026-12-05T11:01:00Z"}
`
	s.mustRun("produce", "--system", "carrier", writeFile(t, "carrier.jsonl", carrier))
	s.mustRun("simulate", "--orders", "300", "--seed", "21")
	for kill := 0; kill < 2; kill++ {
		cmd := s.command("run", "--batch-size", "200", "--flush-interval", "50ms", "--session-timeout", "6s")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		before := s.rowsIn("canonical_events")
		waitFor(t, 90*time.Second, "canonical events in ClickHouse", func() bool { return s.rowsIn("canonical_events") > before+500 })
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	shipped := `{"event_id":"w-held","order_id":"o-held","warehouse_id":"DC1","status":"shipped","shipment_id":"s-held","tracking_number":"1ZHELD","carrier":"UPS","items":[],"occurred_at":"2026-12-05T10:00:00Z","recorded_at":"2026-12-05T10:00:01Z"}
`
	s.mustRun("produce", "--system", "wms", writeFile(t, "wms.jsonl", shipped))
	_, finalLog, err := s.run("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s")
	if err != nil {
		t.Fatalf("baton run --until-caught-up: %v\n%s", err, finalLog)
	}
	defer func() {
		if t.Failed() {
			t.Logf("canonical topic end offsets %v\nlog of the final run:\n%s", s.endOffsets(s.topics().Name(topology.Canonical)), finalLog)
		}
	}()

	// Every distinct source event became exactly one canonical event or one
	// normalize dead letter; redeliveries collapsed; nothing doubled.
	unique := s.count("SELECT uniqExact(system, event_id) FROM {db}.source_events")
	canonical := s.count("SELECT count() FROM {db}.canonical_events FINAL")
	distinct := s.count("SELECT uniqExact(source_system, source_event_id) FROM {db}.canonical_events")
	rejected := s.count("SELECT uniqExact(source_topic, source_partition, source_offset) FROM {db}.dead_letters WHERE stage = 'normalize'")
	held := s.heldEvents()
	if canonical != distinct {
		t.Errorf("canonical_events holds %d rows for %d distinct source events: some were emitted twice:\n%s", canonical, distinct,
			chHTTP(t, "SELECT source_system, source_event_id, groupArray(kafka_partition), groupArray(kafka_offset), any(linked_by) FROM "+s.database+
				".canonical_events FINAL GROUP BY source_system, source_event_id HAVING count() > 1 ORDER BY source_system, source_event_id LIMIT 10 FORMAT TabSeparated"))
	}
	// A scan whose tracking number is first linked more than the hold
	// timeout after it is decided once every link source has passed that
	// time; near the backlog's end, none has yet: it is still held.
	if distinct+rejected+held != unique {
		t.Errorf("%d distinct source events, but %d canonical + %d dead-lettered + %d held; none of these (the first 10):\n%s", unique, distinct, rejected, held,
			chHTTP(t, "SELECT system, event_id, topic, kafka_partition, kafka_offset, recorded_at FROM "+s.database+".source_events FINAL WHERE (system, event_id) NOT IN (SELECT source_system, source_event_id FROM "+s.database+
				".canonical_events) AND (topic, kafka_partition, kafka_offset) NOT IN (SELECT source_topic, source_partition, source_offset FROM "+s.database+".dead_letters) ORDER BY system, event_id LIMIT 10 FORMAT TabSeparated"))
	}
	// The held scans were released to their order, in event-time order.
	rows, err := s.ch.Conn().Query(context.Background(), "SELECT source_event_id, order_id, shipment_id, linked_by FROM "+s.database+".canonical_events FINAL WHERE tracking_number = '1ZHELD' AND source_system = 'carrier' ORDER BY kafka_offset")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, order, shipment, linked string
		if err := rows.Scan(&id, &order, &shipment, &linked); err != nil {
			t.Fatal(err)
		}
		if order != "o-held" || shipment != "s-held" || linked != "tracking_link" {
			t.Errorf("held scan %s resolved to %s/%s by %s", id, order, shipment, linked)
		}
		got = append(got, id)
	}
	if strings.Join(got, ",") != "c-2,c-1" {
		t.Errorf("held scans released as %v, want [c-2 c-1] (event-time order)", got)
	}
}
