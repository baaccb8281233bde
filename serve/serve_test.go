package serve

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

func TestCheckAccess(t *testing.T) {
	for _, c := range []struct {
		listen, token string
		ok            bool
	}{
		{"127.0.0.1:8090", "", true}, {"[::1]:8090", "", true}, {"localhost:8090", "", true}, {"127.3.2.1:80", "", true},
		{"0.0.0.0:8090", "", false}, {":8090", "", false}, {"10.1.2.3:8090", "", false}, {"[::]:8090", "", false},
		{"0.0.0.0:8090", "s3cret", true}, {"not an address", "", false},
	} {
		if err := CheckAccess(c.listen, c.token); (err == nil) != c.ok {
			t.Errorf("CheckAccess(%q, %q) = %v, want ok %v", c.listen, c.token, err, c.ok)
		}
	}
}

// emptyStore is a migrated ClickHouse database of the test's own, with no
// order in it.
func emptyStore(t *testing.T) *clickhouse.Client {
	c := synctest.Open(t, "serve")
	if err := c.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestServer(t *testing.T, cfg Config) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Metrics = NewMetrics(reg)
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, reg
}

// noRedirect is a client that shows redirects instead of following them.
func noRedirect() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u, bearer string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestTokenLoginAndHeaders: on a non-loopback listener with a token, the
// API answers 401 without it or with a wrong one, pages send to the login
// page, whose cookie then opens them; every answer carries the security
// headers, framing allowed for the Zendesk subdomain only; requests are
// counted by route pattern.
func TestTokenLoginAndHeaders(t *testing.T) {
	ts, reg := newTestServer(t, Config{Store: emptyStore(t), Listen: "0.0.0.0:8090", Token: "s3cret", ZendeskSubdomain: "acme"})
	c := noRedirect()
	for _, bearer := range []string{"", "wrong"} {
		resp, body := do(t, c, "GET", ts.URL+"/api/orders/ORD-1", bearer, nil)
		if resp.StatusCode != 401 || !strings.Contains(body, `"reason"`) || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d %s", bearer, resp.StatusCode, body)
		}
	}
	resp, body := do(t, c, "GET", ts.URL+"/api/orders/ORD-1", "s3cret", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "no such order") {
		t.Errorf("the right token: %d %s, want 404 (the database is empty)", resp.StatusCode, body)
	}
	resp, _ = do(t, c, "GET", ts.URL+"/orders/ORD-1", "", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/login?next=%2Forders%2FORD-1" {
		t.Errorf("a page without the cookie: %d to %q", resp.StatusCode, loc)
	}
	if resp, _ = do(t, c, "POST", ts.URL+"/login", "", url.Values{"token": {"nope"}, "next": {"/orders/ORD-1"}}); resp.StatusCode != 401 {
		t.Errorf("a wrong token at login: %d", resp.StatusCode)
	}
	resp, _ = do(t, c, "POST", ts.URL+"/login", "", url.Values{"token": {"s3cret"}, "next": {"//evil.example/x"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" || !strings.Contains(resp.Header.Get("Set-Cookie"), "HttpOnly") {
		t.Errorf("login: %d to %q, cookie %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Set-Cookie"))
	}
	resp, body = do(t, c, "GET", ts.URL+"/orders/ORD-1", "", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "no such order") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("a page with the login cookie: %d %s", resp.StatusCode, body)
	}
	for name, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors https://acme.zendesk.com", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		if got := resp.Header.Get(name); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to contain %q", name, got, want)
		}
	}
	if xfo := resp.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options %q would forbid the Zendesk sidebar", xfo)
	}
	if n := testutil.ToFloat64(cfgCounter(reg, "GET /orders/{id}", "404")); n != 1 {
		t.Errorf("baton_serve_requests_total{route=\"GET /orders/{id}\",code=\"404\"} = %v, want 1", n)
	}
}

// cfgCounter finds one child of baton_serve_requests_total.
func cfgCounter(reg *prometheus.Registry, route, code string) prometheus.Collector {
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "baton_serve_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["route"] == route && labels["code"] == code {
					ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("x", "x", nil, nil), prometheus.CounterValue, m.GetCounter().GetValue())
				}
			}
		}
	})
}

// TestLoopbackWithoutTokenAndNoFraming: loopback needs no token; without a
// Zendesk subdomain nothing may frame the pages.
func TestLoopbackWithoutTokenAndNoFraming(t *testing.T) {
	ts, _ := newTestServer(t, Config{Store: emptyStore(t), Listen: "127.0.0.1:8090"})
	resp, body := do(t, http.DefaultClient, "GET", ts.URL+"/api/orders/ORD-1", "", nil)
	if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%d %s %v", resp.StatusCode, body, resp.Header)
	}
	if _, err := New(Config{Store: emptyStore(t), Listen: "0.0.0.0:1", Metrics: NewMetrics(prometheus.NewRegistry())}); err == nil {
		t.Error("New accepted a non-loopback listener without a token")
	}
}

func TestWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45 s", 12 * time.Minute: "12 min", 2*time.Hour + 10*time.Minute + 5*time.Second: "2 h 10 min",
		3 * time.Hour: "3 h", 76 * time.Hour: "3 d 4 h", 48 * time.Hour: "2 d",
	} {
		if got := words(d); got != want {
			t.Errorf("words(%v) = %q, want %q", d, got, want)
		}
	}
	if got := slaWords(300000); got != "5-minute" {
		t.Errorf("slaWords(5 min) = %q", got)
	}
}

func TestChartSVGEscapesAndMarksSeries(t *testing.T) {
	c := chart{id: "x", title: "<t>", labels: []string{"a", "b"}, series: []series{{name: `<s1 "q">`, values: []float64{1, 2}}, {name: "s2", values: []float64{3, math.NaN()}}}}
	svg := string(c.svg())
	if strings.Contains(svg, "<s1") || strings.Count(svg, "data-series=") != 2 || !strings.Contains(svg, `data-chart="x"`) {
		t.Errorf("svg:\n%s", svg)
	}
}
