package synctest

import (
	"context"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func timep(s string) *time.Time { t := utc(s); return &t }

// WismoRows is the monthly WISMO review's fixture (InsertWismo writes it):
// orders placed and wismo_tickets rows over September–November 2026, no
// order placed on 1–3 November (it would change the WISMO answers of Rows,
// which tests insert beside it).
//
//	September: order w-o0; no ticket: 0 per 1,000.
//	October: orders w-o1, w-o2 (a PLACED transition and canonical event),
//	  w-o3 (a PLACED canonical event only), w-o4 (a canonical event at
//	  23:30 on the 31st, its transition on 5 November: October); tickets
//	  k1 (viewer_out_of_sync carrier->storefront) and k2
//	  (delay_not_notified delay_notice->notifications, at 23:59:59.999 on
//	  the 31st): 2 over 4, 500 per 1,000.
//	November: orders w-o5 … w-o9 (w-o9 at 23:59:59.999 on the 30th; w-o10
//	  on 1 December is not); tickets k3 (at 00:00:00.000 on the 1st) and
//	  k4 viewer_out_of_sync carrier->storefront, k5 viewer_out_of_sync
//	  oms->storefront, k6 carrier_exception, k7 no_sync_problem, k8
//	  delay_not_notified delay_notice->notifications: 6 over 5, 1,200 per
//	  1,000. k2 stored again on 15 November as no_sync_problem (its order
//	  evicted and seen again) counts in October only; k9 is December's.
//
// Review of November against 3 months: August has no order; vs October
// +700; vs the mean of September and October (250) +950. Links to fix
// first: carrier->storefront 2 (October 1), delay_notice->notifications 1
// (1), oms->storefront 1 (0).
func WismoRows() ([]clickhouse.OrderTransition, []clickhouse.CanonicalEvent, []clickhouse.WismoTicket) {
	var off int64
	placed := func(order, at string) clickhouse.OrderTransition {
		off++
		return clickhouse.OrderTransition{TransitionID: order + "|PLACED", OrderID: order, Kind: "advance", ToStatus: "PLACED", Authority: "storefront",
			EventTime: utc(at), RecordedAt: utc(at), ProcessedAt: utc(at), Position: clickhouse.Position{Topic: "transitions", Offset: 1000 + off}}
	}
	event := func(order, at string) clickhouse.CanonicalEvent {
		off++
		return clickhouse.CanonicalEvent{OrderID: order, SourceSystem: "storefront", SourceEventID: order + "-placed", CanonicalStatus: "PLACED",
			OccurredAt: utc(at), RecordedAt: utc(at), IngestedAt: utc(at), Position: clickhouse.Position{Topic: "canonical", Offset: 1000 + off}}
	}
	transitions := []clickhouse.OrderTransition{
		placed("w-o0", "2026-09-15T10:00:00Z"),
		placed("w-o1", "2026-10-05T10:00:00Z"), placed("w-o2", "2026-10-10T10:00:00Z"), placed("w-o4", "2026-11-05T10:00:00Z"),
		placed("w-o5", "2026-11-10T10:00:00Z"), placed("w-o6", "2026-11-12T10:00:00Z"), placed("w-o7", "2026-11-15T10:00:00Z"),
		placed("w-o8", "2026-11-20T10:00:00Z"), placed("w-o9", "2026-11-30T23:59:59.999Z"), placed("w-o10", "2026-12-01T00:00:00Z"),
	}
	events := []clickhouse.CanonicalEvent{
		event("w-o2", "2026-10-10T10:00:00Z"), event("w-o3", "2026-10-20T10:00:00Z"), event("w-o4", "2026-10-31T23:30:00Z"),
	}
	ticket := func(id, order, at string, a clickhouse.WismoTicket) clickhouse.WismoTicket {
		off++
		a.TicketID, a.OrderID, a.ClassifiedBy, a.Matched = id, order, "tag", "wismo"
		a.TicketAt, a.ClassifiedAt = utc(at), utc(at).Add(time.Hour)
		a.Position = clickhouse.Position{Topic: "wismo-tickets", Partition: 1, Offset: off}
		if a.TruthStatus == "" {
			a.TruthStatus, a.TruthSince = "SHIPPED", timep("2026-10-01T00:00:00Z")
		}
		return a
	}
	outOfSync := func(authority, shown string) clickhouse.WismoTicket {
		return clickhouse.WismoTicket{Cause: "viewer_out_of_sync", Link: authority + "->storefront", Viewer: "storefront",
			OutOfSyncSince: timep("2026-09-30T12:00:00Z"), CheckID: "chk-" + authority, FailedSyncReason: "sla_breached",
			ExpectedStatus: "IN_TRANSIT", ShownStatus: shown}
	}
	untold := clickhouse.WismoTicket{Cause: "delay_not_notified", Link: "delay_notice->notifications", Viewer: "notifications",
		OutOfSyncSince: timep("2026-09-30T12:00:00Z"), CheckID: "notice-1", FailedSyncReason: "delay_not_notified",
		ExpectedStatus: "delay_notice", DelayReason: "ship_by_missed"}
	tickets := []clickhouse.WismoTicket{
		ticket("k1", "w-o1", "2026-10-08T09:00:00Z", outOfSync("carrier", "SHIPPED")),
		ticket("k2", "w-o2", "2026-10-31T23:59:59.999Z", untold),
		ticket("k3", "w-o5", "2026-11-01T00:00:00Z", outOfSync("carrier", "")),
		ticket("k4", "w-o6", "2026-11-12T15:00:00Z", outOfSync("carrier", "SHIPPED")),
		ticket("k5", "w-o7", "2026-11-16T15:00:00Z", outOfSync("oms", "PLACED")),
		ticket("k6", "w-o8", "2026-11-21T15:00:00Z", clickhouse.WismoTicket{Cause: "carrier_exception", ProblemStatus: "EXCEPTION",
			ProblemSince: timep("2026-11-21T08:00:00Z"), TruthStatus: "EXCEPTION", TruthSince: timep("2026-11-21T08:00:00Z")}),
		ticket("k7", "w-o9", "2026-11-25T15:00:00Z", clickhouse.WismoTicket{Cause: "no_sync_problem"}),
		ticket("k8", "w-o6", "2026-11-28T15:00:00Z", untold),
		ticket("k2", "w-o2", "2026-11-15T08:00:00Z", clickhouse.WismoTicket{Cause: "no_sync_problem", TruthStatus: "PLACED", TruthSince: timep("2026-11-15T08:00:00Z")}),
		ticket("k9", "w-o10", "2026-12-01T00:00:00Z", clickhouse.WismoTicket{Cause: "no_sync_problem"}),
	}
	return transitions, events, tickets
}

// InsertWismo migrates and inserts WismoRows twice, as after a crash
// between insert and offset commit.
func InsertWismo(t testing.TB, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	transitions, events, tickets := WismoRows()
	for i := 0; i < 2; i++ {
		if err := c.InsertOrderTransitions(ctx, transitions); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertCanonicalEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertWismoTickets(ctx, tickets); err != nil {
			t.Fatal(err)
		}
	}
}

// DelayNotices is the delay notices' fixture (InsertDelayNotices writes it),
// each notice in its latest version and, for some, an earlier one:
//
//	10 November: d-1 ship_by_missed told in time; d-2 ship_by_missed told
//	  late; d-3 eta_past_promise open, untold past its notify_by (12:05).
//	11 November: d-4 exception never told (NOT_NOTIFIED, notify_by 08:05);
//	  d-5 return_to_sender told in time, flagged for refund; d-6
//	  ship_by_missed cancelled before its notify_by, flagged for refund
//	  (cancelled_before_shipping); d-7 ship_by_missed open, notify_by at
//	  11:00 on the 12th; d-8 ship_by_missed withdrawn (shipped after all).
func DelayNotices() []clickhouse.DelayNotice {
	var off int64
	notice := func(order, reason, detected string, version uint64, outcome string) clickhouse.DelayNotice {
		off++
		det := utc(detected)
		n := clickhouse.DelayNotice{NoticeID: "n-" + order, OrderID: order, Reason: reason, Promise: "ship_by",
			MissedPromise: &det, NoRevisedDateReason: "no carrier estimate", CauseAt: det, KnownAt: det, NotifyBy: det.Add(5 * time.Minute),
			DetectedAt: det, State: "closed", Outcome: outcome, Version: version,
			Position: clickhouse.Position{Topic: "delay-notices", Offset: off}}
		switch reason {
		case "ship_by_missed":
			n.MayCancel = true
		case "eta_past_promise":
			n.Promise = "deliver_by"
		default:
			n.Promise, n.Carrier, n.CauseAuthority, n.ShipmentID = "deliver_by", "UPS", "carrier", "s-"+order
		}
		switch outcome {
		case "":
			n.State = "open"
		case "NOTIFIED", "LATE":
			told := n.NotifyBy.Add(-time.Minute)
			if outcome == "LATE" {
				told = det.Add(time.Hour)
			}
			n.Notified, n.NotifiedAt, n.NotifiedVia = true, &told, "delay_notice"
		}
		if n.State == "closed" {
			closed := det.Add(2 * time.Hour)
			n.ClosedAt = &closed
		}
		return n
	}
	opened := func(n clickhouse.DelayNotice) clickhouse.DelayNotice {
		return notice(n.OrderID, n.Reason, n.DetectedAt.Format(time.RFC3339), 1, "")
	}
	refund := func(n clickhouse.DelayNotice, why string) clickhouse.DelayNotice {
		n.RefundDue, n.RefundDueReason = true, why
		return n
	}
	d1 := notice("d-1", "ship_by_missed", "2026-11-10T09:00:00Z", 2, "NOTIFIED")
	d2 := notice("d-2", "ship_by_missed", "2026-11-10T10:00:00Z", 2, "LATE")
	d4 := notice("d-4", "exception", "2026-11-11T08:00:00Z", 2, "NOT_NOTIFIED")
	d5 := refund(notice("d-5", "return_to_sender", "2026-11-11T09:00:00Z", 3, "NOTIFIED"), "return_to_sender")
	d7 := notice("d-7", "ship_by_missed", "2026-11-11T11:00:00Z", 1, "")
	d7.NotifyBy = utc("2026-11-12T11:00:00Z")
	return []clickhouse.DelayNotice{
		opened(d1), d1, opened(d2), d2,
		notice("d-3", "eta_past_promise", "2026-11-10T12:00:00Z", 1, ""),
		opened(d4), d4, opened(d5), d5,
		refund(notice("d-6", "ship_by_missed", "2026-11-11T10:00:00Z", 2, "CANCELLED"), "cancelled_before_shipping"),
		d7,
		notice("d-8", "ship_by_missed", "2026-11-11T12:00:00Z", 2, "WITHDRAWN"),
	}
}

// InsertDelayNotices migrates and inserts DelayNotices twice.
func InsertDelayNotices(t testing.TB, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.InsertDelayNotices(ctx, DelayNotices()); err != nil {
			t.Fatal(err)
		}
	}
}
