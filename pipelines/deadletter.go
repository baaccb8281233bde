package pipelines

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/schemas"
)

// Dead-letter reasons. Each is a label value of baton_dead_letters_total, so
// the set stays small and stable.
const (
	ReasonUndecodable   = "undecodable"    // not wire format, unknown schema ID, corrupt body
	ReasonInvalidRecord = "invalid_record" // decodes, but lacks what every record must have
	ReasonUnknownTopic  = "unknown_topic"  // consumed from a topic the stage does not handle
)

// DeadLetters builds dead-letter records for one stage. A dead letter keeps
// the original key and value bytes untouched plus where they came from and
// why they were rejected, so nothing is lost and a fix can be replayed.
type DeadLetters struct {
	Stage   string
	Topic   string
	Encoder *schemas.Encoder
	Metrics *Metrics
}

// Record builds the dead-letter record for a rejected input record.
func (d *DeadLetters) Record(in *kgo.Record, reason string, cause error) (*kgo.Record, error) {
	var key, value any
	if in.Key != nil {
		key = map[string]any{"bytes": in.Key}
	}
	if in.Value != nil {
		value = map[string]any{"bytes": in.Value}
	}
	b, err := d.Encoder.Encode(map[string]any{
		"reason":           reason,
		"error":            cause.Error(),
		"stage":            d.Stage,
		"source_topic":     in.Topic,
		"source_partition": in.Partition,
		"source_offset":    in.Offset,
		"key":              key,
		"value":            value,
		"failed_at":        time.Now().UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		return nil, fmt.Errorf("dead letter for %s/%d@%d: %w", in.Topic, in.Partition, in.Offset, err)
	}
	d.Metrics.DeadLetters.WithLabelValues(d.Stage, reason).Inc()
	return &kgo.Record{Topic: d.Topic, Key: in.Key, Value: b}, nil
}

// Emit builds in's dead letter and hands it to produce (a stage's
// transactional producer), so the rejection commits with the batch.
func (d *DeadLetters) Emit(in *kgo.Record, reason string, cause error, produce func(*kgo.Record)) error {
	dl, err := d.Record(in, reason, cause)
	if err != nil {
		return err
	}
	produce(dl)
	return nil
}

// Produce writes dead-letter records and waits until Kafka acknowledged all
// of them, so the caller may then commit the inputs' offsets.
func (d *DeadLetters) Produce(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce %d dead letters to %s: %w", len(recs), d.Topic, err)
	}
	return nil
}
