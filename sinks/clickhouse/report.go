package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// SystemSummary is one system's line of the report.
type SystemSummary struct {
	System string `json:"system"`
	// Events counts records stored, once each (FINAL collapses re-inserts).
	Events uint64 `json:"events"`
	// UniqueEvents counts distinct source event IDs: Events minus this is how
	// many duplicate deliveries the source sent.
	UniqueEvents uint64 `json:"unique_events"`
	// Orders counts distinct order IDs the system's records carry (carrier
	// scans usually carry none until resolved: see TrackingNumbers).
	Orders          uint64    `json:"orders"`
	TrackingNumbers uint64    `json:"tracking_numbers"`
	FirstOccurred   time.Time `json:"first_occurred_at"`
	LastOccurred    time.Time `json:"last_occurred_at"`
}

// Report is what `baton report` prints.
type Report struct {
	Systems     []SystemSummary `json:"systems"`
	TotalEvents uint64          `json:"total_events"`
	// OrdersSeen counts distinct order IDs across every system.
	OrdersSeen uint64 `json:"orders_seen"`
}

// Report summarises source_events per system.
func (c *Client) Report(ctx context.Context) (Report, error) {
	var rep Report
	rows, err := c.conn.Query(ctx, `SELECT system, count(), uniqExact(event_id),
		uniqExactIf(order_id, order_id != ''), uniqExactIf(tracking_number, tracking_number != ''),
		min(occurred_at), max(occurred_at)
		FROM `+c.table("source_events")+` FINAL GROUP BY system ORDER BY system`)
	if err != nil {
		return rep, fmt.Errorf("report: events per system: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s SystemSummary
		if err := rows.Scan(&s.System, &s.Events, &s.UniqueEvents, &s.Orders, &s.TrackingNumbers, &s.FirstOccurred, &s.LastOccurred); err != nil {
			return rep, fmt.Errorf("report: events per system: %w", err)
		}
		rep.TotalEvents += s.Events
		rep.Systems = append(rep.Systems, s)
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	row := c.conn.QueryRow(ctx, "SELECT uniqExactIf(order_id, order_id != '') FROM "+c.table("source_events"))
	if err := row.Scan(&rep.OrdersSeen); err != nil {
		return rep, fmt.Errorf("report: orders seen: %w", err)
	}
	return rep, nil
}
