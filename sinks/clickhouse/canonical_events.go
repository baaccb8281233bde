package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// CanonicalEvent is one row of canonical_events (see the migration).
type CanonicalEvent struct {
	OrderID, ShipmentID, TrackingNumber                             string
	SourceSystem, SourceEventID, SourceStatus, CanonicalStatus      string
	LinkedBy, Carrier, TicketID, MessageType, DeliveryStatus        string
	Tags                                                            []string
	OccurredAt, RecordedAt, IngestedAt                              time.Time
	EstimatedDelivery, PromisedShipBy, PromisedDeliverBy, RevisedAt *time.Time
	Position
}

// NewCanonicalEvent projects a decoded canonical event (plain JSON form).
func NewCanonicalEvent(plain map[string]any) (CanonicalEvent, error) {
	str := func(f string) string { return plainString(plain, f) }
	var ev CanonicalEvent
	var err error
	if ev.OccurredAt, err = schemas.PlainTimeField(plain, "occurred_at"); err != nil {
		return ev, err
	}
	if ev.RecordedAt, err = schemas.PlainTimeField(plain, "recorded_at"); err != nil {
		return ev, err
	}
	if ev.IngestedAt, err = schemas.PlainTimeField(plain, "ingested_at"); err != nil {
		return ev, err
	}
	for f, dst := range map[string]**time.Time{"estimated_delivery": &ev.EstimatedDelivery, "promised_ship_by": &ev.PromisedShipBy,
		"promised_deliver_by": &ev.PromisedDeliverBy, "revised_date": &ev.RevisedAt} {
		if *dst, err = plainOptTime(plain, f); err != nil {
			return ev, err
		}
	}
	ev.Tags = plainStrings(plain, "tags")
	ev.OrderID, ev.ShipmentID, ev.TrackingNumber = str("order_id"), str("shipment_id"), str("tracking_number")
	ev.SourceSystem, ev.SourceEventID, ev.SourceStatus, ev.CanonicalStatus = str("source_system"), str("source_event_id"), str("source_status"), str("canonical_status")
	ev.LinkedBy, ev.Carrier, ev.TicketID, ev.MessageType, ev.DeliveryStatus = str("linked_by"), str("carrier"), str("ticket_id"), str("message_type"), str("delivery_status")
	return ev, nil
}

func optMillis(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

const canonicalColumns = "order_id, shipment_id, tracking_number, source_system, source_event_id, source_status, canonical_status, linked_by, occurred_at, occurred_at_ms, recorded_at, recorded_at_ms, ingested_at_ms, carrier, ticket_id, tags, message_type, delivery_status, estimated_delivery_ms, promised_ship_by_ms, promised_deliver_by_ms, revised_date_ms, topic, kafka_partition, kafka_offset"

// InsertCanonicalEvents writes rows in one batch, returning after
// ClickHouse acknowledged it.
func (c *Client) InsertCanonicalEvents(ctx context.Context, rows []CanonicalEvent) error {
	return c.insert(ctx, "canonical_events", canonicalColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return []any{r.OrderID, r.ShipmentID, r.TrackingNumber, r.SourceSystem, r.SourceEventID, r.SourceStatus, r.CanonicalStatus, r.LinkedBy,
			r.OccurredAt.UTC().Truncate(time.Second), r.OccurredAt.UnixMilli(), r.RecordedAt.UTC().Truncate(time.Second), r.RecordedAt.UnixMilli(),
			r.IngestedAt.UnixMilli(), r.Carrier, r.TicketID, nonNil(r.Tags), r.MessageType, r.DeliveryStatus,
			optMillis(r.EstimatedDelivery), optMillis(r.PromisedShipBy), optMillis(r.PromisedDeliverBy), optMillis(r.RevisedAt),
			r.Topic, r.Partition, r.Offset}
	})
}

// insert writes n rows built by row(i) into table in one batch.
func (c *Client) insert(ctx context.Context, table, columns string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+c.table(table)+" ("+columns+")")
	if err != nil {
		return fmt.Errorf("insert %s: prepare: %w", table, err)
	}
	defer batch.Close()
	for i := 0; i < n; i++ {
		if err := batch.Append(row(i)...); err != nil {
			return fmt.Errorf("insert %s: row %d: %w", table, i, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert %s: %d rows: %w", table, n, err)
	}
	return nil
}
