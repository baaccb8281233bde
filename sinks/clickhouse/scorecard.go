package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The scorecard's targets (the seed's measures; README "Sync checks for
// analysts" says why each is what it is).
const (
	// LatencyTargetP95 is the tracking update latency target: the 95th
	// percentile of carrier scan → viewer shows it must be under it.
	LatencyTargetP95 = 5 * time.Minute
	// AccuracyTarget is the status sync accuracy target: IN_SYNC ÷ closed
	// checks (SUPERSEDED excluded) must be above it.
	AccuracyTarget = 0.99
	// FailedSyncRateTarget is the failed syncs target: failed syncs ÷
	// checks must be below it.
	FailedSyncRateTarget = 0.005
	// WISMOTarget says what the WISMO trend is judged against.
	WISMOTarget = "not above the previous window"
	// DelayNoticeTarget is the delay notices target: the US FTC mail-order
	// rule wants every customer told of a delay, so every notice that
	// needed a message must have been told by its notify_by.
	DelayNoticeTarget = "every notice told by its notify_by"
)

// Scorecard is the seed's measures over a window of truth_at (WISMO:
// ticket and placement times), each with its target and verdict. A pass is
// null when there is nothing to judge (no checks, no orders).
type Scorecard struct {
	Since       *time.Time      `json:"since"` // null: from the beginning
	Until       *time.Time      `json:"until"` // null: to the end (exclusive bound otherwise)
	Latency     LatencyScore    `json:"tracking_update_latency"`
	Accuracy    AccuracyScore   `json:"status_sync_accuracy"`
	FailedSyncs FailedSyncScore `json:"failed_syncs"`
	WISMO       WISMOScore      `json:"wismo_tickets_per_1000_orders"`
	Delay       DelayScore      `json:"delay_notices"`
	// Pass is true when every verdict that is not null passes.
	Pass *bool `json:"pass"`
}

// LatencyScore is the tracking update latency: checks whose truth a
// carrier scan set (truth_authority = 'carrier') that the viewer reflected
// (IN_SYNC or LATE), latency_ms = viewer's time - scan time. Quantiles are
// exact (quantilesExact: the value at rank floor(level × n) of the sorted
// latencies).
type LatencyScore struct {
	TargetP95Millis int64            `json:"target_p95_ms"`
	ByViewer        []ViewerLatency  `json:"by_viewer"`
	ByCarrier       []CarrierLatency `json:"by_carrier"`
	Pass            *bool            `json:"pass"`
}

// LatencyQuantiles is one line of the latency score; Pass is P95 < target.
type LatencyQuantiles struct {
	Checks    uint64 `json:"checks"`
	P50Millis int64  `json:"p50_ms"`
	P95Millis int64  `json:"p95_ms"`
	P99Millis int64  `json:"p99_ms"`
	Pass      bool   `json:"pass"`
}

// ViewerLatency is the latency of one viewer, over every carrier.
type ViewerLatency struct {
	Viewer string `json:"viewer"`
	LatencyQuantiles
}

// CarrierLatency is the latency of one carrier's scans, over every viewer
// ("" when the scan did not name its carrier).
type CarrierLatency struct {
	Carrier string `json:"carrier"`
	LatencyQuantiles
}

// AccuracyScore is the status sync accuracy per viewer.
type AccuracyScore struct {
	Target   float64          `json:"target"`
	ByViewer []ViewerAccuracy `json:"by_viewer"`
	Pass     *bool            `json:"pass"`
}

// ViewerAccuracy counts one viewer's closed checks by outcome. Checks is
// every one but SUPERSEDED; Accuracy = InSync ÷ Checks (null when 0).
type ViewerAccuracy struct {
	Viewer     string   `json:"viewer"`
	InSync     uint64   `json:"in_sync"`
	Late       uint64   `json:"late"`
	Missing    uint64   `json:"missing"`
	Conflict   uint64   `json:"conflict"`
	Superseded uint64   `json:"superseded"`
	Checks     uint64   `json:"checks"`
	Accuracy   *float64 `json:"accuracy"`
	Pass       *bool    `json:"pass"`
}

