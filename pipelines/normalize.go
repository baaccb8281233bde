package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/schemas"
)

// Canonical is the topic of canonical events (schema canonical_event),
// keyed by order ID: the normalize stage's output, every later stage's
// input.
func (t Topics) Canonical() Topic {
	return Topic{Name: t.Prefix + "canonical", Partitions: t.Partitions, Schema: "canonical_event"}
}

// Links is the normalize stage's repartition topic: tracking links re-keyed
// by tracking number so they land in the partition number of that tracking
// number's carrier scans (the carrier source topic is keyed the same way and
// has as many partitions).
func (t Topics) Links() Topic {
	return Topic{Name: t.Prefix + "normalize.links", Partitions: t.Partitions, Schema: "tracking_link"}
}

// NormalizeChangelog is the compacted changelog of the normalize state:
// partition p holds the state of input partition number p.
func (t Topics) NormalizeChangelog() Topic {
	return Topic{Name: t.Prefix + "normalize.changelog", Partitions: t.Partitions, Compacted: true}
}

// NormalizeMetrics are the normalize stage's collectors.
type NormalizeMetrics struct {
	Canonical        *prometheus.CounterVec // system, status
	Unmapped         *prometheus.CounterVec // system, code
	Duplicates       *prometheus.CounterVec // system
	Held             prometheus.Gauge
	StateEntries     prometheus.Gauge
	RestoreSeconds   prometheus.Histogram
	AbortedBatches   prometheus.Counter
	CommittedBatches prometheus.Counter
}

// NewNormalizeMetrics creates and registers the collectors.
func NewNormalizeMetrics(reg prometheus.Registerer) *NormalizeMetrics {
	m := &NormalizeMetrics{
		Canonical: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_canonical_events_total",
			Help: "Canonical events produced, by source system and canonical status (none: the event carries no order status)."}, []string{"system", "status"}),
		Unmapped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_unmapped_status_total",
			Help: "Source events whose status code is not in the system's status map (dead-lettered), by system and code."}, []string{"system", "code"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_duplicate_events_total",
			Help: "Redelivered source events dropped by de-duplication, by system."}, []string{"system"}),
		Held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "baton_held_carrier_events",
			Help: "Carrier events held until their tracking number is linked to an order."}),
		StateEntries: prometheus.NewGauge(prometheus.GaugeOpts{Name: "baton_normalize_state_entries",
			Help: "Entries in the normalize state (links, held events, dedupe keys) of the partitions this process owns."}),
		RestoreSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "baton_normalize_restore_seconds",
			Help: "Time to restore one partition's normalize state from its changelog.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		AbortedBatches: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_normalize_aborted_transactions_total",
			Help: "Normalize transactions aborted (rebalance or failure); their input is processed again."}),
		CommittedBatches: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_normalize_committed_transactions_total",
			Help: "Normalize transactions committed."}),
	}
	reg.MustRegister(m.Canonical, m.Unmapped, m.Duplicates, m.Held, m.StateEntries, m.RestoreSeconds, m.AbortedBatches, m.CommittedBatches)
	return m
}

// NormalizeConfig configures the normalize stage.
type NormalizeConfig struct {
	Brokers   []string
	Topics    Topics
	Group     string
	Processor *normalize.Processor
	// Encoders by topic name, for the canonical, links and dead-letter topics.
	Encoders       map[string]*schemas.Encoder
	Decoder        *schemas.Decoder
	Metrics        *Metrics
	NormMetrics    *NormalizeMetrics
	SessionTimeout time.Duration
	// UntilCaughtUp stops the stage once it has processed everything the
	// source topics held at start and the links topic is drained.
	UntilCaughtUp bool
	Logger        *slog.Logger
}

