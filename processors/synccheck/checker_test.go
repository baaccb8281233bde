package synccheck

import (
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

const (
	ms  = time.Millisecond
	day = 24 * time.Hour
)

// TestOutcomes runs one scenario per outcome and rule. Expected checks read
// "viewer EXPECTED opened_by OUTCOME [SHOWN latency] @truth_at", failed
// syncs "viewer EXPECTED reason shown=SHOWN" (offsets from t0; the default
// rules: SLA 5m, missing_after 24h).
func TestOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		checks []string
		failed []string
	}{
		{
			name:   "in sync: shown before the deadline",
			steps:  []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 3*m), due(day)},
			checks: []string{"storefront SHIPPED truth IN_SYNC SHIPPED 2m0s @1m0s"},
		},
		{
			name:   "in sync at the deadline exactly",
			steps:  []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 6*m)},
			checks: []string{"storefront SHIPPED truth IN_SYNC SHIPPED 5m0s @1m0s"},
		},
		{
			name: "in sync: shown before the truth, latency 0",
			steps: []step{truthAt("CONFIRMED", 0), shows(sf, "CONFIRMED", m), truthAt("SHIPPED", 2*m),
				shows(sf, "IN_TRANSIT", 3*m), truthAt("IN_TRANSIT", 4*m), due(day)},
			checks: []string{
				"storefront SHIPPED truth IN_SYNC IN_TRANSIT 1m0s @2m0s",
				"storefront IN_TRANSIT truth IN_SYNC IN_TRANSIT 0s @4m0s",
			},
		},
		{
			name:   "late, after Due reported the breach",
			steps:  []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), due(7 * m), shows(sf, "SHIPPED", 10*m), due(day)},
			checks: []string{"storefront SHIPPED truth LATE SHIPPED 9m0s @1m0s"},
			failed: []string{"storefront SHIPPED sla_breached shown=CONFIRMED"},
		},
		{
			name:   "late, Due never called: the failed sync comes with the close",
			steps:  []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 10*m)},
			checks: []string{"storefront SHIPPED truth LATE SHIPPED 9m0s @1m0s"},
			failed: []string{"storefront SHIPPED sla_breached shown=CONFIRMED"},
		},
		{
			name: "missing after missing_after (deadline < w, strictly)",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), due(6 * m), due(6*m + ms),
				due(day + 6*m), due(day + 6*m + ms)},
			checks: []string{"storefront SHIPPED truth MISSING @1m0s"},
			failed: []string{"storefront SHIPPED sla_breached shown=CONFIRMED"},
		},
		{
			name:  "missing by eviction, before the deadline",
			steps: []step{shows(sf, "CONFIRMED", 0), shows(hd, "", 0), truthAt("SHIPPED", m), evict(2 * m), due(2 * day)},
			checks: []string{
				"storefront SHIPPED truth MISSING @1m0s",
				"helpdesk SHIPPED truth MISSING @1m0s",
			},
			failed: []string{
				"storefront SHIPPED sla_breached shown=CONFIRMED",
				"helpdesk SHIPPED sla_breached shown=-",
			},
		},
		{
			name: "conflict: ahead of the truth",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				due(7 * m), due(7*m + ms), due(day)},
			checks: []string{"storefront IN_TRANSIT report CONFLICT DELIVERED @2m0s"},
			failed: []string{"storefront IN_TRANSIT conflict shown=DELIVERED"},
		},
		{
			name: "conflict: another branch, and the check it fails",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "CANCELLED", 2*m), due(10 * m),
				shows(sf, "SHIPPED", 20*m)},
			checks: []string{
				"storefront SHIPPED report CONFLICT CANCELLED @2m0s",
				"storefront SHIPPED truth LATE SHIPPED 19m0s @1m0s",
			},
			failed: []string{
				"storefront SHIPPED sla_breached shown=CANCELLED",
				"storefront SHIPPED conflict shown=CANCELLED",
			},
		},
		{
			name: "a truth processed after the viewer's copies is matched with the report that showed it first",
			steps: []step{shows(sf, "PLACED", 0), shows(sf, "SHIPPED", 2*m), shows(sf, "IN_TRANSIT", 10*m),
				truthAt("SHIPPED", m), due(day)},
			checks: []string{"storefront SHIPPED truth IN_SYNC SHIPPED 1m0s @1m0s"},
		},
		{
			name: "a late truth the viewer showed before it happened: latency 0",
			steps: []step{shows(sf, "PLACED", 0), shows(sf, "SHIPPED", m), shows(sf, "IN_TRANSIT", 10*m),
				truthAt("SHIPPED", 2*m), due(day)},
			checks: []string{"storefront SHIPPED truth IN_SYNC SHIPPED 0s @2m0s"},
		},
		{
			name: "a late truth the viewer showed only after its deadline",
			steps: []step{shows(sf, "PLACED", 0), shows(sf, "IN_TRANSIT", 20*m), shows(sf, "DELIVERED", day),
				truthAt("SHIPPED", m), due(2 * day)},
			checks: []string{"storefront SHIPPED truth LATE IN_TRANSIT 19m0s @1m0s"},
			failed: []string{"storefront SHIPPED sla_breached shown=DELIVERED"}, // what it showed when baton learned
		},
		{
			name: "no conflict: a viewer that has not heard of the exception is behind, not contradicting",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), truthAt("EXCEPTION", 2*m),
				shows(sf, "IN_TRANSIT", 3*m), shows(sf, "EXCEPTION", 4*m), due(day)},
			checks: []string{"storefront EXCEPTION truth IN_SYNC EXCEPTION 2m0s @2m0s"},
		},
		{
			name:  "no conflict: PLACED while the order is on hold",
			steps: []step{shows(sf, "PLACED", 0), truthAt("ON_HOLD", m), shows(sf, "PLACED", 2*m), due(day)},
		},
		{
			name: "no conflict: a viewer behind a cancellation",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("CANCELLED", m), shows(sf, "CONFIRMED", 2*m),
				shows(sf, "CANCELLED", 3*m), due(day)},
			checks: []string{"storefront CANCELLED truth IN_SYNC CANCELLED 2m0s @1m0s"},
		},
		{
			name: "conflict withdrawn: the truth catches up within the SLA",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				truthAt("DELIVERED", 4*m), due(day)},
			checks: []string{"storefront DELIVERED truth IN_SYNC DELIVERED 0s @4m0s"},
		},
		{
			name: "conflict confirmed: the truth catches up after the deadline",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				truthAt("DELIVERED", 9*m), due(day)},
			checks: []string{
				"storefront IN_TRANSIT report CONFLICT DELIVERED @2m0s",
				"storefront DELIVERED truth IN_SYNC DELIVERED 0s @9m0s",
			},
			failed: []string{"storefront IN_TRANSIT conflict shown=DELIVERED"},
		},
		{
			name: "conflict withdrawn: the viewer corrects itself",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				shows(sf, "IN_TRANSIT", 4*m), due(day)},
		},
		{
			name: "conflict: a newer conflicting report keeps t",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				shows(sf, "OUT_FOR_DELIVERY", 4*m), due(7*m + ms)},
			checks: []string{"storefront IN_TRANSIT report CONFLICT OUT_FOR_DELIVERY @2m0s"},
			failed: []string{"storefront IN_TRANSIT conflict shown=OUT_FOR_DELIVERY"},
		},
		{
			name: "conflict: repeated after the deadline it is the same conflict, settled by the clock, not by the report",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "DELIVERED", 2*m), shows(sf, "DELIVERED", 9*m),
				due(7 * m), due(14*m + ms)},
			checks: []string{"storefront IN_TRANSIT report CONFLICT DELIVERED @2m0s"},
			failed: []string{"storefront IN_TRANSIT conflict shown=DELIVERED"},
		},
		{
			name: "conflict: withdrawn by a truth that covered it in time, though it reached baton after a later report",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", m), shows(sf, "IN_TRANSIT", 2*m), shows(sf, "IN_TRANSIT", 20*m),
				truthAt("IN_TRANSIT", 90*time.Second), due(day)},
			checks: []string{"storefront IN_TRANSIT truth IN_SYNC IN_TRANSIT 30s @1m30s"},
		},
		{
			// Another event of the viewer with the time of the confirmed
			// conflicting report (delivered out of order) used to open the
			// same conflict (same check_id) again and confirm it twice.
			name: "conflict: a report at the time of a confirmed conflict is that conflict",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m), due(8 * m),
				shows(sf, "DELIVERED", 2*m).arrives(9 * m), due(day)},
			checks: []string{"storefront IN_TRANSIT report CONFLICT DELIVERED @2m0s"},
			failed: []string{"storefront IN_TRANSIT conflict shown=DELIVERED"},
		},
		{
			name: "conflict: a stale report (older than the viewer's latest) is no conflict",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", 5*m),
				shows(sf, "DELIVERED", 2*m).arrives(6 * m), due(day)},
		},
		{
			name: "conflict dropped at eviction before its deadline",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				evict(3 * m), due(day)},
		},
		{
			name: "superseded: the truth recovers from EXCEPTION before the deadline",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", m), truthAt("EXCEPTION", 2*m),
				truthAt("IN_TRANSIT", 4*m), shows(sf, "IN_TRANSIT", 5*m), due(2 * day)},
			checks: []string{
				"storefront EXCEPTION truth SUPERSEDED @2m0s",
				"storefront IN_TRANSIT truth IN_SYNC IN_TRANSIT 1m0s @4m0s",
			},
		},
		{
			name: "past the deadline a check stays open (failed) and goes MISSING",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", m), truthAt("EXCEPTION", 2*m), due(8 * m),
				truthAt("IN_TRANSIT", 9*m), shows(sf, "IN_TRANSIT", 10*m), due(day + 7*m + ms)},
			checks: []string{
				"storefront IN_TRANSIT truth IN_SYNC IN_TRANSIT 1m0s @9m0s",
				"storefront EXCEPTION truth MISSING @2m0s",
			},
			failed: []string{"storefront EXCEPTION sla_breached shown=SHIPPED"},
		},
		{
			name: "past the deadline by the truth's time, Due not yet called: stays open",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", m), truthAt("EXCEPTION", 2*m),
				truthAt("IN_TRANSIT", 9*m), shows(sf, "IN_TRANSIT", 10*m), evict(11 * m)},
			checks: []string{
				"storefront IN_TRANSIT truth IN_SYNC IN_TRANSIT 1m0s @9m0s",
				"storefront EXCEPTION truth MISSING @2m0s",
			},
			failed: []string{"storefront EXCEPTION sla_breached shown=IN_TRANSIT"},
		},
		{
			name: "superseded: SHIPPED then CANCELLED",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), truthAt("CANCELLED", 2*m),
				shows(sf, "CANCELLED", 3*m)},
			checks: []string{
				"storefront SHIPPED truth SUPERSEDED @1m0s",
				"storefront CANCELLED truth IN_SYNC CANCELLED 1m0s @2m0s",
			},
		},
		{
			name: "implied, not superseded: SHIPPED then IN_TRANSIT, one report closes both",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), truthAt("IN_TRANSIT", 2*m),
				shows(sf, "IN_TRANSIT", 3*m), due(2 * day)},
			checks: []string{
				"storefront SHIPPED truth IN_SYNC IN_TRANSIT 2m0s @1m0s",
				"storefront IN_TRANSIT truth IN_SYNC IN_TRANSIT 1m0s @2m0s",
			},
		},
		{
			name:   "first sight behind the truth",
			steps:  []step{truthAt("SHIPPED", 0), shows(sf, "CONFIRMED", 10*m), shows(sf, "SHIPPED", 12*m)},
			checks: []string{"storefront SHIPPED first_sight IN_SYNC SHIPPED 2m0s @10m0s"},
		},
		{
			name:   "first sight without a status",
			steps:  []step{truthAt("SHIPPED", 0), shows(hd, "", 10*m), due(16 * m), shows(hd, "SHIPPED", 20*m)},
			checks: []string{"helpdesk SHIPPED first_sight LATE SHIPPED 10m0s @10m0s"},
			failed: []string{"helpdesk SHIPPED sla_breached shown=-"},
		},
		{
			name:  "first sight in sync: no check",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", 10*m), due(2 * day), evict(3 * day)},
		},
		{
			name: "first sight timestamped before the truth moved: a truth check",
			steps: []step{truthAt("SHIPPED", 10*m), shows(sf, "CONFIRMED", 5*m).arrives(11 * m),
				shows(sf, "SHIPPED", 12*m)},
			checks: []string{"storefront SHIPPED truth IN_SYNC SHIPPED 2m0s @10m0s"},
		},
		{
			name: "truth timestamped before the first sight: a first_sight check",
			steps: []step{shows(sf, "CONFIRMED", 10*m), truthAt("SHIPPED", 5*m).arrives(11 * m),
				shows(sf, "SHIPPED", 12*m)},
			checks: []string{"storefront SHIPPED first_sight IN_SYNC SHIPPED 2m0s @10m0s"},
		},
		{
			// The double close found in a 20,000-order end-to-end run: the
			// help desk's first sight is checked against SHIPPED; the
			// carrier's scans, held until their tracking number was
			// linked, then move the truth to EXCEPTION and back to SHIPPED,
			// both timed before that first sight. The same first_sight
			// check (same check_id) used to open and close again, with
			// identical content.
			name: "first sight checked once per status: the truth returning to it opens no second check",
			steps: []step{shows(hd, "SHIPPED", 10*m), truthAt("SHIPPED", m).arrives(11 * m),
				truthAt("EXCEPTION", 2*m).arrives(11 * m), truthAt("SHIPPED", 3*m).arrives(11 * m), due(2 * day)},
			checks: []string{
				"helpdesk SHIPPED first_sight IN_SYNC SHIPPED 0s @10m0s",
				"helpdesk EXCEPTION first_sight SUPERSEDED @10m0s",
			},
		},
		{
			name: "first sight checked once per status: also when the first sight opened it",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(hd, "CONFIRMED", 10*m), shows(hd, "IN_TRANSIT", 11*m),
				truthAt("EXCEPTION", 5*m).arrives(12 * m), truthAt("IN_TRANSIT", 6*m).arrives(12 * m), due(2 * day)},
			checks: []string{
				"helpdesk IN_TRANSIT first_sight IN_SYNC IN_TRANSIT 1m0s @10m0s",
				"helpdesk EXCEPTION first_sight SUPERSEDED @10m0s",
			},
		},
		{
			name: "first sight: another status still opens its own check",
			steps: []step{shows(hd, "CONFIRMED", 10*m), truthAt("SHIPPED", m).arrives(11 * m),
				truthAt("IN_TRANSIT", 2*m).arrives(11 * m), shows(hd, "IN_TRANSIT", 12*m), due(2 * day)},
			checks: []string{
				"helpdesk SHIPPED first_sight IN_SYNC IN_TRANSIT 2m0s @10m0s",
				"helpdesk IN_TRANSIT first_sight IN_SYNC IN_TRANSIT 2m0s @10m0s",
			},
		},
		{
			name: "viewer not yet seen: no checks",
			steps: []step{truthAt("CONFIRMED", 0), truthAt("SHIPPED", m), truthAt("DELIVERED", 2*m), due(2 * day),
				evict(3 * day)},
		},
		{
			name: "statuses not in the viewer's list: no checks",
			steps: []step{truthAt("PLACED", 0), shows(sf, "PLACED", m), shows(hd, "PLACED", m), truthAt("RELEASED", 2*m),
				truthAt("PICKED", 3*m), truthAt("PACKED", 4*m), due(2 * day), evict(3 * day)},
		},
		{
			name: "notifications: only its statuses",
			steps: []step{shows(notif, "PLACED", 0), truthAt("CONFIRMED", m), truthAt("SHIPPED", 2*m),
				truthAt("IN_TRANSIT", 3*m), shows(notif, "SHIPPED", 4*m), truthAt("OUT_FOR_DELIVERY", 5*m),
				shows(notif, "OUT_FOR_DELIVERY", 6*m), due(2 * day)},
			checks: []string{
				"notifications SHIPPED truth IN_SYNC SHIPPED 2m0s @2m0s",
				"notifications OUT_FOR_DELIVERY truth IN_SYNC OUT_FOR_DELIVERY 1m0s @5m0s",
			},
		},
		{
			name:  "not a viewer: ignored",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(schemas.Carrier, "DELIVERED", m), due(2 * day)},
		},
		{
			name: "viewers checked independently",
			steps: []step{shows(sf, "CONFIRMED", 0), shows(hd, "CONFIRMED", 0), truthAt("SHIPPED", m),
				shows(hd, "SHIPPED", 2*m), due(6*m + ms), shows(sf, "SHIPPED", 8*m)},
			checks: []string{
				"helpdesk SHIPPED truth IN_SYNC SHIPPED 1m0s @1m0s",
				"storefront SHIPPED truth LATE SHIPPED 7m0s @1m0s",
			},
			failed: []string{"storefront SHIPPED sla_breached shown=CONFIRMED"},
		},
	}
	for _, tc := range tests {
		for _, roundTrip := range []bool{false, true} {
			name := tc.name
			if roundTrip {
				name += " (encoded between calls)"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, nil)
				h.roundTrip = roundTrip
				h.run(tc.steps...)
				sameList(t, "checks", h.checks, tc.checks)
				sameList(t, "failed syncs", h.failed, tc.failed)
			})
		}
	}
}

