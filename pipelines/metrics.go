package pipelines

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pipeline's Prometheus collectors. They are registered on
// the Registerer the caller passes, never the global registry, so tests and
// several pipelines in one process do not collide.
type Metrics struct {
	RecordsConsumed *prometheus.CounterVec   // stage, topic
	RowsWritten     *prometheus.CounterVec   // table
	BatchesWritten  *prometheus.CounterVec   // table
	InsertErrors    *prometheus.CounterVec   // table
	InsertSeconds   *prometheus.HistogramVec // table
	ConsumerLag     *prometheus.GaugeVec     // stage, topic, partition
	DeadLetters     *prometheus.CounterVec   // stage, reason
	FetchErrors     *prometheus.CounterVec   // topic
	CommitErrors    prometheus.Counter
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
			Name: "baton_consumer_lag_records", Help: "Records between the partition's high watermark and the last record a stage consumed.",
		}, []string{"stage", "topic", "partition"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_dead_letters_total", Help: "Records sent to the dead-letter topic, by stage and reason.",
		}, []string{"stage", "reason"}),
		FetchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_fetch_errors_total", Help: "Errors fetching from Kafka, by topic.",
		}, []string{"topic"}),
		CommitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_commit_errors_total", Help: "Failed Kafka offset commits.",
		}),
	}
	reg.MustRegister(m.RecordsConsumed, m.RowsWritten, m.BatchesWritten, m.InsertErrors, m.InsertSeconds,
		m.ConsumerLag, m.DeadLetters, m.FetchErrors, m.CommitErrors)
	return m
}
