package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// The read side of one order (`baton serve`): everything the pipeline stored
// about it, read by order ID. Every table is ordered by order_id first, so
// a read of a table by it is a range read of a few granules, not a scan
// (for the correctable tables, see orderLatest).

// ErrNoOrder is returned by Order for an order ID no table knows.
var ErrNoOrder = errors.New("no such order")

// OrderRecord is everything stored about one order. State is nil when the
// unify stage has stored no state for it (only canonical events exist).
type OrderRecord struct {
	State       *OrderState
	Transitions []OrderTransition // by event time
	Checks      []SyncCheck       // closed checks, by truth_at
	Failed      []FailedSync      // by detected_at
	Notices     []DelayNotice     // the latest version of each, by detected_at
	Tickets     []WismoTicket     // the first record of each ticket, by ticket_at
	Events      []CanonicalEvent  // by occurred_at; only the columns Order reads
}

// The five tables a late event can correct or retract (order_transitions,
// sync_checks, failed_syncs, delay_notices, wismo_tickets) are read as
// their *_latest views define a current record (migration 0007: the
// latest version of each ID, retractions dropped), restricted to one
// order: orderLatest. ClickHouse 18.16 does not push a WHERE on a view into
// the view's FINAL read (one order through a view collapses the whole
// table), so the order is selected in a PREWHERE of the table's own FINAL
// read. That keeps the view's answer: order_id leads every one of these
// tables' sorting keys, so every version of a record has its order's ID
// and the collapse sees them all; retracted, which differs between
// versions, is filtered only after it.

// orderLatest is the FROM clause of one order's current records of table
// (one ? placeholder: the order ID).
func (c *Client) orderLatest(table string) string {
	return "(SELECT * FROM " + c.table(table) + " FINAL PREWHERE order_id = ?) WHERE retracted = 0"
}

// pointQuery is the context of a one-order query: one thread (a range read
// of a few granules gains nothing from more, and many run at once), blocks
// of 1,024 rows (the PREWHERE of order_states and canonical_events then
// skips most of a granule's wide columns: order_states 13 ms → 4 ms per
// order on 18.16) and ClickHouse's uncompressed-block cache, which keeps hot
// granules decompressed.
func pointQuery(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{"max_threads": 1, "max_block_size": 1024, "use_uncompressed_cache": 1}))
}

// Order reads everything stored about orderID; ErrNoOrder when nothing is.
// orderID is bound as a query parameter (quoted by the driver), never
// concatenated. The seven reads run at once, each into its own part
// of the record: an answer takes as long as the slowest, not their sum.
func (c *Client) Order(ctx context.Context, orderID string) (OrderRecord, error) {
	ctx = pointQuery(ctx)
	var rec OrderRecord
	reads := []func(context.Context, string, *OrderRecord) error{
		c.readOrderState, c.readTransitions, c.readChecks, c.readFailed, c.readNotices, c.readTickets, c.readEvents,
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read(ctx, orderID, &rec) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rec, fmt.Errorf("order %q: %w", orderID, err)
	}
	if rec.State == nil && len(rec.Events) == 0 && len(rec.Transitions) == 0 {
		return rec, ErrNoOrder
	}
	return rec, nil
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func optFromMillis(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := fromMillis(*ms)
	return &t
}

func optFromSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (c *Client) readOrderState(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "order state", `SELECT truth, truth_authority, truth_since_ms, views_json, shipments_json, shipment_count,
		promised_ship_by_ms, promised_deliver_by_ms, transitions, closed, updated_at_ms
		FROM `+c.table("order_states")+` FINAL PREWHERE order_id = ?`,
		func(scan func(...any) error) error {
			s := OrderState{OrderID: id}
			var since, shipBy, deliverBy *int64
			var count uint16
			var transitions uint32
			var closed uint8
			var updated int64
			if err := scan(&s.Truth, &s.TruthAuthority, &since, &s.ViewsJSON, &s.ShipmentsJSON, &count, &shipBy, &deliverBy, &transitions, &closed, &updated); err != nil {
				return err
			}
			s.TruthSince, s.PromisedShipBy, s.PromisedDeliverBy = optFromMillis(since), optFromMillis(shipBy), optFromMillis(deliverBy)
			s.ShipmentCount, s.Transitions, s.Closed, s.UpdatedAt = int(count), int(transitions), closed == 1, fromMillis(updated)
			rec.State = &s
			return nil
		}, id)
}

