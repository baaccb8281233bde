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
	// Orders counts the distinct orders the system's events were resolved
	// to: the order IDs of its canonical events. A carrier scan counts for
	// the order its tracking number was linked to, whatever order ID (if
	// any) the raw scan carries; records dead-lettered or still held count
	// for none. Counting the raw records' order IDs instead would say the
	// carrier saw almost no orders, since scans name tracking numbers.
	Orders          uint64    `json:"orders"`
	TrackingNumbers uint64    `json:"tracking_numbers"`
	FirstOccurred   time.Time `json:"first_occurred_at"`
	LastOccurred    time.Time `json:"last_occurred_at"`
}

// StatusCount is how many canonical events carry one canonical status
// ("" when the source event carries no order status).
type StatusCount struct {
	Status string `json:"status"`
	Events uint64 `json:"events"`
	Orders uint64 `json:"orders"`
}

// DeadLetterCount is how many records one stage rejected for one reason.
type DeadLetterCount struct {
	Stage   string `json:"stage"`
	Reason  string `json:"reason"`
	Records uint64 `json:"records"`
}

// TruthCount is how many orders currently have one truth status.
type TruthCount struct {
	Truth  string `json:"truth"`
	Orders uint64 `json:"orders"`
}

// HourCount is how many transitions happened (event time) in one hour.
type HourCount struct {
	Hour        time.Time `json:"hour"`
	Transitions uint64    `json:"transitions"`
}

// Report is what `baton report` prints.
type Report struct {
	Systems     []SystemSummary `json:"systems"`
	TotalEvents uint64          `json:"total_events"`
	// OrdersSeen counts distinct order IDs written in any system's source
	// records (resolved or not: a record dead-lettered still names its
	// order).
	OrdersSeen uint64 `json:"orders_seen"`
	// CanonicalEvents counts the normalize stage's output, and Statuses
	// splits it by canonical status.
	CanonicalEvents uint64        `json:"canonical_events"`
	Statuses        []StatusCount `json:"canonical_statuses"`
	// DeadLetters counts rejected records by stage and reason.
	DeadLetters []DeadLetterCount `json:"dead_letters"`
	// Truths counts orders by their current truth (latest order state).
	Truths []TruthCount `json:"orders_by_truth"`
	// TransitionsPerHour covers the last ReportHours hours of event time
	// that have transitions, oldest first.
	TransitionsPerHour []HourCount `json:"transitions_per_hour"`
}

// ReportHours is how many of the latest hours with transitions the report
// lists.
const ReportHours = 24

// Report summarises what the pipeline stored: source records per system
// (with the orders each system's events were resolved to), canonical
// statuses, dead letters, orders by truth and transitions per hour.
func (c *Client) Report(ctx context.Context) (Report, error) {
	var rep Report
	all := window{}
	// One line per system with source records; the orders come from
	// canonical_events, whose source_system names the same systems (a
	// system none of whose records became canonical has 0). Both sides
	// are aliased subqueries: ClickHouse 26.x refuses ANY LEFT JOIN …
	// USING on an unaliased one, which 18.16 accepts.
	err := c.scanQuery(ctx, "stored_events_by_system", all, func(scan func(...any) error) error {
		var s SystemSummary
		if err := scan(&s.System, &s.Events, &s.UniqueEvents, &s.Orders, &s.TrackingNumbers, &s.FirstOccurred, &s.LastOccurred); err != nil {
			return err
		}
		rep.TotalEvents += s.Events
		rep.Systems = append(rep.Systems, s)
		return nil
	})
	if err != nil {
		return rep, err
	}
	err = c.scanQuery(ctx, "stored_orders_seen", all, func(scan func(...any) error) error {
		return scan(&rep.OrdersSeen)
	})
	if err != nil {
		return rep, err
	}
	err = c.scanQuery(ctx, "stored_canonical_statuses", all, func(scan func(...any) error) error {
		var s StatusCount
		if err := scan(&s.Status, &s.Events, &s.Orders); err != nil {
			return err
		}
		rep.CanonicalEvents += s.Events
		rep.Statuses = append(rep.Statuses, s)
		return nil
	})
	if err != nil {
		return rep, err
	}
	err = c.scanQuery(ctx, "stored_dead_letters", all, func(scan func(...any) error) error {
		var d DeadLetterCount
		if err := scan(&d.Stage, &d.Reason, &d.Records); err != nil {
			return err
		}
		rep.DeadLetters = append(rep.DeadLetters, d)
		return nil
	})
	if err != nil {
		return rep, err
	}
	err = c.scanQuery(ctx, "stored_orders_by_truth", all, func(scan func(...any) error) error {
		var t TruthCount
		if err := scan(&t.Truth, &t.Orders); err != nil {
			return err
		}
		rep.Truths = append(rep.Truths, t)
		return nil
	})
	if err != nil {
		return rep, err
	}
	err = c.scanQuery(ctx, "stored_transitions_per_hour", all, func(scan func(...any) error) error {
		var h HourCount
		if err := scan(&h.Hour, &h.Transitions); err != nil {
			return err
		}
		rep.TransitionsPerHour = append(rep.TransitionsPerHour, h)
		return nil
	})
	return rep, err
}

// scanEach runs query with args bound to its `?` placeholders (quoted by
// the driver) and hands each row's Scan to row; what names the query in
// errors.
func (c *Client) scanEach(ctx context.Context, what, query string, row func(scan func(...any) error) error, args ...any) error {
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
