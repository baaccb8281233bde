package synctest

import (
	"context"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// SystemsDay is when every event of SystemRows occurred.
var SystemsDay = time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)

// SystemRows is the per-system report's fixture (InsertSystems writes it):
// source records and the canonical events the normalize stage made of
// them.
//
//	storefront: 3 records, orders p1, p2, p3, each one canonical event.
//	carrier: 5 records (c-1 delivered twice), 4 event IDs, over tracking
//	  numbers 1Z1, 1Z2, 1Z3; only c-2 carries an order ID in its raw form
//	  (p9, a merchant reference that is no order baton knows). 1Z1's scans
//	  were linked to p1 and 1Z2's to p2; 1Z3's scan is still held, no
//	  canonical event: orders 2 (p1, p2), where the raw records name 1.
//	wms: 1 record for p3, dead-lettered (no canonical event): orders 0.
//
// Orders named in any raw record: p1, p2, p3, p9.
func SystemRows() ([]clickhouse.SourceEvent, []clickhouse.CanonicalEvent) {
	var off int64
	src := func(system, eventID, order, tracking string, at time.Duration) clickhouse.SourceEvent {
		off++
		t := SystemsDay.Add(at)
		return clickhouse.SourceEvent{System: system, Position: clickhouse.Position{Topic: "baton.source." + system, Offset: off},
			EventID: eventID, OrderID: order, TrackingNumber: tracking, Status: "s", OccurredAt: t, RecordedAt: t, KafkaTimestamp: t, Payload: "{}"}
	}
	sources := []clickhouse.SourceEvent{
		src("storefront", "sf-1", "p1", "", 8*time.Hour),
		src("storefront", "sf-2", "p2", "", 8*time.Hour),
		src("storefront", "sf-3", "p3", "", 9*time.Hour),
		src("carrier", "c-1", "", "1Z1", 12*time.Hour),
		src("carrier", "c-1", "", "1Z1", 12*time.Hour), // the carrier sent it again
		src("carrier", "c-2", "p9", "1Z1", 13*time.Hour),
		src("carrier", "c-3", "", "1Z2", 13*time.Hour),
		src("carrier", "c-4", "", "1Z3", 14*time.Hour), // held: its link has not come
		src("wms", "w-1", "p3", "", 10*time.Hour),
	}
	canon := func(system, eventID, order, tracking string, at time.Duration) clickhouse.CanonicalEvent {
		off++
		t := SystemsDay.Add(at)
		linked := "order_id"
		if tracking != "" {
			linked = "tracking_number"
		}
		return clickhouse.CanonicalEvent{OrderID: order, TrackingNumber: tracking, SourceSystem: system, SourceEventID: eventID,
			LinkedBy: linked, OccurredAt: t, RecordedAt: t, IngestedAt: t, Position: clickhouse.Position{Topic: "baton.canonical", Offset: off}}
	}
	canonical := []clickhouse.CanonicalEvent{
		canon("storefront", "sf-1", "p1", "", 8*time.Hour),
		canon("storefront", "sf-2", "p2", "", 8*time.Hour),
		canon("storefront", "sf-3", "p3", "", 9*time.Hour),
		canon("carrier", "c-1", "p1", "1Z1", 12*time.Hour),
		canon("carrier", "c-2", "p1", "1Z1", 13*time.Hour),
		canon("carrier", "c-3", "p2", "1Z2", 13*time.Hour),
	}
	return sources, canonical
}

// InsertSystems migrates and inserts SystemRows twice, as after a crash
// between insert and offset commit: the report must count it once.
func InsertSystems(t testing.TB, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sources, canonical := SystemRows()
	for i := 0; i < 2; i++ {
		if err := c.InsertSourceEvents(ctx, sources); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertCanonicalEvents(ctx, canonical); err != nil {
			t.Fatal(err)
		}
	}
}