func (c *Client) readTransitions(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "transitions", `SELECT transition_id, shipment_id, kind, from_status, to_status, skipped, authority, source_event_id,
		event_time_ms, recorded_at_ms, processed_at_ms
		FROM `+c.orderLatest("order_transitions")+`
		ORDER BY event_time_ms, transition_id`,
		func(scan func(...any) error) error {
			t := OrderTransition{OrderID: id}
			var event, recorded, processed int64
			if err := scan(&t.TransitionID, &t.ShipmentID, &t.Kind, &t.FromStatus, &t.ToStatus, &t.Skipped, &t.Authority, &t.SourceEventID,
				&event, &recorded, &processed); err != nil {
				return err
			}
			t.EventTime, t.RecordedAt, t.ProcessedAt = fromMillis(event), fromMillis(recorded), fromMillis(processed)
			rec.Transitions = append(rec.Transitions, t)
			return nil
		}, id)
}

func (c *Client) readChecks(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "sync checks", `SELECT check_id, viewer, expected_status, opened_by, truth_at_ms, deadline_ms, truth_authority,
		carrier, outcome, shown_status, shown_at_ms, latency_ms, closed_at_ms
		FROM `+c.orderLatest("sync_checks")+`
		ORDER BY truth_at_ms, check_id`,
		func(scan func(...any) error) error {
			k := SyncCheck{OrderID: id}
			var truthAt, deadline, closed int64
			var shown *int64
			if err := scan(&k.CheckID, &k.Viewer, &k.ExpectedStatus, &k.OpenedBy, &truthAt, &deadline, &k.TruthAuthority,
				&k.Carrier, &k.Outcome, &k.ShownStatus, &shown, &k.LatencyMillis, &closed); err != nil {
				return err
			}
			k.TruthAt, k.Deadline, k.ShownAt, k.ClosedAt = fromMillis(truthAt), fromMillis(deadline), optFromMillis(shown), fromMillis(closed)
			rec.Checks = append(rec.Checks, k)
			return nil
		}, id)
}

func (c *Client) readFailed(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "failed syncs", `SELECT check_id, viewer, reason, expected_status, shown_status, truth_at_ms, deadline_ms,
		detected_at_ms, truth_authority, carrier
		FROM `+c.orderLatest("failed_syncs")+`
		ORDER BY detected_at_ms, check_id`,
		func(scan func(...any) error) error {
			f := FailedSync{OrderID: id}
			var truthAt, deadline, detected int64
			if err := scan(&f.CheckID, &f.Viewer, &f.Reason, &f.ExpectedStatus, &f.ShownStatus, &truthAt, &deadline, &detected,
				&f.TruthAuthority, &f.Carrier); err != nil {
				return err
			}
			f.TruthAt, f.Deadline, f.DetectedAt = fromMillis(truthAt), fromMillis(deadline), fromMillis(detected)
			rec.Failed = append(rec.Failed, f)
			return nil
		}, id)
}

func (c *Client) readNotices(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "delay notices", `SELECT notice_id, reason, promise, renews, original_promise, promise_is_default, missed_promise,
		revised_date, no_revised_date_reason, shipment_id, carrier, cause_authority, known_at, notify_by_ms, detected_at,
		may_cancel, refund_due, refund_due_reason, state, outcome, notified, notified_at, notified_via, closed_at, version
		FROM `+c.orderLatest("delay_notices")+` ORDER BY detected_at, notice_id`,
		func(scan func(...any) error) error {
			n := DelayNotice{OrderID: id}
			var isDefault, mayCancel, refundDue, notified uint8
			var notifyBy int64
			if err := scan(&n.NoticeID, &n.Reason, &n.Promise, &n.Renews, &n.OriginalPromise, &isDefault, &n.MissedPromise,
				&n.RevisedDate, &n.NoRevisedDateReason, &n.ShipmentID, &n.Carrier, &n.CauseAuthority, &n.KnownAt, &notifyBy, &n.DetectedAt,
				&mayCancel, &refundDue, &n.RefundDueReason, &n.State, &n.Outcome, &notified, &n.NotifiedAt, &n.NotifiedVia, &n.ClosedAt, &n.Version); err != nil {
				return err
			}
			n.PromiseIsDefault, n.MayCancel, n.RefundDue, n.Notified = isDefault == 1, mayCancel == 1, refundDue == 1, notified == 1
			n.NotifyBy, n.KnownAt, n.DetectedAt = fromMillis(notifyBy), n.KnownAt.UTC(), n.DetectedAt.UTC()
			for _, t := range []**time.Time{&n.OriginalPromise, &n.MissedPromise, &n.RevisedDate, &n.NotifiedAt, &n.ClosedAt} {
				*t = optFromSecond(*t)
			}
			rec.Notices = append(rec.Notices, n)
			return nil
		}, id)
}

