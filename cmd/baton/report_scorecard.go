package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/internal/textfmt"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// printScorecard prints the seed's measures, each with its target and
// verdict (see README "Sync checks for analysts").
func printScorecard(w io.Writer, sc clickhouse.Scorecard) error {
	fmt.Fprintf(w, "\nScorecard: sync checks with truth_at in %s: %s\n", windowText(sc.Since, sc.Until), textfmt.Verdict(sc.Pass))

	latency := &table{title: fmt.Sprintf("Tracking update latency (carrier scan → viewer shows it), target p95 < %s: %s",
		millis(sc.Latency.TargetP95Millis), textfmt.Verdict(sc.Latency.Pass)),
		columns: []string{"viewer / carrier", "checks", "p50", "p95", "p99", "verdict"}, empty: "no carrier-set checks reflected by a viewer"}
	addLatency := func(name string, q clickhouse.LatencyQuantiles) {
		latency.add(name, q.Checks, millis(q.P50Millis), millis(q.P95Millis), millis(q.P99Millis), textfmt.Verdict(&q.Pass))
	}
	for _, v := range sc.Latency.ByViewer {
		addLatency(v.Viewer, v.LatencyQuantiles)
	}
	for _, c := range sc.Latency.ByCarrier {
		addLatency("carrier "+orDefault(c.Carrier, "(unknown)"), c.LatencyQuantiles)
	}

	accuracy := &table{title: fmt.Sprintf("Status sync accuracy (IN_SYNC ÷ closed checks but SUPERSEDED), target > %s: %s",
		textfmt.Percent(&sc.Accuracy.Target), textfmt.Verdict(sc.Accuracy.Pass)),
		columns: []string{"viewer", "in sync", "late", "missing", "conflict", "superseded", "checks", "accuracy", "verdict"}, empty: "no closed checks"}
	for _, a := range sc.Accuracy.ByViewer {
		accuracy.add(a.Viewer, a.InSync, a.Late, a.Missing, a.Conflict, a.Superseded, a.Checks, textfmt.Percent(a.Accuracy), textfmt.Verdict(a.Pass))
	}

	failed := &table{title: fmt.Sprintf("Failed syncs, target < %s of checks: %s", textfmt.Percent(&sc.FailedSyncs.TargetRate), textfmt.Verdict(sc.FailedSyncs.Pass)),
		columns: []string{"viewer", "failed", "checks", "rate", "verdict", "by reason"}, empty: "no checks"}
	for _, v := range sc.FailedSyncs.ByViewer {
		var reasons []string
		for _, r := range v.Reasons {
			reasons = append(reasons, fmt.Sprintf("%s %d", r.Reason, r.Failed))
		}
		failed.add(v.Viewer, v.Failed, v.Checks, textfmt.Percent(v.Rate), textfmt.Verdict(v.Pass), orDefault(strings.Join(reasons, ", "), "-"))
	}

	wismo := &table{title: fmt.Sprintf("WISMO tickets per 1,000 orders, target %s: %s", sc.WISMO.Target, textfmt.Verdict(sc.WISMO.Pass)),
		columns: []string{"window", "WISMO tickets", "orders placed", "per 1,000 orders"}}
	for _, x := range []struct {
		name string
		win  *clickhouse.WISMOWindow
	}{{"this", &sc.WISMO.Current}, {"previous", sc.WISMO.Previous}} {
		if x.win == nil {
			continue
		}
		per := "-"
		if x.win.Per1000Orders != nil {
			per = fmt.Sprintf("%.1f", *x.win.Per1000Orders)
		}
		wismo.add(x.name+" "+windowText(x.win.Since, x.win.Until), x.win.Tickets, x.win.Orders, per)
	}
	d := sc.Delay
	delay := &table{title: fmt.Sprintf("Delay notices due in the window (notify_by), target %s: %s", d.Target, textfmt.Verdict(d.Pass)),
		columns: []string{"told in time", "told late", "never told", "still open", "told in time (share)"}}
	delay.add(d.Notified, d.Late, d.NotNotified, d.Open, textfmt.Percent(d.ToldInTime))
	return printTables(w, false, latency, accuracy, failed, wismo, delay)
}

// windowText prints a half-open window; open bounds are "…".
func windowText(since, until *time.Time) string {
	bound := func(t *time.Time) string {
		if t == nil {
			return "…"
		}
		return t.UTC().Format(time.RFC3339)
	}
	if since == nil && until == nil {
		return "(everything)"
	}
	return "[" + bound(since) + ", " + bound(until) + ")"
}
