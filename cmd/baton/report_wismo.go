package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/baton-pipeline/baton/internal/textfmt"
	"github.com/baton-pipeline/baton/reports/wismoreview"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

const reportWismoUsage = `Usage: baton report wismo --month YYYY-MM [--months N] [--format text|json] [--clickhouse-* ...]

The monthly WISMO review, from ClickHouse: "where is my order?" tickets per
1,000 orders placed, each cause's share, the integration links to fix first,
and the trend against the N previous months. Months are UTC calendar months:
a ticket counts in the month the customer asked (ticket_at), an order in the
month it was first reported PLACED (as the scorecard counts them). --month is
required: the month in progress is never reviewed by default.`

// runReportWismo is `baton report wismo`.
func runReportWismo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report wismo", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", reportWismoUsage)
		fs.PrintDefaults()
	}
	var chf clickhouseFlags
	chf.register(fs)
	month := fs.String("month", "", "the month to review, YYYY-MM (UTC); required")
	previous := fs.Int("months", clickhouse.DefaultReviewMonths, fmt.Sprintf("previous months to compare with, 0–%d", clickhouse.MaxReviewMonths))
	format := fs.String("format", "text", "output format: text or json (the review as wismoreview.Review)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := clickhouse.CheckReviewArgs(*month, *previous, "--"); err != nil {
		return flagErrorf("wismo: %v", err)
	}
	if *format != "text" && *format != "json" {
		return flagErrorf("wismo: --format %q: want text or json", *format)
	}
	ch, err := chf.openExisting(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	review, err := ch.WISMOReview(ctx, *month, *previous)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(review)
	}
	return printWismoReview(os.Stdout, review)
}

// per1000 prints a rate per 1,000 orders; "-" when there is none.
func per1000(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'f', 1, 64)
}

// change prints a difference of rates with its sign; "-" when none.
func change(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%+.1f", *f)
}

// printWismoReview prints the review: the month's rate, its trend, the
// causes, the links to fix first and the months compared.
func printWismoReview(w io.Writer, r wismoreview.Review) error {
	fmt.Fprintf(w, "WISMO review of %s (UTC months: tickets by when the customer asked, orders by when placed)\n", r.Month)
	switch {
	case r.Orders == 0 && r.Tickets == 0:
		fmt.Fprintf(w, "No orders placed and no WISMO tickets in %s: nothing to review (is the month right, and has `baton run` stored it?).\n", r.Month)
	case r.Orders == 0:
		fmt.Fprintf(w, "WISMO tickets per 1,000 orders: - (%d WISMO tickets, but no order placed in %s)\n", r.Tickets, r.Month)
	default:
		fmt.Fprintf(w, "WISMO tickets per 1,000 orders: %s (%d WISMO tickets, %d orders placed)\n", per1000(r.Per1000Orders), r.Tickets, r.Orders)
	}
	previous := r.Trend[:len(r.Trend)-1]
	if len(previous) == 0 {
		fmt.Fprintln(w, "No previous month compared (--months 0).")
	} else {
		before := previous[len(previous)-1]
		if r.VsPrevious != nil {
			fmt.Fprintf(w, "Against %s: %s per 1,000 orders (was %s)\n", before.Month, change(r.VsPrevious), per1000(before.Per1000Orders))
		} else {
			fmt.Fprintf(w, "Against %s: - (no orders placed in one of the two months)\n", before.Month)
		}
		span := previous[0].Month
		if len(previous) > 1 {
			span += " to " + before.Month
		}
		var sum float64
		var n int
		for _, p := range previous {
			if p.Per1000Orders != nil {
				sum += *p.Per1000Orders
				n++
			}
		}
		switch {
		case r.VsAverage != nil:
			mean := sum / float64(n)
			months := "months"
			if n == 1 {
				months = "month"
			}
			fmt.Fprintf(w, "Against the mean of %s: %s (mean %s over the %d %s with orders)\n", span, change(r.VsAverage), per1000(&mean), n, months)
		case n == 0:
			fmt.Fprintf(w, "Against the mean of %s: - (no month with orders)\n", span)
		default:
			fmt.Fprintf(w, "Against the mean of %s: - (no order placed in %s)\n", span, r.Month)
		}
	}

	causes := &table{title: "WISMO tickets by cause", columns: []string{"cause", "tickets", "share", "per 1,000 orders"},
		empty: "no WISMO tickets"}
	if r.Tickets > 0 {
		for _, c := range r.ByCause {
			causes.add(c.Cause, c.Tickets, textfmt.Percent(c.Share), per1000(c.Per1000Orders))
		}
	}
	fixTitle := "Integration links to fix first (tickets attributed to a viewer out of sync or a delay not told)"
	fixColumns := []string{"rank", "link", "cause", "tickets", "share of tickets"}
	if len(previous) > 0 {
		fixColumns = append(fixColumns, previous[len(previous)-1].Month)
	}
	fix := &table{title: fixTitle, columns: fixColumns, empty: "no ticket attributed to an integration link"}
	for _, l := range r.FixFirst {
		cells := []any{l.Rank, l.Link, l.Cause, l.Tickets, textfmt.Percent(l.Share)}
		if l.Previous != nil {
			cells = append(cells, *l.Previous)
		}
		fix.add(cells...)
	}
	tables := []*table{causes, fix}
	if len(previous) > 0 {
		trend := &table{title: "Trend", columns: []string{"month", "orders", "WISMO tickets", "per 1,000 orders", "change"}}
		for _, p := range r.Trend {
			trend.add(p.Month, p.Orders, p.Tickets, per1000(p.Per1000Orders), change(p.Change))
		}
		tables = append(tables, trend)
	}
	return printTables(w, false, tables...)
}
