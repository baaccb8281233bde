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
// then day (accuracy_by_viewer_day).
func (c *Client) AccuracyByDay(ctx context.Context, since, until time.Time) ([]DayAccuracy, error) {
	out := []DayAccuracy{}
	err := c.scanQuery(ctx, "accuracy_by_viewer_day", window{since, until}, func(scan func(...any) error) error {
		var d DayAccuracy
		var meets *uint8
		if err := scan(&d.Viewer, &d.Day, &d.InSync, &d.Checks, &d.Accuracy, &meets); err != nil {
			return err
		}
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
// hour (failed_syncs_by_reason_hour).
func (c *Client) FailedSyncsByHour(ctx context.Context, since, until time.Time) ([]HourFailures, error) {
	out := []HourFailures{}
	err := c.scanQuery(ctx, "failed_syncs_by_reason_hour", window{since, until}, func(scan func(...any) error) error {
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
	var months []uint32 // YYYYMM, in order
	err := c.scanQuery(ctx, "orders_placed_by_month", window{since, until}, func(scan func(...any) error) error {
		var m uint32
		var n uint64
		if err := scan(&m, &n); err != nil {
			return err
		}
		months = append(months, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chart: wismo months: %w", err)
	}
	if len(months) == 0 {
		return []wismoreview.TrendPoint{}, nil
	}
	first, last := months[0], months[len(months)-1]
	span := int(last/100-first/100)*12 + int(last%100) - int(first%100)
	review, err := c.WISMOReview(ctx, fmt.Sprintf("%04d-%02d", last/100, last%100), min(span, maxChartMonths-1))
	if err != nil {
		return nil, err
	}
	return review.Trend, nil
}
