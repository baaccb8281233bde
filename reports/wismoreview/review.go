// Package wismoreview is the monthly WISMO review's arithmetic (`baton
// report wismo --month YYYY-MM`, the serve charts): pure functions over
// the rows the report reads from ClickHouse, so that the report, the web
// view and their tests compute the same numbers. It depends on no stage:
// the sink returns its rows in these types, and the cause vocabulary is
// canonical's.
//
// The review: tickets per 1,000 orders (tickets by ticket_at month, orders
// by placement month, as the scorecard counts them), each cause's share
// (ByCause), the links ranked by tickets attributed (FixFirst), and the
// trend (Trend; VsPrevious, VsAverage).
package wismoreview

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/baton-pipeline/baton/canonical"
)

// monthLayout is the month's format: YYYY-MM.
const monthLayout = "2006-01"

// MonthRange returns the month's span [since, until) in Unix ms, UTC.
func MonthRange(month string) (since, until int64, err error) {
	t, err := parseMonth(month)
	if err != nil {
		return 0, 0, err
	}
	return t.UnixMilli(), t.AddDate(0, 1, 0).UnixMilli(), nil
}

// MonthOf returns the UTC month (YYYY-MM) of a Unix ms time: the month a
// ticket counts in is its ticket_at's.
func MonthOf(ms int64) string { return time.UnixMilli(ms).UTC().Format(monthLayout) }

// PreviousMonths returns the n months before month, oldest first.
func PreviousMonths(month string, n int) ([]string, error) {
	t, err := parseMonth(month)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, max(n, 0))
	for i := n; i >= 1; i-- {
		out = append(out, t.AddDate(0, -i, 0).Format(monthLayout))
	}
	return out, nil
}

func parseMonth(month string) (time.Time, error) {
	t, err := time.Parse(monthLayout, month)
	if err != nil || t.Format(monthLayout) != month {
		return time.Time{}, fmt.Errorf("wismo: month %q: want YYYY-MM", month)
	}
	return t, nil
}

// Per1000 is 1000 × tickets ÷ orders; nil when there is no order.
func Per1000(tickets, orders uint64) *float64 {
	if orders == 0 {
		return nil
	}
	v := 1000 * float64(tickets) / float64(orders)
	return &v
}

// Row is one group of a month's wismo_ticket rows: how many tickets had
// this cause and link (a single ticket is a row with Tickets 1).
type Row struct {
	Cause   string `json:"cause"`
	Link    string `json:"link"` // "" for carrier_exception and no_sync_problem
	Tickets uint64 `json:"tickets"`
}

// Month is one month's input to the review.
type Month struct {
	Month string `json:"month"` // YYYY-MM
	// Orders counts the orders placed in the month (the scorecard's
	// definition: the first time any system reported the order PLACED).
	Orders uint64 `json:"orders"`
	// Rows are the month's WISMO tickets (by ticket_at), grouped.
	Rows []Row `json:"rows"`
}

// Tickets sums the month's rows.
func (m Month) Tickets() uint64 {
	var n uint64
	for _, r := range m.Rows {
		n += r.Tickets
	}
	return n
}

// CauseShare is one cause's part of a month's tickets.
type CauseShare struct {
	Cause   string `json:"cause"`
	Tickets uint64 `json:"tickets"`
	// Share is Tickets ÷ the month's tickets, in [0, 1]; nil when the
	// month has none.
	Share *float64 `json:"share"`
	// Per1000Orders is this cause's tickets per 1,000 orders.
	Per1000Orders *float64 `json:"per_1000_orders"`
}

// ByCause returns every cause's share of the rows: the four causes in
// precedence order (listed even when zero, so the table keeps its shape),
// then any other cause found in the rows, by name.
func ByCause(rows []Row, orders uint64) []CauseShare {
	counts := map[string]uint64{}
	var total uint64
	for _, r := range rows {
		counts[r.Cause] += r.Tickets
		total += r.Tickets
	}
	causes := canonical.WISMOCauses()
	var other []string
	for c := range counts {
		if !slices.Contains(causes, c) {
			other = append(other, c)
		}
	}
	slices.Sort(other)
	out := make([]CauseShare, 0, len(causes)+len(other))
	for _, c := range append(causes, other...) {
		out = append(out, CauseShare{Cause: c, Tickets: counts[c], Share: share(counts[c], total), Per1000Orders: Per1000(counts[c], orders)})
	}
	return out
}

func share(n, total uint64) *float64 {
	if total == 0 {
		return nil
	}
	v := float64(n) / float64(total)
	return &v
}

// LinkRank is one integration link in the order to fix them.
type LinkRank struct {
	Rank    int    `json:"rank"` // 1 first
	Link    string `json:"link"`
	Cause   string `json:"cause"`
	Tickets uint64 `json:"tickets"`
	// Share is Tickets ÷ the month's tickets (all causes).
	Share *float64 `json:"share"`
	// Previous is the link's tickets the month before; nil when the
	// review has no previous month.
	Previous *uint64 `json:"previous"`
}