// Normalize is the normalize stage: source topics (and its own links topic)
// in, canonical events, links, dead letters and state changelog out, all in
// one Kafka transaction per polled batch together with the consumed offsets
// (exactly once). Partitions are assigned with the range balancer so that
// partition p of every input topic goes to the same process, which holds
// partition p's state; the state is restored from the changelog when a
// partition is assigned.
type Normalize struct {
	cfg  NormalizeConfig
	sess *kgo.GroupTransactSession
	adm  *kadm.Client
	dead *DeadLetters

	mu     sync.Mutex
	states map[int32]*normalize.State
	// position is the next offset to process per link-source partition
	// ("topic/partition"), and idleSent the ones announced idle since
	// their last record; both serve idle announcements.
	position map[string]int64
	idleSent map[string]bool
	// restoreErr is set when a restore failed inside the assignment
	// callback; Run returns it.
	restoreErr error
	target     kadm.ListedOffsets
}

// NewNormalize builds the stage; Run starts it.
func NewNormalize(ctx context.Context, cfg NormalizeConfig) (*Normalize, error) {
	if cfg.Group == "" {
		cfg.Group = StageGroup(DefaultAppID, "normalize")
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 45 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Normalize{cfg: cfg, states: map[int32]*normalize.State{}, position: map[string]int64{}, idleSent: map[string]bool{}}
	n.dead = &DeadLetters{Stage: "normalize", Topic: cfg.Topics.DeadLetter().Name, Encoder: cfg.Encoders[cfg.Topics.DeadLetter().Name], Metrics: cfg.Metrics}
	inputs := []string{cfg.Topics.Links().Name}
	for _, t := range cfg.Topics.Sources() {
		inputs = append(inputs, t.Name)
	}
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("baton-normalize"),
		// Unique per process: KIP-447 group-generation fencing protects
		// against zombies, so the ID need not be stable across restarts.
		kgo.TransactionalID(fmt.Sprintf("baton-normalize-%s-%d", cfg.Group, time.Now().UnixNano())),
		// A crashed process's open transaction pins the last stable offset
		// of every partition it wrote until the coordinator aborts it, so
		// read_committed consumers downstream stall that long. One polled
		// batch takes well under a second, so 10 s is ample.
		kgo.TransactionTimeout(10*time.Second),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(inputs...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.FetchMaxBytes(8<<20),
		kgo.RecordPartitioner(routePartitioner{changelog: cfg.Topics.NormalizeChangelog().Name}),
		kgo.OnPartitionsAssigned(n.assigned),
		kgo.OnPartitionsRevoked(n.dropped),
		kgo.OnPartitionsLost(n.dropped),
	)
	if err != nil {
		return nil, fmt.Errorf("normalize: kafka client: %w", err)
	}
	n.sess = sess
	n.adm = kadm.NewClient(sess.Client())
	if cfg.UntilCaughtUp {
		var names []string
		for _, t := range cfg.Topics.Sources() {
			names = append(names, t.Name)
		}
		ends, err := n.adm.ListEndOffsets(ctx, names...)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			sess.Close()
			return nil, fmt.Errorf("normalize: list end offsets: %w", err)
		}
		n.target = ends
	}
	return n, nil
}

// routePartitioner sends changelog records, and links-topic watermarks,
// to the partition set on the record (the state of input partition p lives
// in changelog partition p; a watermark goes to every links partition), and
// everything else by key hash, Kafka's default, so links meet their
// carrier scans.
type routePartitioner struct{ changelog string }

// manualHeader marks a record whose Partition field is its destination.
const manualHeader = "baton-partition"

