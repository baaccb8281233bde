package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// testOutput is where tests leave files for people to look at
// (screenshots): BATON_TEST_OUTPUT, or .test-output/ at the repository's
// root (ignored by git).
func testOutput(t *testing.T, sub string) string {
	dir := os.Getenv("BATON_TEST_OUTPUT")
	if dir == "" {
		dir = filepath.Join("..", "..", ".test-output")
	}
	dir = filepath.Join(dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts Debian's chromium, headless, for the test. A missing
// chromium fails the test: scripts/install-deps.sh installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (%v): scripts/install-deps.sh installs Debian's chromium package", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1200, 1600))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// behindOrder finds an order with a tracking number and a viewer behind
// the truth (a failed sync whose check has not closed).
func behindOrder(t *testing.T, s *servedStack) (orderJSON, string, string) {
	rows, err := s.ch.Conn().Query(t.Context(), "SELECT DISTINCT order_id FROM "+s.database+".failed_syncs_latest WHERE reason = 'sla_breached' AND check_id NOT IN (SELECT check_id FROM "+s.database+".sync_checks_latest) ORDER BY order_id LIMIT 100")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		o := s.order(t, id)
		for _, sys := range o.Systems {
			if sys.BehindMillis != nil && len(o.Shipments) > 0 && o.Shipments[0].TrackingNumber != "" {
				return o, sys.System, o.Shipments[0].TrackingNumber
			}
		}
	}
	t.Fatal("no order with a tracking number and a viewer behind the truth in the demo data")
	return orderJSON{}, "", ""
}

// browseDemo drives chromium: search by tracking number, land on the
// order, read the truth and the behind viewer's row from the DOM; load the
// scorecard and count each chart's series; save screenshots.
func browseDemo(t *testing.T, s *servedStack) {
	o, viewer, tracking := behindOrder(t, s)
	ctx := browser(t)
	out := testOutput(t, "serve")
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), tracking),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS("#truth-status")),
	)
	if err != nil {
		t.Fatal(err)
	}
	location := run(t, ctx, chromedp.Location())
	truth := run(t, ctx, chromedp.Text(chromedp.CSS("#truth-status")))
	row := run(t, ctx, chromedp.Text(chromedp.CSS(`li[data-system="`+viewer+`"] .text`)))
	orderShot := run(t, ctx, chromedp.FullScreenshot(100))
	if want := s.base + "/orders/" + url.PathEscape(o.OrderID); location != want {
		t.Errorf("searching %s landed on %s, want %s", tracking, location, want)
	}
	if truth != o.Truth.Status {
		t.Errorf("the page's truth %q, the API's %q", truth, o.Truth.Status)
	}
	if !strings.HasPrefix(row, systemLabel(o, viewer)) || !strings.HasSuffix(row, " behind") {
		t.Errorf("the %s row reads %q, want it to say it is behind like the API: %q", viewer, row, systemLabel(o, viewer))
	}

	var card struct {
		Accuracy struct {
			ByViewer []any `json:"by_viewer"`
		} `json:"status_sync_accuracy"`
		Failed struct {
			ByViewer []struct{ Reasons []struct{ Reason string } } `json:"by_viewer"`
		} `json:"failed_syncs"`
	}
	get(t, s.base, "/api/scorecard", &card)
	reasons := map[string]bool{}
	for _, v := range card.Failed.ByViewer {
		for _, r := range v.Reasons {
			reasons[r.Reason] = true
		}
	}
	want := map[string]int{"accuracy": len(card.Accuracy.ByViewer), "latency": 3, "failed-syncs": len(reasons), "wismo": 1}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scorecard"), chromedp.WaitVisible(chromedp.CSS(`svg[data-chart="wismo"]`))); err != nil {
		t.Fatal(err)
	}
	series := run(t, ctx, chromedp.Evaluate[map[string]int](`Object.fromEntries([...document.querySelectorAll('svg[data-chart]')].map(s => [s.dataset.chart, s.querySelectorAll('g[data-series]').length]))`))
	drawn := run(t, ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('g[data-series]')].every(g => g.querySelectorAll('rect, polyline, circle').length > 0)`))
	scoreShot := run(t, ctx, chromedp.FullScreenshot(100))
	if len(series) != len(want) || !drawn {
		t.Errorf("charts %v (every series drawn: %v), want %v", series, drawn, want)
	}
	for chart, n := range want {
		if series[chart] != n || n == 0 {
			t.Errorf("chart %s has %d series, want %d (> 0)", chart, series[chart], n)
		}
	}
	for name, b := range map[string][]byte{"order.png": orderShot, "scorecard.png": scoreShot} {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", out)
}

// run runs one browser action and returns its value; an error fails the
// test.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// systemLabel is the API's text for viewer up to its comma ("Help desk:
// PARTIALLY_DELIVERED"): the page must show the same.
func systemLabel(o orderJSON, viewer string) string {
	for _, s := range o.Systems {
		if s.System == viewer {
			label, _, _ := strings.Cut(s.Text, ",")
			return label
		}
	}
	return "(no such system)"
}
