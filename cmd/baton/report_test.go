package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// reportStack is a ClickHouse database of the test's own holding the
// synctest fixture (the scorecard's numbers are worked out there).
func reportStack(t *testing.T) *clickhouse.Client {
	t.Helper()
	c := synctest.Open(t, "report")
	synctest.Insert(t, c)
	return c
}

// report runs `baton report ARGS` against the database.
func report(t *testing.T, c *clickhouse.Client, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(batonBin, append([]string{"report"}, args...)...)
	cmd.Env = append(os.Environ(), "BATON_CLICKHOUSE_ADDR="+testenv.ClickHouseAddr(), "BATON_CLICKHOUSE_DATABASE="+c.Database())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String() + errb.String(), err
}

func reportJSONOf(t *testing.T, c *clickhouse.Client, args ...string) map[string]any {
	t.Helper()
	out, err := report(t, c, append([]string{"--format", "json"}, args...)...)
	if err != nil {
		t.Fatalf("baton report %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return v
}

// at walks a decoded JSON value along keys and array indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			a, _ := v.([]any)
			if p >= len(a) {
				return nil
			}
			v = a[p]
		}
	}
	return v
}

func TestReportScorecardJSONKeysAndWindows(t *testing.T) {
	c := reportStack(t)

	day := reportJSONOf(t, c, "--since", "2026-11-02", "--until", "2026-11-03")
	// The report's sections stay where they were; the scorecard has exactly
	// the keys README documents.
	for _, k := range []string{"systems", "total_events", "orders_seen", "canonical_events", "canonical_statuses", "dead_letters", "orders_by_truth", "transitions_per_hour", "scorecard"} {
		if _, ok := day[k]; !ok {
			t.Errorf("report JSON lacks %q", k)
		}
	}
	if missing, extra := synctest.DiffKeys(synctest.JSONKeys("", day["scorecard"]), synctest.ScorecardKeys(t, "../../README.md")); len(missing)+len(extra) > 0 {
		t.Errorf("scorecard JSON keys: documented in README but missing %v; present but undocumented %v", missing, extra)
	}
	sc := day["scorecard"]
	for _, check := range []struct {
		path []any
		want any
	}{
		{[]any{"since"}, "2026-11-02T00:00:00Z"},
		{[]any{"until"}, "2026-11-03T00:00:00Z"},
		{[]any{"pass"}, false},
		{[]any{"status_sync_accuracy", "by_viewer", 2, "viewer"}, "storefront"},
		{[]any{"status_sync_accuracy", "by_viewer", 2, "accuracy"}, 0.75},
		{[]any{"status_sync_accuracy", "by_viewer", 1, "pass"}, true},
		{[]any{"tracking_update_latency", "by_carrier", 1, "p95_ms"}, 200000.0},
		{[]any{"failed_syncs", "by_viewer", 2, "rate"}, 0.4},
		{[]any{"wismo_tickets_per_1000_orders", "current", "per_1000_orders"}, 200.0},
		{[]any{"wismo_tickets_per_1000_orders", "previous", "per_1000_orders"}, 1000.0},
		{[]any{"wismo_tickets_per_1000_orders", "previous", "since"}, "2026-11-01T00:00:00Z"},
		{[]any{"wismo_tickets_per_1000_orders", "pass"}, true},
	} {
		if got := at(sc, check.path...); got != check.want {
			t.Errorf("scorecard %v = %v, want %v", check.path, got, check.want)
		}
	}

	// Everything: no bounds, the day before's check counts, no WISMO trend.
	all := reportJSONOf(t, c)["scorecard"]
	if at(all, "since") != nil || at(all, "until") != nil || at(all, "wismo_tickets_per_1000_orders", "previous") != nil ||
		at(all, "status_sync_accuracy", "by_viewer", 1, "accuracy") != 0.5 {
		t.Errorf("unbounded scorecard: %v", all)
	}
	// One hour (RFC 3339 bounds): the storefront alone.
	hour := reportJSONOf(t, c, "--since", "2026-11-02T10:00:00Z", "--until", "2026-11-02T11:00:00Z")["scorecard"]
	if v, _ := at(hour, "status_sync_accuracy", "by_viewer").([]any); len(v) != 1 || at(v, 0, "viewer") != "storefront" {
		t.Errorf("10:00–11:00 accuracy: %v", at(hour, "status_sync_accuracy"))
	}

	// The table shows each metric's value, target and verdict.
	out, err := report(t, c, "--since", "2026-11-02", "--until", "2026-11-03")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"Scorecard: sync checks with truth_at in [2026-11-02T00:00:00Z, 2026-11-03T00:00:00Z): FAIL",
		"target p95 < 5m0s: FAIL", "carrier UPS", "target > 99.00%: FAIL", "75.00%", "target < 0.50% of checks: FAIL",
		"sla_breached 2", "target not above the previous window: pass", "200.0", "1000.0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report table lacks %q:\n%s", want, out)
		}
	}
	if out, err := report(t, c, "--since", "yesterday"); err == nil || !strings.Contains(out, `--since "yesterday"`) {
		t.Errorf("a bad --since: err %v, output %s", err, out)
	}
}

