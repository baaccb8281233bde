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
//     (ordersPlaced: the first time any system reported the order PLACED);
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
	// monthOf finds the month of the ms time a row was counted at; a month
	// the window does not hold is a bug in the query.
	monthOf := func(yyyymm uint32) (int, error) {
		i, ok := index[fmt.Sprintf("%04d-%02d", yyyymm/100, yyyymm%100)]
		if !ok {
			return 0, fmt.Errorf("month %d is outside %s..%s", yyyymm, names[0], month)
		}
		return i, nil
	}
	err = c.scanEach(ctx, "wismo review: orders per month", `SELECT `+utcMonth("placed_ms")+` AS month, count()
		FROM (`+c.ordersPlaced(w)+`)
		GROUP BY month`,
		func(scan func(...any) error) error {
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
	err = c.scanEach(ctx, "wismo review: tickets per month", `SELECT `+utcMonth("first_ms")+` AS month, first_cause, first_link, count()
		FROM (`+c.firstTickets(w.until)+` HAVING `+w.msIn("first_ms")+`)
		GROUP BY month, first_cause, first_link
		ORDER BY month, first_cause, first_link`,
		func(scan func(...any) error) error {
			var m uint32
			var r wismoreview.Row
			if err := scan(&m, &r.Cause, &r.Link, &r.Tickets); err != nil {
				return err
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

// firstTickets selects each WISMO ticket stored with a ticket_at before
// until once: ticket_id, first_ms (its earliest ticket_at_ms), first_cause
// and first_link (that row's). It takes no lower bound: a ticket first
// stored before one and repeated after it would count after it; bound
// first_ms in a HAVING instead. Under FINAL the rows left for a ticket
// differ in (ticket_at_ms, order_id), so both argMin pick the same row.
func (c *Client) firstTickets(until time.Time) string {
	return `SELECT ticket_id, min(ticket_at_ms) AS first_ms,
			argMin(cause, (ticket_at_ms, order_id)) AS first_cause, argMin(link, (ticket_at_ms, order_id)) AS first_link
		FROM ` + c.table("wismo_tickets_latest") + `
		WHERE ` + window{until: until}.on("ticket_at") + `
		GROUP BY ticket_id`
}

// utcMonth is the UTC month, as YYYYMM, of the epoch-ms expression e.
func utcMonth(e string) string {
	return "toYYYYMM(toDateTime(intDiv(" + e + ", 1000)), 'UTC')"
}
