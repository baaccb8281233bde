package pipelines

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Metrics are the pipeline's Prometheus collectors. They are registered on
// the Registerer the caller passes, never the global registry, so tests and
// several pipelines in one process do not collide.
type Metrics struct {
	RecordsConsumed  *prometheus.CounterVec   // stage, topic
	RowsWritten      *prometheus.CounterVec   // table
	BatchesWritten   *prometheus.CounterVec   // table
	InsertErrors     *prometheus.CounterVec   // table
	InsertSeconds    *prometheus.HistogramVec // table
	ConsumerLag      *prometheus.GaugeVec     // stage, topic, partition (set by LagExporter)
	LagRefreshErrors *prometheus.CounterVec   // stage
	DeadLetters      *prometheus.CounterVec   // stage, reason
	FetchErrors      *prometheus.CounterVec   // topic
	CommitErrors     prometheus.Counter
	StageRetries     *prometheus.CounterVec // stage
	// PipelineLatency is, per stage, the wall-clock time from a record's
	// timestamp to the commit of the work it caused (Kafka Streams'
	// record-e2e-latency). Every output carries its input's timestamp,
	// and a source record's is its arrival at baton (the gateway sets it),
	// so at the sink this is "event in a source topic → row queryable in
	// ClickHouse". For a replay or a simulation with timestamps in the
	// past it measures how old the backlog is.
	PipelineLatency *prometheus.HistogramVec // stage
}

// observeLatency records the pipeline latency of the records, with the
// given timestamps, whose work was just committed.
func (m *Metrics) observeLatency(stage string, stamps []time.Time) {
	h := m.PipelineLatency.WithLabelValues(stage)
	now := time.Now()
	for _, t := range stamps {
		h.Observe(now.Sub(t).Seconds())
	}
}

// isEvent reports whether r carries an event: not a transaction marker,
// not one of normalize's markers on the canonical topic.
func isEvent(r *kgo.Record) bool {
	return !r.Attrs.IsControl() && !Marker(r)
}

// NewMetrics creates and registers the collectors.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		RecordsConsumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_records_consumed_total", Help: "Kafka records consumed, by stage and topic.",
		}, []string{"stage", "topic"}),
		RowsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_rows_written_total", Help: "Rows ClickHouse acknowledged, by table.",
		}, []string{"table"}),
		BatchesWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_batches_written_total", Help: "Insert batches ClickHouse acknowledged, by table.",
		}, []string{"table"}),
		InsertErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_insert_errors_total", Help: "Failed ClickHouse insert attempts (each is retried), by table.",
		}, []string{"table"}),
		InsertSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_insert_seconds", Help: "Time to insert one batch into ClickHouse, by table.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"table"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "baton_consumer_lag_records", Help: "Records between the partition's end offset and the offset its stage's consumer group committed (refreshed on a timer, whatever the stage fetches).",
		}, []string{"stage", "topic", "partition"}),
		LagRefreshErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_lag_refresh_errors_total", Help: "Failed refreshes of baton_consumer_lag_records (Kafka did not answer; the last values stay), by stage.",
		}, []string{"stage"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_dead_letters_total", Help: "Records sent to the dead-letter topic, by stage and reason.",
		}, []string{"stage", "reason"}),
		FetchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_fetch_errors_total", Help: "Errors fetching from Kafka, by topic.",
		}, []string{"topic"}),
		CommitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_commit_errors_total", Help: "Failed Kafka offset commits.",
		}),
		StageRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_stage_retries_total", Help: "Errors a stage waited out and retried instead of exiting (a broker, ClickHouse or registry away; a transaction the broker could not end), by stage: a stateful stage starts over on a new session, the sink retries its batch.",
		}, []string{"stage"}),
		PipelineLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_pipeline_latency_seconds", Help: "Wall-clock time from a record's timestamp (its arrival at baton, carried through every stage) to the commit of the work it caused, by stage; at the sink, source event to queryable row.",
			// 2 ms … 68 s in steps of ×1.4 (32 buckets, fine enough for a
			// live p50/p99: histogram_quantile interpolates within a ×1.4
			// bucket), then a coarse tail to 4 days for replays and backlogs.
			Buckets: append(prometheus.ExponentialBuckets(0.002, 1.4, 32),
				120, 300, 600, 1800, 3600, 3*3600, 6*3600, 12*3600, 86400, 2*86400, 4*86400),
		}, []string{"stage"}),
	}
	reg.MustRegister(m.RecordsConsumed, m.RowsWritten, m.BatchesWritten, m.InsertErrors, m.InsertSeconds,
		m.ConsumerLag, m.LagRefreshErrors, m.DeadLetters, m.FetchErrors, m.CommitErrors, m.StageRetries, m.PipelineLatency)
	return m
}
