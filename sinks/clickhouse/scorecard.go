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
	target := LatencyTargetP95.Milliseconds()
	score := LatencyScore{TargetP95Millis: target, ByViewer: []ViewerLatency{}, ByCarrier: []CarrierLatency{}}
	var verdicts []*bool
	for _, by := range []string{"viewer", "carrier"} {
		err := c.scanEach(ctx, "scorecard: latency by "+by, `SELECT `+by+`, count(), quantilesExact(0.5, 0.95, 0.99)(assumeNotNull(latency_ms))
			FROM `+c.table("sync_checks_latest")+`
			WHERE truth_authority = 'carrier' AND outcome IN ('IN_SYNC', 'LATE') AND latency_ms IS NOT NULL AND `+w.on("truth_at")+`
			GROUP BY `+by+` ORDER BY `+by,
			func(scan func(...any) error) error {
				var key string
				var q LatencyQuantiles
				var qs []int64
				if err := scan(&key, &q.Checks, &qs); err != nil {
					return err
				}
				if len(qs) != 3 {
					return fmt.Errorf("%d quantiles, want 3", len(qs))
				}
				q.P50Millis, q.P95Millis, q.P99Millis = qs[0], qs[1], qs[2]
				q.Pass = q.P95Millis < target
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

func (c *Client) accuracyScore(ctx context.Context, w window) (AccuracyScore, error) {
	score := AccuracyScore{Target: AccuracyTarget, ByViewer: []ViewerAccuracy{}}
	var verdicts []*bool
	err := c.scanEach(ctx, "scorecard: accuracy", `SELECT viewer,
		countIf(outcome = 'IN_SYNC'), countIf(outcome = 'LATE'), countIf(outcome = 'MISSING'),
		countIf(outcome = 'CONFLICT'), countIf(outcome = 'SUPERSEDED'), countIf(outcome != 'SUPERSEDED')
		FROM `+c.table("sync_checks_latest")+` WHERE `+w.on("truth_at")+`
		GROUP BY viewer ORDER BY viewer`,
		func(scan func(...any) error) error {
			var a ViewerAccuracy
			if err := scan(&a.Viewer, &a.InSync, &a.Late, &a.Missing, &a.Conflict, &a.Superseded, &a.Checks); err != nil {
				return err
			}
			if a.Accuracy = ratio(a.InSync, a.Checks, 1); a.Accuracy != nil {
				a.Pass = verdict(*a.Accuracy > AccuracyTarget)
			}
			verdicts = append(verdicts, a.Pass)
			score.ByViewer = append(score.ByViewer, a)
			return nil
		})
	score.Pass = allPass(verdicts...)
	return score, err
}

func (c *Client) failedSyncScore(ctx context.Context, w window) (FailedSyncScore, error) {
	score := FailedSyncScore{TargetRate: FailedSyncRateTarget, ByViewer: []ViewerFailedSyncs{}}
	err := c.scanEach(ctx, "scorecard: failed syncs per viewer", `SELECT viewer, uniqExactIf(check_id, failed = 1), uniqExact(check_id)
		FROM (
			SELECT viewer, check_id, 0 AS failed FROM `+c.table("sync_checks_latest")+` WHERE outcome != 'SUPERSEDED' AND `+w.on("truth_at")+`
			UNION ALL
			SELECT viewer, check_id, 1 AS failed FROM `+c.table("failed_syncs_latest")+` WHERE `+w.on("truth_at")+`
		)
		GROUP BY viewer ORDER BY viewer`,
		func(scan func(...any) error) error {
			v := ViewerFailedSyncs{Reasons: []ReasonCount{}}
			if err := scan(&v.Viewer, &v.Failed, &v.Checks); err != nil {
				return err
			}
			if v.Rate = ratio(v.Failed, v.Checks, 1); v.Rate != nil {
				v.Pass = verdict(*v.Rate < FailedSyncRateTarget)
			}
			score.ByViewer = append(score.ByViewer, v)
			return nil
		})
	if err != nil {
		return score, err
	}
	index := map[string]int{}
	var verdicts []*bool
	for i, v := range score.ByViewer {
		index[v.Viewer] = i
		verdicts = append(verdicts, v.Pass)
	}
	score.Pass = allPass(verdicts...)
	return score, c.scanEach(ctx, "scorecard: failed syncs per reason", `SELECT viewer, reason, uniqExact(check_id)
		FROM `+c.table("failed_syncs_latest")+` WHERE `+w.on("truth_at")+`
		GROUP BY viewer, reason ORDER BY viewer, reason`,
		func(scan func(...any) error) error {
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

func (c *Client) wismoScore(ctx context.Context, w window) (WISMOScore, error) {
	score := WISMOScore{Target: WISMOTarget}
	var err error
	if score.Current, err = c.wismoWindow(ctx, w); err != nil {
		return score, err
	}
	if w.since.IsZero() || w.until.IsZero() {
		return score, nil
	}
	prev, err := c.wismoWindow(ctx, window{w.since.Add(-w.until.Sub(w.since)), w.since})
	if err != nil {
		return score, err
	}
	score.Previous = &prev
	if cur, was := score.Current.Per1000Orders, prev.Per1000Orders; cur != nil && was != nil {
		score.Pass = verdict(*cur <= *was)
	}
	return score, nil
}

// wismoWindow counts WISMO tickets opened and orders placed in w (see
// WISMOWindow for the definitions; docs/queries.md has the same query).
func (c *Client) wismoWindow(ctx context.Context, w window) (WISMOWindow, error) {
	out := WISMOWindow{Since: optTime(w.since), Until: optTime(w.until)}
	q := `SELECT
		(SELECT count() FROM (
			SELECT ticket_id, min(occurred_at_ms) AS opened_ms
			FROM ` + c.table("canonical_events") + `
			WHERE source_system = 'helpdesk' AND ticket_id != ''
			GROUP BY ticket_id
			HAVING max(has(tags, 'wismo')) = 1 AND ` + w.msIn("opened_ms") + `)) AS tickets,
		(SELECT count() FROM (` + c.ordersPlaced(w) + `)) AS orders`
	if err := c.conn.QueryRow(ctx, q).Scan(&out.Tickets, &out.Orders); err != nil {
		return out, fmt.Errorf("scorecard: wismo: %w", err)
	}
	out.Per1000Orders = ratio(out.Tickets, out.Orders, 1000)
	return out, nil
}

// ordersPlaced selects order_id and placed_ms of the orders placed in w:
// an order is placed the first time any system reported it PLACED (an
// order-level PLACED transition, or a canonical event with status PLACED,
// which covers orders the unify stage has not seen). The scorecard's WISMO
// figure and the monthly WISMO review count orders with it.
func (c *Client) ordersPlaced(w window) string {
	return `SELECT order_id, min(at_ms) AS placed_ms FROM (
				SELECT order_id, event_time_ms AS at_ms FROM ` + c.table("order_transitions_latest") + ` WHERE to_status = 'PLACED' AND shipment_id = ''
				UNION ALL
				SELECT order_id, occurred_at_ms AS at_ms FROM ` + c.table("canonical_events") + ` WHERE canonical_status = 'PLACED')
			GROUP BY order_id
			HAVING ` + w.msIn("placed_ms")
}

// delayScore counts the delay notices due (notify_by) in w by outcome.
func (c *Client) delayScore(ctx context.Context, w window) (DelayScore, error) {
	score := DelayScore{Target: DelayNoticeTarget}
	q := `SELECT countIf(outcome = 'NOTIFIED'), countIf(outcome = 'LATE'), countIf(outcome = 'NOT_NOTIFIED'), countIf(state = 'open')
		FROM ` + c.table("delay_notices_latest") + ` WHERE ` + w.on("notify_by")
	if err := c.conn.QueryRow(ctx, q).Scan(&score.Notified, &score.Late, &score.NotNotified, &score.Open); err != nil {
		return score, fmt.Errorf("scorecard: delay notices: %w", err)
	}
	if score.ToldInTime = ratio(score.Notified, score.Notified+score.Late+score.NotNotified, 1); score.ToldInTime != nil {
		score.Pass = verdict(score.Late+score.NotNotified == 0)
	}
	return score, nil
}
