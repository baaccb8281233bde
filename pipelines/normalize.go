package pipelines

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/pipelines/stream"
	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// NormalizeMetrics are the normalize stage's own collectors (the state
// and transaction ones are StageMetrics).
type NormalizeMetrics struct {
	Canonical  *prometheus.CounterVec // system, status
	Unmapped   *prometheus.CounterVec // system, code
	Duplicates *prometheus.CounterVec // system
	Held       prometheus.Gauge       // carrier scans waiting for their tracking link
	// HeldTickets counts order-less help-desk events waiting for their
	// ticket's link.
	HeldTickets prometheus.Gauge
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
		HeldTickets: prometheus.NewGauge(prometheus.GaugeOpts{Name: "baton_held_helpdesk_events",
			Help: "Help-desk events without an order held until an event of their ticket names its order."}),
	}
	reg.MustRegister(m.Canonical, m.Unmapped, m.Duplicates, m.Held, m.HeldTickets)
	return m
}

// NormalizeConfig configures the normalize stage.
type NormalizeConfig struct {
	StageConfig
	Processor   *normalize.Processor
	NormMetrics *NormalizeMetrics
	// AlignWindow keeps the source partitions within this much event time
	// of each other while they have a backlog, so the canonical topic
	// keeps close to the sources' arrival order (see aligner). Default
	// DefaultAlignWindow; negative turns it off.
	AlignWindow time.Duration
}

// DefaultAlignWindow is NormalizeConfig.AlignWindow's default: well inside
// the viewers' 5-minute SLA.
const DefaultAlignWindow = 30 * time.Second

// Normalize is the normalize stage: source topics (and its own links topic)
// in; canonical events, links, dead letters and the state changelog out,
// exactly once (see stream.Stage). Links are re-keyed by tracking number or
// ticket ID through the links topic so they meet the partition of the
// carrier scans or help-desk events they place.
type Normalize struct {
	cfg   NormalizeConfig
	stage *stream.Stage[*normalize.State]
	dead  *records.DeadLetters

	mu sync.Mutex
	// position is the next offset to process per link-source partition
	// ("topic/partition"), and idleSent the ones announced idle since
	// their last record; both serve idle announcements.
	position map[string]int64
	idleSent map[string]bool
	// batchTime is the latest event time (recorded_at) the batch being
	// processed reached per link-source partition, announced at its end,
	// in its transaction: a links partition keeps the highest it was
	// told. Per batch, not per process, so that an aborted batch (a
	// revocation mid-batch) announces nothing: a running maximum kept the
	// aborted batch's times, announced them with the next batch before
	// their links were produced again, and so let carrier scans expire
	// unlinked whose links were on their way.
	batchTime map[string]time.Time
	// hadRecords marks the link-source partitions this process has
	// processed records of (see announceIdle).
	hadRecords map[string]bool
	// emptySince is when a link-source partition that never had a record
	// was first seen at its end (see emptyLongEnough).
	emptySince map[string]time.Time
	// linkPartitioner picks a link's partition as the producer would.
	linkPartitioner kgo.TopicPartitioner
	// announcedProgress is, per owned partition, the progress last
	// announced on the canonical topic (see announceProgress).
	announcedProgress map[int32]time.Time
}