func (p routePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return routeTopicPartitioner{all: topic == p.changelog, hash: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type routeTopicPartitioner struct {
	all  bool
	hash kgo.TopicPartitioner
}

func (routeTopicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (r routeTopicPartitioner) Partition(rec *kgo.Record, n int) int {
	if r.all {
		return int(rec.Partition)
	}
	for _, h := range rec.Headers {
		if h.Key == manualHeader {
			return int(rec.Partition)
		}
	}
	return r.hash.Partition(rec, n)
}

// partitionNumbers collects the distinct partition numbers of an assignment.
func partitionNumbers(assigned map[string][]int32) map[int32]bool {
	out := map[int32]bool{}
	for _, parts := range assigned {
		for _, p := range parts {
			out[p] = true
		}
	}
	return out
}

// assigned restores the state of newly assigned partition numbers before
// their records are fetched.
func (n *Normalize) assigned(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
	for p := range partitionNumbers(assigned) {
		n.mu.Lock()
		_, have := n.states[p]
		n.mu.Unlock()
		if have {
			continue
		}
		st, err := n.restore(ctx, p)
		n.mu.Lock()
		if err != nil {
			n.restoreErr = err
		} else {
			n.states[p] = st
		}
		n.mu.Unlock()
	}
}

func (n *Normalize) dropped(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for p := range partitionNumbers(revoked) {
		delete(n.states, p)
	}
	// Positions of revoked partitions are stale once another process has
	// moved them; the next announcement re-reads committed offsets.
	n.position, n.idleSent = map[string]int64{}, map[string]bool{}
}

// restore rebuilds partition p's state by reading its changelog partition
// from the start to its (committed) end.
func (n *Normalize) restore(ctx context.Context, p int32) (*normalize.State, error) {
	start := time.Now()
	topic := n.cfg.Topics.NormalizeChangelog().Name
	st := normalize.NewState()
	ends, err := n.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("normalize: restore partition %d: %w", p, err)
	}
	end, _ := ends.Lookup(topic, p)
	if end.Offset > 0 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.cfg.Brokers...),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().AtStart()}}),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			// Transaction markers are returned too, so reaching the marker
			// at end-1 tells the restore it has read everything.
			kgo.KeepControlRecords())
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		// Read until the record or transaction marker at end-1 (or past
		// it: an aborted transaction's marker lands after the end listed
		// here). Never stop early: a crashed process's open transaction
		// holds back read_committed reads until the broker aborts it
		// (TransactionTimeout), and stopping then would restore a partial
		// state, losing links and dedupe keys.
		const waitLog = 5 * time.Second
		for {
			pollCtx, cancel := context.WithTimeout(ctx, waitLog)
			fetches := cl.PollFetches(pollCtx)
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if fetches.NumRecords() == 0 {
				n.cfg.Logger.Info("normalize restore waiting: the changelog's end is held by an open transaction", "partition", p, "end", end.Offset)
			}
			var applyErr error
			done := false
			fetches.EachError(func(_ string, _ int32, err error) {
				if !errors.Is(err, context.DeadlineExceeded) && applyErr == nil {
					applyErr = err
				}
			})
			fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
				for _, r := range fp.Records {
					if applyErr == nil && !r.Attrs.IsControl() {
						applyErr = st.Apply(normalize.Change{Key: string(r.Key), Value: r.Value})
					}
					if r.Offset >= end.Offset-1 {
						done = true
					}
				}
			})
			if applyErr != nil {
				return nil, fmt.Errorf("normalize: restore partition %d: %w", p, applyErr)
			}
			if done {
				break
			}
		}
	}
	n.cfg.NormMetrics.RestoreSeconds.Observe(time.Since(start).Seconds())
	n.cfg.Logger.Info("normalize state restored", "partition", p, "entries", st.Size(), "held", st.HeldCount(), "seconds", time.Since(start).Seconds())
	return st, nil
}