// FixFirst ranks the integration links the rows attribute tickets to: by
// tickets, most first; ties by link name. Rows without a link (carrier
// exceptions, genuine questions) are not links: no integration fix removes
// them. previous, if not nil, are the month before's rows.
func FixFirst(rows, previous []Row) []LinkRank {
	type agg struct {
		cause   string
		tickets uint64
	}
	links := map[string]*agg{}
	var total uint64
	for _, r := range rows {
		total += r.Tickets
		if r.Link == "" {
			continue
		}
		a := links[r.Link]
		if a == nil {
			a = &agg{cause: r.Cause}
			links[r.Link] = a
		}
		a.tickets += r.Tickets
	}
	var before map[string]uint64
	if previous != nil {
		before = map[string]uint64{}
		for _, r := range previous {
			if r.Link != "" {
				before[r.Link] += r.Tickets
			}
		}
	}
	out := make([]LinkRank, 0, len(links))
	for link, a := range links {
		if a.tickets == 0 {
			continue
		}
		lr := LinkRank{Link: link, Cause: a.cause, Tickets: a.tickets, Share: share(a.tickets, total)}
		if before != nil {
			p := before[link]
			lr.Previous = &p
		}
		out = append(out, lr)
	}
	slices.SortFunc(out, func(x, y LinkRank) int {
		return cmp.Or(cmp.Compare(y.Tickets, x.Tickets), cmp.Compare(x.Link, y.Link))
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// TrendPoint is one month of the trend.
type TrendPoint struct {
	Month         string   `json:"month"`
	Orders        uint64   `json:"orders"`
	Tickets       uint64   `json:"tickets"`
	Per1000Orders *float64 `json:"per_1000_orders"`
	// Change is Per1000Orders minus the month before's; nil for the first
	// month or when either has no orders.
	Change *float64 `json:"change"`
}

// Trend lists the months, oldest first, each with its rate and its change
// against the month before. months must be consecutive and in order
// (Review checks it).
func Trend(months []Month) []TrendPoint {
	out := make([]TrendPoint, len(months))
	for i, m := range months {
		p := TrendPoint{Month: m.Month, Orders: m.Orders, Tickets: m.Tickets(), Per1000Orders: Per1000(m.Tickets(), m.Orders)}
		if i > 0 {
			p.Change = diff(p.Per1000Orders, out[i-1].Per1000Orders)
		}
		out[i] = p
	}
	return out
}

func diff(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	v := *a - *b
	return &v
}

// Review is the monthly WISMO review.
type Review struct {
	Month         string   `json:"month"`
	Orders        uint64   `json:"orders"`
	Tickets       uint64   `json:"tickets"`
	Per1000Orders *float64 `json:"per_1000_orders"`
	// ByCause: every cause's share (see ByCause).
	ByCause []CauseShare `json:"by_cause"`
	// FixFirst: the integration links, most tickets first (see FixFirst).
	FixFirst []LinkRank `json:"fix_first"`
	// Trend: the previous months and this one, oldest first.
	Trend []TrendPoint `json:"trend"`
	// VsPrevious is Per1000Orders minus the month before's; VsAverage
	// minus the mean rate of the previous months that had orders. nil when
	// there is nothing to compare.
	VsPrevious *float64 `json:"vs_previous_month"`
	VsAverage  *float64 `json:"vs_previous_average"`
}

// NewReview computes the review of current against the months before it
// (oldest first, consecutive, ending the month before current; may be
// empty). It fails on a malformed or misplaced month.
func NewReview(current Month, previous []Month) (Review, error) {
	want, err := PreviousMonths(current.Month, len(previous))
	if err != nil {
		return Review{}, err
	}
	for i, m := range previous {
		if m.Month != want[i] {
			return Review{}, fmt.Errorf("wismo: previous months: got %s at %d, want %s (consecutive, oldest first, ending before %s)",
				m.Month, i, want[i], current.Month)
		}
	}
	r := Review{Month: current.Month, Orders: current.Orders, Tickets: current.Tickets(),
		Per1000Orders: Per1000(current.Tickets(), current.Orders), ByCause: ByCause(current.Rows, current.Orders)}
	var before []Row
	if len(previous) > 0 {
		before = previous[len(previous)-1].Rows
		if before == nil {
			before = []Row{}
		}
	}
	r.FixFirst = FixFirst(current.Rows, before)
	r.Trend = Trend(append(slices.Clone(previous), current))
	if len(previous) > 0 {
		r.VsPrevious = r.Trend[len(r.Trend)-1].Change
	}
	var sum float64
	var n int
	for _, p := range r.Trend[:len(previous)] {
		if p.Per1000Orders != nil {
			sum += *p.Per1000Orders
			n++
		}
	}
	if n > 0 {
		mean := sum / float64(n)
		r.VsAverage = diff(r.Per1000Orders, &mean)
	}
	return r, nil
}