// TestOneFailedSyncPerCheck calls Due at every minute for two days, and
// again at watermarks that go back: a check fails once.
func TestOneFailedSyncPerCheck(t *testing.T) {
	h := newHarness(t, nil)
	h.run(shows(sf, "CONFIRMED", 0), shows(hd, "CONFIRMED", 0), shows(notif, "", 0), truthAt("SHIPPED", m),
		shows(sf, "CANCELLED", 2*m))
	for w := 2 * m; w < 2*day; w += m {
		h.run(due(w), due(w-30*m), due(w))
	}
	sameList(t, "failed syncs", h.failed, []string{
		"storefront SHIPPED sla_breached shown=CANCELLED",
		"helpdesk SHIPPED sla_breached shown=CONFIRMED",
		"notifications SHIPPED sla_breached shown=-",
		"storefront SHIPPED conflict shown=CANCELLED",
	})
	sameList(t, "checks", h.checks, []string{
		"storefront SHIPPED report CONFLICT CANCELLED @2m0s",
		"storefront SHIPPED truth MISSING @1m0s",
		"helpdesk SHIPPED truth MISSING @1m0s",
		"notifications SHIPPED truth MISSING @1m0s",
	})
	if !h.o.Empty() && h.o.OpenChecks() != 0 {
		t.Errorf("%d checks still open", h.o.OpenChecks())
	}
}

