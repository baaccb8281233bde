package clickhouse_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// open connects to the dev stack's ClickHouse with a database of the
// test's own, dropped afterwards.
func open(t *testing.T) *clickhouse.Client { return synctest.Open(t, "chtest") }

func TestMigrateIsIdempotent(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := c.Migrate(ctx); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
	}
	migrations, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var recorded, distinct uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count(), uniqExact(version) FROM "+c.Database()+".schema_migrations").Scan(&recorded, &distinct); err != nil {
		t.Fatal(err)
	}
	if recorded != uint64(len(migrations)) || distinct != recorded {
		t.Errorf("schema_migrations holds %d rows (%d versions), want each of the %d migrations once", recorded, distinct, len(migrations))
	}
}

// TestProcessesStartingTogetherAllMigrate: four processes start on a new
// database at once (a scaled-out `baton run`, a restart overlapping its
// predecessor) and all run the migrations; the ALTERs of the slower ones
// fail with "already exists". Every one must start, and every migration
// be recorded.
func TestProcessesStartingTogetherAllMigrate(t *testing.T) {
	first := open(t)
	ctx := context.Background()
	const processes = 4
	errs := make(chan error, processes)
	start := make(chan struct{})
	for range processes {
		c := synctest.Another(t, first)
		go func() {
			<-start
			errs <- c.Migrate(ctx)
		}()
	}
	close(start)
	for range processes {
		if err := <-errs; err != nil {
			t.Errorf("a process starting with the others: %v", err)
		}
	}
	migrations, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var distinct uint64
	if err := first.Conn().QueryRow(ctx, "SELECT uniqExact(version) FROM "+first.Database()+".schema_migrations").Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != uint64(len(migrations)) {
		t.Errorf("schema_migrations records %d versions, want all %d", distinct, len(migrations))
	}
}

func TestRejectsUnsafeDatabaseName(t *testing.T) {
	_, err := clickhouse.Open(context.Background(), clickhouse.Config{Addr: testenv.ClickHouseAddr(), Database: "baton; DROP TABLE x"})
	if err == nil {
		t.Fatal("a database name with SQL in it must be refused")
	}
}

func row(sys schemas.System, topic string, part int32, off int64, order string) clickhouse.SourceEvent {
	at := time.Date(2026, 11, 1, 10, 0, 0, 123e6, time.UTC)
	return clickhouse.SourceEvent{System: string(sys), Position: clickhouse.Position{Topic: topic, Partition: part, Offset: off}, EventID: topic + "-" + order,
		OrderID: order, Status: "shipped", OccurredAt: at, RecordedAt: at.Add(time.Second), KafkaTimestamp: at, Payload: "{}"}
}

