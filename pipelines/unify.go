package pipelines

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/pipelines/stream"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// UnifyMetrics are the unify stage's own collectors.
type UnifyMetrics struct {
	Transitions *prometheus.CounterVec // kind, to_status
	Regressions prometheus.Counter
	Duplicates  prometheus.Counter
	Evicted     *prometheus.CounterVec // reason: closed, idle
	// The viewer checks.
	SyncChecks    *prometheus.CounterVec   // viewer, outcome
	FailedSyncs   *prometheus.CounterVec   // viewer, reason
	UpdateLatency *prometheus.HistogramVec // viewer
	// Delays detected (notices opened), by reason; the notices not told
	// in time are failed syncs of reason delay_not_notified.
	DelayNotices *prometheus.CounterVec // reason
	// WISMO tickets attributed, by cause.
	WismoTickets *prometheus.CounterVec // cause
}

// NewUnifyMetrics creates and registers the collectors. The failed-sync
// counters of every viewer and reason start at zero, so an alert's rate
// has a history before the first failure.
func NewUnifyMetrics(reg prometheus.Registerer) *UnifyMetrics {
	m := &UnifyMetrics{
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_transitions_total",
			Help: "Order and shipment transitions of the canonical timeline, by kind (advance, late, recovery, reopened) and to-status."}, []string{"kind", "to_status"}),
		Regressions: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_rejected_regressions_total",
			Help: "Authoritative events refused because they would move the truth backward."}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_unify_duplicate_events_total",
			Help: "Canonical events seen before for their order (a retry upstream); they produce nothing."}),
		Evicted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_unify_evicted_orders_total",
			Help: "Orders evicted from the unify state: closed ones after the retention window, open ones idle past the idle timeout, each once the allowed lateness (the retention) has passed too."}, []string{"reason"}),
		SyncChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_sync_checks_total",
			Help: "Closed viewer checks by viewer and outcome (IN_SYNC, LATE, MISSING, CONFLICT; SUPERSEDED is not counted in accuracy)."}, []string{"viewer", "outcome"}),
		FailedSyncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_failed_syncs_total",
			Help: "Failed synchronizations (one per failed check, when it breaches its SLA or a conflict is confirmed), by viewer and reason."}, []string{"viewer", "reason"}),
		UpdateLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "baton_update_latency_seconds",
			Help:    "Tracking update latency: from the carrier scan that set the truth to the viewer reflecting it (IN_SYNC and LATE checks of carrier-set truths), by viewer.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 180, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600}}, []string{"viewer"}),
		DelayNotices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_delay_notices_total",
			Help: "Delays detected (delay notices opened), by reason: ship_by_missed, eta_past_promise, exception, delivery_attempt_failed, return_to_sender."}, []string{"reason"}),
		WismoTickets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_wismo_tickets_total",
			Help: "Help-desk tickets classified as WISMO (\"where is my order?\"), by the cause visible when the customer asked: viewer_out_of_sync, delay_not_notified, carrier_exception, no_sync_problem."}, []string{"cause"}),
	}
	reg.MustRegister(m.Transitions, m.Regressions, m.Duplicates, m.Evicted, m.SyncChecks, m.FailedSyncs, m.UpdateLatency, m.DelayNotices, m.WismoTickets)
	for _, v := range schemas.SystemsWhere(schemas.Spec.IsViewer) {
		for _, reason := range []string{synccheck.ReasonSLABreached, synccheck.ReasonConflict} {
			m.FailedSyncs.WithLabelValues(string(v), reason)
		}
	}
	m.FailedSyncs.WithLabelValues(string(schemas.Notifications), delay.ReasonDelayNotNotified)
	for _, cause := range wismo.Causes() {
		m.WismoTickets.WithLabelValues(cause)
	}
	return m
}

// UnifyConfig configures the unify stage.
type UnifyConfig struct {
	StageConfig
	Processor    *unify.Processor
	UnifyMetrics *UnifyMetrics
	// IdleAdvance: a partition with no record for this long of wall-clock
	// time has its watermark advanced by the wall-clock time that passed,
	// so that checks fall due and failed syncs are raised in quiet periods
	// (a night without events must not hide a viewer that stopped
	// syncing). Default DefaultIdleAdvance; negative turns it off.
	IdleAdvance time.Duration
}

// DefaultIdleAdvance is UnifyConfig.IdleAdvance's default.
const DefaultIdleAdvance = time.Minute

// Unify is the unify stage: canonical events in; transitions, order states,
// dead letters and the state changelog out, exactly once (see stream.Stage).
// The canonical topic is keyed by order ID, so one partition's state holds
// whole orders.
type Unify struct {
	cfg   UnifyConfig
	stage *stream.Stage[*unify.State]
	dead  *records.DeadLetters

	// decoded holds the batch's canonical events, decoded to order the
	// batch by event time (eventTimeOrder), for process.
	decoded map[*kgo.Record]map[string]any

	mu sync.Mutex
	// clock is, per partition, the event-time watermark (or idle advance)
	// and the wall-clock time it was reached, for idle advances.
	clock map[int32]partitionClock
}