func TestParseWindow(t *testing.T) {
	now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		since, until string
		from, to     time.Time
		err          bool
	}{
		{"", "", time.Time{}, time.Time{}, false},
		{"2026-11-02", "2026-11-03", day, day.Add(24 * time.Hour), false},
		{"2026-11-02", "", day, now, false}, // a start alone ends now
		{"2026-11-02T10:00:00+01:00", "2026-11-02T10:30:00.5Z", day.Add(9 * time.Hour), day.Add(10*time.Hour + 30*time.Minute + 500*time.Millisecond), false},
		{"", "2026-11-03", time.Time{}, day.Add(24 * time.Hour), false},
		{"2026-11-03", "2026-11-02", time.Time{}, time.Time{}, true},
		{"2026-11-02", "2026-11-02", time.Time{}, time.Time{}, true},
		{"02/11/2026", "", time.Time{}, time.Time{}, true},
	} {
		from, to, err := clickhouse.ParseWindow(tc.since, tc.until, now, "--")
		if tc.err {
			if err == nil {
				t.Errorf("%q..%q: no error", tc.since, tc.until)
			}
			continue
		}
		if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%q..%q = %v, %v, %v; want %v, %v", tc.since, tc.until, from, to, err, tc.from, tc.to)
		}
	}
}

// TestReportFailOnBreach: with --fail-on-breach the report still prints,
// then exits 1 when a scorecard target fails and 0 when all pass.
func TestReportFailOnBreach(t *testing.T) {
	c := reportStack(t)
	day := []string{"--since", "2026-11-02", "--until", "2026-11-03"}
	if out, err := report(t, c, day...); err != nil {
		t.Fatalf("without --fail-on-breach a failing scorecard exits 0: %v\n%s", err, out)
	}
	out, err := report(t, c, append(day, "--fail-on-breach")...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "Scorecard:") || !strings.Contains(out, "the scorecard failed a target") {
		t.Errorf("a failing day with --fail-on-breach: %v, want exit 1 after the report:\n%s", err, out)
	}
	// 11:25–11:40 holds the notifications check alone: every verdict passes.
	quiet := []string{"--since", "2026-11-02T11:25:00Z", "--until", "2026-11-02T11:40:00Z", "--fail-on-breach"}
	if pass := at(reportJSONOf(t, c, quiet...)["scorecard"], "pass"); pass != true {
		t.Fatalf("11:25–11:40 scorecard pass = %v, want true", pass)
	}
	if out, err := report(t, c, quiet...); err != nil {
		t.Errorf("a passing scorecard with --fail-on-breach: %v\n%s", err, out)
	}
}

// TestReportBeforeAnyRunSaysToRunFirst: a database baton never created is
// not a ClickHouse error code but the remedy.
func TestReportBeforeAnyRunSaysToRunFirst(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "clickhouse")
	for _, args := range [][]string{{"report"}, {"report", "wismo", "--month", "2026-11"}} {
		code, out := batonExit(t, []string{"BATON_CLICKHOUSE_ADDR=" + testenv.ClickHouseAddr(), "BATON_CLICKHOUSE_DATABASE=" + testenv.Unique("never_run")}, args...)
		if code != 1 || !strings.Contains(out, "does not exist") || !strings.Contains(out, "run `baton run` first") {
			t.Errorf("baton %s on a missing database: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
}

// TestReportPerSystemOrdersAreTheResolvedOnes: the per-system table and
// its JSON count the orders each system's events were resolved to, so the
// carrier's line shows the orders its scans were linked to
// (synctest.SystemRows: 2), not the one order ID written in a raw scan.
func TestReportPerSystemOrdersAreTheResolvedOnes(t *testing.T) {
	c := synctest.Open(t, "report")
	synctest.InsertSystems(t, c)

	out, err := report(t, c)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	section, _, _ := strings.Cut(out, "\nOrders seen across all systems")
	lines := strings.Split(section, "\n")
	if len(lines) < 2 || strings.Join(strings.Fields(lines[1]), " ") != "system events unique events duplicates orders tracking numbers first occurred (UTC) last occurred (UTC)" {
		t.Fatalf("per-system table:\n%s", section)
	}
	want := map[string]string{ // events, unique events, duplicates, orders, tracking numbers
		"carrier":    "5 4 1 2 3",
		"storefront": "3 3 0 3 0",
		"wms":        "1 1 0 0 0",
	}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if w, ok := want[f[0]]; ok {
			if got := strings.Join(f[1:6], " "); got != w {
				t.Errorf("%s line %q: counts %q, want %q", f[0], l, got, w)
			}
			delete(want, f[0])
		}
	}
	if len(want) > 0 {
		t.Errorf("no line for %v in:\n%s", want, section)
	}

	orders := map[string]any{}
	for _, s := range reportJSONOf(t, c)["systems"].([]any) {
		orders[at(s, "system").(string)] = at(s, "orders")
	}
	if orders["carrier"] != 2.0 || orders["storefront"] != 3.0 || orders["wms"] != 0.0 {
		t.Errorf("JSON systems[].orders = %v, want carrier 2, storefront 3, wms 0", orders)
	}
}
