package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/reports/wismoreview"
)

// The series behind the scorecard page's charts (`baton serve`), over the
// scorecard's window of truth_at and with its definitions: a chart never
// disagrees with the number beside it.

// DayAccuracy is one viewer's status sync accuracy on one UTC day of
// truth_at: InSync ÷ Checks, SUPERSEDED excluded, as the scorecard counts.
type DayAccuracy struct {
	Viewer   string    `json:"viewer"`
	Day      time.Time `json:"day"`
	InSync   uint64    `json:"in_sync"`
	Checks   uint64    `json:"checks"`
	Accuracy *float64  `json:"accuracy"`
}

// AccuracyByDay is the status sync accuracy per viewer per day, by viewer
// then day.
func (c *Client) AccuracyByDay(ctx context.Context, since, until time.Time) ([]DayAccuracy, error) {
	out := []DayAccuracy{}
	err := c.scanEach(ctx, "chart: accuracy per day", `SELECT viewer, toDate(truth_at, 'UTC') AS day, countIf(outcome = 'IN_SYNC'), countIf(outcome != 'SUPERSEDED')
		FROM `+c.table("sync_checks_latest")+` WHERE `+window{since, until}.on("truth_at")+`
		GROUP BY viewer, day ORDER BY viewer, day`,
		func(scan func(...any) error) error {
			var d DayAccuracy
			if err := scan(&d.Viewer, &d.Day, &d.InSync, &d.Checks); err != nil {
				return err
			}
			d.Accuracy = ratio(d.InSync, d.Checks, 1)
			out = append(out, d)
			return nil
		})
	return out, err
}

// HourFailures is how many checks failed for one reason in one UTC hour
// of detection.
type HourFailures struct {
	Reason string    `json:"reason"`
	Hour   time.Time `json:"hour"`
	Failed uint64    `json:"failed"`
}

// FailedSyncsByHour counts the failed syncs of the window (by truth_at, as
// the scorecard) per reason and hour they were detected, by reason then
// hour.
func (c *Client) FailedSyncsByHour(ctx context.Context, since, until time.Time) ([]HourFailures, error) {
	out := []HourFailures{}
	err := c.scanEach(ctx, "chart: failed syncs per hour", `SELECT reason, toStartOfHour(detected_at, 'UTC') AS hour, uniqExact(check_id)
		FROM `+c.table("failed_syncs_latest")+` WHERE `+window{since, until}.on("truth_at")+`
		GROUP BY reason, hour ORDER BY reason, hour`,
		func(scan func(...any) error) error {
			var h HourFailures
			if err := scan(&h.Reason, &h.Hour, &h.Failed); err != nil {
				return err
			}
			out = append(out, h)
			return nil
		})
	return out, err
}

// maxChartMonths bounds the months of the WISMO chart.
const maxChartMonths = 24

// WISMOByMonth is the monthly review's trend (wismoreview.Review.Trend: orders,
// tickets and WISMO tickets per 1,000 orders per UTC month) over the months
// in which orders of the window were placed, the latest maxChartMonths at
// most; empty when none was.
func (c *Client) WISMOByMonth(ctx context.Context, since, until time.Time) ([]wismoreview.TrendPoint, error) {
	var first, last int64
	var n uint64
	q := `SELECT count(), min(placed_ms), max(placed_ms) FROM (` + c.ordersPlaced(window{since, until}) + `)`
	if err := c.conn.QueryRow(ctx, q).Scan(&n, &first, &last); err != nil {
		return nil, fmt.Errorf("chart: wismo months: %w", err)
	}
	if n == 0 {
		return []wismoreview.TrendPoint{}, nil
	}
	from, to := time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	months := (to.Year()-from.Year())*12 + int(to.Month()-from.Month())
	review, err := c.WISMOReview(ctx, to.Format("2006-01"), min(months, maxChartMonths-1))
	if err != nil {
		return nil, err
	}
	return review.Trend, nil
}
