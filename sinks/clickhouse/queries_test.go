package clickhouse_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// docQueries reads the queries of docs/queries.md: each ```sql fence right
// after a <!-- query: NAME --> marker line. Each must be the file
// queries/NAME.sql as the docs show it, and each file must be shown
// (`make docs` writes the fences).
func docQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/queries.md")
	if err != nil {
		t.Fatal(err)
	}
	out, err := clickhouse.DocFences(string(b))
	if err != nil {
		t.Fatalf("docs/queries.md: %v", err)
	}
	for _, name := range clickhouse.QueryNames() {
		want, err := clickhouse.DocQuery(name)
		if err != nil {
			t.Fatal(err)
		}
		switch got, ok := out[name]; {
		case !ok:
			t.Errorf("docs/queries.md does not show queries/%s.sql (make docs)", name)
		case got != want:
			t.Errorf("docs/queries.md shows query %s other than queries/%s.sql has it (make docs):\n%s", name, name, got)
		}
	}
	for name := range out {
		if _, err := clickhouse.DocQuery(name); err != nil {
			t.Errorf("docs/queries.md: %v", err)
		}
	}
	return out
}

// cell prints a scanned value: NULL for nil, dates and times in UTC,
// floats in their shortest form.
func cell(v reflect.Value, dbType string) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if strings.Contains(dbType, "DateTime") {
			return x.UTC().Format(time.DateTime)
		}
		return x.UTC().Format(time.DateOnly)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// runDocQuery runs one query with {db}, {since} and {until} substituted
// and prints each row as its space-separated cells.
func runDocQuery(t *testing.T, c *clickhouse.Client, query string, since, until time.Time) []string {
	t.Helper()
	quote := func(t time.Time) string { return "'" + t.UTC().Format(time.DateTime) + "'" }
	q := strings.NewReplacer("{db}", c.Database(), "{since}", quote(since), "{until}", quote(until)).Replace(query)
	return queryCells(t, c, q)
}

