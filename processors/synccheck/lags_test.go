package synccheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// summarizeLag renders a lag as
// "viewer EXPECTED [conflict] shown=S since=.. deadline=.. until=..",
// offsets from t0 ("-" for an Until of 0).
func summarizeLag(l Lag) string {
	off := func(ms int64) string { return (time.Duration(ms-t0) * time.Millisecond).String() }
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", l.Viewer, l.Expected)
	if l.Conflict {
		b.WriteString(" conflict")
	}
	shown := string(l.Shown)
	if shown == "" {
		shown = "-"
	}
	until := "-"
	if l.Until != 0 {
		until = off(l.Until)
	}
	fmt.Fprintf(&b, " shown=%s since=%s deadline=%s until=%s", shown, off(l.Since), off(l.Deadline), until)
	return b.String()
}

func summarizeLags(ls []Lag) []string {
	var out []string
	for _, l := range ls {
		out = append(out, summarizeLag(l))
	}
	return out
}

// TestLags: what Lags lists after each scenario — open checks and pending
// conflicts, then the failures remembered after they closed, with when
// the viewer showed the truth again.
func TestLags(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		lags  []string
	}{
		{
			name:  "nothing failed, nothing open",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 3*m), due(day)},
		},
		{
			name:  "an open check, within its SLA and past it",
			steps: []step{shows(sf, "CONFIRMED", 0), shows(hd, "CONFIRMED", 0), truthAt("SHIPPED", m), due(7 * m)},
			lags: []string{
				"storefront SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=-",
				"helpdesk SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=-",
			},
		},
		{
			name:  "a check closed IN_SYNC is no lag",
			steps: []step{shows(sf, "CONFIRMED", 0), shows(hd, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(hd, "SHIPPED", 2*m)},
			lags:  []string{"storefront SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=-"},
		},
		{
			name:  "closed LATE: until the catching-up report",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), due(7 * m), shows(sf, "SHIPPED", 10*m)},
			lags:  []string{"storefront SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=10m0s"},
		},
		{
			name: "closed LATE by a truth that reached baton after the viewer's copy",
			steps: []step{shows(sf, "PLACED", 0), shows(sf, "IN_TRANSIT", 20*m), shows(sf, "DELIVERED", day),
				truthAt("SHIPPED", m), due(2 * day)},
			lags: []string{"storefront SHIPPED shown=PLACED since=1m0s deadline=6m0s until=20m0s"},
		},
		{
			name:  "closed MISSING: not corrected",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), due(day + 7*m)},
			lags:  []string{"storefront SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=-"},
		},
		{
			name: "closed MISSING, then the viewer shows the expected status",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), due(day + 7*m),
				shows(sf, "CONFIRMED", day+8*m), shows(sf, "SHIPPED", day+10*m), shows(sf, "SHIPPED", day+20*m)},
			lags: []string{"storefront SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=24h10m0s"},
		},
		{
			name: "closed MISSING, then the viewer shows the truth of the moment",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", m), truthAt("EXCEPTION", 2*m), due(8 * m),
				truthAt("IN_TRANSIT", 9*m), due(day + 7*m + ms), shows(sf, "IN_TRANSIT", day+8*m)},
			lags: []string{
				"storefront EXCEPTION shown=SHIPPED since=2m0s deadline=7m0s until=24h8m0s",
				"storefront IN_TRANSIT shown=SHIPPED since=9m0s deadline=14m0s until=24h8m0s",
			},
		},
		{
			name: "closed MISSING, then the truth moves to what the viewer shows",
			steps: []step{truthAt("SHIPPED", 0), shows(sf, "SHIPPED", m), truthAt("EXCEPTION", 2*m), due(8 * m),
				shows(sf, "IN_TRANSIT", 9*m), due(day + 7*m + ms), truthAt("IN_TRANSIT", day+8*m)},
			lags: []string{"storefront EXCEPTION shown=IN_TRANSIT since=2m0s deadline=7m0s until=24h8m0s"},
		},
		{
			name: "a pending conflict",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				due(3 * m)},
			lags: []string{"storefront IN_TRANSIT conflict shown=DELIVERED since=2m0s deadline=7m0s until=-"},
		},
		{
			name: "a conflict confirmed, the viewer still showing it",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				due(7*m + ms), shows(sf, "DELIVERED", 10*m)},
			lags: []string{
				// Repeated after the confirmation: a new pending conflict.
				"storefront IN_TRANSIT conflict shown=DELIVERED since=10m0s deadline=15m0s until=-",
				"storefront IN_TRANSIT conflict shown=DELIVERED since=2m0s deadline=7m0s until=-",
			},
		},
		{
			name: "a conflict confirmed, then the viewer corrects itself",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				due(7*m + ms), shows(sf, "IN_TRANSIT", 20*m)},
			lags: []string{"storefront IN_TRANSIT conflict shown=DELIVERED since=2m0s deadline=7m0s until=20m0s"},
		},
		{
			name: "a conflict corrected after its deadline, confirmed later by the clock",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				shows(sf, "IN_TRANSIT", 9*m), due(10 * m)},
			lags: []string{"storefront IN_TRANSIT conflict shown=DELIVERED since=2m0s deadline=7m0s until=9m0s"},
		},
		{
			name: "a conflict confirmed by the truth catching up too late: until the truth's time",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				truthAt("DELIVERED", 9*m), due(day)},
			lags: []string{"storefront IN_TRANSIT conflict shown=DELIVERED since=2m0s deadline=7m0s until=9m0s"},
		},
		{
			name: "a conflict confirmed by the clock, then the truth catches up",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				due(8 * m), truthAt("DELIVERED", 30*m)},
			lags: []string{"storefront IN_TRANSIT conflict shown=DELIVERED since=2m0s deadline=7m0s until=30m0s"},
		},
		{
			name: "a conflict withdrawn is no lag",
			steps: []step{truthAt("IN_TRANSIT", 0), shows(sf, "IN_TRANSIT", m), shows(sf, "DELIVERED", 2*m),
				truthAt("DELIVERED", 4*m), due(day)},
		},
		{
			name: "a superseded check is no lag",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), truthAt("CANCELLED", 2*m),
				shows(sf, "CANCELLED", 3*m)},
		},
		{
			name: "at most four failures: the oldest is dropped",
			steps: []step{
				shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 10*m),
				truthAt("IN_TRANSIT", 11*m), shows(sf, "IN_TRANSIT", 20*m),
				truthAt("OUT_FOR_DELIVERY", 21*m), shows(sf, "OUT_FOR_DELIVERY", 30*m),
				truthAt("DELIVERY_ATTEMPT_FAILED", 31*m), shows(sf, "DELIVERY_ATTEMPT_FAILED", 40*m),
				truthAt("DELIVERED", 41*m), shows(sf, "DELIVERED", 50*m),
			},
			lags: []string{
				"storefront IN_TRANSIT shown=SHIPPED since=11m0s deadline=16m0s until=20m0s",
				"storefront OUT_FOR_DELIVERY shown=IN_TRANSIT since=21m0s deadline=26m0s until=30m0s",
				"storefront DELIVERY_ATTEMPT_FAILED shown=OUT_FOR_DELIVERY since=31m0s deadline=36m0s until=40m0s",
				"storefront DELIVERED shown=DELIVERY_ATTEMPT_FAILED since=41m0s deadline=46m0s until=50m0s",
			},
		},
		{
			name: "open checks first, then failures",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 10*m),
				shows(notif, "", 10*m), truthAt("DELIVERED", 11*m), due(20 * m)},
			lags: []string{
				"notifications SHIPPED shown=- since=10m0s deadline=15m0s until=-", // its first sight
				"storefront DELIVERED shown=SHIPPED since=11m0s deadline=16m0s until=-",
				"notifications DELIVERED shown=- since=11m0s deadline=16m0s until=-",
				"storefront SHIPPED shown=CONFIRMED since=1m0s deadline=6m0s until=10m0s",
			},
		},
		{
			name:  "eviction forgets everything",
			steps: []step{shows(sf, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 10*m), evict(11 * m)},
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
				lags := h.o.Lags()
				sameList(t, "lags", summarizeLags(lags), tc.lags)
				checkLagIDs(t, h, lags)
			})
		}
	}
}

