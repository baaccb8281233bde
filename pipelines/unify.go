package pipelines

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/schemas"
)

// Transitions is the topic of order transitions (schema order_transition),
// keyed by order ID: the canonical timeline, the unify stage's output.
func (t Topics) Transitions() Topic {
	return Topic{Name: t.Prefix + "transitions", Partitions: t.Partitions, Schema: "order_transition"}
}

// OrderStates is the compacted topic of unified order views (schema
// order_state), keyed by order ID: its latest record per order is that
// order's current truth, each system's view and its shipments.
func (t Topics) OrderStates() Topic {
	return Topic{Name: t.Prefix + "order-state", Partitions: t.Partitions, Schema: "order_state", Compacted: true}
}

// UnifyChangelog is the compacted changelog of the unify state: partition p
// holds the open orders of canonical partition p.
func (t Topics) UnifyChangelog() Topic {
	return Topic{Name: t.Prefix + "unify.changelog", Partitions: t.Partitions, Compacted: true}
}

// UnifyMetrics are the unify stage's own collectors.
type UnifyMetrics struct {
	Transitions *prometheus.CounterVec // kind, to_status
	Regressions prometheus.Counter
	Duplicates  prometheus.Counter
	Evicted     *prometheus.CounterVec // reason: closed, idle
}

// NewUnifyMetrics creates and registers the collectors.
func NewUnifyMetrics(reg prometheus.Registerer) *UnifyMetrics {
	m := &UnifyMetrics{
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_transitions_total",
			Help: "Order and shipment transitions of the canonical timeline, by kind (advance, late, recovery, reopened) and to-status."}, []string{"kind", "to_status"}),
		Regressions: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_rejected_regressions_total",
			Help: "Authoritative events refused because they would move the truth backward."}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_unify_duplicate_events_total",
			Help: "Canonical events seen before for their order (a retry upstream); they produce nothing."}),
		Evicted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_unify_evicted_orders_total",
			Help: "Orders evicted from the unify state: closed ones after the retention window, open ones idle past the idle timeout."}, []string{"reason"}),
	}
	reg.MustRegister(m.Transitions, m.Regressions, m.Duplicates, m.Evicted)
	return m
}

// UnifyConfig configures the unify stage.
type UnifyConfig struct {
	StageConfig
	Processor    *unify.Processor
	UnifyMetrics *UnifyMetrics
}

// Unify is the unify stage: canonical events in; transitions, order states,
// dead letters and the state changelog out, exactly once (see stateful).
// The canonical topic is keyed by order ID, so one partition's state holds
// whole orders.
type Unify struct {
	cfg   UnifyConfig
	stage *stateful[*unify.State]
	dead  *DeadLetters
}

// NewUnify builds the stage; Run starts it.
func NewUnify(cfg UnifyConfig) (*Unify, error) {
	u := &Unify{cfg: cfg}
	canonical := cfg.Topics.Canonical().Name
	sc := newStatefulConfig[*unify.State](&u.cfg.StageConfig, "unify", cfg.Topics.UnifyChangelog().Name, []string{canonical})
	u.dead = u.cfg.deadLetters("unify")
	sc.newState = unify.NewState
	sc.apply = func(st *unify.State, key string, value []byte) error {
		return st.Apply(unify.Change{Key: key, Value: value})
	}
	sc.size = func(st *unify.State) int { return st.Orders() }
	sc.process = u.process
	if cfg.UntilCaughtUp {
		sc.caughtUpTopics = []string{canonical}
	}
	var err error
	if u.stage, err = newStateful(sc); err != nil {
		return nil, err
	}
	return u, nil
}

// Run processes until ctx is cancelled (returns nil), until caught up when
// so configured, or until an unrecoverable failure.
func (u *Unify) Run(ctx context.Context) error { return u.stage.run(ctx) }

// process decodes one canonical event, runs the processor and produces its
// outputs. Only a transient failure (registry unreachable) is returned.
func (u *Unify) process(ctx context.Context, st *unify.State, r *kgo.Record, produce func(*kgo.Record)) error {
	dec, err := decode(ctx, u.cfg.Logger, u.cfg.Decoder, r.Value)
	if errors.Is(err, schemas.ErrUndecodable) {
		return u.dead.Emit(r, ReasonUndecodable, err, produce)
	}
	if err != nil {
		return err
	}
	out := u.cfg.Processor.Process(st, unify.Input{Plain: dec.Schema.Plain(dec.Native), Ingested: r.Timestamp})
	if out.Rejected != nil {
		return u.dead.Emit(r, ReasonInvalidRecord, out.Rejected, produce)
	}
	m := u.cfg.UnifyMetrics
	if out.Duplicate {
		m.Duplicates.Inc()
	}
	m.Regressions.Add(float64(out.Regressions))
	m.Evicted.WithLabelValues("closed").Add(float64(out.Evicted))
	m.Evicted.WithLabelValues("idle").Add(float64(out.Expired))
	topics := u.cfg.Topics
	// Outputs carry their input's timestamp, not the wall clock, so a
	// replay produces identical records.
	for _, t := range out.Transitions {
		if err := u.produceValue(topics.Transitions().Name, t, r.Timestamp, produce); err != nil {
			return err
		}
		kind, _ := t.Value["kind"].(string)
		to, _ := t.Value["to_status"].(string)
		m.Transitions.WithLabelValues(kind, to).Inc()
	}
	if out.State != nil {
		if err := u.produceValue(topics.OrderStates().Name, *out.State, r.Timestamp, produce); err != nil {
			return err
		}
	}
	changelog := topics.UnifyChangelog().Name
	for _, c := range out.Changes {
		// A nil value is a tombstone: compaction then drops the order.
		produce(&kgo.Record{Topic: changelog, Partition: r.Partition, Key: []byte(c.Key), Value: c.Value, Timestamp: r.Timestamp})
	}
	return nil
}

// produceValue encodes one processor output for topic and produces it.
func (u *Unify) produceValue(topic string, rec unify.Record, at time.Time, produce func(*kgo.Record)) error {
	enc := u.cfg.Encoders[topic]
	native, err := enc.Schema.FromJSON(rec.Value)
	if err != nil {
		return fmt.Errorf("unify: %s value does not fit its schema: %w", topic, err)
	}
	b, err := enc.Encode(native)
	if err != nil {
		return err
	}
	produce(&kgo.Record{Topic: topic, Key: []byte(rec.Key), Value: b, Timestamp: at})
	return nil
}