// queryCells runs q and prints each row as its space-separated cells.
func queryCells(t *testing.T, c *clickhouse.Client, q string) []string {
	t.Helper()
	rows, err := c.Conn().Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out []string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(dest))
		for i, d := range dest {
			cells[i] = cell(reflect.ValueOf(d), types[i].DatabaseTypeName())
		}
		out = append(out, strings.Join(cells, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocumentedQueries runs every query of docs/queries.md on the
// synctest fixture (inserted twice) and checks the answers worked out by
// hand there. Latency quantiles are quantilesExact: exact, no tolerance.
func TestDocumentedQueries(t *testing.T) {
	c := open(t)
	synctest.Insert(t, c)
	synctest.InsertWismo(t, c)        // no order on the Day or either side of it
	synctest.InsertDelayNotices(t, c) // 10 and 11 November
	d := synctest.Day
	date := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	dayAfter := d.Add(24 * time.Hour)
	type run struct {
		since, until time.Time
		want         []string
	}
	cases := map[string][]run{
		// storefront 3 of 4 at 10:00, helpdesk 2 of 4 at 11:00, notifications 1 of 1.
		"accuracy_by_viewer_hour": {{d, dayAfter, []string{
			"helpdesk 2026-11-02 11:00:00 2 4 0.5",
			"notifications 2026-11-02 11:00:00 1 1 1",
			"storefront 2026-11-02 10:00:00 3 4 0.75",
		}}, {d.Add(10 * time.Hour), d.Add(11 * time.Hour), []string{
			"storefront 2026-11-02 10:00:00 3 4 0.75",
		}}},
		// Two days: the notifications MISSING check of the day before.
		"accuracy_by_viewer_day": {{d.Add(-24 * time.Hour), dayAfter, []string{
			"helpdesk 2026-11-02 2 4 0.5 0",
			"notifications 2026-11-01 0 1 0 0",
			"notifications 2026-11-02 1 1 1 1",
			"storefront 2026-11-02 3 4 0.75 0",
		}}},
		"outcomes_by_viewer": {{d, dayAfter, []string{
			"helpdesk CONFLICT 1", "helpdesk IN_SYNC 2", "helpdesk MISSING 1",
			"notifications IN_SYNC 1",
			"storefront IN_SYNC 3", "storefront LATE 1", "storefront SUPERSEDED 1",
		}}},
		// storefront: UPS 60 s, 120 s and FedEx 900 s (its WMS-set check is
		// not a carrier scan): ranks ⌊0.5×3⌋ = 1, ⌊0.95×3⌋ = ⌊0.99×3⌋ = 2.
		"latency_by_viewer": {{d, dayAfter, []string{
			"helpdesk 1 [10000 10000 10000] 10000 10000 10000 1",
			"notifications 1 [200000 200000 200000] 200000 200000 200000 1",
			"storefront 3 [120000 900000 900000] 120000 900000 900000 0",
		}}},
		// UPS: 10 s, 60 s, 120 s, 200 s.
		"latency_by_carrier": {{d, dayAfter, []string{
			"FedEx 1 [900000 900000 900000] 900000 900000 900000 0",
			"UPS 4 [120000 200000 200000] 120000 200000 200000 1",
		}}},
		// The scorecard's failed syncs: storefront's LATE check and its
		// still-open s6 out of its 4 counted checks plus s6.
		"failed_syncs_by_viewer": {{d, dayAfter, []string{
			"helpdesk 2 4 0.5 0",
			"notifications 0 1 0 1",
			"storefront 2 5 0.4 0",
		}}},
		"failed_syncs_by_viewer_reason": {{d, dayAfter, []string{
			"helpdesk conflict 1",
			"helpdesk sla_breached 1",
			"storefront sla_breached 2",
		}}},
		// The serve page's chart: the day's four failed checks (the
		// scorecard's), by reason and the hour they were detected.
		"failed_syncs_by_reason_hour": {{d, dayAfter, []string{
			"conflict 2026-11-02 11:00:00 1",
			"sla_breached 2026-11-02 10:00:00 1",
			"sla_breached 2026-11-02 11:00:00 1",
			"sla_breached 2026-11-02 12:00:00 1",
		}}},
		// By detection hour; the day before's notifications failure is out.
		"failed_syncs_by_viewer_reason_hour": {{d, dayAfter, []string{
			"2026-11-02 10:00:00 storefront sla_breached 1",
			"2026-11-02 11:00:00 helpdesk conflict 1",
			"2026-11-02 11:00:00 helpdesk sla_breached 1",
			"2026-11-02 12:00:00 storefront sla_breached 1",
		}}},
		// The day: t1 over o1–o5; the day before: t3, t4 over o6, o7; the day
		// after: t5 over o8 (placed at its midnight).
		"wismo_per_1000_orders": {{d, dayAfter, []string{
			"current 1 5 200",
			"previous 2 2 1000",
		}}, {dayAfter, dayAfter.Add(24 * time.Hour), []string{
			"current 1 1 1000",
			"previous 1 5 200",
		}}},
		// synctest.DelayNotices: the latest version of each notice.
		"delay_notices_by_reason_day": {{date("2026-11-10"), date("2026-11-12"), []string{
			"2026-11-10 eta_past_promise 1 0 0 0 1 0 0",
			"2026-11-10 ship_by_missed 2 1 1 0 0 0 0",
			"2026-11-11 exception 1 0 0 1 0 0 0",
			"2026-11-11 return_to_sender 1 1 0 0 0 0 1",
			"2026-11-11 ship_by_missed 3 0 0 0 1 2 1",
		}}},
		// ship_by_missed: d-1 in time, d-2 late; d-7 open; d-6 and d-8 had
		// nothing to tell.
		"delay_notices_told_in_time": {{date("2026-11-10"), date("2026-11-13"), []string{
			"eta_past_promise 0 0 0 0 NULL 1",
			"exception 0 0 1 1 0 0",
			"return_to_sender 1 0 0 1 1 0",
			"ship_by_missed 1 1 0 2 0.5 1",
		}}},
		// As of midnight on the 12th: d-3 (due 12:05 on the 10th) and d-4
		// (08:05 on the 11th); a day later d-7 (due 11:00 on the 12th) too.
		"delay_notices_owed": {{date("2026-11-10"), date("2026-11-12"), []string{
			"d-3 n-d-3 eta_past_promise 2026-11-10 12:05:00 2155 open 0",
			"d-4 n-d-4 exception 2026-11-11 08:05:00 955 NOT_NOTIFIED 0",
		}}, {date("2026-11-10"), date("2026-11-13"), []string{
			"d-3 n-d-3 eta_past_promise 2026-11-10 12:05:00 3595 open 0",
			"d-4 n-d-4 exception 2026-11-11 08:05:00 2395 NOT_NOTIFIED 0",
			"d-7 n-d-7 ship_by_missed 2026-11-12 11:00:00 780 open 1",
		}}},
		"delay_refunds_due": {{date("2026-11-10"), date("2026-11-12"), []string{
			"d-5 return_to_sender 1 2026-11-11 09:00:00",
			"d-6 cancelled_before_shipping 1 2026-11-11 10:00:00",
		}}},
		// synctest.Insert's o1–o8 (1–3 November) and synctest.WismoRows'
		// w-o0 (September), w-o1–w-o4 (October: w-o4's canonical event on
		// the 31st comes before its transition) and w-o5–w-o9 (November;
		// w-o10 is December's).
		"orders_placed_by_month": {{date("2026-09-01"), date("2026-12-01"), []string{
			"202609 1", "202610 4", "202611 13",
		}}, {date("2026-10-01"), date("2026-11-01"), []string{
			"202610 4",
		}}},
		// synctest.WismoRows: k2, repeated in November, counts in October
		// only; k9 is December's.
		"wismo_tickets_by_cause_link_month": {{date("2026-10-01"), date("2026-12-01"), []string{
			"202610 delay_not_notified delay_notice->notifications 1",
			"202610 viewer_out_of_sync carrier->storefront 1",
			"202611 carrier_exception NULL 1",
			"202611 delay_not_notified delay_notice->notifications 1",
			"202611 no_sync_problem NULL 1",
			"202611 viewer_out_of_sync carrier->storefront 2",
			"202611 viewer_out_of_sync oms->storefront 1",
		}}, {date("2026-11-01"), date("2026-12-01"), []string{
			"202611 carrier_exception NULL 1",
			"202611 delay_not_notified delay_notice->notifications 1",
			"202611 no_sync_problem NULL 1",
			"202611 viewer_out_of_sync carrier->storefront 2",
			"202611 viewer_out_of_sync oms->storefront 1",
		}}},
		// November's 6 tickets: the links of 4.
		"wismo_fix_first": {{date("2026-11-01"), date("2026-12-01"), []string{
			"carrier->storefront viewer_out_of_sync 2 33.3",
			"delay_notice->notifications delay_not_notified 1 16.7",
			"oms->storefront viewer_out_of_sync 1 16.7",
		}}, {date("2026-10-01"), date("2026-11-01"), []string{
			"carrier->storefront viewer_out_of_sync 1 50",
			"delay_notice->notifications delay_not_notified 1 50",
		}}},
		// The same numbers as TestScorecardOfADay.
		"scorecard": {{d, dayAfter, []string{
			"helpdesk 4 0.5 0 1 10000 1 2 0.5 0",
			"notifications 1 1 1 1 200000 1 0 0 1",
			"storefront 4 0.75 0 3 900000 0 2 0.4 0",
		}}},
	}
	// The stored-totals queries read the whole tables; the Report tests
	// (clickhouse_test.go) work out their answers on fixtures of their own.
	// Here they run as documented and as bound, and must agree.
	answeredElsewhere := map[string]string{
		"stored_events_by_system":     "TestReportCountsTheOrdersEachSystemsEventsWereResolvedTo",
		"stored_orders_seen":          "TestInsertedRowsAreReportedOnceEvenWhenABatchIsInsertedTwice",
		"stored_canonical_statuses":   "TestReportCountsCanonicalStatusesAndDeadLettersOnce",
		"stored_dead_letters":         "TestReportCountsCanonicalStatusesAndDeadLettersOnce",
		"stored_orders_by_truth":      "TestReportCountsOrdersByLatestTruthAndTransitionsPerHour",
		"stored_transitions_per_hour": "TestReportCountsOrdersByLatestTruthAndTransitionsPerHour",
	}
	queries := docQueries(t)
	var names []string
	for name := range queries {
		if _, ok := answeredElsewhere[name]; ok {
			asShown := runDocQuery(t, c, queries[name], d, dayAfter)
			q, err := c.BoundQuery(name, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if bound := queryCells(t, c, q); strings.Join(asShown, "\n") != strings.Join(bound, "\n") {
				t.Errorf("%s: as documented %q, as bound %q", name, asShown, bound)
			}
			continue
		}
		names = append(names, name)
		if _, ok := cases[name]; !ok {
			t.Errorf("docs/queries.md: query %s has no expected answer in this test", name)
		}
	}
	for name := range cases {
		if _, ok := queries[name]; !ok {
			t.Errorf("docs/queries.md lacks query %s", name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, r := range cases[name] {
			window := fmt.Sprintf("%s [%s, %s)", name, r.since.Format(time.DateTime), r.until.Format(time.DateTime))
			got := runDocQuery(t, c, queries[name], r.since, r.until)
			if strings.Join(got, "\n") != strings.Join(r.want, "\n") {
				t.Errorf("%s as documented:\n got %q\nwant %q", window, got, r.want)
			}
			// The same file as baton runs it: exact to the millisecond.
			q, err := c.BoundQuery(name, r.since, r.until)
			if err != nil {
				t.Fatal(err)
			}
			if got := queryCells(t, c, q); strings.Join(got, "\n") != strings.Join(r.want, "\n") {
				t.Errorf("%s as baton runs it:\n got %q\nwant %q", window, got, r.want)
			}
		}
	}
}

// TestQueryTargetsAreTheScorecards: the scorecard's verdicts come from the
// queries' meets_target columns and its JSON states the targets from
// constants; the two must name the same thresholds.
func TestQueryTargetsAreTheScorecards(t *testing.T) {
	latency := fmt.Sprintf("p95_ms < %d", clickhouse.LatencyTargetP95.Milliseconds())
	failed := fmt.Sprintf("failed_rate < %v", clickhouse.FailedSyncRateTarget)
	accuracy := fmt.Sprintf("accuracy > %v", clickhouse.AccuracyTarget)
	for name, wants := range map[string][]string{
		"latency_by_viewer":           {latency},
		"latency_by_carrier":          {latency},
		"failed_syncs_by_viewer":      {failed},
		"accuracy_by_viewer_day":      {accuracy},
		"scorecard":                   {accuracy, latency, failed},
		"stored_transitions_per_hour": {fmt.Sprintf("LIMIT %d", clickhouse.ReportHours)},
	} {
		q, err := clickhouse.DocQuery(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(q, want) {
				t.Errorf("queries/%s.sql does not say %q, the scorecard's target", name, want)
			}
		}
	}
}