// NewNormalize builds the stage; Run starts it.
func NewNormalize(cfg NormalizeConfig) (*Normalize, error) {
	if cfg.AlignWindow == 0 {
		cfg.AlignWindow = DefaultAlignWindow
	}
	n := &Normalize{cfg: cfg, position: map[string]int64{}, idleSent: map[string]bool{}, batchTime: map[string]time.Time{}, hadRecords: map[string]bool{}, emptySince: map[string]time.Time{},
		announcedProgress: map[int32]time.Time{}, linkPartitioner: kgo.StickyKeyPartitioner(nil).ForTopic(cfg.Topics.Name(topology.Links))}
	sc := newStageConfig[*normalize.State](&n.cfg.StageConfig, topology.Normalize)
	sources := sc.Inputs[len(topology.Normalize.Inputs):] // after the declared inputs (links)
	n.dead = n.cfg.deadLetters(topology.Normalize.Name)
	sc.NewState = normalize.NewState
	sc.Apply = func(st *normalize.State, key string, value []byte) error {
		return st.Apply(normalize.Change{Key: key, Value: value})
	}
	sc.Watermark = func(st *normalize.State) time.Time { return st.Watermark }
	sc.Size = func(st *normalize.State) int { return st.Size() }
	sc.Process, sc.BeginBatch, sc.EndBatch, sc.Idle, sc.Revoked = n.process, n.beginBatch, n.endBatch, n.announceIdle, n.forgetPositions
	sc.AlignTopics, sc.AlignWindow = sources, cfg.AlignWindow
	if cfg.UntilCaughtUp {
		sc.CaughtUpTopics = sources // links drain with them
	}
	var err error
	if n.stage, err = stream.New(sc); err != nil {
		return nil, err
	}
	return n, nil
}

// Run processes until ctx is cancelled (returns nil), until caught up when
// so configured, or until an unrecoverable failure.
func (n *Normalize) Run(ctx context.Context) error { return n.stage.Run(ctx) }

// forgetPositions runs on revocation: positions of revoked partitions are
// stale once another process has moved them; the next announcement
// re-reads committed offsets.
func (n *Normalize) forgetPositions() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.position, n.idleSent, n.hadRecords, n.emptySince = map[string]int64{}, map[string]bool{}, map[string]bool{}, map[string]time.Time{}
	n.announcedProgress = map[int32]time.Time{}
}

// beginBatch forgets the last batch's event times.
func (n *Normalize) beginBatch() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.batchTime)
}

// endBatch announces, to every links partition, how far this batch (as
// processed, after the aligner's cut) took each link-producing source
// partition (reaching a partition's end means nothing of it is in flight:
// it is announced idle until its next record), and updates the held
// events gauges.
func (n *Normalize) endBatch(parts []kgo.FetchTopicPartition, w stream.Writer) error {
	progress := map[normalize.SourceWatermark]bool{}
	for _, fp := range parts {
		sys, ok := n.cfg.Topics.SystemOf(fp.Topic)
		if !ok || !normalize.IsLinkSource(sys) || len(fp.Records) == 0 {
			continue
		}
		last := fp.Records[len(fp.Records)-1]
		idle := last.Offset+1 >= fp.HighWatermark
		key := fmt.Sprintf("%s/%d", fp.Topic, fp.Partition)
		n.mu.Lock()
		progress[normalize.SourceWatermark{Source: string(sys), Partition: fp.Partition, At: n.batchTime[key], Idle: idle}] = true
		n.hadRecords[key] = true
		n.position[key] = last.Offset + 1
		n.idleSent[key] = idle
		n.mu.Unlock()
	}
	scans, tickets := 0, 0
	n.stage.EachState(func(p int32, st *normalize.State) {
		scans, tickets = scans+st.Scans.Count(), tickets+st.Tickets.Count()
		n.announceProgress(p, st, w.Produce)
	})
	n.cfg.NormMetrics.Held.Set(float64(scans))
	n.cfg.NormMetrics.HeldTickets.Set(float64(tickets))
	return n.announce(progress, w.Produce)
}

// announceProgress tells every canonical partition, after the batch's
// events and in its transaction, the least source clock partition p's
// events can still carry (normalize.Processor.Progress), when it moved,
// and exports it (baton_normalize_progress_seconds): unify
// evicts by the least of every partition's (unify.Processor.Progress). A
// progress lost with an aborted batch is announced again later; an
// announcement is only ever behind the truth, which delays an eviction
// and changes no result.
func (n *Normalize) announceProgress(p int32, st *normalize.State, produce func(*kgo.Record)) {
	at := n.cfg.Processor.Progress(st)
	n.mu.Lock()
	moved := at.After(n.announcedProgress[p])
	if moved {
		n.announcedProgress[p] = at
	}
	n.mu.Unlock()
	if !moved {
		return
	}
	n.cfg.StageMetrics.EventTime.Progress.WithLabelValues(strconv.Itoa(int(p))).Set(float64(at.UnixMilli()) / 1000)
	canonical := n.cfg.Topics.Topic(topology.Canonical)
	for q := int32(0); q < canonical.Partitions; q++ {
		produce(progressRecord(canonical.Name, q, p, at))
	}
}