func TestNextDue(t *testing.T) {
	h := newHarness(t, nil)
	c := h.c
	if got := c.NextDue(&h.o); got != 0 {
		t.Fatalf("empty order due at %d", got)
	}
	h.run(shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m))
	if got := c.NextDue(&h.o); got != at(6*m) {
		t.Errorf("NextDue %d, want the deadline %d", got, at(6*m))
	}
	h.run(shows(hd, "SHIPPED", 2*m), shows(hd, "DELIVERED", 3*m)) // a conflict due at 8m
	if got := c.Due(&h.o, h.id, at(6*m)); got.NextDue != at(6*m) || len(got.Failed) != 0 {
		t.Errorf("Due at the deadline itself: %+v", got)
	}
	out := c.Due(&h.o, h.id, at(7*m))
	h.collect(out)
	if out.NextDue != at(8*m) {
		t.Errorf("after the breach NextDue %d, want the conflict's deadline %d", out.NextDue, at(8*m))
	}
	out = c.Due(&h.o, h.id, at(9*m))
	h.collect(out)
	if want := at(6*m + day); out.NextDue != want {
		t.Errorf("after the conflict NextDue %d, want deadline+missing_after %d", out.NextDue, want)
	}
	out = c.Due(&h.o, h.id, at(6*m+day)+1)
	h.collect(out)
	if out.NextDue != 0 || !h.o.Empty() && h.o.OpenChecks() != 0 {
		t.Errorf("all closed, NextDue %d", out.NextDue)
	}
}

