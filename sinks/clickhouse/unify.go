package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// OrderTransition is one row of order_transitions (see the migration).
type OrderTransition struct {
	TransitionID, OrderID, ShipmentID, Kind, FromStatus, ToStatus string
	Skipped                                                       []string
	Authority, SourceEventID                                      string
	EventTime, RecordedAt, ProcessedAt                            time.Time
	Position
	Revision
}

// NewOrderTransition projects a decoded order_transition (plain JSON form).
func NewOrderTransition(plain map[string]any) (OrderTransition, error) {
	var t OrderTransition
	var err error
	if t.EventTime, err = schemas.PlainTimeField(plain, "event_time"); err != nil {
		return t, err
	}
	if t.RecordedAt, err = schemas.PlainTimeField(plain, "recorded_at"); err != nil {
		return t, err
	}
	if t.ProcessedAt, err = schemas.PlainTimeField(plain, "processed_at"); err != nil {
		return t, err
	}
	t.Skipped = plainStrings(plain, "skipped")
	t.TransitionID, t.OrderID, t.ShipmentID = plainString(plain, "transition_id"), plainString(plain, "order_id"), plainString(plain, "shipment_id")
	t.Kind, t.FromStatus, t.ToStatus = plainString(plain, "kind"), plainString(plain, "from_status"), plainString(plain, "to_status")
	t.Authority, t.SourceEventID = plainString(plain, "authority"), plainString(plain, "source_event_id")
	t.Revision = revisionOf(plain)
	return t, nil
}

const transitionColumns = "transition_id, order_id, shipment_id, kind, from_status, to_status, skipped, authority, source_event_id, event_time, event_time_ms, recorded_at_ms, processed_at_ms, topic, kafka_partition, kafka_offset" + revisionColumns

// InsertOrderTransitions writes rows in one batch.
func (c *Client) InsertOrderTransitions(ctx context.Context, rows []OrderTransition) error {
	return c.insert(ctx, "order_transitions", transitionColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return r.values(r.TransitionID, r.OrderID, r.ShipmentID, r.Kind, r.FromStatus, r.ToStatus, nonNil(r.Skipped), r.Authority, r.SourceEventID,
			r.EventTime.UTC().Truncate(time.Second), r.EventTime.UnixMilli(), r.RecordedAt.UnixMilli(), r.ProcessedAt.UnixMilli(),
			r.Topic, r.Partition, r.Offset)
	})
}

// OrderState is one row of order_states.
type OrderState struct {
	OrderID, Truth, TruthAuthority    string
	TruthSince                        *time.Time
	ViewsJSON, ShipmentsJSON          string
	ShipmentCount                     int
	PromisedShipBy, PromisedDeliverBy *time.Time
	Transitions                       int
	Closed                            bool
	UpdatedAt                         time.Time
	Position
}

// NewOrderState projects a decoded order_state (plain JSON form).
func NewOrderState(plain map[string]any) (OrderState, error) {
	var s OrderState
	var err error
	if s.UpdatedAt, err = schemas.PlainTimeField(plain, "updated_at"); err != nil {
		return s, err
	}
	for f, dst := range map[string]**time.Time{"truth_since": &s.TruthSince, "promised_ship_by": &s.PromisedShipBy, "promised_deliver_by": &s.PromisedDeliverBy} {
		if *dst, err = plainOptTime(plain, f); err != nil {
			return s, err
		}
	}
	views, err := plainJSON(plain["views"])
	if err != nil {
		return s, fmt.Errorf("order state views: %w", err)
	}
	shipments, _ := plain["shipments"].([]any)
	shipmentsJSON, err := plainJSON(shipments)
	if err != nil {
		return s, fmt.Errorf("order state shipments: %w", err)
	}
	s.OrderID, s.Truth, s.TruthAuthority = plainString(plain, "order_id"), plainString(plain, "truth"), plainString(plain, "truth_authority")
	s.ViewsJSON, s.ShipmentsJSON, s.ShipmentCount = views, shipmentsJSON, len(shipments)
	n, _ := plain["transitions"].(int32)
	s.Transitions = int(n)
	s.Closed, _ = plain["closed"].(bool)
	return s, nil
}

const orderStateColumns = "order_id, truth, truth_authority, truth_since_ms, views_json, shipments_json, shipment_count, promised_ship_by_ms, promised_deliver_by_ms, transitions, closed, updated_at, updated_at_ms, topic, kafka_partition, kafka_offset, version"

// InsertOrderStates writes rows in one batch.
func (c *Client) InsertOrderStates(ctx context.Context, rows []OrderState) error {
	return c.insert(ctx, "order_states", orderStateColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return []any{r.OrderID, r.Truth, r.TruthAuthority, optMillis(r.TruthSince), r.ViewsJSON, r.ShipmentsJSON, uint16(r.ShipmentCount),
			optMillis(r.PromisedShipBy), optMillis(r.PromisedDeliverBy), uint32(r.Transitions), uint8of(r.Closed),
			r.UpdatedAt.UTC().Truncate(time.Second), r.UpdatedAt.UnixMilli(), r.Topic, r.Partition, r.Offset, uint64(r.Offset)}
	})
}

// nonNil returns s, or an empty slice for nil (the driver refuses nil
// arrays).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
