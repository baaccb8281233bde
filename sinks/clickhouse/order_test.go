package clickhouse_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// orderRowsFixture inserts, in two rounds, records of every kind the order
// page reads: the synctest fixture (checks, failed syncs, transitions,
// canonical events) twice over, as after a crash before the offset commit,
// plus order states, delay notices and WISMO tickets; then corrections
// (higher versions, later offsets), retractions, a ticket recorded again
// with a later ticket_at, and rows the sink wrote twice. round is 0 or 1.
func orderRowsFixture(t *testing.T, c *clickhouse.Client, round int) {
	t.Helper()
	ctx := context.Background()
	checks, failures, transitions, events := synctest.Rows()
	at := synctest.Day.Add(10 * time.Hour)
	pos := func(topic string, off int64) clickhouse.Position {
		return clickhouse.Position{Topic: topic, Offset: off}
	}
	since := at.Add(-time.Hour)
	states := []clickhouse.OrderState{
		{OrderID: "o1", Truth: "SHIPPED", TruthAuthority: "wms", TruthSince: &since, ViewsJSON: `[]`, ShipmentsJSON: `[]`, ShipmentCount: 1,
			Transitions: 2, UpdatedAt: at, Position: pos("states", 1)},
		{OrderID: "o2", Truth: "PLACED", TruthAuthority: "storefront", ViewsJSON: `[]`, ShipmentsJSON: `[]`, UpdatedAt: at, Position: pos("states", 2)},
	}
	revised := at.Add(48 * time.Hour)
	notices := []clickhouse.DelayNotice{
		{NoticeID: "n1", OrderID: "o1", Reason: "ship_by_missed", Promise: "ship_by", OriginalPromise: &since, PromiseIsDefault: true,
			CauseAt: at, KnownAt: at, NotifyBy: at.Add(time.Hour), DetectedAt: at, MayCancel: true, State: "open", Version: 1, Position: pos("notices", 1)},
		{NoticeID: "n2", OrderID: "o1", Reason: "carrier_delay", Promise: "deliver_by", RevisedDate: &revised, CauseAt: at, KnownAt: at,
			NotifyBy: at.Add(time.Hour), DetectedAt: at.Add(time.Minute), State: "open", Version: 1, Position: pos("notices", 2)},
	}
	problem := at.Add(-30 * time.Minute)
	tickets := []clickhouse.WismoTicket{
		{TicketID: "t1", OrderID: "o1", ClassifiedBy: "tag", Matched: "wismo", TicketAt: at.Add(2 * time.Hour), ClassifiedAt: at.Add(3 * time.Hour),
			Cause: "viewer_out_of_sync", Link: "carrier->storefront", Viewer: "storefront", OutOfSyncSince: &since, ProblemSince: &problem,
			Position: pos("tickets", 1), Revision: clickhouse.Revision{Version: 1}},
	}
	if round == 1 {
		// Corrections and retractions, written after what they correct.
		transitions[0].ProcessedAt, transitions[0].Revision, transitions[0].Position.Offset = at.Add(time.Hour), clickhouse.Revision{Version: 2}, 100
		transitions[1].Revision, transitions[1].Position.Offset = clickhouse.Revision{Version: 2, Retracted: true}, 101
		transitions = transitions[:2]
		checks[0].Outcome, checks[0].Revision, checks[0].Position.Offset = "LATE", clickhouse.Revision{Version: 3}, 102
		checks[5].Revision, checks[5].Position.Offset = clickhouse.Revision{Version: 2, Retracted: true}, 103
		checks = []clickhouse.SyncCheck{checks[0], checks[5]}
		failures[0].Reason, failures[0].Revision, failures[0].Position.Offset = "conflict", clickhouse.Revision{Version: 2}, 104
		failures = failures[:1]
		states[0].Truth, states[0].Transitions, states[0].Position.Offset = "DELIVERED", 3, 3 // its version is its offset
		states = states[:1]
		notices[0].State, notices[0].Notified, notices[0].NotifiedAt, notices[0].Version, notices[0].Position.Offset = "closed", true, &at, 2, 3
		notices[1].Version, notices[1].Retracted, notices[1].Position.Offset = 2, true, 4
		repeat := tickets[0]
		repeat.TicketAt, repeat.Cause, repeat.Position.Offset = at.Add(5*time.Hour), "no_sync_problem", 2
		tickets = append(tickets, repeat)
		events = events[:3] // written again: the same rows
	}
	for range 2 { // the sink wrote each batch twice
		for _, insert := range []func() error{
			func() error { return c.InsertSyncChecks(ctx, checks) },
			func() error { return c.InsertFailedSyncs(ctx, failures) },
			func() error { return c.InsertOrderTransitions(ctx, transitions) },
			func() error { return c.InsertCanonicalEvents(ctx, events) },
			func() error { return c.InsertOrderStates(ctx, states) },
			func() error { return c.InsertDelayNotices(ctx, notices) },
			func() error { return c.InsertWismoTickets(ctx, tickets) },
		} {
			if err := insert(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestOrderRowsReadsWhatTheTablesHold: Order, reading order_rows, answers
// for every order exactly what the seven tables' FINAL and *_latest reads
// answer: records stored before migration 0008 (its backfill), after it
// (its views), corrected, retracted and stored twice.
func TestOrderRowsReadsWhatTheTablesHold(t *testing.T) {
	ctx := context.Background()
	c := synctest.Open(t, "orderrows")
	if err := clickhouse.MigrateTo(ctx, c, 7); err != nil {
		t.Fatal(err)
	}
	orderRowsFixture(t, c, 0)
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	orderRowsFixture(t, c, 1)
	for _, id := range []string{"o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"} {
		got, err := c.Order(ctx, id)
		if err != nil {
			t.Fatalf("Order(%s): %v", id, err)
		}
		want, err := clickhouse.OrderFromTables(ctx, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalized(got), normalized(want)) {
			t.Errorf("Order(%s) from order_rows:\n%+v\nfrom the tables:\n%+v", id, got, want)
		}
	}
	each := map[string]clickhouse.OrderRecord{}
	if err := c.EachOrder(ctx, func(id string, rec clickhouse.OrderRecord) error { each[id] = rec; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(each) != 8 {
		t.Errorf("EachOrder gave %d orders, want 8", len(each))
	}
	for id, rec := range each {
		if one, err := c.Order(ctx, id); err != nil || !reflect.DeepEqual(normalized(one), normalized(rec)) {
			t.Errorf("EachOrder's %s differs from Order's (err %v)", id, err)
		}
	}
	if _, err := c.Order(ctx, "o404"); !errors.Is(err, clickhouse.ErrNoOrder) {
		t.Errorf("Order of an unknown order: %v, want ErrNoOrder", err)
	}
	// The fixture exercised what it claims to.
	o1, _ := c.Order(ctx, "o1")
	if o1.State == nil || o1.State.Truth != "DELIVERED" || len(o1.Notices) != 1 || o1.Notices[0].Version != 2 ||
		len(o1.Tickets) != 1 || o1.Tickets[0].Cause != "viewer_out_of_sync" || len(o1.Transitions) == 0 {
		t.Errorf("o1 misses a correction, a retraction or the first ticket record: %+v", o1)
	}
}

// normalized makes nil and empty slices equal (the driver scans an empty
// array as either).
func normalized(r clickhouse.OrderRecord) clickhouse.OrderRecord {
	for i := range r.Transitions {
		if len(r.Transitions[i].Skipped) == 0 {
			r.Transitions[i].Skipped = nil
		}
	}
	return r
}
