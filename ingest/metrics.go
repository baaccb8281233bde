package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the gateway's Prometheus collectors, registered on the
// Registerer the caller passes (never the global registry).
type Metrics struct {
	// Requests counts deliveries by vendor and outcome (see the Outcome*
	// constants). Unknown vendors are counted under vendor "unknown" so a
	// scanner cannot blow up the label set.
	Requests *prometheus.CounterVec
	// SignatureFailures counts deliveries refused with 401, by vendor: a
	// rising rate means a rotated secret or forged traffic.
	SignatureFailures *prometheus.CounterVec
	// ProduceSeconds is the time from handing a delivery's records to the
	// producer until Kafka acknowledged all of them (or the attempt gave up).
	ProduceSeconds *prometheus.HistogramVec
	// DeadLetters is baton_dead_letters_total{stage,reason}, shared with the
	// pipeline's collectors when both run on one registry.
	DeadLetters *prometheus.CounterVec
	// KafkaReady is 1 while the gateway has started (topics and schemas)
	// and Kafka answered its last check, 0 while deliveries get 503.
	KafkaReady prometheus.Gauge
}

// NewMetrics creates and registers the gateway's collectors. deadLetters,
// if not nil, is an already registered baton_dead_letters_total (for
// example pipelines.Metrics.DeadLetters) that the gateway counts into
// instead of registering the same name a second time.
func NewMetrics(reg prometheus.Registerer, deadLetters *prometheus.CounterVec) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_webhook_requests_total", Help: "Webhook deliveries, by vendor and outcome.",
		}, []string{"vendor", "outcome"}),
		SignatureFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_webhook_signature_failures_total", Help: "Webhook deliveries refused for a missing, forged or stale signature, by vendor.",
		}, []string{"vendor"}),
		ProduceSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_webhook_produce_seconds", Help: "Time until Kafka acknowledged every record of one delivery, by vendor.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"vendor"}),
		DeadLetters: deadLetters,
		KafkaReady: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "baton_ingest_kafka_ready", Help: "1 while the gateway can produce to Kafka (started, and Kafka answered its last check), else 0.",
		}),
	}
	cs := []prometheus.Collector{m.Requests, m.SignatureFailures, m.ProduceSeconds, m.KafkaReady}
	if m.DeadLetters == nil {
		m.DeadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_dead_letters_total", Help: "Records sent to the dead-letter topic, by stage and reason.",
		}, []string{"stage", "reason"})
		cs = append(cs, m.DeadLetters)
	}
	reg.MustRegister(cs...)
	return m
}
