package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/reports/wismoreview"
)

// The monthly WISMO review's input (`baton report wismo`): per month, the
// orders placed and the WISMO tickets by cause and link. Months are UTC
// calendar months of Unix-ms times, so the bounds are exact.

// WISMOReview reads month (YYYY-MM) and the previous months before it and
// computes the review (wismoreview.NewReview).
func (c *Client) WISMOReview(ctx context.Context, month string, previous int) (wismoreview.Review, error) {
	months, err := c.WISMOMonths(ctx, month, previous)
	if err != nil {
		return wismoreview.Review{}, err
	}
	return wismoreview.NewReview(months[len(months)-1], months[:len(months)-1])
}

// WISMOMonths returns the previous months before month and month itself,
// oldest first, each with
//
//   - Orders: the orders placed in it, counted as the scorecard counts them
//     (queries/orders_placed_by_month.sql: the first time any system
//     reported the order PLACED);
//   - Rows: its WISMO tickets by cause and link, sorted. A ticket counts
//     once, in the month of its earliest ticket_at, with that row's cause
//     and link: the topic may repeat a ticket (an order evicted and seen
//     again) with a later ticket_at and an attribution made without the
//     order's history (migration 0006).
//
// A month with neither has Orders 0 and empty Rows.
func (c *Client) WISMOMonths(ctx context.Context, month string, previous int) ([]wismoreview.Month, error) {
	if previous < 0 {
		return nil, fmt.Errorf("wismo review: %d previous months", previous)
	}
	names, err := wismoreview.PreviousMonths(month, previous)
	if err != nil {
		return nil, err
	}
	names = append(names, month)
	since, _, err := wismoreview.MonthRange(names[0])
	if err != nil {
		return nil, err
	}
	_, until, err := wismoreview.MonthRange(month)
	if err != nil {
		return nil, err
	}
	w := window{time.UnixMilli(since), time.UnixMilli(until)}
	out := make([]wismoreview.Month, len(names))
	index := map[string]int{}
	for i, n := range names {
		out[i] = wismoreview.Month{Month: n, Rows: []wismoreview.Row{}}
		index[n] = i
	}
	// monthOf finds the month (YYYYMM) a row was counted in; a month the
	// window does not hold is a bug in the query.
	monthOf := func(yyyymm uint32) (int, error) {
		i, ok := index[fmt.Sprintf("%04d-%02d", yyyymm/100, yyyymm%100)]
		if !ok {
			return 0, fmt.Errorf("month %d is outside %s..%s", yyyymm, names[0], month)
		}
		return i, nil
	}
	err = c.scanQuery(ctx, "orders_placed_by_month", w, func(scan func(...any) error) error {
		var m uint32
		var n uint64
		if err := scan(&m, &n); err != nil {
			return err
		}
		i, err := monthOf(m)
		out[i].Orders = n
		return err
	})
	if err != nil {
		return nil, err
	}
	err = c.scanQuery(ctx, "wismo_tickets_by_cause_link_month", w, func(scan func(...any) error) error {
		var m uint32
		var r wismoreview.Row
		var link *string // NULL: a cause no integration fix removes
		if err := scan(&m, &r.Cause, &link, &r.Tickets); err != nil {
			return err
		}
		if link != nil {
			r.Link = *link
		}
		i, err := monthOf(m)
		out[i].Rows = append(out[i].Rows, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
