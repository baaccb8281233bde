package pipelines

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/baton-pipeline/baton/pipelines/stream"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// StageMetrics are the collectors every stateful stage shares, labelled by
// stage.
type StageMetrics struct {
	StateEntries   *prometheus.GaugeVec     // stage
	RestoreSeconds *prometheus.HistogramVec // stage
	Transactions   *prometheus.CounterVec   // stage, outcome (committed, aborted)
	EventTime      *EventTimeMetrics
}

// NewStageMetrics creates and registers the collectors.
func NewStageMetrics(reg prometheus.Registerer) *StageMetrics {
	m := &StageMetrics{
		StateEntries: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "baton_state_entries",
			Help: "Entries in a stage's state store (normalize: links, held scans, dedupe keys; unify: open orders), for the partitions this process owns."}, []string{"stage"}),
		RestoreSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "baton_state_restore_seconds",
			Help: "Time to restore one partition's state from its changelog topic.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"stage"}),
		Transactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_transactions_total",
			Help: "Kafka transactions of a stage by outcome (committed, aborted, fenced); an aborted or fenced one has its input processed again."}, []string{"stage", "outcome"}),
	}
	reg.MustRegister(m.StateEntries, m.RestoreSeconds, m.Transactions)
	m.EventTime = NewEventTimeMetrics(reg)
	return m
}

// StageConfig is what every stateful stage is configured with.
type StageConfig struct {
	Brokers []string
	Topics  topology.Topics
	// Group is the stage's consumer group (StageGroup(appID, stage));
	// every transactional ID derives from it.
	Group string
	// Encoders by topic name, for every topic the stage produces to
	// (the dead-letter topic included).
	Encoders       map[string]*schemas.Encoder
	Decoder        *schemas.Decoder
	Metrics        *Metrics
	StageMetrics   *StageMetrics
	SessionTimeout time.Duration
	// UntilCaughtUp stops the stage once it has processed everything its
	// inputs held when it started, or, with Upstream, when Upstream closed.
	UntilCaughtUp bool
	// Upstream, optional with UntilCaughtUp, closes when the stage before
	// this one in the same run has caught up: until then the stage's
	// inputs still grow, so it processes what comes and takes its target
	// only then. Stages run at once this way, instead of one after another.
	Upstream <-chan struct{}
	// Stalls, optional, learns which of the stage's restores make no
	// progress, and that the stage is running.
	Stalls *stream.Stalls
	Logger *slog.Logger
}

// deadLetters is the stage's dead-letter producer.
func (c *StageConfig) deadLetters(stage string) *records.DeadLetters {
	return &records.DeadLetters{Stage: stage, Topic: c.Topics.Name(topology.DeadLetter), Encoder: c.Encoders[c.Topics.Name(topology.DeadLetter)], Counter: c.Metrics.DeadLetters}
}

// newStageConfig fills c's defaults (group, logger) and returns the
// runtime's config of the declared stage (its name, inputs and changelog)
// with the fields every stage shares; the caller adds its processor hooks.
func newStageConfig[S any](c *StageConfig, decl topology.Stage) stream.Config[S] {
	stage, changelog, inputs := decl.Name, c.Topics.Name(decl.Changelog), decl.InputNames(c.Topics)
	if c.Group == "" {
		c.Group = StageGroup(DefaultAppID, stage)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	m := stream.Metrics{
		RecordsConsumed: c.Metrics.RecordsConsumed, Retries: c.Metrics.StageRetries, FetchErrors: c.Metrics.FetchErrors,
		Latency:      c.Metrics.PipelineLatency,
		StateEntries: c.StageMetrics.StateEntries, RestoreSeconds: c.StageMetrics.RestoreSeconds, Transactions: c.StageMetrics.Transactions,
		SetWatermark: c.StageMetrics.EventTime.SetWatermark,
	}
	return stream.Config[S]{
		Name: stage, Brokers: c.Brokers, Group: c.Group, Inputs: inputs, Changelog: changelog,
		SessionTimeout: c.SessionTimeout, Upstream: c.Upstream, Partitioner: routePartitioner{},
		Metrics: m, Stalls: c.Stalls, Logger: c.Logger, Measured: isEvent,
	}
}

// decode decodes a wire-format value, waiting out a registry that is
// briefly away. A value that can never decode returns at once with an
// error matching schemas.ErrUndecodable; any other error means ctx ended
// first.
func decode(ctx context.Context, log *slog.Logger, dec *schemas.Decoder, value []byte) (schemas.Decoded, error) {
	var out schemas.Decoded
	err := stream.Retry(ctx, log, "decode", func() error {
		var err error
		out, err = dec.Decode(ctx, value)
		if errors.Is(err, schemas.ErrUndecodable) {
			return stream.Permanent(err)
		}
		return err
	})
	return out, err
}
