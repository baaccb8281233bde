package serve

import (
	"math"
	"sort"
	"time"

	"github.com/baton-pipeline/baton/reports/wismoreview"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// The scorecard page's four charts, from the series sinks/clickhouse
// reads with the scorecard's definitions.

// pivot lays out rows as one series per name over the sorted x labels;
// a missing (name, label) pair is a gap.
func pivot(n int, row func(i int) (name, label string, v float64)) (labels []string, out []series) {
	names, seen := []string{}, map[string]bool{}
	values := map[string]map[string]float64{}
	for i := range n {
		name, label, v := row(i)
		if values[name] == nil {
			values[name] = map[string]float64{}
			names = append(names, name)
		}
		values[name][label] = v
		if !seen[label] {
			seen[label] = true
			labels = append(labels, label)
		}
	}
	sort.Strings(labels)
	for _, name := range names {
		s := series{name: name, values: make([]float64, len(labels))}
		for i, l := range labels {
			v, ok := values[name][l]
			if !ok {
				v = math.NaN()
			}
			s.values[i] = v
		}
		out = append(out, s)
	}
	return labels, out
}

func accuracyChart(days []clickhouse.DayAccuracy) chart {
	target := 100 * clickhouse.AccuracyTarget
	c := chart{id: "accuracy", title: "Status sync accuracy per viewer per day (IN_SYNC ÷ closed checks but SUPERSEDED)", unit: "%", target: &target}
	c.labels, c.series = pivot(len(days), func(i int) (string, string, float64) {
		d := days[i]
		v := math.NaN()
		if d.Accuracy != nil {
			v = 100 * *d.Accuracy
		}
		return d.Viewer, d.Day.Format("01-02"), v
	})
	c.yMin = math.Min(90, lowest(c.series))
	return c
}

// lowest is the smallest value of the series, rounded down to a multiple
// of 10 (an accuracy axis from there to 100% shows the differences).
func lowest(ss []series) float64 {
	m := 100.0
	for _, s := range ss {
		for _, v := range s.values {
			if !math.IsNaN(v) && v < m {
				m = v
			}
		}
	}
	return math.Floor(m/10) * 10
}

// latencyChart is p50/p95/p99 of the tracking update latency per viewer
// and per carrier: three series (the quantiles) of bars.
func latencyChart(l clickhouse.LatencyScore) chart {
	target := float64(l.TargetP95Millis) / 60000
	c := chart{id: "latency", title: "Tracking update latency p50 / p95 / p99 per viewer and carrier (minutes)", unit: "min", bars: true, target: &target}
	p50, p95, p99 := series{name: "p50"}, series{name: "p95"}, series{name: "p99"}
	add := func(label string, q clickhouse.LatencyQuantiles) {
		c.labels = append(c.labels, label)
		p50.values = append(p50.values, float64(q.P50Millis)/60000)
		p95.values = append(p95.values, float64(q.P95Millis)/60000)
		p99.values = append(p99.values, float64(q.P99Millis)/60000)
	}
	for _, v := range l.ByViewer {
		add(v.Viewer, v.LatencyQuantiles)
	}
	for _, k := range l.ByCarrier {
		add(carrierLabel(k.Carrier), k.LatencyQuantiles)
	}
	c.series = []series{p50, p95, p99}
	return c
}

// failuresChart is failed syncs per hour by reason, one line per reason,
// every hour between the first and the last drawn (0 when none failed).
func failuresChart(hours []clickhouse.HourFailures) chart {
	c := chart{id: "failed-syncs", title: "Failed syncs per hour of detection, by reason"}
	if len(hours) == 0 {
		return c
	}
	first, last := hours[0].Hour, hours[0].Hour
	for _, h := range hours {
		first, last = minTime(first, h.Hour), maxTime(last, h.Hour)
	}
	index := map[time.Time]int{}
	for t := first; !t.After(last); t = t.Add(time.Hour) {
		index[t] = len(c.labels)
		c.labels = append(c.labels, t.UTC().Format("01-02 15h"))
	}
	byReason := map[string]int{}
	for _, h := range hours {
		i, ok := byReason[h.Reason]
		if !ok {
			i = len(c.series)
			byReason[h.Reason] = i
			c.series = append(c.series, series{name: h.Reason, values: make([]float64, len(c.labels))})
		}
		c.series[i].values[index[h.Hour]] = float64(h.Failed)
	}
	return c
}

// wismoChart is WISMO tickets per 1,000 orders per month, as bars.
func wismoChart(months []wismoreview.TrendPoint) chart {
	c := chart{id: "wismo", title: "WISMO tickets per 1,000 orders per month", bars: true}
	s := series{name: "per 1,000 orders"}
	for _, m := range months {
		c.labels = append(c.labels, m.Month)
		v := math.NaN()
		if m.Per1000Orders != nil {
			v = *m.Per1000Orders
		}
		s.values = append(s.values, v)
	}
	c.series = []series{s}
	return c
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// carrierLabel names a carrier's line; "" is a scan that named none.
func carrierLabel(c string) string {
	if c == "" {
		return "carrier (unknown)"
	}
	return "carrier " + c
}
