package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// servedStack is a stack holding the demo's simulated data (3,000 orders,
// seed 42, as `make demo`), stored by the pipeline, with `baton serve`
// running over it.
type servedStack struct {
	*stack
	base string // http://host:port
}

// newServedStack simulates, runs the pipeline until caught up and starts
// `baton serve` on a free port; the server is stopped with the test.
func newServedStack(t *testing.T) *servedStack {
	s := newStack(t)
	s.mustRunFast("simulate", "--orders", "3000", "--seed", "42", "--progress", "never")
	s.mustRunFast("run", "--until-caught-up")
	addr := freeAddr(t)
	startServe(t, s.command("serve", "--listen", addr, "--metrics-addr", ""))
	return &servedStack{stack: s, base: "http://" + addr}
}

// startServe starts cmd (a `baton serve`), waits until it answers
// /healthz, and stops it with SIGTERM when the test ends.
func startServe(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("baton serve: %v\n%s", err, logs.String())
		}
	})
	addr := argAfter(cmd.Args, "--listen")
	waitFor(t, 30*time.Second, "baton serve to answer", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// get fetches path and decodes its JSON answer into v; it returns the
// status code.
func get(t *testing.T, base, path string, v any) int {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: Content-Type %q\n%s", path, ct, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
	return resp.StatusCode
}

// orderJSON is the part of GET /api/orders/{id} the tests read.
type orderJSON struct {
	OrderID string `json:"order_id"`
	Truth   *struct {
		Status, Text string
	} `json:"truth"`
	Systems []struct {
		System, Status, Text string
		Agrees               bool
		BehindMillis         *int64 `json:"behind_ms"`
	} `json:"systems"`
	Shipments []struct {
		ShipmentID     string `json:"shipment_id"`
		TrackingNumber string `json:"tracking_number"`
		Carrier        string `json:"carrier"`
		IsReturn       bool   `json:"is_return"`
		Status         string `json:"status"`
	} `json:"shipments"`
	Timeline []struct {
		To, System   string
		SourceStatus string `json:"source_status"`
	} `json:"timeline"`
	Checks []struct {
		Viewer, State, Reason, Text string
	} `json:"checks"`
	DelayNotices []struct {
		NoticeID string `json:"notice_id"`
		Told     string `json:"told"`
		Text     string `json:"text"`
	} `json:"delay_notices"`
	WismoTickets []struct {
		TicketID string `json:"ticket_id"`
		Cause    string `json:"cause"`
	} `json:"wismo_tickets"`
}

// one returns the first value of a one-column query ("" when none).
func (s *stack) one(t *testing.T, query string) string {
	t.Helper()
	var v string
	rows, err := s.ch.Conn().Query(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func (s *servedStack) order(t *testing.T, id string) orderJSON {
	t.Helper()
	var o orderJSON
	if code := get(t, s.base, "/api/orders/"+url.PathEscape(id), &o); code != http.StatusOK {
		t.Fatalf("GET /api/orders/%s: %d", id, code)
	}
	return o
}

// TestServe runs `baton serve` over the demo's data: the order API on
// orders with a split shipment, a return, a conflict, a delay notice and a
// WISMO ticket, each compared with what ClickHouse holds; lookups; errors;
// the scorecard and WISMO endpoints against `baton report`; and the pages
// in a real browser.
func TestServe(t *testing.T) {
	t.Parallel()
	s := newServedStack(t)
	t.Run("split shipment", func(t *testing.T) { serveSplitShipment(t, s) })
	t.Run("return", func(t *testing.T) { serveReturn(t, s) })
	t.Run("conflict", func(t *testing.T) { serveConflict(t, s) })
	t.Run("delay notice", func(t *testing.T) { serveDelayNotice(t, s) })
	t.Run("wismo ticket", func(t *testing.T) { serveWismoTicket(t, s) })
	t.Run("errors", func(t *testing.T) { serveErrors(t, s) })
	t.Run("scorecard and wismo equal baton report", func(t *testing.T) { serveEqualsReport(t, s) })
	t.Run("browser", func(t *testing.T) { browseDemo(t, s) })
}

func serveSplitShipment(t *testing.T, s *servedStack) {
	db := s.database
	id := s.one(t, "SELECT order_id FROM "+db+".order_states FINAL WHERE shipment_count > 1 ORDER BY order_id LIMIT 1")
	o := s.order(t, id)
	want := s.one(t, "SELECT toString(shipment_count) FROM "+db+".order_states FINAL WHERE order_id = '"+id+"'")
	if fmt.Sprint(len(o.Shipments)) != want || len(o.Shipments) < 2 {
		t.Errorf("%s: %d shipments, ClickHouse %s", id, len(o.Shipments), want)
	}
	for _, sh := range o.Shipments {
		if sh.TrackingNumber == "" || sh.Carrier == "" || sh.Status == "" {
			t.Errorf("%s: shipment without tracking number, carrier or status: %+v", id, sh)
		}
	}
	transitions := s.one(t, "SELECT toString(count()) FROM "+db+".order_transitions_latest WHERE order_id = '"+id+"'")
	truth := s.one(t, "SELECT truth FROM "+db+".order_states FINAL WHERE order_id = '"+id+"'")
	if fmt.Sprint(len(o.Timeline)) != transitions || o.Truth == nil || o.Truth.Status != truth || o.Timeline[0].SourceStatus == "" {
		t.Errorf("%s: %d transitions (ClickHouse %s), truth %+v (ClickHouse %s), first %+v", id, len(o.Timeline), transitions, o.Truth, truth, o.Timeline[0])
	}
}

func serveReturn(t *testing.T, s *servedStack) {
	db := s.database
	id := s.one(t, "SELECT order_id FROM "+db+".order_states FINAL WHERE shipments_json LIKE '%\"is_return\":true%' ORDER BY order_id LIMIT 1")
	o := s.order(t, id)
	returns := 0
	for _, sh := range o.Shipments {
		if sh.IsReturn {
			returns++
		}
	}
	if id == "" || returns == 0 {
		t.Errorf("order %q: no return shipment in %+v", id, o.Shipments)
	}
}

func serveConflict(t *testing.T, s *servedStack) {
	db := s.database
	id := s.one(t, "SELECT order_id FROM "+db+".failed_syncs_latest WHERE reason = 'conflict' ORDER BY order_id LIMIT 1")
	found := false
	for _, c := range s.order(t, id).Checks {
		found = found || c.Reason == "conflict" && strings.Contains(c.Text, "contradicts the truth") && strings.Contains(c.Text, "SLA")
	}
	if id == "" || !found {
		t.Errorf("order %q: no conflict in plain words", id)
	}
}

func serveDelayNotice(t *testing.T, s *servedStack) {
	db := s.database
	id := s.one(t, "SELECT order_id FROM "+db+".delay_notices_latest ORDER BY order_id LIMIT 1")
	notice := s.one(t, "SELECT notice_id FROM "+db+".delay_notices_latest WHERE order_id = '"+id+"' ORDER BY notice_id LIMIT 1")
	o := s.order(t, id)
	found := false
	for _, n := range o.DelayNotices {
		found = found || n.NoticeID == notice && n.Told != "" && strings.HasPrefix(n.Text, "Delay (")
	}
	if id == "" || !found {
		t.Errorf("order %q: notice %q not shown: %+v", id, notice, o.DelayNotices)
	}
}

func serveWismoTicket(t *testing.T, s *servedStack) {
	db := s.database
	id := s.one(t, "SELECT order_id FROM "+db+".wismo_tickets_latest WHERE cause = 'viewer_out_of_sync' ORDER BY order_id LIMIT 1")
	ticket := s.one(t, "SELECT ticket_id FROM "+db+".wismo_tickets_latest WHERE order_id = '"+id+"' ORDER BY ticket_at_ms LIMIT 1")
	o := s.order(t, id)
	if id == "" || len(o.WismoTickets) == 0 || o.WismoTickets[0].TicketID != ticket || o.WismoTickets[0].Cause != "viewer_out_of_sync" {
		t.Errorf("order %q: tickets %+v, want %s first", id, o.WismoTickets, ticket)
	}
	// Lookups: the ticket, a tracking number, a shipment ID.
	sh := s.order(t, id).Shipments[0]
	for _, q := range []string{ticket, sh.TrackingNumber, sh.ShipmentID, id} {
		var ans struct {
			Orders []struct {
				OrderID string `json:"order_id"`
			}
		}
		if code := get(t, s.base, "/api/search?q="+url.QueryEscape(q), &ans); code != 200 || len(ans.Orders) == 0 || ans.Orders[0].OrderID != id {
			t.Errorf("search %q: %d %+v, want %s", q, code, ans, id)
		}
	}
}

func serveErrors(t *testing.T, s *servedStack) {
	for _, c := range []struct {
		path string
		code int
	}{
		{"/api/orders/ORD-99999999", 404}, {"/api/orders/%3Cscript%3E", 400}, {"/api/orders/" + strings.Repeat("9", 200), 400},
		{"/api/search?q=", 400}, {"/api/search?q=a%27%20OR%201%3D1", 400}, {"/api/scorecard?since=yesterday", 400},
		{"/api/wismo", 400}, {"/api/wismo?month=2026-13", 400}, {"/api/nothing", 404},
	} {
		var e struct{ Error, Reason string }
		if code := get(t, s.base, c.path, &e); code != c.code || e.Error == "" || e.Reason == "" {
			t.Errorf("GET %s: %d %+v, want %d with error and reason", c.path, code, e, c.code)
		}
	}
	var none struct{ Orders []any }
	if code := get(t, s.base, "/api/search?q=NO-SUCH-THING", &none); code != 200 || none.Orders == nil || len(none.Orders) != 0 {
		t.Errorf("a search finding nothing: %d %+v, want 200 and []", code, none)
	}
}

func serveEqualsReport(t *testing.T, s *servedStack) {
	for _, window := range [][2]string{{"", ""}, {"2026-11-02", "2026-11-05"}, {"2026-11-03T06:00:00Z", "2026-11-03T18:00:00Z"}} {
		args := []string{"report", "--format", "json"}
		path := "/api/scorecard"
		if window[0] != "" {
			args = append(args, "--since", window[0], "--until", window[1])
			path += "?since=" + url.QueryEscape(window[0]) + "&until=" + url.QueryEscape(window[1])
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(s.mustRun(args...)), &rep); err != nil {
			t.Fatal(err)
		}
		var api any
		get(t, s.base, path, &api)
		if n, _ := at(api, "delay_notices", "notified").(float64); window[0] == "" && n == 0 {
			t.Errorf("the whole window's scorecard counts no delay notice told in time: %v", at(api, "delay_notices"))
		}
		if !reflect.DeepEqual(api, rep["scorecard"]) {
			t.Errorf("GET %s differs from baton report %s:\n%v\n%v", path, strings.Join(args[1:], " "), api, rep["scorecard"])
		}
	}
	var rep, api any
	if err := json.Unmarshal([]byte(s.mustRun("report", "wismo", "--month", "2026-11", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	get(t, s.base, "/api/wismo?month=2026-11", &api)
	if !reflect.DeepEqual(api, rep) || at(api, "tickets") == 0.0 {
		t.Errorf("GET /api/wismo?month=2026-11 differs from baton report wismo:\n%v\n%v", api, rep)
	}
}

// TestServeAccessFromTheCommandLine: `baton serve` refuses a non-loopback
// listener without a token before connecting to anything; with the token
// from the environment a wrong bearer gets 401, and the pages may be
// framed by the --zendesk-subdomain only.
func TestServeAccessFromTheCommandLine(t *testing.T) {
	cmd := exec.Command(batonBin, "serve", "--listen", "0.0.0.0:0", "--clickhouse-addr", "127.0.0.1:1")
	cmd.Env = append(cmd.Environ(), "BATON_SERVE_TOKEN=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs a token: set --token or BATON_SERVE_TOKEN") {
		t.Errorf("non-loopback without a token: %v\n%s", err, out)
	}

	c := synctest.Open(t, "serveaccess")
	if err := c.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd = exec.Command(batonBin, "serve", "--listen", addr, "--metrics-addr", "", "--zendesk-subdomain", "acme")
	cmd.Env = append(cmd.Environ(), "BATON_CLICKHOUSE_ADDR="+testenv.ClickHouseAddr(), "BATON_CLICKHOUSE_DATABASE="+c.Database(), "BATON_SERVE_TOKEN=s3cret")
	startServe(t, cmd)
	for bearer, want := range map[string]int{"": 401, "wrong": 401, "s3cret": 404} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/orders/ORD-1", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != want || !strings.HasSuffix(csp, "frame-ancestors https://acme.zendesk.com") {
			t.Errorf("bearer %q: %d (want %d), CSP %q", bearer, resp.StatusCode, want, csp)
		}
	}
}
