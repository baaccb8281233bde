package delay

import (
	"fmt"
	"testing"
	"time"
)

// summarizeUntold renders an Untold as
// "reason known=OFF notify_by=OFF told=OFF" (offsets from t0, "-" for a
// ToldAt of 0).
func summarizeUntold(u Untold) string {
	o := func(ms int64) string {
		if ms == 0 {
			return "-"
		}
		return (time.Duration(ms-t0) * time.Millisecond).String()
	}
	return fmt.Sprintf("%s known=%s notify_by=%s told=%s", u.Reason, o(u.KnownAt), o(u.NotifyBy), o(u.ToldAt))
}

func summarizeUntolds(us []Untold) []string {
	var out []string
	for _, u := range us {
		out = append(out, summarizeUntold(u))
	}
	return out
}

// TestUntold: which notices Untold lists — open (untold), NOT_NOTIFIED,
// told late — and which not: told in time, withdrawn, cancelled.
func TestUntold(t *testing.T) {
	order := placed(day, 5*day)
	tests := []struct {
		name   string
		steps  []step
		untold []string
	}{
		{
			name:  "no notice",
			steps: []step{order, truth("SHIPPED", 23*h), due(3 * day)},
		},
		{
			name:   "open, within notify_by and past it",
			steps:  []step{order, due(day + ms), due(day + 10*m)},
			untold: []string{"ship_by_missed known=24h0m0s notify_by=24h5m0s told=-"},
		},
		{
			name:   "NOT_NOTIFIED",
			steps:  []step{order, truth("CONFIRMED", m), due(day + ms), due(2*day + 6*m)},
			untold: []string{"ship_by_missed known=24h0m0s notify_by=24h5m0s told=-"},
		},
		{
			name:   "told late",
			steps:  []step{order, due(day + ms), due(day + 10*m), delayMsg(day+20*m, 2*day)},
			untold: []string{"ship_by_missed known=24h0m0s notify_by=24h5m0s told=24h20m0s"},
		},
		{
			name:  "told in time: not owed",
			steps: []step{order, due(day + ms), delayMsg(day+5*m, 2*day)},
		},
		{
			name:  "withdrawn: the delay proved false",
			steps: []step{order, due(day + m), truth("SHIPPED", 23*h).arrives(day + 2*m), due(3 * day)},
		},
		{
			name:  "cancelled before notify_by: the cancellation answered it",
			steps: []step{order, due(day + ms), truth("CANCELLED", day+m)},
		},
		{
			name:   "cancelled after it failed: NOT_NOTIFIED",
			steps:  []step{order, due(day + ms), due(day + 10*m), truth("CANCELLED", day+20*m)},
			untold: []string{"ship_by_missed known=24h0m0s notify_by=24h5m0s told=-"},
		},
		{
			name: "a carrier exception, untold, beside a ship-by told",
			steps: []step{order, due(day + ms), delayMsg(day+2*m, 2*day), truth("SHIPPED", 2*day),
				scan("EXCEPTION", 3*day, 0).recorded(m), due(4 * day)},
			untold: []string{"exception known=72h1m0s notify_by=72h6m0s told=-"},
		},
		{
			name:  "eviction forgets everything",
			steps: []step{order, due(day + ms), due(day + 10*m), evict(day + 11*m)},
		},
	}
	for _, tc := range tests {
		for _, roundTrip := range []bool{false, true} {
			name := tc.name
			if roundTrip {
				name += " (encoded between calls)"
			}
			t.Run(name, func(t *testing.T) {
				hs := newHarness(t, Config{})
				hs.roundTrip = roundTrip
				hs.run(tc.steps...)
				untold := hs.o.Untold()
				sameList(t, "untold", summarizeUntolds(untold), tc.untold)
				checkUntold(t, hs, untold)
			})
		}
	}
}

