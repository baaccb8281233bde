package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/reports/wismoreview"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// groundTruthFaults are the viewer faults of the end-to-end ground-truth
// run: every viewer delayed, dropped and contradicted at a few percent, the
// help desk (few orders, shown only on tickets) at more, so that each
// viewer has every outcome.
const groundTruthFaults = "storefront=delay:0.04,drop:0.02,conflict:0.02;helpdesk=delay:0.2,drop:0.1,conflict:0.1;notifications=delay:0.04,drop:0.02,conflict:0.02"

// groundTruthStart places the run across a month's end (3,000 orders take
// about 25 hours), so the monthly WISMO review has a previous month.
const groundTruthStart = "2026-11-30T06:00:00Z"

// TestReportEqualsTheSimulatorsGroundTruth is issue 5's and issue 7's
// acceptance test: simulate orders with known injected viewer faults and
// WISMO tickets placed where each cause applies, run the whole pipeline on
// the real broker and ClickHouse over the backlog, and `baton report
// --format json` must equal the simulator's ground truth exactly for the
// checks by viewer and outcome and the failed syncs by viewer and reason,
// and be within the simulator's stated tolerance for the latency
// quantiles; `baton report wismo --month M` must equal it exactly for every
// month: orders, WISMO tickets, tickets by cause and by integration link,
// and the previous month of its trend.
func TestReportEqualsTheSimulatorsGroundTruth(t *testing.T) {
	t.Parallel()
	// Every core busy for the whole test (issue 14): a loaded machine may
	// make the pipeline slower, never its results different.
	cpuHogs(t)
	s := newStack(t)
	truthFile := filepath.Join(t.TempDir(), "ground-truth.json")
	s.mustRunFast("simulate", "--orders", "3000", "--seed", "5", "--start", groundTruthStart, "--viewer-faults", groundTruthFaults, "--ground-truth", truthFile)
	// No wall-clock advance: the checks are judged by event time only.
	s.mustRunFast("run", "--until-caught-up", "--idle-advance", "0")
	assertReportEqualsGroundTruthFile(t, s, truthFile, true)
}

// assertReportEqualsGroundTruthFile reads the simulator's ground-truth
// file and compares the report with it (assertReportEqualsGroundTruth).
func assertReportEqualsGroundTruthFile(t *testing.T, s *stack, truthFile string, complete bool) {
	t.Helper()
	var gt simulator.GroundTruth
	b, err := os.ReadFile(truthFile)
	if err == nil {
		err = json.Unmarshal(b, &gt)
	}
	if err != nil {
		t.Fatal(err)
	}
	assertReportEqualsGroundTruth(t, s, gt, complete)
}

// assertReportEqualsGroundTruth compares `baton report --format json` and
// `baton report wismo` with the ground truth; complete requires every
// viewer to have every outcome (a run too small to test them fails).
func assertReportEqualsGroundTruth(t *testing.T, s *stack, gt simulator.GroundTruth, complete bool) {
	t.Helper()
	assertWismoReviewsEqual(t, s, gt.Wismo)
	var report struct {
		Scorecard clickhouse.Scorecard `json:"scorecard"`
	}
	if err := json.Unmarshal([]byte(s.mustRun("report", "--format", "json")), &report); err != nil {
		t.Fatal(err)
	}
	card := report.Scorecard
	accuracy := map[string]clickhouse.ViewerAccuracy{}
	for _, v := range card.Accuracy.ByViewer {
		accuracy[v.Viewer] = v
	}
	failed := map[string]map[string]uint64{}
	for _, v := range card.FailedSyncs.ByViewer {
		failed[v.Viewer] = map[string]uint64{}
		for _, r := range v.Reasons {
			failed[v.Viewer][r.Reason] = r.Failed
		}
	}
	latency := map[string]clickhouse.LatencyQuantiles{}
	for _, v := range card.Latency.ByViewer {
		latency[v.Viewer] = v.LatencyQuantiles
	}
	if len(gt.Viewers) != 3 {
		t.Fatalf("the ground truth has %d viewers, want 3", len(gt.Viewers))
	}
	tolerance := simulator.GroundTruthLatencyTolerance.Milliseconds()
	for _, v := range gt.Viewers {
		got, want := accuracy[v.Viewer], v.Checks
		if complete && (want.Late == 0 || want.Missing == 0 || want.Conflict == 0) {
			t.Errorf("%s: the ground truth lacks an outcome (%+v): the run tests too little", v.Viewer, want)
		}
		for _, c := range []struct {
			outcome   string
			got, want int
		}{
			{"IN_SYNC", int(got.InSync), want.InSync}, {"LATE", int(got.Late), want.Late}, {"MISSING", int(got.Missing), want.Missing},
			{"CONFLICT", int(got.Conflict), want.Conflict}, {"SUPERSEDED", int(got.Superseded), want.Superseded},
		} {
			if c.got != c.want {
				t.Errorf("%s %s checks: report %d, ground truth %d", v.Viewer, c.outcome, c.got, c.want)
			}
		}
		for reason, want := range map[string]int{"sla_breached": v.FailedSyncs.SLABreached, "conflict": v.FailedSyncs.Conflict} {
			if got := int(failed[v.Viewer][reason]); got != want {
				t.Errorf("%s failed syncs %s: report %d, ground truth %d", v.Viewer, reason, got, want)
			}
		}
		l, wl := latency[v.Viewer], v.Latency
		if int(l.Checks) != wl.Checks {
			t.Errorf("%s latency: report over %d checks, ground truth %d", v.Viewer, l.Checks, wl.Checks)
		}
		for _, q := range []struct {
			name      string
			got, want int64
		}{{"p50", l.P50Millis, wl.P50Millis}, {"p95", l.P95Millis, wl.P95Millis}, {"p99", l.P99Millis, wl.P99Millis}} {
			if d := q.got - q.want; d > tolerance || d < -tolerance {
				t.Errorf("%s latency %s: report %v, ground truth %v (tolerance %v)", v.Viewer, q.name,
					time.Duration(q.got)*time.Millisecond, time.Duration(q.want)*time.Millisecond, simulator.GroundTruthLatencyTolerance)
			}
		}
	}
}

