package serve

import (
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// checkViews lists what an agent must know about the viewers: every
// failed sync (with the outcome of its check once it closed), then every
// viewer that does not show the truth it must show and has no failure
// recorded for that status (an open check, from the stored views: within
// its SLA, or past it before the pipeline's clock raised the failure).
func checkViews(rec clickhouse.OrderRecord, systems []SystemView, truth *TruthView, viewers *synccheck.Viewers, now time.Time) []CheckView {
	closed := map[string]clickhouse.SyncCheck{}
	for _, c := range rec.Checks {
		closed[c.CheckID] = c
	}
	out := []CheckView{}
	covered := map[string]bool{} // viewer+expected of the failed checks, open or closed
	for _, f := range rec.Failed {
		cv := CheckView{CheckID: f.CheckID, Viewer: f.Viewer, State: "failed", Reason: f.Reason, Expected: f.ExpectedStatus,
			Shown: f.ShownStatus, TruthAt: f.TruthAt, Deadline: f.Deadline, SLAMillis: f.Deadline.Sub(f.TruthAt).Milliseconds()}
		end := now
		if c, ok := closed[f.CheckID]; ok {
			cv.State, cv.Outcome, cv.ClosedAt = "closed", c.Outcome, &c.ClosedAt
			end = c.ClosedAt
			if c.ShownAt != nil && c.ShownAt.Before(end) {
				end = *c.ShownAt
			}
		}
		covered[f.Viewer+"\x00"+f.ExpectedStatus] = true
		cv.PastSLAMillis = pastDeadline(cv.Deadline, end)
		cv.Text = checkText(cv)
		out = append(out, cv)
	}
	if truth == nil || truth.Since == nil {
		return out
	}
	for _, s := range systems {
		if s.Role != "viewer" || s.Agrees || covered[s.System+"\x00"+truth.Status] ||
			!viewers.Expects(schemas.System(s.System), canonical.Status(truth.Status)) {
			continue
		}
		v, _ := viewers.Viewer(schemas.System(s.System))
		cv := CheckView{Viewer: s.System, State: "open", Expected: truth.Status, Shown: s.Status, TruthAt: *truth.Since,
			Deadline: truth.Since.Add(v.SLA), SLAMillis: v.SLA.Milliseconds()}
		if !synccheck.Reflects(canonical.Status(truth.Status), canonical.Status(s.Status)) {
			cv.Reason = "conflict"
		}
		cv.PastSLAMillis = pastDeadline(cv.Deadline, now)
		cv.Text = checkText(cv)
		out = append(out, cv)
	}
	return out
}

// pastDeadline is how long after deadline end is; nil when it is not.
func pastDeadline(deadline, end time.Time) *int64 {
	if !end.After(deadline) {
		return nil
	}
	ms := end.Sub(deadline).Milliseconds()
	return &ms
}