// progressHeader marks a progress record of the canonical topic: its
// value is 8 bytes, the Unix milliseconds below which the normalize
// partition named by the header's value sends no canonical event's
// source_clock any more.
const progressHeader = "baton-progress"

// progressRecord is the progress record of normalize partition origin for
// canonical partition q.
func progressRecord(topic string, q, origin int32, at time.Time) *kgo.Record {
	return &kgo.Record{Topic: topic, Partition: q, Value: binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())), Timestamp: at,
		Headers: []kgo.RecordHeader{{Key: manualHeader}, {Key: progressHeader, Value: []byte(strconv.Itoa(int(origin)))}}}
}

// Progress reads a progress record of the canonical topic (see
// progressHeader): the normalize partition it speaks for and its
// progress. ok is false for any other record.
func Progress(r *kgo.Record) (origin int32, at time.Time, ok bool) {
	return readMarker(r, progressHeader)
}

// Marker reports whether r is one of normalize's markers on the canonical
// topic (a progress record, or a holdback of earlier versions) rather
// than a canonical event: consumers of the canonical topic skip them.
func Marker(r *kgo.Record) bool {
	_, _, progress := Progress(r)
	_, _, holdback := Holdback(r)
	return progress || holdback
}

// readMarker reads a marker record of the canonical topic: header names
// the normalize partition it speaks for, its value is a time in Unix
// milliseconds (zero: none).
func readMarker(r *kgo.Record, header string) (origin int32, at time.Time, ok bool) {
	for _, h := range r.Headers {
		if h.Key != header {
			continue
		}
		p, err := strconv.Atoi(string(h.Value))
		if err != nil || len(r.Value) != 8 {
			return 0, time.Time{}, false
		}
		if ms := int64(binary.BigEndian.Uint64(r.Value)); ms != 0 {
			at = time.UnixMilli(ms).UTC()
		}
		return int32(p), at, true
	}
	return 0, time.Time{}, false
}

// holdbackHeader marks a holdback record on the canonical topic, which
// earlier versions sent (see unify.HoldbacksKey): consumers skip them.
const holdbackHeader = "baton-holdback"

// Holdback reads a holdback record of the canonical topic: the normalize
// partition it speaks for and its oldest held time (zero: nothing held).
// ok is false for any other record.
func Holdback(r *kgo.Record) (origin int32, since time.Time, ok bool) {
	return readMarker(r, holdbackHeader)
}

// routePartitioner places the stages' outputs (the runtime places their
// changelog records): a record marked with manualHeader, a links-topic
// watermark or a link applied at once, goes to the partition set on it (a
// watermark goes to every links partition), and everything else by key
// hash, Kafka's default, so links meet their carrier scans.
type routePartitioner struct{}

// manualHeader marks a record whose Partition field is its destination.
const manualHeader = "baton-partition"

