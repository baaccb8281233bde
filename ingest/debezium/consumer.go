package debezium

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/ingest"
)

// ConsumerConfig configures RunConsumer.
type ConsumerConfig struct {
	// Brokers is the bootstrap list of the Kafka cluster Debezium (Kafka
	// Connect) writes to.
	Brokers []string
	// Topic is the order table's change topic, e.g. "oms.public.orders".
	Topic string
	// Group is the consumer group; processes sharing it share the topic's
	// partitions.
	Group string
	// Adapter turns each record into oms events.
	Adapter *Adapter
	// Handler verifies, adapts, produces or dead-letters each record, the
	// same way the gateway handles an HTTP delivery.
	Handler ingest.Handler
	Logger  *slog.Logger
}

// Retry backoff for records the handler could not produce (status 503).
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// pollRecords bounds one batch: one commit per batch.
const pollRecords = 1000

// RunConsumer consumes the Debezium change topic and hands every record to
// cfg.Handler as a trusted delivery (Body the record value, Received the
// record's timestamp, Origin the record), until ctx is cancelled; it then
// commits what was handled and returns nil. It returns an error only for a
// configuration or client error at start.
//
// Delivery is at least once and in order per partition: offsets are
// committed by hand after each polled batch, and only up to the last record
// the handler finished. A 503 outcome (Kafka unavailable for the produce) is
// retried with exponential backoff (100 ms to 5 s) for as long as it takes:
// committing past it would lose the change. Any other outcome means the
// handler produced the events or dead-lettered the record with a reason,
// so the consumer moves on. Rebalances wait for the batch in flight
// (BlockRebalanceOnPoll), so a partition never moves with handled but
// uncommitted records; a redelivery after a crash de-duplicates downstream
// by event_id. The consumer reads committed records only (read_committed),
// so aborted Kafka Connect transactions are never ingested.
func RunConsumer(ctx context.Context, cfg ConsumerConfig) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("vendor", Vendor, "topic", cfg.Topic, "group", cfg.Group)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("baton-ingest-debezium"),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		// A new group starts at the beginning: the topic's history is the
		// order table's history (and Debezium's snapshot), none to skip.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
	)
	if err != nil {
		return fmt.Errorf("debezium consumer: kafka client: %w", err)
	}
	defer cl.Close()
	log.Info("consuming Debezium change events")

	for {
		fetches := cl.PollRecords(ctx, pollRecords)
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			log.Warn("fetch error", "partition", p, "err", err)
		})
		var handled []*kgo.Record // the last finished record of each partition
		stopped := false
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			var last *kgo.Record
			for _, r := range p.Records {
				if stopped {
					break
				}
				if !handle(ctx, cfg, log, r) {
					stopped = true
					break
				}
				last = r
			}
			if last != nil {
				handled = append(handled, last)
			}
		})
		if len(handled) > 0 {
			// Commit even when ctx is done: the work is done and must not be
			// redone. A failed commit means a redelivery, which de-duplicates.
			commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := cl.CommitRecords(commitCtx, handled...); err != nil {
				log.Warn("offset commit failed; the batch will be redelivered", "err", err)
			}
			cancel()
		}
		cl.AllowRebalance()
		if stopped || ctx.Err() != nil {
			log.Info("Debezium consumer stopped: handled records committed")
			return nil
		}
	}
}

// handle hands one record to the handler, retrying while it answers 503.
// It returns false when ctx ended before the record was handled.
func handle(ctx context.Context, cfg ConsumerConfig, log *slog.Logger, r *kgo.Record) bool {
	req := ingest.Request{Header: http.Header{}, Body: r.Value, Received: r.Timestamp, Trusted: true, Origin: r}
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		out := cfg.Handler.Handle(ctx, cfg.Adapter, req)
		switch {
		case out.Status == http.StatusServiceUnavailable:
			log.Warn("handler could not produce; retrying", "partition", r.Partition, "offset", r.Offset, "attempt", attempt, "backoff", backoff, "err", out.Err)
			select {
			case <-ctx.Done():
				return false
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		case out.Status >= 300:
			log.Warn("change event not ingested (dead-lettered by the handler)", "partition", r.Partition, "offset", r.Offset, "status", out.Status, "err", out.Err)
		}
		return true
	}
}

func (c ConsumerConfig) validate() error {
	var missing []string
	if len(c.Brokers) == 0 {
		missing = append(missing, "Brokers")
	}
	if c.Topic == "" {
		missing = append(missing, "Topic")
	}
	if c.Group == "" {
		missing = append(missing, "Group")
	}
	if c.Adapter == nil {
		missing = append(missing, "Adapter")
	}
	if c.Handler == nil {
		missing = append(missing, "Handler")
	}
	if len(missing) > 0 {
		return fmt.Errorf("debezium consumer: config needs %v", missing)
	}
	return c.Adapter.cols.Validate()
}
