// Package synctest is a small, fully worked fixture of sync checks, failed
// syncs and WISMO evidence (and, in SystemRows, of source records and the
// orders they were resolved to) for tests against a real ClickHouse: the
// sink's report, scorecard and docs/queries.md tests and `baton report`'s
// assert what it adds up to.
package synctest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// Open connects to the ClickHouse under test with a database of the
// test's own (named after prefix), dropped afterwards: the dev stack's
// server, or with -tags chdb an embedded current ClickHouse (see
// backend_chdb.go). A backend that does not answer fails the test.
func Open(t testing.TB, prefix string) *clickhouse.Client {
	t.Helper()
	c, release := connect(t, testenv.Unique(prefix))
	t.Cleanup(func() {
		c.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.Database())
		release()
	})
	return c
}

// Another opens one more client of the database c is bound to, as another
// process of a scaled-out `baton run` would; the test's cleanup releases it.
// On chDB it shares the process's one embedded session, so its statements
// interleave with c's rather than run in parallel.
func Another(t testing.TB, c *clickhouse.Client) *clickhouse.Client {
	t.Helper()
	other, release := connect(t, c.Database())
	t.Cleanup(release)
	return other
}

func ms(v int64) *int64 { return &v }

// Day is the fixture's day: every sync check but one is on it.
var Day = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// Rows is the fixture (Insert writes it). On Day:
//
//	storefront (10:00): IN_SYNC ×3 (two set by UPS scans: 60 s, 120 s; one by
//	  the WMS: 30 s), LATE ×1 (FedEx, 900 s), SUPERSEDED ×1 → 3/4 = 0.75;
//	  failed: the LATE one and an open check s6 (both sla_breached).
//	helpdesk (11:00): IN_SYNC ×2 (UPS 10 s; WMS 5 s), MISSING, CONFLICT → 0.5;
//	  failed: the MISSING one (sla_breached) and the CONFLICT (conflict).
//	notifications: IN_SYNC (UPS 200 s) at 11:30; the day before, a MISSING
//	  UPS check and its failed sync.
//
// WISMO: orders o1–o5 placed on the day (o5 known only from a storefront
// canonical event), o6 and o7 the day before, o8 exactly at the next
// midnight; WISMO tickets t1 (opened on the day, tagged later), t3 and t4
// (opened the day before, t4 tagged on the day), t5 (the next day); t2 is a
// return request.
func Rows() ([]clickhouse.SyncCheck, []clickhouse.FailedSync, []clickhouse.OrderTransition, []clickhouse.CanonicalEvent) {
	h := Day.Add(10 * time.Hour)
	var off int64
	check := func(order, viewer, outcome, authority, carrier string, truthAt time.Time, latency *int64) clickhouse.SyncCheck {
		off++
		c := clickhouse.SyncCheck{CheckID: order + "|" + viewer + "|IN_TRANSIT|" + truthAt.Format(time.RFC3339Nano), OrderID: order, Viewer: viewer,
			ExpectedStatus: "IN_TRANSIT", OpenedBy: "truth", TruthAt: truthAt, Deadline: truthAt.Add(5 * time.Minute), TruthAuthority: authority,
			Carrier: carrier, Outcome: outcome, LatencyMillis: latency, ClosedAt: truthAt.Add(time.Hour), Position: clickhouse.Position{Topic: "sync-checks", Offset: off}}
		if latency != nil {
			shown := truthAt.Add(time.Duration(*latency) * time.Millisecond)
			c.ShownAt, c.ShownStatus = &shown, "IN_TRANSIT"
		}
		if outcome == clickhouse.OutcomeConflict {
			c.ShownStatus, c.OpenedBy = "DELIVERED", "report"
		}
		return c
	}
	checks := []clickhouse.SyncCheck{
		check("o1", "storefront", "IN_SYNC", "carrier", "UPS", h.Add(5*time.Minute+500*time.Millisecond), ms(60_000)),
		check("o2", "storefront", "IN_SYNC", "carrier", "UPS", h.Add(10*time.Minute), ms(120_000)),
		check("o3", "storefront", "IN_SYNC", "wms", "", h.Add(15*time.Minute), ms(30_000)),
		check("o4", "storefront", "LATE", "carrier", "FedEx", h.Add(20*time.Minute), ms(900_000)),
		check("o5", "storefront", "SUPERSEDED", "carrier", "UPS", h.Add(25*time.Minute), nil),
		check("o1", "helpdesk", "IN_SYNC", "carrier", "UPS", h.Add(65*time.Minute), ms(10_000)),
		check("o2", "helpdesk", "MISSING", "wms", "", h.Add(70*time.Minute), nil),
		check("o3", "helpdesk", "CONFLICT", "oms", "", h.Add(75*time.Minute), nil),
		check("o4", "helpdesk", "IN_SYNC", "wms", "", h.Add(80*time.Minute), ms(5_000)),
		check("o1", "notifications", "IN_SYNC", "carrier", "UPS", h.Add(90*time.Minute), ms(200_000)),
		check("o6", "notifications", "MISSING", "carrier", "UPS", h.Add(-24*time.Hour), nil),
	}
	failed := func(c clickhouse.SyncCheck, reason string, detected time.Time) clickhouse.FailedSync {
		off++
		return clickhouse.FailedSync{CheckID: c.CheckID, OrderID: c.OrderID, Viewer: c.Viewer, Reason: reason, ExpectedStatus: c.ExpectedStatus,
			ShownStatus: c.ShownStatus, TruthAt: c.TruthAt, Deadline: c.Deadline, DetectedAt: detected, TruthAuthority: c.TruthAuthority,
			Carrier: c.Carrier, Position: clickhouse.Position{Topic: "failed-syncs", Offset: off}}
	}
	open := check("o6", "storefront", "", "carrier", "UPS", h.Add(30*time.Minute), nil) // not closed yet: no sync_checks row
	failures := []clickhouse.FailedSync{
		failed(checks[3], "sla_breached", h.Add(35*time.Minute)),
		failed(open, "sla_breached", h.Add(2*time.Hour)),
		failed(checks[6], "sla_breached", h.Add(76*time.Minute)),
		failed(checks[7], "conflict", h.Add(77*time.Minute)),
		failed(checks[10], "sla_breached", h.Add(-23*time.Hour)),
	}

	placed := func(order string, at time.Time) clickhouse.OrderTransition {
		off++
		return clickhouse.OrderTransition{TransitionID: order + "|PLACED", OrderID: order, Kind: "advance", ToStatus: "PLACED", Authority: "storefront",
			EventTime: at, RecordedAt: at, ProcessedAt: at, Position: clickhouse.Position{Topic: "transitions", Offset: off}}
	}
	shipped := placed("o1", Day.Add(9*time.Hour))
	shipped.TransitionID, shipped.ShipmentID, shipped.FromStatus, shipped.ToStatus = "o1|s1|SHIPPED", "s1", "PLACED", "SHIPPED"
	transitions := []clickhouse.OrderTransition{
		placed("o1", Day.Add(8*time.Hour)), placed("o2", Day.Add(8*time.Hour)), placed("o3", Day.Add(8*time.Hour)), placed("o4", Day.Add(8*time.Hour)),
		placed("o6", Day.Add(-16*time.Hour)), placed("o7", Day.Add(-16*time.Hour)), placed("o8", Day.Add(24*time.Hour)), shipped,
	}
	event := func(system, order, status, ticket string, at time.Time, tags ...string) clickhouse.CanonicalEvent {
		off++
		return clickhouse.CanonicalEvent{OrderID: order, SourceSystem: system, SourceEventID: fmt.Sprint("e", off), CanonicalStatus: status,
			TicketID: ticket, Tags: tags, OccurredAt: at, RecordedAt: at, IngestedAt: at, Position: clickhouse.Position{Topic: "canonical", Offset: off}}
	}
	events := []clickhouse.CanonicalEvent{
		event("storefront", "o1", "PLACED", "", Day.Add(8*time.Hour)),
		event("storefront", "o5", "PLACED", "", Day.Add(9*time.Hour)),
		event("helpdesk", "o6", "PLACED", "t3", Day.Add(12*time.Hour), "wismo"), // a viewer showing PLACED later: o6 stays placed the day before
		event("helpdesk", "o1", "", "t1", Day.Add(12*time.Hour), "order_status"),
		event("helpdesk", "o1", "", "t1", Day.Add(13*time.Hour), "wismo", "order_status"),
		event("helpdesk", "o2", "", "t2", Day.Add(12*time.Hour), "return_request"),
		event("helpdesk", "o6", "", "t3", Day.Add(-12*time.Hour), "wismo", "order_status"),
		event("helpdesk", "o7", "", "t4", Day.Add(-1*time.Hour), "order_status"),
		event("helpdesk", "o7", "", "t4", Day.Add(1*time.Hour), "wismo", "order_status"),
		event("helpdesk", "o8", "", "t5", Day.Add(25*time.Hour), "wismo"),
	}
	return checks, failures, transitions, events
}

// Insert migrates and inserts the fixture twice, as after a
// crash between insert and offset commit: every query must count it once.
func Insert(t testing.TB, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checks, failures, transitions, events := Rows()
	for i := 0; i < 2; i++ {
		if err := c.InsertSyncChecks(ctx, checks); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertFailedSyncs(ctx, failures); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertOrderTransitions(ctx, transitions); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertCanonicalEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
	}
}