// crowdedOrder is an order re-promised twenty-one times, each ship-by missed
// and noticed (a renewal of the one before), every third notice told late
// and the others never: more notices than an order holds, so the oldest
// closed ones were dropped.
func crowdedOrder(t testing.TB) *harness {
	hs := newHarness(t, Config{})
	hs.run(placed(day, 0))
	for i := range 21 {
		shipBy := time.Duration(3*i+1) * day
		if i > 0 {
			hs.run(promised(shipBy-2*day, shipBy, 0))
		}
		hs.run(due(shipBy + ms))
		if i%3 == 2 {
			hs.run(due(shipBy+10*m), delayMsg(shipBy+20*m, 0))
		}
		hs.run(due(shipBy + 25*h))
	}
	if len(hs.o.notices) != maxNotices || len(hs.o.dropped) != maxDropped {
		t.Fatalf("crowded order holds %d notices, %d dropped", len(hs.o.notices), len(hs.o.dropped))
	}
	return hs
}

// TestUntoldRemembersDroppedNotices: notices dropped from a crowded order
// are still listed, the latest four, oldest first.
func TestUntoldRemembersDroppedNotices(t *testing.T) {
	hs := crowdedOrder(t)
	untold := hs.o.Untold()
	if len(untold) != maxNotices+maxDropped {
		t.Fatalf("%d untold: %q", len(untold), summarizeUntolds(untold))
	}
	// 21 notices: the first was dropped and forgotten; the next four
	// dropped and remembered.
	for i, u := range untold {
		want := hs.order[i+1]
		if u.NoticeID != want {
			t.Errorf("untold %d is %s, want notice %d (%s)", i, u.NoticeID, i+2, want)
		}
	}
	checkUntold(t, hs, untold)
	if got := summarizeUntold(untold[1]); got != "ship_by_missed known=168h0m0s notify_by=168h5m0s told=168h20m0s" {
		t.Errorf("the third notice, told late: %s", got)
	}
}

// checkUntold: every untold notice is one the harness saw, owed (open,
// NOT_NOTIFIED or LATE) with the same times, and every owed notice of the
// order's current life is listed unless the order dropped it.
func checkUntold(t *testing.T, hs *harness, untold []Untold) {
	t.Helper()
	listed := map[string]bool{}
	for _, u := range untold {
		v, ok := hs.latest[u.NoticeID]
		if !ok || listed[u.NoticeID] {
			t.Fatalf("untold %s: unknown or twice", u.NoticeID)
		}
		listed[u.NoticeID] = true
		outcome, _ := v["outcome"].(string)
		if v["state"] != StateOpen && outcome != NotNotified && outcome != Late {
			t.Fatalf("untold %s is %v %v", u.NoticeID, v["state"], outcome)
		}
		told := int64(0)
		if tm, ok := v["notified_at"].(time.Time); ok {
			told = tm.UnixMilli()
		}
		if u.Reason != v["reason"] || u.KnownAt != v["known_at"].(time.Time).UnixMilli() ||
			u.NotifyBy != v["notify_by"].(time.Time).UnixMilli() || u.ToldAt != told {
			t.Fatalf("untold %s differs from its record %v", summarizeUntold(u), v)
		}
	}
	if len(hs.order) > maxNotices {
		return // some were dropped
	}
	for _, id := range hs.order {
		v := hs.latest[id]
		outcome, _ := v["outcome"].(string)
		if owed := v["state"] == StateOpen || outcome == NotNotified || outcome == Late; owed != listed[id] {
			t.Fatalf("notice %s (%v %v): listed %v", id, v["state"], outcome, listed[id])
		}
	}
}

// TestAppendUntoldAllocations: an order with nothing owed allocates
// nothing; with notices owed, the IDs are one allocation when dst has
// room.
func TestAppendUntoldAllocations(t *testing.T) {
	hs := newHarness(t, Config{})
	hs.run(placed(day, 5*day), due(day+ms), delayMsg(day+2*m, 0))
	if n := testing.AllocsPerRun(100, func() { hs.o.AppendUntold(nil) }); n != 0 {
		t.Errorf("nothing owed: %v allocations", n)
	}
	crowded := crowdedOrder(t)
	dst := make([]Untold, 0, 32)
	if n := testing.AllocsPerRun(100, func() { dst = crowded.o.AppendUntold(dst[:0]) }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}
