package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/reports/wismoreview"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// wismoStack is a ClickHouse database of the test's own holding the
// monthly review's fixture (synctest.WismoRows works out its numbers).
func wismoStack(t *testing.T) *clickhouse.Client {
	t.Helper()
	c := synctest.Open(t, "reportwismo")
	synctest.InsertWismo(t, c)
	return c
}

// TestReportWismoText: the review of November 2026 against three months,
// as printed, every number worked out in synctest.WismoRows.
func TestReportWismoText(t *testing.T) {
	c := wismoStack(t)
	out, err := report(t, c, "wismo", "--month", "2026-11")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `WISMO review of 2026-11 (UTC months: tickets by when the customer asked, orders by when placed)
WISMO tickets per 1,000 orders: 1200.0 (6 WISMO tickets, 5 orders placed)
Against 2026-10: +700.0 per 1,000 orders (was 500.0)
Against the mean of 2026-08 to 2026-10: +950.0 (mean 250.0 over the 2 months with orders)

WISMO tickets by cause
               cause  tickets   share  per 1,000 orders
  viewer_out_of_sync        3  50.00%             600.0
  delay_not_notified        1  16.67%             200.0
   carrier_exception        1  16.67%             200.0
     no_sync_problem        1  16.67%             200.0

Integration links to fix first (tickets attributed to a viewer out of sync or a delay not told)
  rank                         link               cause  tickets  share of tickets  2026-10
     1          carrier->storefront  viewer_out_of_sync        2            33.33%        1
     2  delay_notice->notifications  delay_not_notified        1            16.67%        1
     3              oms->storefront  viewer_out_of_sync        1            16.67%        0

Trend
    month  orders  WISMO tickets  per 1,000 orders  change
  2026-08       0              0                 -       -
  2026-09       1              0               0.0       -
  2026-10       4              2             500.0  +500.0
  2026-11       5              6            1200.0  +700.0
`
	if out != want {
		t.Errorf("baton report wismo --month 2026-11:\n%s\nwant:\n%s", out, want)
	}

	// October against September alone; no previous month at all.
	out, err = report(t, c, "wismo", "--month", "2026-10", "--months", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, line := range []string{
		"WISMO tickets per 1,000 orders: 500.0 (2 WISMO tickets, 4 orders placed)",
		"Against 2026-09: +500.0 per 1,000 orders (was 0.0)",
		"Against the mean of 2026-09: +500.0 (mean 0.0 over the 1 month with orders)",
		"     1          carrier->storefront  viewer_out_of_sync        1            50.00%        0",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("October lacks %q:\n%s", line, out)
		}
	}
	out, err = report(t, c, "wismo", "--month", "2026-11", "--months", "0")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "No previous month compared (--months 0).\n") || strings.Contains(out, "Trend") ||
		!strings.Contains(out, "  rank                         link               cause  tickets  share of tickets\n") {
		t.Errorf("--months 0:\n%s", out)
	}
}

