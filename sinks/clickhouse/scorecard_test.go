package clickhouse_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

func fp(f float64) *float64 { return &f }
func bp(b bool) *bool       { return &b }

// Quantiles are quantilesExact: the value at rank floor(level × n) of the
// sorted latencies, so the fixture's quantiles are asserted exactly (no
// tolerance), e.g. storefront [60 s, 120 s, 900 s] → p50 = 120 s.
func lat(checks uint64, p50, p95, p99 int64) clickhouse.LatencyQuantiles {
	return clickhouse.LatencyQuantiles{Checks: checks, P50Millis: p50, P95Millis: p95, P99Millis: p99, Pass: p95 < 300_000}
}

func scorecard(t *testing.T, c *clickhouse.Client, since, until time.Time) clickhouse.Scorecard {
	t.Helper()
	sc, err := c.Scorecard(context.Background(), since, until)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestScorecardOfADay(t *testing.T) {
	c := open(t)
	synctest.Insert(t, c)
	sc := scorecard(t, c, synctest.Day, synctest.Day.Add(24*time.Hour))

	assertEqual(t, "latency by viewer", sc.Latency.ByViewer, []clickhouse.ViewerLatency{
		{Viewer: "helpdesk", LatencyQuantiles: lat(1, 10_000, 10_000, 10_000)},
		{Viewer: "notifications", LatencyQuantiles: lat(1, 200_000, 200_000, 200_000)},
		{Viewer: "storefront", LatencyQuantiles: lat(3, 120_000, 900_000, 900_000)},
	})
	assertEqual(t, "latency by carrier", sc.Latency.ByCarrier, []clickhouse.CarrierLatency{
		{Carrier: "FedEx", LatencyQuantiles: lat(1, 900_000, 900_000, 900_000)},
		{Carrier: "UPS", LatencyQuantiles: lat(4, 120_000, 200_000, 200_000)}, // 10 s, 60 s, 120 s, 200 s
	})
	if sc.Latency.TargetP95Millis != 300_000 || sc.Latency.Pass == nil || *sc.Latency.Pass {
		t.Errorf("latency target %d, pass %v; want 300000, false (storefront and FedEx miss it)", sc.Latency.TargetP95Millis, sc.Latency.Pass)
	}

	assertEqual(t, "accuracy", sc.Accuracy.ByViewer, []clickhouse.ViewerAccuracy{
		{Viewer: "helpdesk", InSync: 2, Missing: 1, Conflict: 1, Checks: 4, Accuracy: fp(0.5), Pass: bp(false)},
		{Viewer: "notifications", InSync: 1, Checks: 1, Accuracy: fp(1), Pass: bp(true)},
		{Viewer: "storefront", InSync: 3, Late: 1, Superseded: 1, Checks: 4, Accuracy: fp(0.75), Pass: bp(false)},
	})

	// storefront: the LATE check and the still-open s6 failed, out of its 4
	// counted closed checks plus s6.
	assertEqual(t, "failed syncs", sc.FailedSyncs.ByViewer, []clickhouse.ViewerFailedSyncs{
		{Viewer: "helpdesk", Failed: 2, Checks: 4, Rate: fp(0.5), Pass: bp(false),
			Reasons: []clickhouse.ReasonCount{{Reason: "conflict", Failed: 1}, {Reason: "sla_breached", Failed: 1}}},
		{Viewer: "notifications", Failed: 0, Checks: 1, Rate: fp(0), Pass: bp(true), Reasons: []clickhouse.ReasonCount{}},
		{Viewer: "storefront", Failed: 2, Checks: 5, Rate: fp(0.4), Pass: bp(false), Reasons: []clickhouse.ReasonCount{{Reason: "sla_breached", Failed: 2}}},
	})

	// WISMO: t1 / o1–o5 on the synctest.Day; t3, t4 / o6, o7 the synctest.Day before.
	prevSince, since, until := synctest.Day.Add(-24*time.Hour), synctest.Day, synctest.Day.Add(24*time.Hour)
	assertEqual(t, "wismo", sc.WISMO, clickhouse.WISMOScore{Target: clickhouse.WISMOTarget,
		Current:  clickhouse.WISMOWindow{Since: &since, Until: &until, Tickets: 1, Orders: 5, Per1000Orders: fp(200)},
		Previous: &clickhouse.WISMOWindow{Since: &prevSince, Until: &since, Tickets: 2, Orders: 2, Per1000Orders: fp(1000)},
		Pass:     bp(true)})
	if sc.Pass == nil || *sc.Pass {
		t.Errorf("overall pass = %v, want false", sc.Pass)
	}
}

func TestScorecardWindows(t *testing.T) {
	c := open(t)
	synctest.Insert(t, c)
	h := synctest.Day.Add(10 * time.Hour)

	// Everything: the notifications check of the synctest.Day before counts, and
	// there is no previous window to compare WISMO with.
	all := scorecard(t, c, time.Time{}, time.Time{})
	if all.Since != nil || all.Until != nil {
		t.Errorf("unbounded window = %v, %v; want null, null", all.Since, all.Until)
	}
	assertEqual(t, "all: notifications accuracy", all.Accuracy.ByViewer[1],
		clickhouse.ViewerAccuracy{Viewer: "notifications", InSync: 1, Missing: 1, Checks: 2, Accuracy: fp(0.5), Pass: bp(false)})
	assertEqual(t, "all: notifications failed", all.FailedSyncs.ByViewer[1], clickhouse.ViewerFailedSyncs{Viewer: "notifications", Failed: 1, Checks: 2,
		Rate: fp(0.5), Pass: bp(false), Reasons: []clickhouse.ReasonCount{{Reason: "sla_breached", Failed: 1}}})
	// t1, t3, t4, t5 over o1–o8.
	assertEqual(t, "all: wismo", all.WISMO, clickhouse.WISMOScore{Target: clickhouse.WISMOTarget,
		Current: clickhouse.WISMOWindow{Tickets: 4, Orders: 8, Per1000Orders: fp(500)}})

	// One hour: the storefront's checks only.
	hour := scorecard(t, c, h, h.Add(time.Hour))
	if len(hour.Accuracy.ByViewer) != 1 || hour.Accuracy.ByViewer[0].Viewer != "storefront" || hour.Accuracy.ByViewer[0].Checks != 4 {
		t.Errorf("10:00–11:00 accuracy = %+v, want the storefront's 4 checks", hour.Accuracy.ByViewer)
	}
	if len(hour.FailedSyncs.ByViewer) != 1 || hour.FailedSyncs.ByViewer[0].Failed != 2 || hour.FailedSyncs.ByViewer[0].Checks != 5 {
		t.Errorf("10:00–11:00 failed syncs = %+v, want storefront 2 of 5", hour.FailedSyncs.ByViewer)
	}
	if len(hour.Latency.ByViewer) != 1 || len(hour.Latency.ByCarrier) != 2 {
		t.Errorf("10:00–11:00 latency = %+v", hour.Latency)
	}
	// No order placed or ticket opened in the hour, nor in the hour before.
	if w := hour.WISMO; w.Current.Orders != 0 || w.Current.Per1000Orders != nil || w.Previous == nil || w.Pass != nil {
		t.Errorf("10:00–11:00 wismo = %+v, want no orders, no value, no verdict", w)
	}

	// The window is half-open and exact to the millisecond: s1's truth is at
	// 10:05:00.500.
	s1 := h.Add(5*time.Minute + 500*time.Millisecond)
	if got := scorecard(t, c, s1, h.Add(time.Hour)).Accuracy.ByViewer[0].InSync; got != 3 {
		t.Errorf("since s1's truth: %d IN_SYNC, want 3", got)
	}
	if got := scorecard(t, c, s1.Add(time.Millisecond), h.Add(time.Hour)).Accuracy.ByViewer[0].InSync; got != 2 {
		t.Errorf("since 1 ms after s1's truth: %d IN_SYNC, want 2", got)
	}
	if got := scorecard(t, c, h, s1).Accuracy.ByViewer; len(got) != 0 {
		t.Errorf("until s1's truth (exclusive): %+v, want nothing", got)
	}
	if got := scorecard(t, c, h, s1.Add(time.Millisecond)).Accuracy.ByViewer; len(got) != 1 || got[0].InSync != 1 {
		t.Errorf("until 1 ms after s1's truth: %+v, want s1 alone", got)
	}
	// An empty window: empty lists (not null), no verdicts.
	empty := scorecard(t, c, synctest.Day.Add(100*24*time.Hour), synctest.Day.Add(101*24*time.Hour))
	if empty.Pass != nil || empty.Accuracy.ByViewer == nil || len(empty.Accuracy.ByViewer) != 0 || empty.Latency.Pass != nil {
		t.Errorf("empty window = %+v", empty)
	}
}

func TestScorecardJSONKeysAreTheDocumentedOnes(t *testing.T) {
	c := open(t)
	synctest.Insert(t, c)
	b, err := json.Marshal(scorecard(t, c, synctest.Day, synctest.Day.Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	// The previous WISMO window is there: the fixture has every key.
	if missing, extra := synctest.DiffKeys(synctest.JSONKeys("", v), synctest.ScorecardKeys(t, "../../README.md")); len(missing)+len(extra) > 0 {
		t.Errorf("scorecard JSON keys: documented in README but missing %v; present but undocumented %v", missing, extra)
	}
}
