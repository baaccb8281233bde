package simulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/statusmap"
)

// compareWismo fails unless the WISMO tickets unify emitted are the ground
// truth's: each ticket the traces expect, with its month, cause and link,
// and no other; the months' rows exactly; and the orders placed per month
// as the report counts them (the sentinels included).
func (c *tally) compareWismo(t *testing.T, what string, gt *simulator.GroundTruth, traces []simulator.OrderTrace) {
	c.count(t)
	t.Helper()
	type key struct{ month, cause, link string }
	want := map[string]simulator.TicketTruth{}
	order := map[string]string{}
	for _, tr := range traces {
		for _, tk := range tr.Tickets {
			want[tk.TicketID] = tk
			order[tk.TicketID] = tr.OrderID
		}
	}
	var wrong []string
	confusion := map[string]int{} // "expected → got"
	for id, w := range want {
		g, ok := c.tickets[id]
		wm := w.At.UTC().Format("2006-01")
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("ticket %s of %s at %v: expected %s %q, not emitted", id, order[id], w.At, w.Cause, w.Link))
			confusion[w.Cause+" → (none)"]++
		case g.cause != w.Cause || g.link != w.Link || g.month != wm || !g.at.Equal(w.At):
			wrong = append(wrong, fmt.Sprintf("ticket %s of %s at %v: expected %s %q, unify %s %q at %v", id, order[id], w.At, w.Cause, w.Link,
				g.cause, g.link, g.at))
			confusion[w.Cause+" → "+g.cause]++
		}
	}
	for id, g := range c.tickets {
		if _, ok := want[id]; !ok {
			wrong = append(wrong, fmt.Sprintf("ticket %s of %s at %v: unify %s %q, the ground truth has no such WISMO ticket", id, g.order, g.at, g.cause, g.link))
		}
	}
	slices.Sort(wrong)
	for i, w := range wrong {
		if i == 20 {
			t.Errorf("%s: … %d more", what, len(wrong)-i)
			break
		}
		t.Errorf("%s: %s", what, w)
	}
	if len(confusion) > 0 {
		t.Errorf("%s: %d of %d tickets disagree: %v", what, len(wrong), len(want), confusion)
	}
	got := map[key]int{}
	for _, g := range c.tickets {
		got[key{g.month, g.cause, g.link}]++
	}
	exp := map[key]int{}
	orders := map[string]int{}
	for _, m := range gt.Wismo.Months {
		orders[m.Month] = m.Orders
		for _, r := range m.Rows {
			exp[key{m.Month, r.Cause, r.Link}] = r.Tickets
		}
	}
	for k, n := range exp {
		if got[k] != n {
			t.Errorf("%s: %s %s %q: %d tickets, ground truth %d", what, k.month, k.cause, k.link, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := exp[k]; !ok {
			t.Errorf("%s: %s %s %q: %d tickets, ground truth none", what, k.month, k.cause, k.link, n)
		}
	}
	placed := map[string]int{}
	for _, at := range c.placed {
		placed[at.UTC().Format("2006-01")]++
	}
	for m, n := range orders {
		if placed[m] != n {
			t.Errorf("%s: %s: %d orders placed, ground truth %d", what, m, placed[m], n)
		}
	}
	for m, n := range placed {
		if _, ok := orders[m]; !ok {
			t.Errorf("%s: %s: %d orders placed, not a month of the ground truth", what, m, n)
		}
	}
	t.Logf("%s: %d WISMO tickets, %d as the ground truth expects", what, len(c.tickets), len(want)-len(wrong))
}

// TestGroundTruthWismoCausesArePresent: the shared run and a run with the
// end-to-end test's uniform faults each have tens of WISMO tickets of
// every cause, every link of a viewer out of sync names a viewer tickets
// are attributed to, and the sections add up: the months' rows to the
// totals by cause, the months' orders to the orders and the sentinels.
func TestGroundTruthWismoCausesArePresent(t *testing.T) {
	for _, c := range []gtCase{gtCases[0], {3000, 5, gtUniformRates}} {
		t.Run(fmt.Sprint(c, ",", c.spec), func(t *testing.T) {
			gt := gtRunOf(t, c).stats.GroundTruth
			w := gt.Wismo
			if got := strings.Join(w.AttributeViewers, ","); got != "storefront,notifications" {
				t.Errorf("attribute_viewers %s", got)
			}
			byCause := map[string]int{}
			total := 0
			for _, bc := range w.ByCause {
				byCause[bc.Cause] = bc.Tickets
				total += bc.Tickets
				if bc.Tickets < 20 {
					t.Errorf("%s: %d tickets, want tens", bc.Cause, bc.Tickets)
				}
			}
			if want := simulator.WismoCauses(); !slices.Equal(want, wismo.Causes()) || len(w.ByCause) != len(want) {
				t.Errorf("causes %v, the pipeline's %v, by cause %v", want, wismo.Causes(), w.ByCause)
			}
			if total != w.Tickets {
				t.Errorf("%d tickets by cause, %d in all", total, w.Tickets)
			}
			rows := map[string]int{}
			orders, sentinels, tickets := 0, 0, 0
			var prev string
			for _, m := range w.Months {
				if prev != "" && m.Month <= prev {
					t.Errorf("month %s after %s", m.Month, prev)
				}
				prev = m.Month
				orders += m.Orders
				sentinels += m.SentinelOrders
				n := 0
				for _, r := range m.Rows {
					rows[r.Cause] += r.Tickets
					n += r.Tickets
					switch r.Cause {
					case wismo.CauseViewerOutOfSync:
						if !strings.HasSuffix(r.Link, "->storefront") && !strings.HasSuffix(r.Link, "->notifications") {
							t.Errorf("%s: link %q", m.Month, r.Link)
						}
					case wismo.CauseDelayNotNotified:
						if r.Link != wismo.LinkDelayNotice {
							t.Errorf("%s: delay not notified, link %q", m.Month, r.Link)
						}
					default:
						if r.Link != "" {
							t.Errorf("%s: %s with link %q", m.Month, r.Cause, r.Link)
						}
					}
				}
				if n != m.Tickets {
					t.Errorf("%s: rows sum to %d, tickets %d", m.Month, n, m.Tickets)
				}
				nc := 0
				for i, bc := range m.ByCause {
					nc += bc.Tickets
					if bc.Cause != wismo.Causes()[i] {
						t.Errorf("%s: by cause %v", m.Month, m.ByCause)
					}
				}
				if nc != n || len(m.ByCause) != len(wismo.Causes()) {
					t.Errorf("%s: by cause %v, %d tickets", m.Month, m.ByCause, n)
				}
				tickets += n
			}
			for cause, n := range byCause {
				if rows[cause] != n {
					t.Errorf("%s: %d tickets in the months' rows, %d by cause", cause, rows[cause], n)
				}
			}
			if orders != gt.Orders+gt.SentinelOrders || sentinels != gt.SentinelOrders || tickets != w.Tickets {
				t.Errorf("months: %d orders (%d sentinels), %d tickets; ground truth %d orders, %d sentinels, %d tickets",
					orders, sentinels, tickets, gt.Orders, gt.SentinelOrders, w.Tickets)
			}
			injected := 0
			for _, a := range w.Aims {
				if a.Drawn != a.Injected+a.Skipped || a.Drawn > a.Eligible || a.Injected == 0 {
					t.Errorf("aim %+v", a)
				}
				injected += a.Injected
				t.Logf("aim %-15s eligible %4d drawn %3d injected %3d", a.Aim, a.Eligible, a.Drawn, a.Injected)
			}
			if injected != w.Tickets {
				t.Errorf("%d tickets injected, %d attributed", injected, w.Tickets)
			}
			t.Logf("WISMO tickets by cause: %v", w.ByCause)
		})
	}
}

// TestGroundTruthWismoTicketsAreTheInjectedOnes: in the ground-truth
// profile exactly the injected tickets are WISMO (the embedded rules
// classify their one event, and no event of the other tickets), each has a
// single event with no order status shown, and each is in a trace.
func TestGroundTruthWismoTicketsAreTheInjectedOnes(t *testing.T) {
	r := gtRun(t)
	rules, err := wismo.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	expected := map[string]bool{}
	for _, tr := range r.traces {
		for _, tk := range tr.Tickets {
			expected[tk.TicketID] = true
		}
	}
	events := map[string]int{}
	for _, e := range r.events {
		if e.System != schemas.Helpdesk {
			continue
		}
		tk, err := wismo.TicketFromPlain(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		_, classified := rules.Classify(tk.Tags, tk.Subject, tk.Description)
		if classified != expected[tk.ID] {
			t.Errorf("ticket %s (tags %v, subject %q): classified %v, injected %v", tk.ID, tk.Tags, tk.Subject, classified, expected[tk.ID])
		}
		if expected[tk.ID] {
			events[tk.ID]++
			if e.Value["order_status_shown"] != nil || e.Value["order_id"] == nil {
				t.Errorf("ticket %s: shows %v for %v", tk.ID, e.Value["order_status_shown"], e.Value["order_id"])
			}
		}
	}
	for id := range expected {
		if events[id] == 0 {
			t.Errorf("ticket %s: expected, never emitted", id)
		}
	}
	if len(expected) != r.stats.GroundTruth.Wismo.Tickets || r.stats.Cases.WismoTickets != len(expected) {
		t.Errorf("%d tickets in the traces, %d in the ground truth, %d in the stats", len(expected), r.stats.GroundTruth.Wismo.Tickets,
			r.stats.Cases.WismoTickets)
	}
}

// TestGroundTruthWismoSpansMonths: a run started near the end of a month
// places orders in two; the ground truth's orders per month are the
// orders whose first PLACED event falls in it, as the report counts them,
// and its tickets are counted in the months of their ticket_at.
func TestGroundTruthWismoSpansMonths(t *testing.T) {
	cfg := gtConfig(t, 2000, 8, gtUniformRates)
	cfg.Start = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var traces []simulator.OrderTrace
	cfg.ViewerFaults.Trace = func(tr simulator.OrderTrace) { traces = append(traces, tr) }
	evs, st := run(t, cfg)
	maps, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	placed := map[string]time.Time{}
	for _, e := range evs {
		res, err := maps.Resolve(e.System, e.Value)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := e.Value["order_id"].(string)
		if !res.HasStatus || res.Status != canonical.Placed || id == "" {
			continue
		}
		if at := e.Value["occurred_at"].(time.Time); placed[id].IsZero() || at.Before(placed[id]) {
			placed[id] = at
		}
	}
	orders := map[string]int{}
	for _, at := range placed {
		orders[at.Format("2006-01")]++
	}
	tickets := map[string]int{}
	for _, tr := range traces {
		for _, tk := range tr.Tickets {
			tickets[tk.At.Format("2006-01")]++
		}
	}
	w := st.GroundTruth.Wismo
	if len(w.Months) < 2 || w.Months[0].Month != "2026-11" || w.Months[1].Month != "2026-12" {
		t.Fatalf("months %+v", w.Months)
	}
	for _, m := range w.Months {
		if m.Orders != orders[m.Month] || m.Tickets != tickets[m.Month] {
			t.Errorf("%s: ground truth %d orders, %d tickets; the events place %d, the traces ask %d", m.Month, m.Orders, m.Tickets,
				orders[m.Month], tickets[m.Month])
		}
	}
	for i, m := range w.Months[:2] {
		if m.Orders < 300 || m.Tickets < 1+9*i {
			t.Errorf("%s: %d orders, %d tickets: too few for a trend", m.Month, m.Orders, m.Tickets)
		}
		t.Logf("%s: %d orders (%d sentinels), %d tickets %v", m.Month, m.Orders, m.SentinelOrders, m.Tickets, m.Rows)
	}
}

// TestGroundTruthWismoIsDeterministic: the same config gives the same WISMO
// section, byte for byte; a ground truth without faults has no ticket of a
// viewer out of sync aimed at a fault.
func TestGroundTruthWismoIsDeterministic(t *testing.T) {
	section := func(spec string, seed int64) ([]byte, simulator.WismoTruth) {
		_, st := run(t, gtConfig(t, 600, seed, spec))
		b, err := json.Marshal(st.GroundTruth.Wismo)
		if err != nil {
			t.Fatal(err)
		}
		return b, st.GroundTruth.Wismo
	}
	a, w := section(gtUniformRates, 6)
	b, _ := section(gtUniformRates, 6)
	if !bytes.Equal(a, b) || w.Tickets == 0 {
		t.Errorf("the same config gave %s and %s", a, b)
	}
	_, none := section("none", 6)
	for _, aim := range none.Aims {
		if aim.Aim == "viewer_lag" && aim.Eligible != 0 {
			t.Errorf("without faults: %+v", aim)
		}
	}
}