// FailedSyncScore is the failed syncs per viewer and reason.
type FailedSyncScore struct {
	TargetRate float64             `json:"target_rate"`
	ByViewer   []ViewerFailedSyncs `json:"by_viewer"`
	Pass       *bool               `json:"pass"`
}

// ViewerFailedSyncs is one viewer's failed syncs. Checks is the distinct
// checks of the window: the closed ones but SUPERSEDED, plus those that
// failed and have not closed yet. Rate = Failed ÷ Checks.
type ViewerFailedSyncs struct {
	Viewer  string        `json:"viewer"`
	Failed  uint64        `json:"failed"`
	Checks  uint64        `json:"checks"`
	Rate    *float64      `json:"rate"`
	Reasons []ReasonCount `json:"reasons"`
	Pass    *bool         `json:"pass"`
}

// ReasonCount is how many checks failed for one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Failed uint64 `json:"failed"`
}

// WISMOScore is WISMO tickets per 1,000 orders, this window against the
// previous one of the same length (null when the window is unbounded).
type WISMOScore struct {
	Target   string       `json:"target"`
	Current  WISMOWindow  `json:"current"`
	Previous *WISMOWindow `json:"previous"`
	// Pass: Current ≤ Previous per 1,000 orders; null unless both exist.
	Pass *bool `json:"pass"`
}

// WISMOWindow counts WISMO tickets opened and orders placed in a window.
// A WISMO ticket is a help-desk ticket (distinct ticket_id of canonical
// events from the help desk) any of whose events carries the tag wismo;
// it counts in the window of its first event (when it was opened). An
// order counts in the window of the first time any system reported it
// PLACED (an order-level PLACED transition or a canonical event).
type WISMOWindow struct {
	Since   *time.Time `json:"since"`
	Until   *time.Time `json:"until"`
	Tickets uint64     `json:"tickets"`
	Orders  uint64     `json:"orders"`
	// Per1000Orders = 1000 × Tickets ÷ Orders; null when no order.
	Per1000Orders *float64 `json:"per_1000_orders"`
}

// DelayScore is the delay notices whose notify_by is in the window, by
// outcome (delay_notice.avsc): the closed ones that needed a message were
// told in time (NOTIFIED), late (LATE) or never (NOT_NOTIFIED); Open ones
// are not judged yet; WITHDRAWN and CANCELLED needed no message and are
// not counted. ToldInTime = Notified ÷ (Notified + Late + NotNotified).
type DelayScore struct {
	Target      string   `json:"target"`
	Notified    uint64   `json:"notified"`
	Late        uint64   `json:"late"`
	NotNotified uint64   `json:"not_notified"`
	Open        uint64   `json:"open"`
	ToldInTime  *float64 `json:"told_in_time"`
	// Pass: no notice told late or never; null when none was judged.
	Pass *bool `json:"pass"`
}

// window is a half-open span [since, until) of epoch-ms times; a zero
// bound is open.
type window struct{ since, until time.Time }

// msIn is the condition that the epoch-ms expression e is in the window.
func (w window) msIn(e string) string {
	conds := []string{"1"}
	if !w.since.IsZero() {
		conds = append(conds, fmt.Sprintf("%s >= %d", e, w.since.UnixMilli()))
	}
	if !w.until.IsZero() {
		conds = append(conds, fmt.Sprintf("%s < %d", e, w.until.UnixMilli()))
	}
	return strings.Join(conds, " AND ")
}

