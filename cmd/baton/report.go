package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// reportJSON is `baton report --format json`: the report's sections at the
// top level, as before the scorecard, and the scorecard under its own key.
type reportJSON struct {
	clickhouse.Report
	Scorecard clickhouse.Scorecard `json:"scorecard"`
}

func runReport(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "wismo" {
		return runReportWismo(ctx, args[1:])
	}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: baton report [--since T] [--until T] [--format table|json] [--fail-on-breach]\n       baton report wismo --month YYYY-MM (the monthly WISMO review; baton report wismo -h)\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var chf clickhouseFlags
	chf.register(fs)
	format := fs.String("format", "table", "output format: table or json")
	sinceFlag := fs.String("since", "", "scorecard window start, inclusive, by truth_at: RFC 3339 time or date (UTC midnight); default: the beginning")
	untilFlag := fs.String("until", "", "scorecard window end, exclusive: RFC 3339 time or date; default: now if --since is given, else the end")
	failOnBreach := fs.Bool("fail-on-breach", false, "exit 1 when a scorecard target fails (after printing the report), for cron jobs and CI")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return flagErrorf("--format %q: want table or json", *format)
	}
	since, until, err := clickhouse.ParseWindow(*sinceFlag, *untilFlag, time.Now(), "--")
	if err != nil {
		return flagErrorf("%v", err)
	}
	ch, err := chf.openExisting(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	rep, err := ch.Report(ctx)
	if err != nil {
		return err
	}
	sc, err := ch.Scorecard(ctx, since, until)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(reportJSON{rep, sc})
	} else if err = printReport(os.Stdout, rep); err == nil {
		err = printScorecard(os.Stdout, sc)
	}
	if err == nil && *failOnBreach && sc.Pass != nil && !*sc.Pass {
		err = errors.New("the scorecard failed a target (--fail-on-breach)")
	}
	return err
}

// table is one titled section of the printed report: a header line, the
// column names, right-aligned rows; empty is printed instead of the columns
// when there is no row ("" prints the column names alone).
type table struct {
	title   string
	columns []string
	rows    [][]string
	empty   string
}

func (t *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, row)
}

// print writes the section, preceded by a blank line unless first.
func (t *table) print(w io.Writer, first bool) error {
	if !first {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, t.title)
	if len(t.rows) == 0 && t.empty != "" {
		_, err := fmt.Fprintln(w, t.empty)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range append([][]string{t.columns}, t.rows...) {
		fmt.Fprint(tw, strings.Join(r, "\t")+"\t\n")
	}
	return tw.Flush()
}

// printTables prints sections in order; the first one opens the output
// unless more follows an earlier print.
func printTables(w io.Writer, first bool, tables ...*table) error {
	for i, t := range tables {
		if err := t.print(w, first && i == 0); err != nil {
			return err
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func printReport(w io.Writer, rep clickhouse.Report) error {
	const ts = "2006-01-02 15:04"
	systems := &table{title: "Source events in ClickHouse, per system",
		columns: []string{"system", "events", "unique events", "duplicates", "orders", "tracking numbers", "first occurred (UTC)", "last occurred (UTC)"}}
	for _, s := range rep.Systems {
		systems.add(s.System, s.Events, s.UniqueEvents, s.Events-s.UniqueEvents, s.Orders, s.TrackingNumbers,
			s.FirstOccurred.UTC().Format(ts), s.LastOccurred.UTC().Format(ts))
	}
	systems.add("total", rep.TotalEvents, "", "", "", "", "", "")
	if err := systems.print(w, true); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nOrders seen across all systems: %d\n", rep.OrdersSeen)

	statuses := &table{title: fmt.Sprintf("Canonical events (normalize output): %d, per canonical status", rep.CanonicalEvents),
		columns: []string{"canonical status", "events", "orders"}}
	for _, s := range rep.Statuses {
		statuses.add(orDefault(s.Status, "(no order status)"), s.Events, s.Orders)
	}
	truths := &table{title: "Orders by truth (the authority rules' current status)", columns: []string{"truth", "orders"}}
	for _, t := range rep.Truths {
		truths.add(orDefault(t.Truth, "(no authority yet)"), t.Orders)
	}
	hours := &table{title: fmt.Sprintf("Transitions per hour (event time, latest %d hours with any)", clickhouse.ReportHours),
		columns: []string{"hour (UTC)", "transitions"}}
	for _, h := range rep.TransitionsPerHour {
		hours.add(h.Hour.UTC().Format("2006-01-02 15:00"), h.Transitions)
	}
	dead := &table{title: "Dead letters, per stage and reason", columns: []string{"stage", "reason", "records"}, empty: "none"}
	for _, d := range rep.DeadLetters {
		dead.add(d.Stage, d.Reason, d.Records)
	}
	return printTables(w, false, statuses, truths, hours, dead)
}

func millis(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }
