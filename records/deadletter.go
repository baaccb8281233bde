// Package records builds the Kafka records baton produces outside its
// stages' own outputs, and that the gateway and the stages share: a source
// system's records (validated and encoded for its source topic), dead
// letters (any stage's or the gateway's rejected input, with its reason),
// the size every record must fit, and a bulk producer.
package records

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/schemas"
)

// Dead-letter reasons. Each is a label value of baton_dead_letters_total, so
// the set stays small and stable.
const (
	ReasonUndecodable   = "undecodable"    // not wire format, unknown schema ID, corrupt body
	ReasonInvalidRecord = "invalid_record" // decodes, but lacks what every record must have
	ReasonUnknownTopic  = "unknown_topic"  // consumed from a topic the stage does not handle
	ReasonTooLate       = "too_late"       // timed more than the allowed lateness (--retention) behind its partition's watermark
)

// DeadLetters builds dead-letter records for one stage. A dead letter keeps
// the original key and value bytes untouched plus where they came from and
// why they were rejected, so nothing is lost and a fix can be replayed.
type DeadLetters struct {
	Stage   string
	Topic   string
	Encoder *schemas.Encoder
	// Counter is baton_dead_letters_total{stage, reason}.
	Counter *prometheus.CounterVec
}

// MaxRecordBytes is the largest record baton produces, measured as the
// producer and the broker measure it (RecordBytes): franz-go's default
// ProducerBatchMaxBytes, below Kafka's default max.message.bytes
// (1,048,588). Producers set it explicitly (kgo.ProducerBatchMaxBytes) so
// that this check and theirs agree.
const MaxRecordBytes = 1_000_012

// RecordBytes is r's size as a batch of its own on the wire, what the
// producer compares with its batch limit and the broker with
// max.message.bytes: the v2 batch header, then the record and its varint
// lengths. franz-go counts the same, or a byte less once it knows the
// broker speaks the flexible produce versions.
func RecordBytes(r *kgo.Record) int {
	const batchHeader = 65 // recordBatchOverhead in franz-go, the array length included
	// attributes, timestamp delta and offset delta (0: the batch's first
	// record), then the key, the value and the headers with their lengths
	l := 3 + varintBytes(len(r.Key)) + len(r.Key) + varintBytes(len(r.Value)) + len(r.Value) +
		varintBytes(len(r.Headers))
	for _, h := range r.Headers {
		l += varintBytes(len(h.Key)) + len(h.Key) + varintBytes(len(h.Value)) + len(h.Value)
	}
	return batchHeader + varintBytes(l) + l
}

// varintBytes is the length of n as a zig-zag varint.
func varintBytes(n int) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], int64(n))
}

// Record builds the dead-letter record for a rejected input record, with
// headers added. A dead letter must always fit in a record (a rejection
// that cannot be written is retried for ever, or blocks its stage): when
// the original value would make it larger than MaxRecordBytes, the value
// kept is its first bytes, and the error says so with the whole value's
// size and SHA-256.
func (d *DeadLetters) Record(in *kgo.Record, reason string, cause error, headers ...kgo.RecordHeader) (*kgo.Record, error) {
	rec, err := d.record(in, in.Value, reason, cause.Error(), headers)
	if err != nil {
		return nil, err
	}
	if over := RecordBytes(rec) - MaxRecordBytes; over > 0 {
		keep := max(0, len(in.Value)-over-256) // room for the longer error
		msg := fmt.Sprintf("%s (value truncated to its first %d of %d bytes to fit a Kafka record; SHA-256 of the whole: %x)",
			cause, keep, len(in.Value), sha256.Sum256(in.Value))
		if rec, err = d.record(in, in.Value[:keep], reason, msg, headers); err != nil {
			return nil, err
		}
	}
	d.Counter.WithLabelValues(d.Stage, reason).Inc()
	return rec, nil
}

// record encodes a dead letter of in keeping value.
func (d *DeadLetters) record(in *kgo.Record, value []byte, reason, msg string, headers []kgo.RecordHeader) (*kgo.Record, error) {
	var k, v any
	if in.Key != nil {
		k = map[string]any{"bytes": in.Key}
	}
	if value != nil {
		v = map[string]any{"bytes": value}
	}
	b, err := d.Encoder.Encode(map[string]any{
		"reason":           reason,
		"error":            msg,
		"stage":            d.Stage,
		"source_topic":     in.Topic,
		"source_partition": in.Partition,
		"source_offset":    in.Offset,
		"key":              k,
		"value":            v,
		"failed_at":        time.Now().UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		return nil, fmt.Errorf("dead letter for %s/%d@%d: %w", in.Topic, in.Partition, in.Offset, err)
	}
	return &kgo.Record{Topic: d.Topic, Key: in.Key, Value: b, Headers: headers}, nil
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
