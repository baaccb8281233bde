package pipelines

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/topology"
)

// EventTimeMetrics show the stages' event-time clocks (see
// processors/unify, "Event time"): how far each stage's watermark has got
// and how far behind the wall clock it is, the late events that made an
// order recompute its results, the corrected records those sent, and the
// idle advances, the one input to the clock that is not in the records.
type EventTimeMetrics struct {
	// LateEvents counts events that sorted before what their order had
	// already applied, by stage and source system.
	LateEvents *prometheus.CounterVec
	// Corrected counts records re-emitted by a correction, by kind
	// (transition, sync_check, failed_sync, delay_notice, wismo_ticket)
	// and whether they were retracted.
	Corrected *prometheus.CounterVec
	// IdleAdvances counts watermark advances by wall-clock time of a
	// partition with no records (see UnifyConfig.IdleAdvance).
	IdleAdvances *prometheus.CounterVec
	// Progress is each normalize partition's progress as last announced
	// to unify (see Normalize.announceProgress), Unix seconds: unify
	// evicts an order only once every partition's has passed its end.
	Progress   *prometheus.GaugeVec
	watermarks *watermarkCollector
}

// NewEventTimeMetrics creates and registers the collectors.
func NewEventTimeMetrics(reg prometheus.Registerer) *EventTimeMetrics {
	m := &EventTimeMetrics{
		LateEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_late_events_total",
			Help: "Events that arrived after their order had applied or fired something later in event time: the order was recomputed and what changed was corrected, by stage and system."}, []string{"stage", "system"}),
		Corrected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_corrected_results_total",
			Help: "Records re-emitted with a higher version because a late event changed them, by kind; retracted=true for records the late event showed no longer exist."}, []string{"kind", "retracted"}),
		IdleAdvances: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_watermark_idle_advances_total",
			Help: "Watermark advances by wall-clock time of a partition that had no records (the one input to the event-time clock that is not in the records), by stage."}, []string{"stage"}),
		Progress: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "baton_normalize_progress_seconds",
			Help: "The least source clock (recorded_at, Unix seconds) a normalize partition's canonical events can still carry, as announced to unify, by partition: unify evicts an order only once every partition's progress passed its end plus the allowed lateness. Far behind the watermark: a source system stopped or lagging holds evictions back."}, []string{"partition"}),
		watermarks: &watermarkCollector{at: map[string]time.Time{}},
	}
	reg.MustRegister(m.LateEvents, m.Corrected, m.IdleAdvances, m.Progress, m.watermarks)
	for _, kind := range unify.CorrectionKinds() {
		for _, r := range []string{"false", "true"} {
			m.Corrected.WithLabelValues(kind, r)
		}
	}
	for _, stage := range []string{topology.Normalize.Name, topology.Unify.Name} { // the stages with an event-time clock
		m.IdleAdvances.WithLabelValues(stage)
	}
	return m
}

// SetWatermark records stage's watermark: the least advanced of its
// partitions' event-time clocks.
func (m *EventTimeMetrics) SetWatermark(stage string, at time.Time) {
	if m == nil || at.IsZero() {
		return
	}
	m.watermarks.mu.Lock()
	m.watermarks.at[stage] = at
	m.watermarks.mu.Unlock()
}

// watermarkCollector exports baton_watermark_seconds{stage} and
// baton_watermark_lag_seconds{stage}, the lag computed at scrape time, so
// that a clock that stopped shows a growing lag even when no batch runs.
type watermarkCollector struct {
	mu sync.Mutex
	at map[string]time.Time
}

var (
	watermarkDesc = prometheus.NewDesc("baton_watermark_seconds",
		"The stage's event-time watermark (Unix seconds): the least advanced of its partitions' clocks, the events' own recorded_at.", []string{"stage"}, nil)
	watermarkLagDesc = prometheus.NewDesc("baton_watermark_lag_seconds",
		"Wall-clock time minus the stage's event-time watermark: how far behind the present its results are (large while a backfill is replayed).", []string{"stage"}, nil)
)

func (c *watermarkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- watermarkDesc
	ch <- watermarkLagDesc
}

func (c *watermarkCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for stage, at := range c.at {
		ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, float64(at.UnixMilli())/1000, stage)
		ch <- prometheus.MustNewConstMetric(watermarkLagDesc, prometheus.GaugeValue, now.Sub(at).Seconds(), stage)
	}
}