// on is the condition that column col (a DateTime with a col_ms Int64
// twin) is in the window: the millisecond bounds make it exact, the
// DateTime ones (whole seconds, so never narrower) let ClickHouse skip
// partitions.
func (w window) on(col string) string {
	cond := w.msIn(col + "_ms")
	if s := w.since.Unix(); !w.since.IsZero() && s > 0 {
		cond += fmt.Sprintf(" AND %s >= toDateTime(%d)", col, s)
	}
	if u := w.until.Unix(); !w.until.IsZero() && u >= 0 {
		cond += fmt.Sprintf(" AND %s <= toDateTime(%d)", col, u)
	}
	return cond
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Scorecard computes the scorecard for checks whose truth_at is in
// [since, until); a zero since or until leaves that side open.
func (c *Client) Scorecard(ctx context.Context, since, until time.Time) (Scorecard, error) {
	w := window{since, until}
	sc := Scorecard{Since: optTime(since), Until: optTime(until)}
	var err error
	if sc.Latency, err = c.latencyScore(ctx, w); err != nil {
		return sc, err
	}
	if sc.Accuracy, err = c.accuracyScore(ctx, w); err != nil {
		return sc, err
	}
	if sc.FailedSyncs, err = c.failedSyncScore(ctx, w); err != nil {
		return sc, err
	}
	if sc.WISMO, err = c.wismoScore(ctx, w); err != nil {
		return sc, err
	}
	if sc.Delay, err = c.delayScore(ctx, w); err != nil {
		return sc, err
	}
	sc.Pass = allPass(sc.Latency.Pass, sc.Accuracy.Pass, sc.FailedSyncs.Pass, sc.WISMO.Pass, sc.Delay.Pass)
	return sc, nil
}

// allPass is true if every non-null verdict is true, null if all are null.
func allPass(verdicts ...*bool) *bool {
	var out *bool
	for _, v := range verdicts {
		if v == nil {
			continue
		}
		p := *v && (out == nil || *out)
		out = &p
	}
	return out
}

func verdict(ok bool) *bool { return &ok }

// ratio is n ÷ d scaled, null when d is 0.
func ratio(n, d uint64, scale float64) *float64 {
	if d == 0 {
		return nil
	}
	r := scale * float64(n) / float64(d)
	return &r
}

func (c *Client) latencyScore(ctx context.Context, w window) (LatencyScore, error) {
	score := LatencyScore{TargetP95Millis: LatencyTargetP95.Milliseconds(), ByViewer: []ViewerLatency{}, ByCarrier: []CarrierLatency{}}
	var verdicts []*bool
	for _, by := range []string{"viewer", "carrier"} {
		err := c.scanQuery(ctx, "latency_by_"+by, w, func(scan func(...any) error) error {
			var key string
			var q LatencyQuantiles
			var qs []int64
			var meets uint8
			if err := scan(&key, &q.Checks, &qs, &q.P50Millis, &q.P95Millis, &q.P99Millis, &meets); err != nil {
				return err
			}
			q.Pass = meets == 1
			verdicts = append(verdicts, verdict(q.Pass))
			if by == "viewer" {
				score.ByViewer = append(score.ByViewer, ViewerLatency{key, q})
			} else {
				score.ByCarrier = append(score.ByCarrier, CarrierLatency{key, q})
			}
			return nil
		})
		if err != nil {
			return score, err
		}
	}
	score.Pass = allPass(verdicts...)
	return score, nil
}

// accuracyScore pivots outcomes_by_viewer (rows sorted by viewer).
func (c *Client) accuracyScore(ctx context.Context, w window) (AccuracyScore, error) {
	score := AccuracyScore{Target: AccuracyTarget, ByViewer: []ViewerAccuracy{}}
	err := c.scanQuery(ctx, "outcomes_by_viewer", w, func(scan func(...any) error) error {
		var viewer, outcome string
		var n uint64
		if err := scan(&viewer, &outcome, &n); err != nil {
			return err
		}
		if len(score.ByViewer) == 0 || score.ByViewer[len(score.ByViewer)-1].Viewer != viewer {
			score.ByViewer = append(score.ByViewer, ViewerAccuracy{Viewer: viewer})
		}
		a := &score.ByViewer[len(score.ByViewer)-1]
		counts := map[string]*uint64{OutcomeInSync: &a.InSync, OutcomeLate: &a.Late, OutcomeMissing: &a.Missing,
			OutcomeConflict: &a.Conflict, OutcomeSuperseded: &a.Superseded}
		count, ok := counts[outcome]
		if !ok {
			return fmt.Errorf("viewer %s: unknown outcome %q", viewer, outcome)
		}
		*count += n
		if outcome != OutcomeSuperseded {
			a.Checks += n
		}
		return nil
	})
	var verdicts []*bool
	for i := range score.ByViewer {
		a := &score.ByViewer[i]
		if a.Accuracy = ratio(a.InSync, a.Checks, 1); a.Accuracy != nil {
			a.Pass = verdict(*a.Accuracy > AccuracyTarget)
		}
		verdicts = append(verdicts, a.Pass)
	}
	score.Pass = allPass(verdicts...)
	return score, err
}

func (c *Client) failedSyncScore(ctx context.Context, w window) (FailedSyncScore, error) {
	score := FailedSyncScore{TargetRate: FailedSyncRateTarget, ByViewer: []ViewerFailedSyncs{}}
	var verdicts []*bool
	err := c.scanQuery(ctx, "failed_syncs_by_viewer", w, func(scan func(...any) error) error {
		v := ViewerFailedSyncs{Reasons: []ReasonCount{}}
		var rate float64
		var meets uint8
		if err := scan(&v.Viewer, &v.Failed, &v.Checks, &rate, &meets); err != nil {
			return err
		}
		v.Rate, v.Pass = &rate, verdict(meets == 1)
		verdicts = append(verdicts, v.Pass)
		score.ByViewer = append(score.ByViewer, v)
		return nil
	})
	if err != nil {
		return score, err
	}
	score.Pass = allPass(verdicts...)
	index := map[string]int{}
	for i, v := range score.ByViewer {
		index[v.Viewer] = i
	}
	return score, c.scanQuery(ctx, "failed_syncs_by_viewer_reason", w, func(scan func(...any) error) error {
		var viewer string
		var r ReasonCount
		if err := scan(&viewer, &r.Reason, &r.Failed); err != nil {
			return err
		}
		if i, ok := index[viewer]; ok {
			score.ByViewer[i].Reasons = append(score.ByViewer[i].Reasons, r)
		}
		return nil
	})
}

// wismoScore reads wismo_per_1000_orders: one row per period (current,
// previous) that has tickets or orders. The previous window is the one of
// the same length before; an unbounded window has none.
func (c *Client) wismoScore(ctx context.Context, w window) (WISMOScore, error) {
	bounded := !w.since.IsZero() && !w.until.IsZero()
	score := WISMOScore{Target: WISMOTarget, Current: WISMOWindow{Since: optTime(w.since), Until: optTime(w.until)}}
	prev := WISMOWindow{}
	if bounded {
		prev.Since, prev.Until = optTime(w.since.Add(-w.until.Sub(w.since))), optTime(w.since)
	}
	err := c.scanQuery(ctx, "wismo_per_1000_orders", w, func(scan func(...any) error) error {
		var period string
		var tickets, orders uint64
		var per1000 *float64
		if err := scan(&period, &tickets, &orders, &per1000); err != nil {
			return err
		}
		into := map[string]*WISMOWindow{"current": &score.Current, "previous": &prev}[period]
		if into == nil {
			return fmt.Errorf("unknown period %q", period)
		}
		into.Tickets, into.Orders, into.Per1000Orders = tickets, orders, per1000
		return nil
	})
	if err != nil || !bounded {
		return score, err
	}
	score.Previous = &prev
	if cur, was := score.Current.Per1000Orders, prev.Per1000Orders; cur != nil && was != nil {
		score.Pass = verdict(*cur <= *was)
	}
	return score, nil
}

// delayScore sums delay_notices_told_in_time over the reasons: the
// notices due (notify_by) in w by outcome.
func (c *Client) delayScore(ctx context.Context, w window) (DelayScore, error) {
	score := DelayScore{Target: DelayNoticeTarget}
	err := c.scanQuery(ctx, "delay_notices_told_in_time", w, func(scan func(...any) error) error {
		var reason string
		var told, late, never, closed, open uint64
		var share *float64
		if err := scan(&reason, &told, &late, &never, &closed, &share, &open); err != nil {
			return err
		}
		score.Notified += told
		score.Late += late
		score.NotNotified += never
		score.Open += open
		return nil
	})
	if score.ToldInTime = ratio(score.Notified, score.Notified+score.Late+score.NotNotified, 1); score.ToldInTime != nil {
		score.Pass = verdict(score.Late+score.NotNotified == 0)
	}
	return score, err
}
