package wismoreview

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
)

func f64(v float64) *float64 { return &v }
func u64(v uint64) *uint64   { return &v }

func TestPer1000(t *testing.T) {
	for _, c := range []struct {
		tickets, orders uint64
		want            *float64
	}{
		{0, 0, nil}, {5, 0, nil}, {0, 10, f64(0)}, {3, 2000, f64(1.5)}, {1, 3, f64(1000.0 / 3)}, {7, 7, f64(1000)},
	} {
		got := Per1000(c.tickets, c.orders)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("Per1000(%d, %d) = %v, want %v", c.tickets, c.orders, deref(got), deref(c.want))
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestMonths(t *testing.T) {
	since, until, err := MonthRange("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if since != time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli() || until != time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() {
		t.Errorf("%d %d", since, until)
	}
	if MonthOf(until-1) != "2026-12" || MonthOf(until) != "2027-01" {
		t.Errorf("MonthOf around the boundary: %s %s", MonthOf(until-1), MonthOf(until))
	}
	prev, err := PreviousMonths("2027-02", 3)
	if err != nil || !slices.Equal(prev, []string{"2026-11", "2026-12", "2027-01"}) {
		t.Errorf("%v %v", prev, err)
	}
	if prev, err := PreviousMonths("2027-02", 0); err != nil || len(prev) != 0 {
		t.Errorf("%v %v", prev, err)
	}
	for _, bad := range []string{"", "2026", "2026-13", "2026-1", "26-01", "2026-01-01", "2026/01"} {
		if _, _, err := MonthRange(bad); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestByCause(t *testing.T) {
	rows := []Row{
		{canonical.WISMOViewerOutOfSync, "carrier->storefront", 3},
		{canonical.WISMONoSyncProblem, "", 4},
		{canonical.WISMOViewerOutOfSync, "wms->notifications", 1},
		{"something_new", "", 2},
	}
	got := ByCause(rows, 2000)
	want := []CauseShare{
		{canonical.WISMOViewerOutOfSync, 4, f64(0.4), f64(2)},
		{canonical.WISMODelayNotNotified, 0, f64(0), f64(0)},
		{canonical.WISMOCarrierException, 0, f64(0), f64(0)},
		{canonical.WISMONoSyncProblem, 4, f64(0.4), f64(2)},
		{"something_new", 2, f64(0.2), f64(1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", js(got), js(want))
	}
	// No ticket, no order: the four causes, zero, without shares.
	empty := ByCause(nil, 0)
	if len(empty) != 4 || empty[0].Share != nil || empty[0].Per1000Orders != nil || empty[3].Tickets != 0 {
		t.Errorf("%s", js(empty))
	}
}

func TestFixFirst(t *testing.T) {
	rows := []Row{
		{canonical.WISMOViewerOutOfSync, "carrier->storefront", 5},
		{canonical.WISMODelayNotNotified, linkDelayNotice, 5},
		{canonical.WISMOViewerOutOfSync, "carrier->notifications", 2},
		{canonical.WISMOCarrierException, "", 6},
		{canonical.WISMOViewerOutOfSync, "carrier->storefront", 3}, // the same link in another row
		{canonical.WISMOViewerOutOfSync, "wms->storefront", 0},
		{canonical.WISMONoSyncProblem, "", 4},
	}
	previous := []Row{{canonical.WISMOViewerOutOfSync, "carrier->storefront", 9}, {canonical.WISMOViewerOutOfSync, "oms->storefront", 1}}
	got := FixFirst(rows, previous)
	want := []LinkRank{
		{1, "carrier->storefront", canonical.WISMOViewerOutOfSync, 8, f64(8.0 / 25), u64(9)},
		{2, linkDelayNotice, canonical.WISMODelayNotNotified, 5, f64(5.0 / 25), u64(0)},
		{3, "carrier->notifications", canonical.WISMOViewerOutOfSync, 2, f64(2.0 / 25), u64(0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", js(got), js(want))
	}
	// A tie is broken by the link's name; no previous month, no Previous.
	tie := FixFirst([]Row{{canonical.WISMOViewerOutOfSync, "wms->storefront", 2}, {canonical.WISMOViewerOutOfSync, "carrier->storefront", 2}}, nil)
	if len(tie) != 2 || tie[0].Link != "carrier->storefront" || tie[1].Rank != 2 || tie[0].Previous != nil {
		t.Errorf("%s", js(tie))
	}
	if len(FixFirst(nil, nil)) != 0 {
		t.Error("links out of nothing")
	}
}

func TestTrend(t *testing.T) {
	got := Trend([]Month{
		{Month: "2026-09", Orders: 1000, Rows: []Row{{canonical.WISMONoSyncProblem, "", 10}}},
		{Month: "2026-10", Orders: 0},
		{Month: "2026-11", Orders: 2000, Rows: []Row{{canonical.WISMONoSyncProblem, "", 10}, {canonical.WISMOViewerOutOfSync, "x", 6}}},
		{Month: "2026-12", Orders: 4000, Rows: []Row{{canonical.WISMONoSyncProblem, "", 20}}},
	})
	want := []TrendPoint{
		{"2026-09", 1000, 10, f64(10), nil},
		{"2026-10", 0, 0, nil, nil},
		{"2026-11", 2000, 16, f64(8), nil},
		{"2026-12", 4000, 20, f64(5), f64(-3)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", js(got), js(want))
	}
}

func TestNewReview(t *testing.T) {
	previous := []Month{
		{Month: "2026-09", Orders: 2000, Rows: []Row{{canonical.WISMOViewerOutOfSync, "carrier->storefront", 10}, {canonical.WISMONoSyncProblem, "", 10}}},
		{Month: "2026-10", Orders: 2500, Rows: []Row{{canonical.WISMOViewerOutOfSync, "carrier->storefront", 8}, {canonical.WISMOCarrierException, "", 7}}},
	}
	current := Month{Month: "2026-11", Orders: 3200, Rows: []Row{
		{canonical.WISMOViewerOutOfSync, "carrier->storefront", 6},
		{canonical.WISMOViewerOutOfSync, "wms->notifications", 2},
		{canonical.WISMODelayNotNotified, linkDelayNotice, 4},
		{canonical.WISMOCarrierException, "", 8},
		{canonical.WISMONoSyncProblem, "", 12},
	}}
	r, err := NewReview(current, previous)
	if err != nil {
		t.Fatal(err)
	}
	want := Review{
		Month: "2026-11", Orders: 3200, Tickets: 32, Per1000Orders: f64(10),
		ByCause: []CauseShare{
			{canonical.WISMOViewerOutOfSync, 8, f64(0.25), f64(2.5)},
			{canonical.WISMODelayNotNotified, 4, f64(0.125), f64(1.25)},
			{canonical.WISMOCarrierException, 8, f64(0.25), f64(2.5)},
			{canonical.WISMONoSyncProblem, 12, f64(0.375), f64(3.75)},
		},
		FixFirst: []LinkRank{
			{1, "carrier->storefront", canonical.WISMOViewerOutOfSync, 6, f64(0.1875), u64(8)},
			{2, linkDelayNotice, canonical.WISMODelayNotNotified, 4, f64(0.125), u64(0)},
			{3, "wms->notifications", canonical.WISMOViewerOutOfSync, 2, f64(0.0625), u64(0)},
		},
		Trend: []TrendPoint{
			{"2026-09", 2000, 20, f64(10), nil},
			{"2026-10", 2500, 15, f64(6), f64(-4)},
			{"2026-11", 3200, 32, f64(10), f64(4)},
		},
		VsPrevious: f64(4),
		VsAverage:  f64(2), // 10 − mean(10, 6)
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %s\nwant %s", js(r), js(want))
	}
	// The JSON the report prints (--format json) names every part.
	for _, key := range []string{`"per_1000_orders":10`, `"by_cause":[`, `"fix_first":[{"rank":1,"link":"carrier-\u003estorefront"`,
		`"trend":[`, `"vs_previous_month":4`, `"vs_previous_average":2`} {
		if !strings.Contains(js(r), key) {
			t.Errorf("JSON lacks %s:\n%s", key, js(r))
		}
	}

	// No history: no comparison, links without a previous count.
	alone, err := NewReview(current, nil)
	if err != nil || alone.VsPrevious != nil || alone.VsAverage != nil || len(alone.Trend) != 1 || alone.FixFirst[0].Previous != nil {
		t.Errorf("%s %v", js(alone), err)
	}
	// Previous months without orders: no average, no change.
	quiet, err := NewReview(current, []Month{{Month: "2026-10"}})
	if err != nil || quiet.VsPrevious != nil || quiet.VsAverage != nil || *quiet.FixFirst[0].Previous != 0 {
		t.Errorf("%s %v", js(quiet), err)
	}
	// No orders this month.
	none, err := NewReview(Month{Month: "2026-11"}, previous)
	if err != nil || none.Per1000Orders != nil || none.VsPrevious != nil || none.VsAverage != nil || len(none.FixFirst) != 0 {
		t.Errorf("%s %v", js(none), err)
	}
}

func TestNewReviewRejectsMisplacedMonths(t *testing.T) {
	for _, c := range []struct {
		current  string
		previous []string
	}{
		{"2026-13", nil},
		{"2026-11", []string{"2026-09"}},            // not the month before
		{"2026-11", []string{"2026-10", "2026-09"}}, // newest first
		{"2026-11", []string{"2026-11"}},            // the month itself
		{"2027-01", []string{"2026-11", "2027-12"}}, // a typo
	} {
		prev := make([]Month, len(c.previous))
		for i, m := range c.previous {
			prev[i] = Month{Month: m}
		}
		if _, err := NewReview(Month{Month: c.current}, prev); err == nil {
			t.Errorf("%s after %v: accepted", c.current, c.previous)
		}
	}
	if _, err := NewReview(Month{Month: "2027-01"}, []Month{{Month: "2026-11"}, {Month: "2026-12"}}); err != nil {
		t.Errorf("across the year: %v", err)
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// linkDelayNotice is a link as the attribution names a delay notice that
// did not reach the customer (processors/wismo.LinkDelayNotice).
const linkDelayNotice = "delay_notice->notifications"