// checkLagIDs: every lag's CheckID is a check the harness saw fail or
// still open (not closed IN_SYNC or SUPERSEDED); a closed one failed.
func checkLagIDs(t *testing.T, h *harness, lags []Lag) {
	t.Helper()
	for _, l := range lags {
		if len(l.CheckID) != 16 {
			t.Fatalf("check ID %q", l.CheckID)
		}
		outcome, closed := h.closed[l.CheckID]
		if closed && (!h.failIDs[l.CheckID] || (outcome != Late && outcome != Missing && outcome != Conflict)) {
			t.Fatalf("lag %s: check closed %s, failed %v", summarizeLag(l), outcome, h.failIDs[l.CheckID])
		}
		if (!closed && l.Until != 0) || (outcome == Late && l.Until == 0) {
			t.Fatalf("lag %s of a check closed %q", summarizeLag(l), outcome)
		}
		if l.Deadline < l.Since || (l.Until != 0 && l.Until < l.Since) {
			t.Fatalf("lag %s: times out of order", summarizeLag(l))
		}
	}
}

// TestAppendLagsAllocations: an order with no lag allocates nothing;
// with lags, the check IDs are one allocation when dst has room.
func TestAppendLagsAllocations(t *testing.T) {
	var o Order
	if n := testing.AllocsPerRun(100, func() { o.AppendLags(nil) }); n != 0 {
		t.Errorf("empty order: %v allocations", n)
	}
	h := newHarness(t, nil)
	h.run(shows(sf, "CONFIRMED", 0), shows(hd, "CONFIRMED", 0), truthAt("SHIPPED", m), shows(sf, "SHIPPED", 10*m))
	dst := make([]Lag, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst = h.o.AppendLags(dst[:0]) }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
	if len(dst) != 2 || dst[0].CheckID == dst[1].CheckID {
		t.Errorf("lags %v", summarizeLags(dst))
	}
	if got := idString(h.o.checks[0].id); dst[0].CheckID != got {
		t.Errorf("check ID %s, want %s", dst[0].CheckID, got)
	}
}