// TestCheckIDs: the ID is the same on a replay, distinct per check, and
// anchored on the transition ID.
func TestCheckIDs(t *testing.T) {
	o := Order{}
	c := New(nil)
	c.View(&o, "o", Report{Viewer: sf, Status: "CONFIRMED", At: 1}, Truth{}, 1)
	c.View(&o, "o", Report{Viewer: hd, Status: "CONFIRMED", At: 1}, Truth{}, 1)
	out := c.Evict(&o, "o", 10)
	if len(out.Checks) != 0 {
		t.Fatal("checks without a truth")
	}
	ids := func(tid string, at int64) []string {
		o := Order{}
		c.View(&o, "o", Report{Viewer: sf, Status: "CONFIRMED", At: 1}, Truth{}, 1)
		c.View(&o, "o", Report{Viewer: hd, Status: "CONFIRMED", At: 1}, Truth{}, 1)
		c.Truth(&o, "o", Truth{Status: "SHIPPED", At: at, Authority: schemas.WMS, TransitionID: tid}, at)
		var ids []string
		for _, r := range c.Evict(&o, "o", at+1).Checks {
			ids = append(ids, r.Value["check_id"].(string))
		}
		return ids
	}
	a, b := ids("tr-1", 100), ids("tr-1", 200)
	if len(a) != 2 || a[0] == a[1] || a[0] != b[0] || a[1] != b[1] || len(a[0]) != 16 {
		t.Errorf("ids %q and %q: want two distinct 16-digit IDs, the same for the same transition", a, b)
	}
	if c := ids("tr-2", 100); c[0] == a[0] {
		t.Error("another transition, the same ID")
	}
	if x, y := ids("", 100), ids("", 200); x[0] == y[0] {
		t.Error("without a transition ID, truth_at must tell checks apart")
	}
}