// Run processes until ctx is cancelled (returns nil), until caught up when
// so configured, or until an unrecoverable failure.
func (n *Normalize) Run(ctx context.Context) error {
	defer n.sess.Close()
	sourcesDone := !n.cfg.UntilCaughtUp
	start, records := time.Now(), 0
	for {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := n.sess.PollFetches(pollCtx)
		cancel()
		if fetches.IsClientClosed() {
			return errors.New("normalize: kafka client closed")
		}
		if ctx.Err() != nil {
			return nil
		}
		n.mu.Lock()
		rerr := n.restoreErr
		n.mu.Unlock()
		if rerr != nil {
			return rerr
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				n.cfg.Metrics.FetchErrors.WithLabelValues(topic).Inc()
				n.cfg.Logger.Warn("fetch error", "topic", topic, "partition", p, "err", err)
			}
		})
		if fetches.NumRecords() == 0 {
			if err := n.announceIdle(ctx); err != nil {
				return err
			}
			if n.cfg.UntilCaughtUp && sourcesDone {
				elapsed := time.Since(start)
				n.cfg.Logger.Info("normalize caught up with the source topics", "records", records,
					"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()), "records_per_second", fmt.Sprintf("%.0f", float64(records)/elapsed.Seconds()))
				return nil
			}
			if n.cfg.UntilCaughtUp {
				done, err := n.sourcesCaughtUp(ctx)
				if err != nil {
					return err
				}
				sourcesDone = done
			}
			continue
		}
		if err := n.transact(ctx, fetches); err != nil {
			return err
		}
		records += fetches.NumRecords()
	}
}

// errRevoked aborts a batch holding records of a partition no longer owned.
var errRevoked = errors.New("partition revoked during the batch")

// transact processes one polled batch in one transaction. If the
// transaction aborts (a rebalance, a failed produce), the in-memory state
// no longer matches what was committed, so every owned partition is
// restored from the changelog; the group session rewinds the input.
func (n *Normalize) transact(ctx context.Context, fetches kgo.Fetches) error {
	if err := n.sess.Begin(); err != nil {
		return fmt.Errorf("normalize: begin transaction: %w", err)
	}
	var (
		produceErr error
		errMu      sync.Mutex
	)
	produce := func(r *kgo.Record) {
		n.sess.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				errMu.Lock()
				if produceErr == nil {
					produceErr = err
				}
				errMu.Unlock()
			}
		})
	}
	// progress holds how far this batch took each link-producing source
	// partition; it is announced to every links partition at the end.
	progress := map[normalize.SourceWatermark]bool{}
	var procErr error
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if procErr != nil || len(fp.Records) == 0 {
			return
		}
		n.mu.Lock()
		st := n.states[fp.Partition]
		n.mu.Unlock()
		if st == nil {
			// Revoked while this batch was buffered or in flight: the
			// session aborts the transaction anyway.
			procErr = errRevoked
			return
		}
		n.cfg.Metrics.RecordsConsumed.WithLabelValues("normalize", fp.Topic).Add(float64(len(fp.Records)))
		last := fp.Records[len(fp.Records)-1]
		n.cfg.Metrics.ConsumerLag.WithLabelValues("normalize", fp.Topic, strconv.Itoa(int(fp.Partition))).Set(float64(fp.HighWatermark - last.Offset - 1))
		for _, r := range fp.Records {
			if procErr = n.process(ctx, st, r, produce); procErr != nil {
				return
			}
		}
		if sys, ok := n.cfg.Topics.SystemOf(fp.Topic); ok && isLinkSource(sys) {
			// Reaching the partition's end means nothing of it is in
			// flight: announce it idle until its next record.
			idle := last.Offset+1 >= fp.HighWatermark
			progress[normalize.SourceWatermark{Source: string(sys), Partition: fp.Partition, At: last.Timestamp, Idle: idle}] = true
			key := fmt.Sprintf("%s/%d", fp.Topic, fp.Partition)
			n.mu.Lock()
			n.position[key] = last.Offset + 1
			n.idleSent[key] = idle
			n.mu.Unlock()
		}
	})
	if procErr == nil {
		procErr = n.announce(progress, produce)
	}
	commit := kgo.TryCommit
	if procErr != nil {
		commit = kgo.TryAbort
	}
	committed, err := n.sess.End(context.WithoutCancel(ctx), commit)
	if produceErr != nil && err == nil {
		n.cfg.Logger.Warn("normalize: a produce failed; the transaction was aborted", "err", produceErr)
	}
	if err != nil {
		return fmt.Errorf("normalize: end transaction: %w", err)
	}
	if procErr != nil && !errors.Is(procErr, errRevoked) && ctx.Err() == nil {
		return procErr
	}
	if !committed {
		n.cfg.NormMetrics.AbortedBatches.Inc()
		if ctx.Err() != nil {
			return nil // stopping: the input is processed again after a restart
		}
		return n.restoreAll(ctx)
	}
	n.cfg.NormMetrics.CommittedBatches.Inc()
	n.updateGauges()
	return nil
}