func TestInsertedRowsAreReportedOnceEvenWhenABatchIsInsertedTwice(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	batch := []clickhouse.SourceEvent{
		row(schemas.WMS, "w", 0, 0, "o-1"),
		row(schemas.WMS, "w", 0, 1, "o-2"),
		row(schemas.WMS, "w", 1, 0, "o-3"),
		row(schemas.OMS, "o", 2, 5, "o-1"),
	}
	// A crash between insert and offset commit re-inserts a batch.
	for i := 0; i < 2; i++ {
		if err := c.InsertSourceEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := c.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TotalEvents != 4 || rep.OrdersSeen != 3 || len(rep.Systems) != 2 {
		t.Fatalf("report = %+v, want 4 events over 2 systems and 3 orders", rep)
	}
	// No canonical events yet: no system's events were resolved to an
	// order, whatever order IDs the records carry.
	if s := rep.Systems[1]; s.System != "wms" || s.Events != 3 || s.UniqueEvents != 3 || s.Orders != 0 {
		t.Errorf("wms line = %+v", s)
	}
	max, err := c.MaxOffsets(ctx, "source_events", []string{"w", "o", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if max["w"][0] != 1 || max["w"][1] != 0 || max["o"][2] != 5 || len(max["absent"]) != 0 {
		t.Errorf("max offsets = %v", max)
	}
	// Millisecond times survive beside the DateTime columns.
	var ms int64
	if err := c.Conn().QueryRow(ctx, "SELECT any(occurred_at_ms) FROM "+c.Database()+".source_events").Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if ms != batch[0].OccurredAt.UnixMilli() {
		t.Errorf("occurred_at_ms = %d, want %d", ms, batch[0].OccurredAt.UnixMilli())
	}
}

// TestReportCountsTheOrdersEachSystemsEventsWereResolvedTo: the carrier's
// orders are those its scans were linked to, not the order IDs its raw
// records carry (synctest.SystemRows has the worked numbers).
func TestReportCountsTheOrdersEachSystemsEventsWereResolvedTo(t *testing.T) {
	c := open(t)
	synctest.InsertSystems(t, c)
	rep, err := c.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	day := synctest.SystemsDay
	want := []clickhouse.SystemSummary{
		{System: "carrier", Events: 5, UniqueEvents: 4, Orders: 2, TrackingNumbers: 3, FirstOccurred: day.Add(12 * time.Hour), LastOccurred: day.Add(14 * time.Hour)},
		{System: "storefront", Events: 3, UniqueEvents: 3, Orders: 3, FirstOccurred: day.Add(8 * time.Hour), LastOccurred: day.Add(9 * time.Hour)},
		{System: "wms", Events: 1, UniqueEvents: 1, Orders: 0, FirstOccurred: day.Add(10 * time.Hour), LastOccurred: day.Add(10 * time.Hour)},
	}
	if len(rep.Systems) != len(want) {
		t.Fatalf("systems = %+v\nwant %+v", rep.Systems, want)
	}
	for i, w := range want {
		g := rep.Systems[i]
		if g.System != w.System || g.Events != w.Events || g.UniqueEvents != w.UniqueEvents || g.Orders != w.Orders ||
			g.TrackingNumbers != w.TrackingNumbers || !g.FirstOccurred.Equal(w.FirstOccurred) || !g.LastOccurred.Equal(w.LastOccurred) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if rep.TotalEvents != 9 || rep.OrdersSeen != 4 {
		t.Errorf("total events %d, orders seen %d; want 9 and 4 (p1, p2, p3 and the carrier's raw p9)", rep.TotalEvents, rep.OrdersSeen)
	}
}

func TestReportCountsCanonicalStatusesAndDeadLettersOnce(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	canon := func(off int64, order, status string) clickhouse.CanonicalEvent {
		return clickhouse.CanonicalEvent{OrderID: order, SourceSystem: "wms", SourceEventID: fmt.Sprint("e", off), CanonicalStatus: status,
			OccurredAt: at, RecordedAt: at, IngestedAt: at, Position: clickhouse.Position{Topic: "canonical", Partition: 0, Offset: off}}
	}
	events := []clickhouse.CanonicalEvent{canon(0, "o-1", "SHIPPED"), canon(1, "o-2", "SHIPPED"), canon(2, "o-1", "DELIVERED"), canon(3, "o-1", "")}
	dead := []clickhouse.DeadLetter{
		{Stage: "normalize", Reason: "unmapped_status", FailedAt: at, Position: clickhouse.Position{Topic: "dlq", Offset: 0}},
		{Stage: "normalize", Reason: "unmapped_status", FailedAt: at, Position: clickhouse.Position{Topic: "dlq", Offset: 1}},
		{Stage: "sink", Reason: "undecodable", FailedAt: at, Position: clickhouse.Position{Topic: "dlq", Offset: 2}},
	}
	// Inserted twice, as after a crash between insert and commit.
	for i := 0; i < 2; i++ {
		if err := c.InsertCanonicalEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertDeadLetters(ctx, dead); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := c.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantStatuses := []clickhouse.StatusCount{{Status: "", Events: 1, Orders: 1}, {Status: "DELIVERED", Events: 1, Orders: 1}, {Status: "SHIPPED", Events: 2, Orders: 2}}
	if rep.CanonicalEvents != 4 || fmt.Sprint(rep.Statuses) != fmt.Sprint(wantStatuses) {
		t.Errorf("canonical: %d events, statuses %v; want 4, %v", rep.CanonicalEvents, rep.Statuses, wantStatuses)
	}
	wantDead := []clickhouse.DeadLetterCount{{Stage: "normalize", Reason: "unmapped_status", Records: 2}, {Stage: "sink", Reason: "undecodable", Records: 1}}
	if fmt.Sprint(rep.DeadLetters) != fmt.Sprint(wantDead) {
		t.Errorf("dead letters %v, want %v", rep.DeadLetters, wantDead)
	}
}

func TestReportCountsOrdersByLatestTruthAndTransitionsPerHour(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trans := func(off int64, order, id string, at time.Time) clickhouse.OrderTransition {
		return clickhouse.OrderTransition{TransitionID: id, OrderID: order, Kind: "advance", ToStatus: "SHIPPED", Authority: "wms",
			EventTime: at, RecordedAt: at, ProcessedAt: at, Position: clickhouse.Position{Topic: "transitions", Offset: off}}
	}
	transitions := []clickhouse.OrderTransition{trans(0, "o-1", "t1", h.Add(5*time.Minute)), trans(1, "o-2", "t2", h.Add(50*time.Minute)), trans(2, "o-1", "t3", h.Add(70*time.Minute))}
	state := func(off int64, order, truth string) clickhouse.OrderState {
		return clickhouse.OrderState{OrderID: order, Truth: truth, ViewsJSON: "[]", ShipmentsJSON: "[]", UpdatedAt: h, Position: clickhouse.Position{Topic: "order-state", Offset: off}}
	}
	// o-1 moves from SHIPPED to DELIVERED: only its latest state counts.
	states := []clickhouse.OrderState{state(0, "o-1", "SHIPPED"), state(1, "o-2", "SHIPPED"), state(2, "o-1", "DELIVERED")}
	for i := 0; i < 2; i++ {
		if err := c.InsertOrderTransitions(ctx, transitions); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertOrderStates(ctx, states); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := c.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantTruths := []clickhouse.TruthCount{{Truth: "DELIVERED", Orders: 1}, {Truth: "SHIPPED", Orders: 1}}
	if fmt.Sprint(rep.Truths) != fmt.Sprint(wantTruths) {
		t.Errorf("orders by truth %v, want %v", rep.Truths, wantTruths)
	}
	if len(rep.TransitionsPerHour) != 2 || !rep.TransitionsPerHour[0].Hour.Equal(h) || rep.TransitionsPerHour[0].Transitions != 2 || rep.TransitionsPerHour[1].Transitions != 1 {
		t.Errorf("transitions per hour %+v, want 2 at %s and 1 an hour later", rep.TransitionsPerHour, h)
	}
}

func TestNewSourceEventProjectsTheSharedFields(t *testing.T) {
	plain := map[string]any{"event_id": "c-1", "tracking_number": "1Z", "carrier": "UPS", "status": "in_transit",
		"sub_status": "arrived_at_facility", "occurred_at": "2026-11-01T10:00:00.5Z", "recorded_at": "2026-11-01T10:01:00Z"}
	ev, err := clickhouse.NewSourceEvent(schemas.Carrier, plain)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != "c-1" || ev.TrackingNumber != "1Z" || ev.Status != "in_transit" || ev.SubStatus != "arrived_at_facility" || ev.OrderID != "" {
		t.Errorf("projection = %+v", ev)
	}
	if ev.OccurredAt.UnixMilli()%1000 != 500 {
		t.Errorf("occurred_at lost its milliseconds: %v", ev.OccurredAt)
	}
	delete(plain, "recorded_at")
	if _, err := clickhouse.NewSourceEvent(schemas.Carrier, plain); err == nil {
		t.Error("a record without recorded_at must be refused")
	}
}