func (routePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return routeTopicPartitioner{hash: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type routeTopicPartitioner struct{ hash kgo.TopicPartitioner }

func (routeTopicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (r routeTopicPartitioner) Partition(rec *kgo.Record, n int) int {
	if hasHeader(rec, manualHeader) {
		return int(rec.Partition)
	}
	return r.hash.Partition(rec, n)
}

// process decodes one record, runs the processor and produces its output.
// Only a transient failure (registry unreachable) is returned.
func (n *Normalize) process(ctx context.Context, st *normalize.State, r *kgo.Record, w stream.Writer) error {
	in := normalize.Input{Ingested: r.Timestamp, Record: normalize.Original{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}}
	dec, err := decode(ctx, n.cfg.Logger, n.cfg.Decoder, r.Value)
	if errors.Is(err, schemas.ErrUndecodable) {
		return n.dead.Emit(r, records.ReasonUndecodable, err, w.Produce)
	}
	if err != nil {
		return err
	}
	plain := dec.Plain
	if r.Topic == n.cfg.Topics.Name(topology.Links) {
		li, err := linksInput(plain)
		if err != nil {
			return n.dead.Emit(r, records.ReasonInvalidRecord, err, w.Produce)
		}
		in.Link, in.Watermark = li.Link, li.Watermark
		if in.Link != nil && hasHeader(r, appliedHeader) {
			// Already applied, in the transaction that wrote it (see
			// applyLink): only its progress, in event time, counts now.
			in.Link, in.Watermark = nil, &normalize.SourceWatermark{Source: li.Link.SourceSystem, Partition: li.Link.SourcePartition, At: li.Link.RecordedAt}
		}
	} else {
		sys, ok := n.cfg.Topics.SystemOf(r.Topic)
		if !ok {
			return n.dead.Emit(r, records.ReasonUnknownTopic, fmt.Errorf("topic %s is not a normalize input", r.Topic), w.Produce)
		}
		in.System, in.Plain = sys, plain
	}
	out := n.cfg.Processor.Process(st, in)
	if normalize.IsLinkSource(in.System) && !out.EventTime.IsZero() {
		key := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		n.mu.Lock()
		if out.EventTime.After(n.batchTime[key]) {
			n.batchTime[key] = out.EventTime
		}
		n.mu.Unlock()
	}
	return n.emit(in, out, w)
}

// appliedHeader marks a links record whose link was applied to its
// partition's state in the transaction that produced it.
const appliedHeader = "baton-applied"

// applyLink applies a link, rec, to the state of the links partition it
// goes to, at once, when this process holds that state, and marks rec so
// (appliedHeader) that its copy from the links topic changes nothing. The
// scans held for the link are released in this same transaction, right
// after the event that linked them, as they would be in a live run;
// through the links topic they would wait for the transaction's commit
// and a poll, which on a replayed backlog is a whole batch later, so that
// viewer reports of the same time would reach unify long before the scans
// they copy. A state held elsewhere gets the link through the topic.
func (n *Normalize) applyLink(l normalize.Link, rec *kgo.Record, w stream.Writer) error {
	links := n.cfg.Topics.Topic(topology.Links)
	q := int32(n.linkPartitioner.Partition(rec, int(links.Partitions)))
	st, ok := n.stage.RestoredState(q)
	if !ok {
		return nil
	}
	rec.Partition = q
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: manualHeader}, kgo.RecordHeader{Key: appliedHeader})
	in := normalize.Input{Ingested: rec.Timestamp, Link: &l, Direct: true, Record: normalize.Original{Topic: links.Name, Partition: q, Offset: -1, Key: rec.Key, Value: rec.Value}}
	return n.emit(in, n.cfg.Processor.Process(st, in), w)
}

// hasHeader reports whether r carries the header key.
func hasHeader(r *kgo.Record, key string) bool {
	for _, h := range r.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}

// emit encodes and produces a processor output, and writes the state
// changes that go with it.
func (n *Normalize) emit(in normalize.Input, out normalize.Output, w stream.Writer) error {
	topics := n.cfg.Topics
	canonEnc, linkEnc := n.cfg.Encoders[topics.Name(topology.Canonical)], n.cfg.Encoders[topics.Name(topology.Links)]
	for _, ev := range out.Events {
		b, err := canonEnc.EncodePlain(ev.Value)
		if err != nil {
			return fmt.Errorf("normalize: %w", err)
		}
		// Outputs carry their input's ingest time, not the wall clock: the
		// links topic feeds the partition watermark, and a replay must see
		// the same times.
		w.Produce(&kgo.Record{Topic: topics.Name(topology.Canonical), Key: []byte(ev.Key), Value: b, Timestamp: in.Ingested})
		status := "none"
		if s, ok := ev.Value["canonical_status"].(string); ok {
			status = s
		}
		n.cfg.NormMetrics.Canonical.WithLabelValues(ev.Value["source_system"].(string), status).Inc()
	}
	for _, l := range out.Links {
		b, err := linkEnc.EncodePlain(linkValue(l))
		if err != nil {
			return fmt.Errorf("normalize: %w", err)
		}
		rec := &kgo.Record{Topic: topics.Name(topology.Links), Key: []byte(l.Key()), Value: b, Timestamp: in.Ingested}
		if err := n.applyLink(l, rec, w); err != nil {
			return err
		}
		w.Produce(rec)
	}
	for _, rj := range out.Rejected {
		if rj.Reason == normalize.ReasonUnmappedStatus {
			n.cfg.NormMetrics.Unmapped.WithLabelValues(rj.System, rj.Code).Inc()
		}
		orig := &kgo.Record{Topic: rj.Record.Topic, Partition: rj.Record.Partition, Offset: rj.Record.Offset, Key: rj.Record.Key, Value: rj.Record.Value}
		if err := n.dead.Emit(orig, rj.Reason, rj.Err, w.Produce); err != nil {
			return err
		}
	}
	if out.Duplicate {
		n.cfg.NormMetrics.Duplicates.WithLabelValues(string(in.System)).Inc()
	}
	for _, c := range out.Changes {
		w.SetState(in.Record.Partition, c.Key, c.Value, time.Time{})
	}
	return nil
}

// announceIdle, on a quiet poll, announces as idle every owned
// link-source partition that has reached its end offset and was not
// announced idle yet, including partitions that never had a record, so
// held events do not wait for sources with nothing in flight. It runs its
// own small transaction.
func (n *Normalize) announceIdle(ctx context.Context) error {
	owned := n.stage.OwnedPartitions()
	var topics []string
	for _, sys := range normalize.LinkSourceSystems {
		topics = append(topics, n.cfg.Topics.Source(sys).Name)
	}
	n.mu.Lock()
	var pending bool
	for _, t := range topics {
		for _, p := range owned {
			if !n.idleSent[fmt.Sprintf("%s/%d", t, p)] {
				pending = true
			}
		}
	}
	n.mu.Unlock()
	if !pending {
		return nil
	}
	ends, err := stream.EndOffsets(ctx, n.stage.Admin(), topics...)
	if err != nil {
		return fmt.Errorf("normalize: list end offsets: %w", err)
	}
	committed, err := n.stage.Admin().FetchOffsets(ctx, n.cfg.Group)
	if err != nil {
		return fmt.Errorf("normalize: fetch committed offsets: %w", err)
	}
	progress := map[normalize.SourceWatermark]bool{}
	var keys []string
	n.mu.Lock()
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
			end, ok := ends.Lookup(t, p)
			if !ok || pos < end.Offset {
				delete(n.emptySince, key)
				continue
			}
			if !n.hadRecords[key] && !n.emptyLongEnough(key) {
				continue
			}
			progress[normalize.SourceWatermark{Source: string(sys), Partition: p, Idle: true}] = true
			keys = append(keys, key)
		}
	}
	n.mu.Unlock()
	if len(progress) == 0 {
		return nil
	}
	ok, err := n.stage.Transaction(ctx, func(w stream.Writer) error { return n.announce(progress, w.Produce) })
	if err != nil || !ok {
		return err // not announced: the next quiet poll tries again
	}
	n.mu.Lock()
	for _, k := range keys {
		n.idleSent[k] = true
	}
	n.mu.Unlock()
	return nil
}

