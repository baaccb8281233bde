package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// SourceEvent is one row of source_events: a consumed source record, its
// Kafka coordinates, the linking IDs and times every system shares, and the
// whole record as JSON for anything else.
type SourceEvent struct {
	System string
	Position
	Key            string
	SchemaID       uint32
	EventID        string
	OrderID        string
	ShipmentID     string
	TrackingNumber string
	TicketID       string
	Status         string
	SubStatus      string
	OccurredAt     time.Time
	RecordedAt     time.Time
	KafkaTimestamp time.Time
	Payload        string
}

// NewSourceEvent projects a decoded source record (in plain JSON form, see
// schemas.(*Schema).Plain) onto a source_events row. Fields a system's
// schema lacks are left empty. It fails only when the record lacks the
// times every source schema requires, which a registered schema rules out.
func NewSourceEvent(sys schemas.System, plain map[string]any) (SourceEvent, error) {
	str := func(name string) string { return plainString(plain, name) }
	occurred, err := schemas.PlainTimeField(plain, "occurred_at")
	if err != nil {
		return SourceEvent{}, err
	}
	recorded, err := schemas.PlainTimeField(plain, "recorded_at")
	if err != nil {
		return SourceEvent{}, err
	}
	payload, err := plainJSON(plain)
	if err != nil {
		return SourceEvent{}, fmt.Errorf("%s record: encode payload: %w", sys, err)
	}
	spec, ok := schemas.SpecOf(sys)
	if !ok {
		return SourceEvent{}, fmt.Errorf("unknown system %q", sys)
	}
	return SourceEvent{
		System:         string(sys),
		EventID:        str("event_id"),
		OrderID:        str("order_id"),
		ShipmentID:     str("shipment_id"),
		TrackingNumber: str("tracking_number"),
		TicketID:       str("ticket_id"),
		Status:         str(spec.StatusField),
		SubStatus:      str(spec.DetailField),
		OccurredAt:     occurred,
		RecordedAt:     recorded,
		Payload:        payload,
	}, nil
}

// plainString is a string field of a plain record, "" when absent or null.
// jsonBuffers are plainJSON's scratch buffers.
var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// plainJSON is json.Marshal's text of a plain value (see
// schemas.AppendPlainJSON), without its reflection.
func plainJSON(v any) (string, error) {
	buf := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(buf)
	b, err := schemas.AppendPlainJSON((*buf)[:0], v)
	*buf = b
	return string(b), err
}

func plainString(plain map[string]any, field string) string {
	s, _ := plain[field].(string)
	return s
}

// plainStrings is an array-of-strings field of a plain record.
func plainStrings(plain map[string]any, field string) []string {
	var out []string
	items, _ := plain[field].([]any)
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// plainOptTime is a nullable time field of a plain record: nil when null.
func plainOptTime(plain map[string]any, field string) (*time.Time, error) {
	if plain[field] == nil {
		return nil, nil
	}
	t, err := schemas.PlainTimeField(plain, field)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

const sourceEventColumns = "system, topic, kafka_partition, kafka_offset, record_key, schema_id, event_id, order_id, shipment_id, tracking_number, ticket_id, status, sub_status, occurred_at, occurred_at_ms, recorded_at, recorded_at_ms, kafka_timestamp_ms, ingested_at, payload"

// InsertSourceEvents writes rows in one batch (one INSERT block). It returns
// only after ClickHouse acknowledged the block, so the caller may then
// commit the rows' Kafka offsets.
func (c *Client) InsertSourceEvents(ctx context.Context, rows []SourceEvent) error {
	now := nowSecond()
	return c.insert(ctx, "source_events", sourceEventColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return []any{r.System, r.Topic, r.Partition, r.Offset, r.Key, r.SchemaID,
			r.EventID, r.OrderID, r.ShipmentID, r.TrackingNumber, r.TicketID, r.Status, r.SubStatus,
			r.OccurredAt.UTC().Truncate(time.Second), r.OccurredAt.UnixMilli(),
			r.RecordedAt.UTC().Truncate(time.Second), r.RecordedAt.UnixMilli(),
			r.KafkaTimestamp.UnixMilli(), now, r.Payload}
	})
}

// MaxOffsets returns, per topic and partition, the highest Kafka offset
// stored in a sink table (one with topic, kafka_partition and kafka_offset
// columns). A sink resuming after a crash between its insert and its
// offset commit starts after these, so it does not insert the same batch
// twice.
func (c *Client) MaxOffsets(ctx context.Context, table string, topics []string) (map[string]map[int32]int64, error) {
	out := make(map[string]map[int32]int64)
	if len(topics) == 0 {
		return out, nil
	}
	quoted := make([]string, len(topics))
	for i, t := range topics {
		quoted[i] = quoteString(t)
	}
	q := "SELECT topic, kafka_partition, max(kafka_offset) FROM " + c.table(table) +
		" WHERE topic IN (" + strings.Join(quoted, ", ") + ") GROUP BY topic, kafka_partition"
	rows, err := c.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read stored offsets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			topic string
			part  int32
			off   int64
		)
		if err := rows.Scan(&topic, &part, &off); err != nil {
			return nil, fmt.Errorf("read stored offsets: %w", err)
		}
		if out[topic] == nil {
			out[topic] = make(map[int32]int64)
		}
		out[topic][part] = off
	}
	return out, rows.Err()
}

// quoteString quotes s as a ClickHouse string literal. Used only for values
// baton itself controls (topic names), never for user input.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// nowSecond is the current time at the DateTime column's resolution.
func nowSecond() time.Time { return time.Now().UTC().Truncate(time.Second) }
