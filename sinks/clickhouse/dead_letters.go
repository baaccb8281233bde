package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// DeadLetter is one row of dead_letters.
type DeadLetter struct {
	Stage, Reason, Error string
	SourceTopic          string
	SourcePartition      int32
	SourceOffset         int64
	FailedAt             time.Time
	KeyBase64            string
	ValueBase64          string
	Position
}

// NewDeadLetter projects a decoded dead letter (plain JSON form).
func NewDeadLetter(plain map[string]any) (DeadLetter, error) {
	str := func(f string) string { return plainString(plain, f) }
	num := func(f string) int64 {
		switch v := plain[f].(type) {
		case int32:
			return int64(v)
		case int64:
			return v
		}
		return 0
	}
	at, err := schemas.PlainTimeField(plain, "failed_at")
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter: %w", err)
	}
	return DeadLetter{Stage: str("stage"), Reason: str("reason"), Error: str("error"), SourceTopic: str("source_topic"),
		SourcePartition: int32(num("source_partition")), SourceOffset: num("source_offset"), FailedAt: at,
		KeyBase64: str("key"), ValueBase64: str("value")}, nil
}

const deadLetterColumns = "stage, reason, error, source_topic, source_partition, source_offset, failed_at, failed_at_ms, key_base64, value_base64, topic, kafka_partition, kafka_offset"

// InsertDeadLetters writes rows in one batch.
func (c *Client) InsertDeadLetters(ctx context.Context, rows []DeadLetter) error {
	return c.insert(ctx, "dead_letters", deadLetterColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return []any{r.Stage, r.Reason, r.Error, r.SourceTopic, r.SourcePartition, r.SourceOffset,
			r.FailedAt.UTC().Truncate(time.Second), r.FailedAt.UnixMilli(), r.KeyBase64, r.ValueBase64, r.Topic, r.Partition, r.Offset}
	})
}