// EmptyLinkSourceAfter is how long a link-source partition that never had
// a record must stay empty, in wall-clock time, before it is announced
// idle, so that it stops holding back the hold timeout of the events its
// links place (carrier scans, order-less ticket events). Whether a
// partition is empty at a given moment depends on arrival (a live feed's
// partitions get their first records at different moments), and an
// event's fate must not: announced at once, a partition a second late
// would let events expire whose links it was about to bring. This wait is
// the one wall-clock input of normalize's clocks, counted in
// baton_watermark_idle_advances_total{stage="normalize"}.
const EmptyLinkSourceAfter = 30 * time.Second

// emptyLongEnough reports whether the never-used link-source partition key
// has been at its end for EmptyLinkSourceAfter (the caller holds n.mu).
func (n *Normalize) emptyLongEnough(key string) bool {
	since, ok := n.emptySince[key]
	if !ok {
		n.emptySince[key] = time.Now()
		return false
	}
	if time.Since(since) < EmptyLinkSourceAfter {
		return false
	}
	n.cfg.StageMetrics.EventTime.IdleAdvances.WithLabelValues(topology.Normalize.Name).Inc()
	return true
}

// announce tells every links partition how far this batch took each
// link-producing source partition. It is produced after the batch's links,
// so a links partition sees a source's links before its watermark.
func (n *Normalize) announce(progress map[normalize.SourceWatermark]bool, produce func(*kgo.Record)) error {
	enc := n.cfg.Encoders[n.cfg.Topics.Name(topology.Links)]
	for w := range progress {
		b, err := enc.EncodePlain(map[string]any{"source_system": w.Source, "source_partition": int(w.Partition), "watermark": w.At, "idle": w.Idle})
		if err != nil {
			return fmt.Errorf("normalize: %w", err)
		}
		for p := int32(0); p < n.cfg.Topics.Topic(topology.Links).Partitions; p++ {
			produce(&kgo.Record{Topic: n.cfg.Topics.Name(topology.Links), Partition: p, Value: b, Timestamp: w.At,
				Headers: []kgo.RecordHeader{{Key: manualHeader}}})
		}
	}
	return nil
}