func (n *Normalize) restoreAll(ctx context.Context) error {
	n.mu.Lock()
	parts := make([]int32, 0, len(n.states))
	for p := range n.states {
		parts = append(parts, p)
	}
	n.mu.Unlock()
	for _, p := range parts {
		st, err := n.restore(ctx, p)
		if err != nil {
			return err
		}
		n.mu.Lock()
		if _, still := n.states[p]; still {
			n.states[p] = st
		}
		n.mu.Unlock()
	}
	return nil
}

func (n *Normalize) updateGauges() {
	n.mu.Lock()
	defer n.mu.Unlock()
	var held, size int
	for _, st := range n.states {
		held += st.HeldCount()
		size += st.Size()
	}
	n.cfg.NormMetrics.Held.Set(float64(held))
	n.cfg.NormMetrics.StateEntries.Set(float64(size))
}

// process decodes one record, runs the processor and produces its output.
// Only a transient failure (registry unreachable) is returned.
func (n *Normalize) process(ctx context.Context, st *normalize.State, r *kgo.Record, produce func(*kgo.Record)) error {
	in := normalize.Input{Ingested: r.Timestamp, Record: normalize.Original{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}}
	dec, err := decode(ctx, n.cfg.Logger, n.cfg.Decoder, r.Value)
	if errors.Is(err, schemas.ErrUndecodable) {
		return n.deadLetter(r, ReasonUndecodable, err, produce)
	}
	if err != nil {
		return err
	}
	plain := dec.Schema.Plain(dec.Native)
	if r.Topic == n.cfg.Topics.Links().Name {
		li, err := linksInput(plain)
		if err != nil {
			return n.deadLetter(r, ReasonInvalidRecord, err, produce)
		}
		in.Link, in.Watermark = li.Link, li.Watermark
	} else {
		sys, ok := n.cfg.Topics.SystemOf(r.Topic)
		if !ok {
			return n.deadLetter(r, ReasonUnknownTopic, fmt.Errorf("topic %s is not a normalize input", r.Topic), produce)
		}
		in.System, in.Plain = sys, plain
	}
	out := n.cfg.Processor.Process(st, in)
	return n.emit(in, out, produce)
}

func (n *Normalize) deadLetter(r *kgo.Record, reason string, cause error, produce func(*kgo.Record)) error {
	dl, err := n.dead.Record(r, reason, cause)
	if err != nil {
		return err
	}
	produce(dl)
	return nil
}