// partitionClock pairs a partition's event clock with the wall clock.
type partitionClock struct{ at, wall time.Time }

// NewUnify builds the stage; Run starts it.
func NewUnify(cfg UnifyConfig) (*Unify, error) {
	if cfg.IdleAdvance == 0 {
		cfg.IdleAdvance = DefaultIdleAdvance
	}
	u := &Unify{cfg: cfg, clock: map[int32]partitionClock{}}
	sc := newStageConfig[*unify.State](&u.cfg.StageConfig, topology.Unify)
	u.dead = u.cfg.deadLetters(topology.Unify.Name)
	sc.NewState = unify.NewState
	sc.Apply = func(st *unify.State, key string, value []byte) error {
		return st.Apply(unify.Change{Key: key, Value: value})
	}
	sc.Size = func(st *unify.State) int { return st.Orders() }
	sc.Watermark = (*unify.State).Watermark
	sc.Process = u.process
	sc.Order = u.eventTimeOrder
	if cfg.IdleAdvance > 0 {
		sc.Idle = u.advanceIdle
		sc.Revoked = func() { // another process may move them meanwhile
			u.mu.Lock()
			clear(u.clock)
			u.mu.Unlock()
		}
	}
	if cfg.UntilCaughtUp {
		sc.CaughtUpTopics = sc.Inputs
	}
	var err error
	if u.stage, err = stream.New(sc); err != nil {
		return nil, err
	}
	return u, nil
}

// Run processes until ctx is cancelled (returns nil), until caught up when
// so configured, or until an unrecoverable failure.
func (u *Unify) Run(ctx context.Context) error { return u.stage.Run(ctx) }

// process decodes one canonical event, runs the processor and produces its
// outputs. Only a transient failure (registry unreachable) is returned.
func (u *Unify) process(ctx context.Context, st *unify.State, r *kgo.Record, w stream.Writer) error {
	if origin, at, ok := Progress(r); ok {
		return u.emit(u.cfg.Processor.Progress(st, origin, at), r.Partition, r.Timestamp, w)
	}
	if _, _, ok := Holdback(r); ok {
		return nil // written by earlier versions (see unify.HoldbacksKey)
	}
	plain, ok := u.decoded[r]
	if !ok {
		dec, err := decode(ctx, u.cfg.Logger, u.cfg.Decoder, r.Value)
		if errors.Is(err, schemas.ErrUndecodable) {
			return u.dead.Emit(r, records.ReasonUndecodable, err, w.Produce)
		}
		if err != nil {
			return err
		}
		plain = dec.Plain
	}
	out := u.cfg.Processor.Process(st, unify.Input{Plain: plain, Ingested: r.Timestamp})
	if out.Rejected != nil {
		reason := records.ReasonInvalidRecord
		if errors.Is(out.Rejected, unify.ErrTooLate) {
			reason = records.ReasonTooLate
		}
		return u.dead.Emit(r, reason, out.Rejected, w.Produce)
	}
	u.mu.Lock()
	if c, w := u.clock[r.Partition], st.Watermark(); w.After(c.at) || c.wall.IsZero() {
		u.clock[r.Partition] = partitionClock{at: w, wall: time.Now()}
	}
	u.mu.Unlock()
	if out.Late {
		system, _ := plain["source_system"].(string)
		u.cfg.StageMetrics.EventTime.LateEvents.WithLabelValues(topology.Unify.Name, system).Inc()
	}
	return u.emit(out, r.Partition, r.Timestamp, w)
}

