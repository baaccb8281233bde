package clickhouse_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// grafanaPanels reads the ClickHouse queries of a provisioned dashboard,
// by panel title, straight from its JSON: a dashboard edit is what the
// test runs, so the two cannot drift.
func grafanaPanels(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana/dashboards/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RawSQL string `json:"rawSql"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]string{}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			if target.RawSQL != "" {
				out[p.Title] = target.RawSQL
			}
		}
	}
	return out
}

// grafanaSQL expands what the Grafana ClickHouse plugin expands for a
// dashboard range [from, to) with every viewer selected, and qualifies the
// tables with the test's database (the data source's default is baton).
func grafanaSQL(query, db string, from, to time.Time) string {
	timeFilter := regexp.MustCompile(`\$__timeFilter\(([a-z_]+)\)`)
	q := timeFilter.ReplaceAllString(query, fmt.Sprintf("$1 >= toDateTime(%d) AND $1 <= toDateTime(%d)", from.Unix(), to.Unix()))
	q = strings.NewReplacer("${__from}", fmt.Sprint(from.UnixMilli()), "${__to}", fmt.Sprint(to.UnixMilli()),
		"${viewer:singlequote}", "'storefront','helpdesk','notifications'").Replace(q)
	return regexp.MustCompile(`\b(FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b`).ReplaceAllString(q, "$1 "+db+".$2")
}

// TestGrafanaScorecardPanels runs every ClickHouse panel of the scorecard
// dashboard over the synctest fixture's day and checks its answer (the
// numbers of TestDocumentedQueries; rows sorted, since ties order freely).
func TestGrafanaScorecardPanels(t *testing.T) {
	c := open(t)
	synctest.Insert(t, c)
	synctest.InsertWismo(t, c)
	d := synctest.Day
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		from, to time.Time
		want     []string
	}{
		"Checks by outcome (ClickHouse)": {d, d.Add(24 * time.Hour), []string{
			"helpdesk 2 0 1 1 0 4 0.5", "notifications 1 0 0 0 0 1 1", "storefront 3 1 0 0 1 4 0.75"}},
		"Accuracy per hour of truth (ClickHouse)": {d, d.Add(24 * time.Hour), []string{
			"2026-11-02 10:00:00 storefront 0.75", "2026-11-02 11:00:00 helpdesk 0.5", "2026-11-02 11:00:00 notifications 1"}},
		"Failed syncs per viewer (ClickHouse)": {d, d.Add(24 * time.Hour), []string{
			"helpdesk 1 1 0 2 4 0.5", "notifications 0 0 0 0 1 0", "storefront 2 0 0 2 5 0.4"}},
		"Update latency by carrier (ClickHouse)": {d, d.Add(24 * time.Hour), []string{
			"FedEx 1 900000 900000 900000", "UPS 4 120000 200000 200000"}},
		"WISMO tickets per 1,000 orders":                       {d, d.Add(24 * time.Hour), []string{"200 1 5"}},
		"WISMO tickets per 1,000 orders, per day (ClickHouse)": {d, d.Add(24 * time.Hour), []string{"2026-11-02 00:00:00 200"}},
		"WISMO tickets by cause and integration link (ClickHouse)": {nov, nov.AddDate(0, 1, 0), []string{
			"carrier_exception (no integration link) 1",
			"delay_not_notified delay_notice->notifications 1",
			"no_sync_problem (no integration link) 1",
			"viewer_out_of_sync carrier->storefront 2",
			"viewer_out_of_sync oms->storefront 1"}},
	}
	panels := grafanaPanels(t, "baton-scorecard.json")
	for title := range panels {
		if _, ok := cases[title]; !ok {
			t.Errorf("baton-scorecard.json: ClickHouse panel %q has no expected answer in this test", title)
		}
	}
	for title, tc := range cases {
		q, ok := panels[title]
		if !ok {
			t.Errorf("baton-scorecard.json lacks the ClickHouse panel %q", title)
			continue
		}
		got := queryCells(t, c, grafanaSQL(q, c.Database(), tc.from, tc.to))
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s on %s:\n got %q\nwant %q", title, synctest.Backend, got, tc.want)
		}
	}
}