// readTickets keeps each ticket's first record (the earliest ticket_at),
// as the monthly review counts it (migration 0006: a repeat is attributed
// without the order's history).
func (c *Client) readTickets(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "wismo tickets", `SELECT ticket_id, classified_by, matched, ticket_at_ms, cause, link, viewer, out_of_sync_since,
		check_id, failed_sync_reason, expected_status, shown_status, delay_reason, problem_status, problem_since, truth_status, truth_since
		FROM `+c.orderLatest("wismo_tickets")+` ORDER BY ticket_at_ms, ticket_id LIMIT 1 BY ticket_id`,
		func(scan func(...any) error) error {
			w := WismoTicket{OrderID: id}
			var at int64
			if err := scan(&w.TicketID, &w.ClassifiedBy, &w.Matched, &at, &w.Cause, &w.Link, &w.Viewer, &w.OutOfSyncSince,
				&w.CheckID, &w.FailedSyncReason, &w.ExpectedStatus, &w.ShownStatus, &w.DelayReason, &w.ProblemStatus, &w.ProblemSince,
				&w.TruthStatus, &w.TruthSince); err != nil {
				return err
			}
			w.TicketAt = fromMillis(at)
			for _, t := range []**time.Time{&w.OutOfSyncSince, &w.ProblemSince, &w.TruthSince} {
				*t = optFromSecond(*t)
			}
			rec.Tickets = append(rec.Tickets, w)
			return nil
		}, id)
}

// readEvents reads the order's canonical events: the source codes behind
// the transitions, the carriers and tracking numbers of the shipments, the
// help-desk tickets. The normalize output is not retracted, so it is read
// with FINAL alone.
func (c *Client) readEvents(ctx context.Context, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "canonical events", `SELECT shipment_id, tracking_number, source_system, source_event_id, source_status,
		canonical_status, carrier, ticket_id, occurred_at_ms, recorded_at_ms
		FROM `+c.table("canonical_events")+` FINAL PREWHERE order_id = ? ORDER BY occurred_at_ms, source_event_id`,
		func(scan func(...any) error) error {
			e := CanonicalEvent{OrderID: id}
			var occurred, recorded int64
			if err := scan(&e.ShipmentID, &e.TrackingNumber, &e.SourceSystem, &e.SourceEventID, &e.SourceStatus,
				&e.CanonicalStatus, &e.Carrier, &e.TicketID, &occurred, &recorded); err != nil {
				return err
			}
			e.OccurredAt, e.RecordedAt = fromMillis(occurred), fromMillis(recorded)
			rec.Events = append(rec.Events, e)
			return nil
		}, id)
}

// SearchHit is one order a search found, and what matched.
type SearchHit struct {
	OrderID string `json:"order_id"`
	// Field is what q matched: order_id, tracking_number, shipment_id or
	// ticket_id.
	Field string `json:"matched"`
}

// MaxSearchHits bounds a search's answer.
const MaxSearchHits = 20

// Search finds the orders whose ID, or one of whose events' tracking
// number, shipment ID or help-desk ticket ID, equals q exactly. q is bound,
// never concatenated. The lookup by tracking number, shipment or ticket
// reads the canonical events' columns without their order key: a scan of
// three columns, fine for an agent's search, not for a hot path.
func (c *Client) Search(ctx context.Context, q string) ([]SearchHit, error) {
	hits := []SearchHit{}
	err := c.scanEach(ctx, "search", `SELECT order_id, multiIf(order_id = ?, 'order_id', tracking_number = ?, 'tracking_number',
			shipment_id = ?, 'shipment_id', 'ticket_id') AS field
		FROM `+c.table("canonical_events")+`
		WHERE order_id != '' AND (order_id = ? OR tracking_number = ? OR shipment_id = ? OR ticket_id = ?)
		GROUP BY order_id, field ORDER BY order_id, field LIMIT `+fmt.Sprint(MaxSearchHits),
		func(scan func(...any) error) error {
			var h SearchHit
			if err := scan(&h.OrderID, &h.Field); err != nil {
				return err
			}
			hits = append(hits, h)
			return nil
		}, q, q, q, q, q, q, q)
	return hits, err
}
