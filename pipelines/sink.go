package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/pipelines/stream"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/topology"
)

// SourceSinkConfig configures the ClickHouse sink stage: every source
// record into source_events, every record of a later stage's output topic
// into its table (sinkTables).
type SourceSinkConfig struct {
	Brokers []string
	Topics  topology.Topics
	// Group is the consumer group; processes sharing it share the partitions.
	Group string
	// BatchSize and FlushInterval bound a batch: it is written when it holds
	// BatchSize records or FlushInterval after its first poll, whichever
	// comes first. Larger batches mean fewer, cheaper ClickHouse parts.
	BatchSize     int
	FlushInterval time.Duration
	// ShutdownTimeout bounds finishing the batch in flight after a stop
	// request (SIGTERM) when ClickHouse or Kafka is slow or away. While
	// no stop is requested, a batch is retried for as long as it takes.
	ShutdownTimeout time.Duration
	// SessionTimeout is how long the group waits for a silent member
	// before moving its partitions to the others: the time a crashed
	// process's partitions stand still. Kafka's default is 45 s.
	SessionTimeout time.Duration
	// UntilCaughtUp stops the stage, cleanly, once the group's committed
	// offsets reach the end offsets every input topic had when Run started
	// (transaction markers count: the sink consumes them too) and a poll
	// finds nothing more.
	UntilCaughtUp bool
	// Upstream, optional with UntilCaughtUp, closes when the stages before
	// the sink in the same run have caught up: the end offsets are taken
	// then, and the sink stores what comes meanwhile (see
	// StageConfig.Upstream).
	Upstream <-chan struct{}
	// Stalls, optional, learns when the sink runs (see Stalls).
	Stalls *stream.Stalls
	Logger *slog.Logger
}

// DefaultAppID names a baton deployment when none is configured.
const DefaultAppID = "baton"

// StageGroup is the consumer group of one stage of the deployment appID
// (like Kafka Streams' application.id, every group and transactional ID
// derives from it): two deployments with different IDs never share a group,
// and every process of one deployment joins the same groups.
func StageGroup(appID, stage string) string { return appID + "-" + stage }