// linkValue is a link's links-topic record; its watermark is the linking
// event's recorded_at (event time: see normalize.SourceWatermark).
func linkValue(l normalize.Link) map[string]any {
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{"tracking_number": opt(l.TrackingNumber), "ticket_id": opt(l.TicketID), "order_id": l.OrderID, "shipment_id": opt(l.ShipmentID),
		"source_system": l.SourceSystem, "source_partition": int(l.SourcePartition), "source_event_id": l.SourceEventID,
		"occurred_at": l.OccurredAt, "watermark": l.RecordedAt, "source_clock": optTime(l.SourceClock)}
}

// optTime is a nullable timestamp field's value: nil for the zero time.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// linksInput reads a links-topic record: a tracking link, a ticket link,
// or a watermark when it has neither a tracking number nor a ticket ID.
func linksInput(p map[string]any) (normalize.Input, error) {
	str := func(f string) string { s, _ := p[f].(string); return s }
	part, _ := p["source_partition"].(int32)
	wm, err := time.Parse(time.RFC3339Nano, str("watermark"))
	if err != nil {
		return normalize.Input{}, fmt.Errorf("links record: watermark: %w", err)
	}
	if str("tracking_number") == "" && str("ticket_id") == "" {
		idle, _ := p["idle"].(bool) // absent from records written before it existed
		return normalize.Input{Watermark: &normalize.SourceWatermark{Source: str("source_system"), Partition: part, At: wm, Idle: idle}}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, str("occurred_at"))
	if err != nil {
		return normalize.Input{}, fmt.Errorf("tracking link: occurred_at: %w", err)
	}
	l := normalize.Link{TrackingNumber: str("tracking_number"), TicketID: str("ticket_id"), OrderID: str("order_id"), ShipmentID: str("shipment_id"),
		SourceSystem: str("source_system"), SourcePartition: part, SourceEventID: str("source_event_id"), OccurredAt: at, RecordedAt: wm}
	if c := str("source_clock"); c != "" { // absent from links written before it existed
		if l.SourceClock, err = time.Parse(time.RFC3339Nano, c); err != nil {
			return normalize.Input{}, fmt.Errorf("link: source_clock: %w", err)
		}
	}
	if l.OrderID == "" {
		return normalize.Input{}, errors.New("link without order ID")
	}
	return normalize.Input{Link: &l}, nil
}