// emit encodes and produces a processor output, changelog included.
func (n *Normalize) emit(in normalize.Input, out normalize.Output, produce func(*kgo.Record)) error {
	topics := n.cfg.Topics
	canonEnc, linkEnc := n.cfg.Encoders[topics.Canonical().Name], n.cfg.Encoders[topics.Links().Name]
	for _, ev := range out.Events {
		native, err := canonEnc.Schema.FromJSON(ev.Value)
		if err != nil {
			return fmt.Errorf("normalize: canonical event does not fit its schema: %w", err)
		}
		b, err := canonEnc.Encode(native)
		if err != nil {
			return err
		}
		// Outputs carry their input's ingest time, not the wall clock: the
		// links topic feeds the partition watermark, and a replay must see
		// the same times.
		produce(&kgo.Record{Topic: topics.Canonical().Name, Key: []byte(ev.Key), Value: b, Timestamp: in.Ingested})
		status := "none"
		if s, ok := ev.Value["canonical_status"].(string); ok {
			status = s
		}
		n.cfg.NormMetrics.Canonical.WithLabelValues(ev.Value["source_system"].(string), status).Inc()
	}
	for _, l := range out.Links {
		native, err := linkEnc.Schema.FromJSON(linkValue(l, in.Ingested))
		if err != nil {
			return fmt.Errorf("normalize: link does not fit its schema: %w", err)
		}
		b, err := linkEnc.Encode(native)
		if err != nil {
			return err
		}
		produce(&kgo.Record{Topic: topics.Links().Name, Key: []byte(l.TrackingNumber), Value: b, Timestamp: in.Ingested})
	}
	for _, rj := range out.Rejected {
		if rj.Reason == normalize.ReasonUnmappedStatus {
			n.cfg.NormMetrics.Unmapped.WithLabelValues(rj.System, rj.Code).Inc()
		}
		orig := &kgo.Record{Topic: rj.Record.Topic, Partition: rj.Record.Partition, Offset: rj.Record.Offset, Key: rj.Record.Key, Value: rj.Record.Value}
		dl, err := n.dead.Record(orig, rj.Reason, rj.Err)
		if err != nil {
			return err
		}
		produce(dl)
	}
	if out.Duplicate {
		n.cfg.NormMetrics.Duplicates.WithLabelValues(string(in.System)).Inc()
	}
	changelog := topics.NormalizeChangelog().Name
	for _, c := range out.Changes {
		produce(&kgo.Record{Topic: changelog, Partition: in.Record.Partition, Key: []byte(c.Key), Value: c.Value})
	}
	return nil
}

func isLinkSource(sys schemas.System) bool { return sys == schemas.WMS || sys == schemas.Storefront }

// announceIdle, on a quiet poll, announces as idle every owned
// link-source partition that has reached its end offset and was not
// announced idle yet, including partitions that never had a record, so
// held scans do not wait for sources with nothing in flight. It runs its
// own small transaction.
func (n *Normalize) announceIdle(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	owned := make([]int32, 0, len(n.states))
	for p := range n.states {
		owned = append(owned, p)
	}
	var topics []string
	for _, sys := range []schemas.System{schemas.WMS, schemas.Storefront} {
		topics = append(topics, n.cfg.Topics.Source(sys).Name)
	}
	var pending bool
	for _, t := range topics {
		for _, p := range owned {
			if !n.idleSent[fmt.Sprintf("%s/%d", t, p)] {
				pending = true
			}
		}
	}
	if !pending {
		return nil
	}
	ends, err := n.adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("normalize: list end offsets: %w", err)
	}
	committed, err := n.adm.FetchOffsets(ctx, n.cfg.Group)
	if err != nil {
		return fmt.Errorf("normalize: fetch committed offsets: %w", err)
	}
	progress := map[normalize.SourceWatermark]bool{}
	var keys []string
	for _, t := range topics {
		sys, _ := n.cfg.Topics.SystemOf(t)
		for _, p := range owned {
			key := fmt.Sprintf("%s/%d", t, p)
			if n.idleSent[key] {
				continue
			}
			pos, known := n.position[key]
			if c, ok := committed.Lookup(t, p); ok && (!known || c.At > pos) {
				pos = c.At
			}
			if end, ok := ends.Lookup(t, p); ok && pos >= end.Offset {
				progress[normalize.SourceWatermark{Source: string(sys), Partition: p, Idle: true}] = true
				keys = append(keys, key)
			}
		}
	}
	if len(progress) == 0 {
		return nil
	}
	if err := n.sess.Begin(); err != nil {
		return fmt.Errorf("normalize: begin transaction: %w", err)
	}
	var produceErr error
	var errMu sync.Mutex
	err = n.announce(progress, func(r *kgo.Record) {
		n.sess.Produce(ctx, r, func(_ *kgo.Record, err error) {
			errMu.Lock()
			if err != nil && produceErr == nil {
				produceErr = err
			}
			errMu.Unlock()
		})
	})
	commit := kgo.TransactionEndTry(err == nil)
	committed2, endErr := n.sess.End(context.WithoutCancel(ctx), commit)
	if endErr != nil {
		return fmt.Errorf("normalize: end transaction: %w", endErr)
	}
	if err != nil {
		return err
	}
	if committed2 && produceErr == nil {
		for _, k := range keys {
			n.idleSent[k] = true
		}
	}
	return nil
}