func (c *SourceSinkConfig) setDefaults() {
	if c.Group == "" {
		c.Group = StageGroup(DefaultAppID, topology.Sink.Name)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 20000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 45 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// SourceSink consumes the source topics and every output topic of the
// later stages (canonical events, dead letters, transitions, order states,
// sync checks, failed syncs) and writes every record to its ClickHouse
// table (sinkTables), committing Kafka offsets only after ClickHouse
// acknowledged the inserts.
// Records that cannot be decoded go to the dead-letter topic (except those
// read from it, which are counted and logged: re-dead-lettering them would
// loop).
//
// Delivery into ClickHouse is effectively once: a crash between insert and
// commit would re-deliver the batch, so on partition assignment the sink
// starts after the highest offset already stored in ClickHouse when that is
// ahead of the committed offset; and source_events is a ReplacingMergeTree
// on (topic, partition, offset) as a second guard.
type SourceSink struct {
	cfg     SourceSinkConfig
	kcl     *kgo.Client
	adm     *kadm.Client
	decoder *schemas.Decoder
	ch      *clickhouse.Client
	dead    *records.DeadLetters
	metrics *Metrics
	tables  []sinkTable
	// caughtUpTarget holds the input topics' end offsets when Run
	// started (or Upstream closed), when UntilCaughtUp is set.
	caughtUpTarget kadm.ListedOffsets
	stats          SinkStats

	// resumed holds the offsets resumeAfterStored moved partitions to.
	// Nothing is committed for them until a later record of the partition
	// is stored, so caughtUp counts them as done.
	resumedMu sync.Mutex
	resumed   map[string]map[int32]kgo.EpochOffset
	// fetchErrs logs and counts fetch errors, and backs off after a poll
	// that brought nothing else.
	fetchErrs *stream.FetchErrors
}

// SinkStats counts what one Run stored; read it after Run returns.
type SinkStats struct {
	Rows        int64
	DeadLetters int64
	Batches     int64
}

// Stats returns what Run has stored so far. Not safe to call while Run is
// running.
func (s *SourceSink) Stats() SinkStats { return s.stats }

// NewSourceSink builds the stage and its Kafka client; Run starts it.
func NewSourceSink(ctx context.Context, cfg SourceSinkConfig, decoder *schemas.Decoder, ch *clickhouse.Client, dead *records.DeadLetters, m *Metrics) (*SourceSink, error) {
	cfg.setDefaults()
	s := &SourceSink{cfg: cfg, decoder: decoder, ch: ch, dead: dead, metrics: m, tables: sinkTables(cfg.Topics), resumed: map[string]map[int32]kgo.EpochOffset{},
		fetchErrs: stream.NewFetchErrors(cfg.Logger, topology.Sink.Name, m.FetchErrors)}
	if err := checkSinkTables(s.tables, cfg.Topics); err != nil {
		return nil, err
	}
	m.startSinkTables(s.tables)
	kcl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("baton-source-sink"),
		kgo.ConsumerGroup(cfg.Group),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.ConsumeTopics(s.inputs()...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// One fetch response of at most 8 MiB buffered while a batch is
		// processed: halves peak RSS against kgo's 50 MiB default with no
		// loss of throughput (measured replaying a 20,000-order backlog).
		kgo.FetchMaxBytes(8<<20),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers come through as records, so the committed
		// offset of a transactional topic (canonical events) moves past
		// the marker that ends it and can reach the end offset.
		kgo.KeepControlRecords(),
		// Offsets are committed by hand after each ClickHouse insert, and
		// rebalances wait until the batch in flight is written and committed,
		// so a partition never moves with uncommitted work.
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AdjustFetchOffsetsFn(s.resumeAfterStored),
	)
	if err != nil {
		return nil, fmt.Errorf("source sink: kafka client: %w", err)
	}
	s.kcl = kcl
	s.adm = kadm.NewClient(kcl)
	return s, nil
}

// inputs are the topics the sink stores: the sources, the canonical events
// and the dead letters.
func (s *SourceSink) inputs() []string {
	var names []string
	for _, t := range s.cfg.Topics.Sources() {
		names = append(names, t.Name)
	}
	for _, t := range s.tables[1:] { // [0] is source_events: the sources above
		names = append(names, t.topic)
	}
	return names
}

// resumeAfterStored moves each assigned partition's start past the records
// ClickHouse already holds (see SourceSink).
func (s *SourceSink) resumeAfterStored(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	byTable := map[string][]string{}
	for t := range offsets {
		name := s.tables[s.tableOf(t)].name
		byTable[name] = append(byTable[name], t)
	}
	stored := map[string]map[int32]int64{}
	for table, topics := range byTable {
		max, err := s.ch.MaxOffsets(ctx, table, topics)
		if err != nil {
			return nil, err
		}
		for t, parts := range max {
			stored[t] = parts
		}
	}
	for topic, parts := range offsets {
		for p, off := range parts {
			max, ok := stored[topic][p]
			if !ok {
				continue
			}
			if next := max + 1; next > off.EpochOffset().Offset {
				s.cfg.Logger.Info("resuming after offsets already in ClickHouse", "topic", topic, "partition", p, "committed", off.EpochOffset().Offset, "resume", next)
				parts[p] = kgo.NewOffset().At(next).WithEpoch(-1)
				s.resumedMu.Lock()
				if s.resumed[topic] == nil {
					s.resumed[topic] = map[int32]kgo.EpochOffset{}
				}
				s.resumed[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: next}
				s.resumedMu.Unlock()
			}
		}
	}
	return offsets, nil
}

// sinkTable is one ClickHouse table the sink writes: the topic it stores
// (empty for source_events, which stores every source topic), how a
// decoded record becomes a row, and how a batch of rows is inserted.
type sinkTable struct {
	name  string
	topic string
	// newRows returns an empty pending batch of this table's rows.
	newRows func() pendingRows
}

// pendingRows are one table's rows collected between two commits.
type pendingRows interface {
	// add projects a decoded record (plain JSON form) into a row.
	add(r *kgo.Record, dec schemas.Decoded, plain map[string]any) error
	len() int
	insert(ctx context.Context, ch *clickhouse.Client) error
}

// rowsOf is pendingRows for row type R, which records its Kafka position.
type rowsOf[R any, P interface {
	*R
	SetPosition(topic string, partition int32, offset int64)
}] struct {
	rows    []R
	project func(r *kgo.Record, dec schemas.Decoded, plain map[string]any) (R, error)
	write   func(c *clickhouse.Client, ctx context.Context, rows []R) error
	// latest, for a compacted topic's table, is the index in rows of each
	// key's row: a later record of the key replaces it (see add).
	latest map[string]int
}

// add projects r and keeps its row. In a compacted topic's table (a
// ReplacingMergeTree by Kafka offset) a record supersedes the earlier
// records of its key, which travel the same partition before it: the row
// replaces the batch's earlier row of the key, so a batch inserts one row
// per key, the one a FINAL read would keep of what the batch holds. A
// record that cannot be projected replaces nothing.
func (t *rowsOf[R, P]) add(r *kgo.Record, dec schemas.Decoded, plain map[string]any) error {
	row, err := t.project(r, dec, plain)
	if err != nil {
		return err
	}
	P(&row).SetPosition(r.Topic, r.Partition, r.Offset)
	if t.latest != nil {
		if i, ok := t.latest[string(r.Key)]; ok {
			t.rows[i] = row
			return nil
		}
		t.latest[string(r.Key)] = len(t.rows)
	}
	t.rows = append(t.rows, row)
	return nil
}

func (t *rowsOf[R, P]) len() int { return len(t.rows) }

func (t *rowsOf[R, P]) insert(ctx context.Context, ch *clickhouse.Client) error {
	return t.write(ch, ctx, t.rows)
}

// table declares a table whose rows need only the record's value.
func table[R any, P interface {
	*R
	SetPosition(string, int32, int64)
}](topic topology.Topic, project func(plain map[string]any) (R, error), write func(*clickhouse.Client, context.Context, []R) error) sinkTable {
	return sinkTable{name: topic.Table, topic: topic.Name, newRows: func() pendingRows {
		rows := &rowsOf[R, P]{project: func(_ *kgo.Record, _ schemas.Decoded, plain map[string]any) (R, error) { return project(plain) }, write: write}
		if topic.Compacted {
			rows.latest = map[string]int{}
		}
		return rows
	}}
}

// tableDead is the dead-letter table: its malformed rows are skipped, not
// dead-lettered again (that would loop).
var tableDead = topology.New("").Topic(topology.DeadLetter).Table

// sinkTables lists the tables in insert order; [0] is source_events.
func sinkTables(topics topology.Topics) []sinkTable {
	sources := sinkTable{name: topology.SourceTable, newRows: func() pendingRows {
		return &rowsOf[clickhouse.SourceEvent, *clickhouse.SourceEvent]{
			project: func(r *kgo.Record, dec schemas.Decoded, plain map[string]any) (clickhouse.SourceEvent, error) {
				sys, ok := topics.SystemOf(r.Topic)
				if !ok {
					return clickhouse.SourceEvent{}, fmt.Errorf("topic %s is not a source topic", r.Topic)
				}
				row, err := clickhouse.NewSourceEvent(sys, plain)
				row.Key, row.SchemaID, row.KafkaTimestamp = string(r.Key), uint32(dec.SchemaID), r.Timestamp
				return row, err
			},
			write: (*clickhouse.Client).InsertSourceEvents,
		}
	}}
	return []sinkTable{
		sources,
		table[clickhouse.CanonicalEvent](topics.Topic(topology.Canonical), clickhouse.NewCanonicalEvent, (*clickhouse.Client).InsertCanonicalEvents),
		table[clickhouse.DeadLetter](topics.Topic(topology.DeadLetter), clickhouse.NewDeadLetter, (*clickhouse.Client).InsertDeadLetters),
		table[clickhouse.OrderTransition](topics.Topic(topology.Transitions), clickhouse.NewOrderTransition, (*clickhouse.Client).InsertOrderTransitions),
		table[clickhouse.OrderState](topics.Topic(topology.OrderStates), clickhouse.NewOrderState, (*clickhouse.Client).InsertOrderStates),
		table[clickhouse.SyncCheck](topics.Topic(topology.SyncChecks), clickhouse.NewSyncCheck, (*clickhouse.Client).InsertSyncChecks),
		table[clickhouse.FailedSync](topics.Topic(topology.FailedSyncs), clickhouse.NewFailedSync, (*clickhouse.Client).InsertFailedSyncs),
		table[clickhouse.DelayNotice](topics.Topic(topology.DelayNotices), clickhouse.NewDelayNotice, (*clickhouse.Client).InsertDelayNotices),
		table[clickhouse.WismoTicket](topics.Topic(topology.WismoTickets), clickhouse.NewWismoTicket, (*clickhouse.Client).InsertWismoTickets),
	}
}

// checkSinkTables verifies that the sink stores exactly the topics the
// topology declares stored, each in its declared table: a topic declared
// with a table but not written here would otherwise be silently dropped.
func checkSinkTables(tables []sinkTable, topics topology.Topics) error {
	want := map[string]string{}
	for _, t := range topics.Stored() {
		want[t.Name] = t.Table
	}
	if tables[0].name != topology.SourceTable {
		return fmt.Errorf("sink: first table %s, want %s", tables[0].name, topology.SourceTable)
	}
	for _, t := range tables[1:] {
		if want[t.topic] != t.name {
			return fmt.Errorf("sink: stores %s in %s; the topology declares table %q for it", t.topic, t.name, want[t.topic])
		}
		delete(want, t.topic)
	}
	for topic, table := range want {
		return fmt.Errorf("sink: the topology declares %s stored in %s, but the sink has no writer for it", topic, table)
	}
	return nil
}

// tableOf is the index in s.tables of the table a topic's records are
// stored in.
func (s *SourceSink) tableOf(topic string) int {
	for i, t := range s.tables[1:] {
		if t.topic == topic {
			return i + 1
		}
	}
	return 0
}

// batch is the work collected between two commits.
type batch struct {
	rows []pendingRows // by table, as s.tables
	// dead are dead letters this stage produces (records it cannot decode).
	dead []*kgo.Record
	// last holds the last record consumed per partition: committing it
	// commits everything before it.
	last map[string]map[int32]*kgo.Record
	n    int
	// stamps are the timestamps of the batch's data records, for the
	// pipeline latency once they are stored.
	stamps []time.Time
}

func (b *batch) track(r *kgo.Record) {
	if b.last[r.Topic] == nil {
		b.last[r.Topic] = make(map[int32]*kgo.Record)
	}
	b.last[r.Topic][r.Partition] = r
	b.n++
	if isEvent(r) {
		b.stamps = append(b.stamps, r.Timestamp)
	}
}

// Run consumes until ctx is cancelled (then finishes and commits the batch
// in flight and returns nil), until caught up when so configured, or until a
// failure it cannot retry.
func (s *SourceSink) Run(ctx context.Context) error {
	defer s.kcl.Close()
	// Before Close (deferred calls run last first): records polled and not
	// flushed (an error return) still block rebalances, and leaving the
	// group would wait for that forever.
	defer s.kcl.AllowRebalance()
	s.cfg.Stalls.Running(topology.Sink.Name, true)
	defer s.cfg.Stalls.Running(topology.Sink.Name, false)
	start := time.Now()
	s.caughtUpTarget = nil
	if s.cfg.UntilCaughtUp && s.cfg.Upstream == nil {
		// Taken now, not at construction: an earlier stage of the same
		// run may have produced since.
		if err := s.takeTarget(ctx); err != nil {
			return nil // ctx ended
		}
	}
	for {
		b, err := s.collect(ctx)
		if err != nil {
			// The batch is abandoned uncommitted: it is consumed again after
			// a restart, and nothing stored is inserted twice.
			if ctx.Err() != nil { // a stop cut a wait short (the registry's): not a failure
				s.cfg.Logger.Info("source sink stopped: the batch in flight is abandoned, to be consumed again after a restart", "err", err)
				return nil
			}
			return err
		}
		flushCtx, cancel := stream.GraceAfter(ctx, s.cfg.ShutdownTimeout)
		err = s.flush(flushCtx, ctx, b)
		cancel()
		s.kcl.AllowRebalance()
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("source sink: stopped with its last batch unwritten (%s after the stop request it still failed; it is consumed again after a restart, nothing is lost): %w", s.cfg.ShutdownTimeout, err)
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			s.cfg.Logger.Info("source sink stopped: batch in flight written and committed")
			return nil
		}
		if s.cfg.UntilCaughtUp && b.n == 0 && s.caughtUpTarget == nil {
			select {
			case <-s.cfg.Upstream:
				if err := s.takeTarget(ctx); err != nil {
					return nil // ctx ended
				}
			default:
				continue // the stages before still write our inputs
			}
		}
		if s.cfg.UntilCaughtUp && b.n == 0 {
			var done bool
			if err := stream.Retry(ctx, s.cfg.Logger, "source sink: fetch committed offsets", func() (err error) {
				done, err = s.caughtUp(ctx)
				return err
			}); err != nil {
				return nil // ctx ended
			}
			if done {
				elapsed := time.Since(start)
				s.cfg.Logger.Info("source sink caught up with its input topics", "rows", s.stats.Rows,
					"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()), "rows_per_second", fmt.Sprintf("%.0f", float64(s.stats.Rows)/elapsed.Seconds()))
				return nil
			}
		}
	}
}

// collect polls until the batch is full, its time is up or ctx is done.
func (s *SourceSink) collect(ctx context.Context) (*batch, error) {
	b := &batch{last: make(map[string]map[int32]*kgo.Record), rows: make([]pendingRows, len(s.tables))}
	for i, t := range s.tables {
		b.rows[i] = t.newRows()
	}
	deadline := time.Now().Add(s.cfg.FlushInterval)
	for b.n < s.cfg.BatchSize && ctx.Err() == nil && time.Now().Before(deadline) {
		pollCtx, cancel := context.WithDeadline(ctx, deadline)
		fetches := s.kcl.PollRecords(pollCtx, s.cfg.BatchSize-b.n)
		cancel()
		if fetches.IsClientClosed() {
			return nil, errors.New("source sink: kafka client closed")
		}
		s.fetchErrs.After(ctx, fetches)
		var handleErr error
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 || handleErr != nil {
				return
			}
			s.metrics.RecordsConsumed.WithLabelValues(topology.Sink.Name, p.Topic).Add(float64(len(p.Records)))
			for _, r := range p.Records {
				if handleErr = s.handle(ctx, b, r); handleErr != nil {
					return
				}
			}
		})
		if handleErr != nil {
			return nil, handleErr
		}
	}
	return b, nil
}