// TestOrderStaysSmall: the zero Order allocates nothing and calls on an
// order with nothing to do allocate nothing.
func TestOrderStaysSmall(t *testing.T) {
	c := New(nil)
	var o Order
	tr := Truth{Status: "SHIPPED", At: 5, Authority: schemas.WMS, TransitionID: "x"}
	if n := testing.AllocsPerRun(100, func() {
		c.Truth(&o, "o", tr, 10)
		c.Due(&o, "o", 10)
		c.View(&o, "o", Report{Viewer: schemas.Carrier, Status: "SHIPPED", At: 5}, tr, 10)
	}); n != 0 {
		t.Errorf("%v allocations on an order with no viewer", n)
	}
	if b := o.AppendBinary(nil); len(b) != 1 {
		t.Errorf("empty order encodes as %d bytes", len(b))
	}
	c.View(&o, "o", Report{Viewer: sf, Status: "SHIPPED", At: 5}, tr, 10)
	c.View(&o, "o", Report{Viewer: hd, Status: "SHIPPED", At: 5}, tr, 10)
	if n := testing.AllocsPerRun(100, func() {
		c.View(&o, "o", Report{Viewer: sf, Status: "SHIPPED", At: 6}, tr, 10)
		c.Due(&o, "o", 1000)
	}); n != 0 {
		t.Errorf("%v allocations for a report that changes nothing", n)
	}
}
