package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// groundTruthFaults are the viewer faults of the end-to-end ground-truth
// run: every viewer delayed, dropped and contradicted at a few percent, the
// help desk (few orders, shown only on tickets) at more, so that each
// viewer has every outcome.
const groundTruthFaults = "storefront=delay:0.04,drop:0.02,conflict:0.02;helpdesk=delay:0.2,drop:0.1,conflict:0.1;notifications=delay:0.04,drop:0.02,conflict:0.02"

// TestReportEqualsTheSimulatorsGroundTruth is issue 5's acceptance test:
// simulate orders with known injected viewer faults, run the whole pipeline
// on the real broker and ClickHouse over the backlog, and `baton report
// --format json` must equal the simulator's ground truth exactly for the
// checks by viewer and outcome and the failed syncs by viewer and reason,
// and be within the simulator's stated tolerance for the latency
// quantiles.
func TestReportEqualsTheSimulatorsGroundTruth(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	truthFile := filepath.Join(t.TempDir(), "ground-truth.json")
	s.mustRunFast("simulate", "--orders", "3000", "--seed", "5", "--viewer-faults", groundTruthFaults, "--ground-truth", truthFile)
	// No wall-clock advance: the checks are judged by event time only.
	s.mustRunFast("run", "--until-caught-up", "--idle-advance", "0")
	var gt simulator.GroundTruth
	b, err := os.ReadFile(truthFile)
	if err == nil {
		err = json.Unmarshal(b, &gt)
	}
	if err != nil {
		t.Fatal(err)
	}
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
		if want.Late == 0 || want.Missing == 0 || want.Conflict == 0 {
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