// TestReportWismoJSON: --format json is wismoreview.Review as is, with the same
// numbers as the text.
func TestReportWismoJSON(t *testing.T) {
	c := wismoStack(t)
	out, err := report(t, c, "wismo", "--month", "2026-11", "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var want any
	if err := json.Unmarshal([]byte(`{
		"month": "2026-11", "orders": 5, "tickets": 6, "per_1000_orders": 1200,
		"by_cause": [
			{"cause": "viewer_out_of_sync", "tickets": 3, "share": 0.5, "per_1000_orders": 600},
			{"cause": "delay_not_notified", "tickets": 1, "share": 0.16666666666666666, "per_1000_orders": 200},
			{"cause": "carrier_exception", "tickets": 1, "share": 0.16666666666666666, "per_1000_orders": 200},
			{"cause": "no_sync_problem", "tickets": 1, "share": 0.16666666666666666, "per_1000_orders": 200}
		],
		"fix_first": [
			{"rank": 1, "link": "carrier->storefront", "cause": "viewer_out_of_sync", "tickets": 2, "share": 0.3333333333333333, "previous": 1},
			{"rank": 2, "link": "delay_notice->notifications", "cause": "delay_not_notified", "tickets": 1, "share": 0.16666666666666666, "previous": 1},
			{"rank": 3, "link": "oms->storefront", "cause": "viewer_out_of_sync", "tickets": 1, "share": 0.16666666666666666, "previous": 0}
		],
		"trend": [
			{"month": "2026-08", "orders": 0, "tickets": 0, "per_1000_orders": null, "change": null},
			{"month": "2026-09", "orders": 1, "tickets": 0, "per_1000_orders": 0, "change": null},
			{"month": "2026-10", "orders": 4, "tickets": 2, "per_1000_orders": 500, "change": 500},
			{"month": "2026-11", "orders": 5, "tickets": 6, "per_1000_orders": 1200, "change": 700}
		],
		"vs_previous_month": 700, "vs_previous_average": 950
	}`), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("baton report wismo --format json:\n%s", out)
	}
}

// TestReportWismoEmptyMonthAndMistakes: a month with nothing says so (no
// NaN); a bad --month, --months or --format is a clear error.
func TestReportWismoEmptyMonthAndMistakes(t *testing.T) {
	c := wismoStack(t)
	out, err := report(t, c, "wismo", "--month", "2026-06")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `WISMO review of 2026-06 (UTC months: tickets by when the customer asked, orders by when placed)
No orders placed and no WISMO tickets in 2026-06: nothing to review (is the month right, and has ` + "`baton run`" + ` stored it?).
Against 2026-05: - (no orders placed in one of the two months)
Against the mean of 2026-03 to 2026-05: - (no month with orders)

WISMO tickets by cause
no WISMO tickets

Integration links to fix first (tickets attributed to a viewer out of sync or a delay not told)
no ticket attributed to an integration link

Trend
    month  orders  WISMO tickets  per 1,000 orders  change
  2026-03       0              0                 -       -
  2026-04       0              0                 -       -
  2026-05       0              0                 -       -
  2026-06       0              0                 -       -
`
	if out != want {
		t.Errorf("an empty month:\n%s\nwant:\n%s", out, want)
	}
	// December: one ticket over one order, at its first millisecond.
	out, err = report(t, c, "wismo", "--month", "2026-12", "--format", "json")
	if err != nil || !strings.Contains(out, `"per_1000_orders": 1000,`) || strings.Contains(out, "NaN") {
		t.Errorf("December: %v\n%s", err, out)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--month", "2026-13"}, `baton report: wismo: --month "2026-13": want a month as YYYY-MM (e.g. 2026-11)`},
		{[]string{"--month", "11/2026"}, `--month "11/2026": want a month as YYYY-MM`},
		{[]string{}, "baton report: wismo: --month is required"},
		{[]string{"--month", "2026-11", "--months", "-1"}, "--months -1: want 0 to 120 previous months"},
		{[]string{"--month", "2026-11", "--format", "table"}, `--format "table": want text or json`},
		{[]string{"--month", "2026-11", "extra"}, `unexpected argument "extra"`},
	} {
		out, err := report(t, c, append([]string{"wismo"}, bad.args...)...)
		if err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("baton report wismo %s: err %v, output:\n%s\nwant it to say %q", strings.Join(bad.args, " "), err, out, bad.want)
		}
	}
}

// TestPrintWismoReviewWithTicketsButNoOrders: rates are "-" when the month
// has tickets but no order placed (no NaN, no Inf), and the comparisons say
// why there is none.
func TestPrintWismoReviewWithTicketsButNoOrders(t *testing.T) {
	r, err := wismoreview.NewReview(wismoreview.Month{Month: "2026-11", Rows: []wismoreview.Row{{Cause: "viewer_out_of_sync", Link: "carrier->storefront", Tickets: 2}}},
		[]wismoreview.Month{{Month: "2026-10", Orders: 4, Rows: []wismoreview.Row{{Cause: "no_sync_problem", Tickets: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := printWismoReview(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range []string{
		"WISMO tickets per 1,000 orders: - (2 WISMO tickets, but no order placed in 2026-11)\n",
		"Against 2026-10: - (no orders placed in one of the two months)\n",
		"Against the mean of 2026-10: - (no order placed in 2026-11)\n",
		"  viewer_out_of_sync        2  100.00%                 -\n",
		"     1  carrier->storefront  viewer_out_of_sync        2           100.00%        0\n",
		"  2026-11       0              2                 -       -\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Errorf("output has NaN or Inf:\n%s", out)
	}
}