// handle turns one record into a row or a dead letter. Only a transient
// failure that outlives ctx (the registry unreachable until shutdown) is
// returned as an error.
func (s *SourceSink) handle(ctx context.Context, b *batch, r *kgo.Record) error {
	if !isEvent(r) {
		b.track(r) // a transaction marker or a holdback: nothing to store, only an offset
		return nil
	}
	table := s.tableOf(r.Topic)
	isDead := s.tables[table].name == tableDead
	dec, err := decode(ctx, s.cfg.Logger, s.decoder, r.Value)
	if errors.Is(err, schemas.ErrUndecodable) {
		if isDead {
			s.metrics.DeadLetters.WithLabelValues(topology.Sink.Name, "undecodable_dead_letter").Inc()
			s.cfg.Logger.Error("undecodable record in the dead-letter topic; skipped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
			b.track(r)
			return nil
		}
		return s.reject(b, r, records.ReasonUndecodable, fmt.Errorf("%s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err))
	}
	if err != nil {
		return err
	}
	if err := b.rows[table].add(r, dec, dec.Plain); err != nil {
		if isDead {
			s.cfg.Logger.Error("malformed dead letter; skipped", "offset", r.Offset, "err", err)
			b.track(r)
			return nil
		}
		reason := records.ReasonInvalidRecord
		if _, ok := s.cfg.Topics.SystemOf(r.Topic); table == 0 && !ok {
			reason = records.ReasonUnknownTopic
		}
		return s.reject(b, r, reason, fmt.Errorf("%s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err))
	}
	b.track(r)
	return nil
}

func (s *SourceSink) reject(b *batch, r *kgo.Record, reason string, cause error) error {
	s.cfg.Logger.Warn("dead-lettering record", "reason", reason, "err", cause)
	dl, err := s.dead.Record(r, reason, cause)
	if err != nil {
		return err
	}
	b.dead = append(b.dead, dl)
	b.track(r)
	return nil
}

// flush writes dead letters, inserts the rows and then commits the offsets.
// A dependency that is away (ClickHouse, the broker) is retried for as
// long as it takes, with back-off: the sink stops fetching meanwhile (it
// cannot write what it would fetch) and keeps the batch. Retries use ctx,
// which outlives a stop request by ShutdownTimeout; runCtx only tells
// whether a stop was requested.
func (s *SourceSink) flush(ctx, runCtx context.Context, b *batch) error {
	if b.n == 0 {
		return nil
	}
	countRetry := func() { s.metrics.StageRetries.WithLabelValues(topology.Sink.Name).Inc() }
	if err := stream.RetryCounting(ctx, s.cfg.Logger, "produce dead letters", countRetry, func() error {
		return s.dead.Produce(ctx, s.kcl, b.dead)
	}); err != nil {
		return err
	}
	// The tables are written at once, each insert its own round trip
	// (ClickHouse works on one while baton encodes and sends the next).
	// A crash between them is no different from one between inserts made
	// one after another: a restart resumes each table after what it holds
	// (see resumeAfterStored).
	errs := make([]error, len(b.rows))
	var wg sync.WaitGroup
	for i, rows := range b.rows {
		n, name := rows.len(), s.tables[i].name
		if n == 0 {
			continue
		}
		wg.Go(func() {
			errs[i] = stream.RetryCounting(ctx, s.cfg.Logger, "insert "+name, countRetry, func() error {
				start := time.Now()
				if err := rows.insert(ctx, s.ch); err != nil {
					s.metrics.InsertErrors.WithLabelValues(name).Inc()
					return err
				}
				s.metrics.InsertSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
				return nil
			})
			if errs[i] == nil {
				s.metrics.BatchesWritten.WithLabelValues(name).Inc()
				s.metrics.RowsWritten.WithLabelValues(name).Add(float64(n))
			}
		})
	}
	wg.Wait()
	for i, rows := range b.rows {
		if errs[i] == nil {
			s.stats.Rows += int64(rows.len())
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	s.metrics.observeLatency(topology.Sink.Name, b.stamps)
	s.stats.DeadLetters += int64(len(b.dead))
	s.stats.Batches++
	var recs []*kgo.Record
	for _, parts := range b.last {
		for _, r := range parts {
			recs = append(recs, r)
		}
	}
	if err := s.kcl.CommitRecords(ctx, recs...); err != nil {
		// The rows are stored; a restart resumes after them (see
		// resumeAfterStored), so a failed commit loses and doubles nothing.
		s.metrics.CommitErrors.Inc()
		if runCtx.Err() == nil {
			s.cfg.Logger.Warn("offset commit failed; ClickHouse holds the rows and resume skips them", "err", err)
			return nil
		}
		return fmt.Errorf("source sink: commit offsets at shutdown: %w", err)
	}
	return nil
}

// takeTarget records the input topics' end offsets as the caught-up
// target; an error means ctx ended.
func (s *SourceSink) takeTarget(ctx context.Context) error {
	ends, err := stream.ListEndOffsets(ctx, s.cfg.Logger, s.adm, "source sink", s.inputs()...)
	if err != nil {
		return err
	}
	s.caughtUpTarget = ends
	return nil
}

// caughtUp reports whether, for every input partition, the group's
// committed offset (or the offset it resumed at after what ClickHouse
// already held) reached the end offset recorded as the target.
func (s *SourceSink) caughtUp(ctx context.Context) (bool, error) {
	committed, err := s.adm.FetchOffsets(ctx, s.cfg.Group)
	if err != nil {
		return false, fmt.Errorf("source sink: fetch committed offsets: %w", err)
	}
	s.resumedMu.Lock()
	defer s.resumedMu.Unlock()
	done := true
	s.caughtUpTarget.Each(func(end kadm.ListedOffset) {
		if end.Offset == 0 {
			return
		}
		at := s.resumed[end.Topic][end.Partition].Offset
		if c, ok := committed.Lookup(end.Topic, end.Partition); ok {
			at = max(at, c.At)
		}
		if at < end.Offset {
			done = false
		}
	})
	return done, nil
}