// announce tells every links partition how far this batch took each
// link-producing source partition. It is produced after the batch's links,
// so a links partition sees a source's links before its watermark.
func (n *Normalize) announce(progress map[normalize.SourceWatermark]bool, produce func(*kgo.Record)) error {
	enc := n.cfg.Encoders[n.cfg.Topics.Links().Name]
	for w := range progress {
		native, err := enc.Schema.FromJSON(map[string]any{"source_system": w.Source, "source_partition": int(w.Partition), "watermark": w.At})
		if err != nil {
			return fmt.Errorf("normalize: watermark does not fit its schema: %w", err)
		}
		b, err := enc.Encode(native)
		if err != nil {
			return err
		}
		for p := int32(0); p < n.cfg.Topics.Links().Partitions; p++ {
			produce(&kgo.Record{Topic: n.cfg.Topics.Links().Name, Partition: p, Value: b, Timestamp: w.At,
				Headers: []kgo.RecordHeader{{Key: manualHeader}}})
		}
	}
	return nil
}

func linkValue(l normalize.Link, ingested time.Time) map[string]any {
	var shipment any
	if l.ShipmentID != "" {
		shipment = l.ShipmentID
	}
	return map[string]any{"tracking_number": l.TrackingNumber, "order_id": l.OrderID, "shipment_id": shipment,
		"source_system": l.SourceSystem, "source_partition": int(l.SourcePartition), "source_event_id": l.SourceEventID,
		"occurred_at": l.OccurredAt, "watermark": ingested}
}

// linksInput reads a links-topic record: a link, or a watermark when it
// has no tracking number.
func linksInput(p map[string]any) (normalize.Input, error) {
	str := func(f string) string { s, _ := p[f].(string); return s }
	part, _ := p["source_partition"].(int32)
	wm, err := time.Parse(time.RFC3339Nano, str("watermark"))
	if err != nil {
		return normalize.Input{}, fmt.Errorf("links record: watermark: %w", err)
	}
	if str("tracking_number") == "" {
		return normalize.Input{Watermark: &normalize.SourceWatermark{Source: str("source_system"), Partition: part, At: wm}}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, str("occurred_at"))
	if err != nil {
		return normalize.Input{}, fmt.Errorf("tracking link: occurred_at: %w", err)
	}
	l := normalize.Link{TrackingNumber: str("tracking_number"), OrderID: str("order_id"), ShipmentID: str("shipment_id"),
		SourceSystem: str("source_system"), SourcePartition: part, SourceEventID: str("source_event_id"), OccurredAt: at}
	if l.OrderID == "" {
		return normalize.Input{}, errors.New("tracking link without order ID")
	}
	return normalize.Input{Link: &l}, nil
}

// sourcesCaughtUp reports whether the group's committed offsets reached
// the source topics' end offsets recorded at start.
func (n *Normalize) sourcesCaughtUp(ctx context.Context) (bool, error) {
	committed, err := n.adm.FetchOffsets(ctx, n.cfg.Group)
	if err != nil {
		return false, fmt.Errorf("normalize: fetch committed offsets: %w", err)
	}
	done := true
	n.target.Each(func(end kadm.ListedOffset) {
		if end.Offset == 0 {
			return
		}
		if c, ok := committed.Lookup(end.Topic, end.Partition); !ok || c.At < end.Offset {
			done = false
		}
	})
	return done, nil
}
