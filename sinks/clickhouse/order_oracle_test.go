package clickhouse

// The oracle of order_rows: the seven reads Order made before migration
// 0008, one per table, through each table's FINAL read and, for the five
// correctable tables, the *_latest views' definition restricted to the
// order. TestOrderRowsReadsWhatTheTablesHold requires Order to answer the
// same from order_rows.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

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
func orderLatest(c *Client, table string) string {
	return "(SELECT * FROM " + c.table(table) + " FINAL PREWHERE order_id = ?) WHERE retracted = 0"
}

// orderFromTables reads orderID's record from the seven tables.
func orderFromTables(ctx context.Context, c *Client, orderID string) (OrderRecord, error) {
	ctx = pointQuery(ctx)
	var rec OrderRecord
	reads := []func(context.Context, *Client, string, *OrderRecord) error{
		readOrderState, readTransitions, readChecks, readFailed, readNotices, readTickets, readEvents,
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read(ctx, c, orderID, &rec) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rec, fmt.Errorf("order %q: %w", orderID, err)
	}
	return rec, nil
}

func optFromSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func readOrderState(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
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

func readTransitions(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "transitions", `SELECT transition_id, shipment_id, kind, from_status, to_status, skipped, authority, source_event_id,
		event_time_ms, recorded_at_ms, processed_at_ms
		FROM `+orderLatest(c, "order_transitions")+`
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

func readChecks(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "sync checks", `SELECT check_id, viewer, expected_status, opened_by, truth_at_ms, deadline_ms, truth_authority,
		carrier, outcome, shown_status, shown_at_ms, latency_ms, closed_at_ms
		FROM `+orderLatest(c, "sync_checks")+`
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

func readFailed(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "failed syncs", `SELECT check_id, viewer, reason, expected_status, shown_status, truth_at_ms, deadline_ms,
		detected_at_ms, truth_authority, carrier
		FROM `+orderLatest(c, "failed_syncs")+`
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

func readNotices(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "delay notices", `SELECT notice_id, reason, promise, renews, original_promise, promise_is_default, missed_promise,
		revised_date, no_revised_date_reason, shipment_id, carrier, cause_authority, known_at, notify_by_ms, detected_at,
		may_cancel, refund_due, refund_due_reason, state, outcome, notified, notified_at, notified_via, closed_at, version
		FROM `+orderLatest(c, "delay_notices")+` ORDER BY detected_at, notice_id`,
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
func readTickets(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
	return c.scanEach(ctx, "wismo tickets", `SELECT ticket_id, classified_by, matched, ticket_at_ms, cause, link, viewer, out_of_sync_since,
		check_id, failed_sync_reason, expected_status, shown_status, delay_reason, problem_status, problem_since, truth_status, truth_since
		FROM `+orderLatest(c, "wismo_tickets")+` ORDER BY ticket_at_ms, ticket_id LIMIT 1 BY ticket_id`,
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
func readEvents(ctx context.Context, c *Client, id string, rec *OrderRecord) error {
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