// assertWismoReviewsEqual runs `baton report wismo --month M --months 1
// --format json` for every month of the ground truth and compares it.
func assertWismoReviewsEqual(t *testing.T, s *stack, gt simulator.WismoTruth) {
	t.Helper()
	for _, c := range gt.ByCause {
		if c.Tickets == 0 {
			t.Errorf("the ground truth has no %s ticket: the run tests too little (%+v)", c.Cause, gt.ByCause)
		}
	}
	withTickets := 0
	for i, m := range gt.Months {
		if m.Tickets > 0 {
			withTickets++
		}
		var review wismoreview.Review
		if err := json.Unmarshal([]byte(s.mustRun("report", "wismo", "--month", m.Month, "--months", "1", "--format", "json")), &review); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d orders, %d WISMO tickets, by cause %+v, links %+v", m.Month, review.Orders, review.Tickets, m.ByCause, review.FixFirst)
		if review.Orders != uint64(m.Orders) || review.Tickets != uint64(m.Tickets) {
			t.Errorf("%s: report %d orders, %d WISMO tickets; ground truth %d, %d", m.Month, review.Orders, review.Tickets, m.Orders, m.Tickets)
		}
		byCause := map[string]uint64{}
		for _, c := range review.ByCause {
			byCause[c.Cause] = c.Tickets
		}
		for _, c := range m.ByCause {
			if byCause[c.Cause] != uint64(c.Tickets) {
				t.Errorf("%s %s: report %d tickets, ground truth %d", m.Month, c.Cause, byCause[c.Cause], c.Tickets)
			}
		}
		links := map[string]uint64{}
		for _, l := range review.FixFirst {
			links[l.Cause+" "+l.Link] = l.Tickets
		}
		want := map[string]uint64{}
		for _, r := range m.Rows {
			if r.Link != "" {
				want[r.Cause+" "+r.Link] = uint64(r.Tickets)
			}
		}
		if !maps.Equal(links, want) {
			t.Errorf("%s links to fix: report %v, ground truth %v", m.Month, links, want)
		}
		if i > 0 {
			prev := gt.Months[i-1]
			if len(review.Trend) != 2 || review.Trend[0].Month != prev.Month || review.Trend[0].Orders != uint64(prev.Orders) ||
				review.Trend[0].Tickets != uint64(prev.Tickets) {
				t.Errorf("%s trend %+v, want %s first with %d orders, %d tickets", m.Month, review.Trend, prev.Month, prev.Orders, prev.Tickets)
			}
		}
	}
	if withTickets < 2 {
		t.Errorf("WISMO tickets in %d months of the ground truth, want at least 2 (a trend)", withTickets)
	}
}
