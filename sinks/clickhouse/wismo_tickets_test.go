package clickhouse_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/reports/wismoreview"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// TestWismoTicketsRoundTripThroughClickHouse: records in the schema's form
// (one with every optional field, one with none) project, store and read
// back field for field; stored twice, FINAL keeps one of each.
func TestWismoTicketsRoundTripThroughClickHouse(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	stale, err := clickhouse.NewWismoTicket(encodeDecode(t, "wismo_ticket", `{"ticket_id":"zd-41","order_id":"o-1","classified_by":"keyword",
		"matched":"where is my order","ticket_at":"2026-11-02T10:00:00.250Z","classified_at":"2026-11-02T11:30:00.500Z",
		"cause":"viewer_out_of_sync","link":"carrier->storefront","viewer":"storefront","out_of_sync_since":"2026-11-02T08:00:00Z",
		"check_id":"o-1|storefront|IN_TRANSIT|t-9","failed_sync_reason":"sla_breached","expected_status":"IN_TRANSIT",
		"shown_status":"SHIPPED","delay_reason":null,"problem_status":null,"problem_since":null,
		"truth_status":"IN_TRANSIT","truth_since":"2026-11-02T07:55:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	genuine, err := clickhouse.NewWismoTicket(encodeDecode(t, "wismo_ticket", `{"ticket_id":"zd-42","order_id":"o-2","classified_by":"tag",
		"matched":"wismo","ticket_at":"2026-11-30T23:59:59.999Z","classified_at":"2026-11-30T23:59:59.999Z","cause":"no_sync_problem",
		"link":null,"viewer":null,"out_of_sync_since":null,"check_id":null,"failed_sync_reason":null,"expected_status":null,
		"shown_status":null,"delay_reason":null,"problem_status":null,"problem_since":null,"truth_status":null,"truth_since":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if genuine.Link != "" || genuine.Viewer != "" || genuine.OutOfSyncSince != nil || genuine.TruthSince != nil || genuine.TruthStatus != "" {
		t.Errorf("nulls projected as %+v", genuine)
	}
	stale.Position = clickhouse.Position{Topic: "baton.wismo-tickets", Partition: 2, Offset: 7}
	genuine.Position = clickhouse.Position{Topic: "baton.wismo-tickets", Partition: 5, Offset: 8}
	for i := 0; i < 2; i++ {
		if err := c.InsertWismoTickets(ctx, []clickhouse.WismoTicket{stale, genuine}); err != nil {
			t.Fatal(err)
		}
	}

	type row struct {
		TicketID, OrderID, ClassifiedBy, Matched               string
		TicketAt                                               time.Time
		TicketAtMs                                             int64
		ClassifiedAt                                           time.Time
		ClassifiedAtMs                                         int64
		Cause, Link, Viewer                                    string
		OutOfSyncSince                                         *time.Time
		CheckID, Reason, Expected, Shown, DelayReason, Problem string
		ProblemSince                                           *time.Time
		Truth                                                  string
		TruthSince                                             *time.Time
		Topic                                                  string
		Partition                                              int32
		Offset                                                 int64
	}
	rows, err := c.Conn().Query(ctx, `SELECT ticket_id, order_id, classified_by, matched, ticket_at, ticket_at_ms, classified_at, classified_at_ms,
		cause, link, viewer, out_of_sync_since, check_id, failed_sync_reason, expected_status, shown_status, delay_reason, problem_status,
		problem_since, truth_status, truth_since, topic, kafka_partition, kafka_offset
		FROM `+c.Database()+`.wismo_tickets FINAL ORDER BY ticket_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.TicketID, &r.OrderID, &r.ClassifiedBy, &r.Matched, &r.TicketAt, &r.TicketAtMs, &r.ClassifiedAt, &r.ClassifiedAtMs,
			&r.Cause, &r.Link, &r.Viewer, &r.OutOfSyncSince, &r.CheckID, &r.Reason, &r.Expected, &r.Shown, &r.DelayReason, &r.Problem,
			&r.ProblemSince, &r.Truth, &r.TruthSince, &r.Topic, &r.Partition, &r.Offset); err != nil {
			t.Fatal(err)
		}
		r.TicketAt, r.ClassifiedAt = r.TicketAt.UTC(), r.ClassifiedAt.UTC()
		for _, p := range []**time.Time{&r.OutOfSyncSince, &r.ProblemSince, &r.TruthSince} {
			if *p != nil {
				u := (*p).UTC()
				*p = &u
			}
		}
		got = append(got, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	atp := func(s string) *time.Time { v := at(s); return &v }
	want := []row{
		{"zd-41", "o-1", "keyword", "where is my order", at("2026-11-02T10:00:00Z"), at("2026-11-02T10:00:00.250Z").UnixMilli(),
			at("2026-11-02T11:30:00Z"), at("2026-11-02T11:30:00.500Z").UnixMilli(), "viewer_out_of_sync", "carrier->storefront", "storefront",
			atp("2026-11-02T08:00:00Z"), "o-1|storefront|IN_TRANSIT|t-9", "sla_breached", "IN_TRANSIT", "SHIPPED", "", "", nil,
			"IN_TRANSIT", atp("2026-11-02T07:55:00Z"), "baton.wismo-tickets", 2, 7},
		{"zd-42", "o-2", "tag", "wismo", at("2026-11-30T23:59:59Z"), at("2026-11-30T23:59:59.999Z").UnixMilli(),
			at("2026-11-30T23:59:59Z"), at("2026-11-30T23:59:59.999Z").UnixMilli(), "no_sync_problem", "", "",
			nil, "", "", "", "", "", "", nil, "", nil, "baton.wismo-tickets", 5, 8},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored rows:\n got %+v\nwant %+v", got, want)
	}

	if _, err := clickhouse.NewWismoTicket(map[string]any{"ticket_id": "", "order_id": "o-1", "ticket_at": "2026-11-02T10:00:00Z", "classified_at": "2026-11-02T10:00:00Z"}); err == nil {
		t.Error("a ticket without ticket_id must be refused: it cannot be de-duplicated")
	}
}

// TestWISMOMonthsCountEachTicketOnceInItsFirstMonth reads the review's
// input from the synctest fixture (inserted twice): orders as the
// scorecard counts them, a
// ticket stored again after its order's eviction counted once, in its
// first month, with its first attribution; month bounds exact to the ms.
func TestWISMOMonthsCountEachTicketOnceInItsFirstMonth(t *testing.T) {
	c := open(t)
	synctest.InsertWismo(t, c)
	ctx := context.Background()
	months, err := c.WISMOMonths(ctx, "2026-11", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []wismoreview.Month{
		{Month: "2026-08", Orders: 0, Rows: []wismoreview.Row{}},
		{Month: "2026-09", Orders: 1, Rows: []wismoreview.Row{}},
		{Month: "2026-10", Orders: 4, Rows: []wismoreview.Row{
			{Cause: "delay_not_notified", Link: "delay_notice->notifications", Tickets: 1},
			{Cause: "viewer_out_of_sync", Link: "carrier->storefront", Tickets: 1},
		}},
		{Month: "2026-11", Orders: 5, Rows: []wismoreview.Row{
			{Cause: "carrier_exception", Link: "", Tickets: 1},
			{Cause: "delay_not_notified", Link: "delay_notice->notifications", Tickets: 1},
			{Cause: "no_sync_problem", Link: "", Tickets: 1},
			{Cause: "viewer_out_of_sync", Link: "carrier->storefront", Tickets: 2},
			{Cause: "viewer_out_of_sync", Link: "oms->storefront", Tickets: 1},
		}},
	}
	if !reflect.DeepEqual(months, want) {
		t.Errorf("months:\n got %+v\nwant %+v", months, want)
	}
	// Merged (the repeat's rows collapse, the repeat itself stays): the same.
	if err := c.Conn().Exec(ctx, "OPTIMIZE TABLE "+c.Database()+".wismo_tickets FINAL"); err != nil {
		t.Fatal(err)
	}
	var stored uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM "+c.Database()+".wismo_tickets").Scan(&stored); err != nil || stored != 10 {
		t.Errorf("after a merge, %d rows stored (%v); want the 10 distinct ones", stored, err)
	}
	if merged, err := c.WISMOMonths(ctx, "2026-11", 3); err != nil || !reflect.DeepEqual(merged, want) {
		t.Errorf("after a merge: %+v, %v", merged, err)
	}
	// The month alone: the ticket repeated in November still counts in
	// October, not here.
	alone, err := c.WISMOMonths(ctx, "2026-11", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(alone, want[3:]) {
		t.Errorf("November alone: %+v", alone)
	}
	// December: w-o10 and k9 at its first millisecond.
	dec, err := c.WISMOMonths(ctx, "2026-12", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec) != 1 || dec[0].Orders != 1 || !reflect.DeepEqual(dec[0].Rows, []wismoreview.Row{{Cause: "no_sync_problem", Tickets: 1}}) {
		t.Errorf("December: %+v", dec)
	}

	r, err := c.WISMOReview(ctx, "2026-11", 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tickets != 6 || r.Orders != 5 || r.Per1000Orders == nil || *r.Per1000Orders != 1200 ||
		r.VsPrevious == nil || *r.VsPrevious != 700 || r.VsAverage == nil || *r.VsAverage != 950 {
		t.Errorf("review: %+v", r)
	}
	for _, bad := range []struct {
		month string
		n     int
	}{{"2026-13", 3}, {"2026-1", 3}, {"2026-11", -1}} {
		if _, err := c.WISMOMonths(ctx, bad.month, bad.n); err == nil {
			t.Errorf("WISMOMonths(%q, %d): no error", bad.month, bad.n)
		}
	}
}