// eventTimeOrder decodes the batch and orders it by event time (the
// order unify.EventTime gives), so that an order's events that
// arrived out of order within one batch are applied in order instead of
// one correcting another (see processors/unify, "Event time"); the
// results do not depend on it, only the corrections sent. Records that do
// not decode keep their place at the front, for process to dead-letter;
// progress records go last, after every event they may follow in the
// topic (applied early, one could evict an order before an event it does
// not cover).
func (u *Unify) eventTimeOrder(ctx context.Context, parts []kgo.FetchTopicPartition) ([]*kgo.Record, error) {
	u.decoded = map[*kgo.Record]map[string]any{}
	var recs, bad, progress []*kgo.Record
	at := map[*kgo.Record]unify.EventTime{}
	err := stream.MergeByTimestamp(parts, func(r *kgo.Record) error {
		if _, _, ok := Progress(r); ok {
			progress = append(progress, r)
			return nil
		}
		if _, _, ok := Holdback(r); ok || r.Attrs.IsControl() {
			bad = append(bad, r)
			return nil
		}
		dec, err := decode(ctx, u.cfg.Logger, u.cfg.Decoder, r.Value)
		if errors.Is(err, schemas.ErrUndecodable) {
			bad = append(bad, r)
			return nil
		}
		if err != nil {
			return err
		}
		plain := dec.Plain
		t, ok := unify.EventTimeOf(plain)
		if !ok {
			bad = append(bad, r)
			return nil
		}
		u.decoded[r], at[r] = plain, t
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(recs, func(a, b *kgo.Record) int {
		return at[a].Compare(at[b])
	})
	return append(append(bad, recs...), progress...), nil
}

// advanceIdle, on a quiet poll, advances the watermark of every owned
// partition quiet for IdleAdvance by the wall-clock time since its last
// record (or advance), in one transaction.
func (u *Unify) advanceIdle(ctx context.Context) error {
	states, err := u.stage.AllStates(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	advances := map[int32]time.Time{}
	u.mu.Lock()
	for p := range states {
		c, ok := u.clock[p]
		switch {
		case !ok: // quiet since this process got it: the wait starts now
			u.clock[p] = partitionClock{at: states[p].Watermark(), wall: now}
		case !c.at.IsZero() && now.Sub(c.wall) >= u.cfg.IdleAdvance:
			advances[p] = c.at.Add(now.Sub(c.wall))
		}
	}
	u.mu.Unlock()
	if len(advances) == 0 {
		return nil
	}
	committed, err := u.stage.Transaction(ctx, func(w stream.Writer) error {
		for p, at := range advances {
			if err := u.emit(u.cfg.Processor.Advance(states[p], at), p, at, w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !committed {
		if err == nil {
			err = u.stage.RestoreAll(ctx) // the advanced states are ahead of the changelog
		}
		return err
	}
	u.mu.Lock()
	for p, at := range advances {
		u.clock[p] = partitionClock{at: at, wall: now}
	}
	u.mu.Unlock()
	u.cfg.StageMetrics.EventTime.IdleAdvances.WithLabelValues(topology.Unify.Name).Add(float64(len(advances)))
	return nil
}

// emit produces everything one processor call caused, and counts it.
// Outputs carry their input's timestamp (for an idle advance, the
// watermark it advanced to), not the wall clock, so a replay produces
// identical records.
func (u *Unify) emit(out unify.Output, partition int32, at time.Time, w stream.Writer) error {
	m := u.cfg.UnifyMetrics
	if out.Duplicate {
		m.Duplicates.Inc()
	}
	m.Regressions.Add(float64(out.Regressions))
	m.Evicted.WithLabelValues("closed").Add(float64(out.Evicted))
	m.Evicted.WithLabelValues("idle").Add(float64(out.Expired))
	for _, c := range out.Corrections {
		u.cfg.StageMetrics.EventTime.Corrected.WithLabelValues(c.Kind, strconv.FormatBool(c.Retracted)).Inc()
	}
	topics := u.cfg.Topics
	for _, t := range out.Transitions {
		if err := u.produceValue(topics.Name(topology.Transitions), t.Key, t.Value, at, w.Produce); err != nil {
			return err
		}
		kind, _ := t.Value["kind"].(string)
		to, _ := t.Value["to_status"].(string)
		m.Transitions.WithLabelValues(kind, to).Inc()
	}
	if out.State != nil {
		if err := u.produceValue(topics.Name(topology.OrderStates), out.State.Key, out.State.Value, at, w.Produce); err != nil {
			return err
		}
	}
	for _, c := range out.Checks {
		if err := u.produceValue(topics.Name(topology.SyncChecks), c.Key, c.Value, at, w.Produce); err != nil {
			return err
		}
		viewer, _ := c.Value["viewer"].(string)
		outcome, _ := c.Value["outcome"].(string)
		m.SyncChecks.WithLabelValues(viewer, outcome).Inc()
		if latency, ok := c.Value["latency_ms"].(int64); ok && c.Value["truth_authority"] == string(schemas.Carrier) {
			m.UpdateLatency.WithLabelValues(viewer).Observe(float64(latency) / 1000)
		}
	}
	for _, f := range out.Failed {
		if err := u.produceValue(topics.Name(topology.FailedSyncs), f.Key, f.Value, at, w.Produce); err != nil {
			return err
		}
		viewer, _ := f.Value["viewer"].(string)
		reason, _ := f.Value["reason"].(string)
		m.FailedSyncs.WithLabelValues(viewer, reason).Inc()
	}
	for _, n := range out.Notices {
		if err := u.produceValue(topics.Name(topology.DelayNotices), n.Key, n.Value, at, w.Produce); err != nil {
			return err
		}
		if v, _ := n.Value["version"].(int64); v == 1 {
			reason, _ := n.Value["reason"].(string)
			m.DelayNotices.WithLabelValues(reason).Inc()
		}
	}
	for _, t := range out.Tickets {
		if err := u.produceValue(topics.Name(topology.WismoTickets), t.Key, t.Value, at, w.Produce); err != nil {
			return err
		}
		cause, _ := t.Value["cause"].(string)
		m.WismoTickets.WithLabelValues(cause).Inc()
	}
	for _, c := range out.Changes {
		// A nil value is a tombstone: compaction then drops the order.
		w.SetState(partition, c.Key, c.Value, at)
	}
	return nil
}

// produceValue encodes one processor output for topic and produces it.
func (u *Unify) produceValue(topic, key string, value map[string]any, at time.Time, produce func(*kgo.Record)) error {
	enc := u.cfg.Encoders[topic]
	b, err := enc.EncodePlain(value)
	if err != nil {
		return fmt.Errorf("unify: %w", err)
	}
	produce(&kgo.Record{Topic: topic, Key: []byte(key), Value: b, Timestamp: at})
	return nil
}
