package unify

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/processors/synccheck"
)

// TestSimulatedRunChecksEveryViewer runs the 2,000-order simulation through
// the processor with its viewer checks, then advances the watermark past
// every retention so that every check closes, and requires: every viewer
// is checked, about as well as the simulator's viewers sync;
// every check closes exactly once; and exactly the LATE, MISSING and
// CONFLICT checks — plus IN_SYNC ones whose report reached baton after the
// watermark passed the deadline — have one failed sync each.
func TestSimulatedRunChecksEveryViewer(t *testing.T) {
	run := sharedRun(t)
	p, st := newProcessor(t), NewState()
	var checks, failed []synccheck.Record
	collect := func(out Output) {
		checks = append(checks, out.Checks...)
		failed = append(failed, out.Failed...)
	}
	for _, in := range run.inputs {
		collect(p.Process(st, in))
	}
	last := run.inputs[len(run.inputs)-1].Ingested
	collect(p.Advance(st, last.Add(DefaultIdleTimeout+DefaultRetention+48*time.Hour)))
	if st.Orders() != 0 {
		t.Fatalf("%d orders left after advancing past every timeout", st.Orders())
	}
	outcomes := map[string]map[string]int{}
	closed := map[string]string{}
	for _, c := range checks {
		id, viewer, outcome := c.Value["check_id"].(string), c.Value["viewer"].(string), c.Value["outcome"].(string)
		if prev, dup := closed[id]; dup {
			t.Fatalf("check %s closed twice (%s, then %s)", id, prev, outcome)
		}
		closed[id] = outcome
		if outcomes[viewer] == nil {
			outcomes[viewer] = map[string]int{}
		}
		outcomes[viewer][outcome]++
	}
	failedOnce := map[string]bool{}
	for _, f := range failed {
		id := f.Value["check_id"].(string)
		if failedOnce[id] {
			t.Fatalf("check %s failed twice", id)
		}
		failedOnce[id] = true
		switch outcome := closed[id]; outcome {
		case synccheck.Late, synccheck.Missing, synccheck.Conflict, synccheck.InSync:
		default:
			t.Errorf("failed sync for check %s, which closed %q", id, outcome)
		}
	}
	for id, outcome := range closed {
		if (outcome == synccheck.Late || outcome == synccheck.Missing || outcome == synccheck.Conflict) && !failedOnce[id] {
			t.Errorf("check %s closed %s without a failed sync", id, outcome)
		}
	}
	for _, viewer := range []string{"storefront", "helpdesk", "notifications"} {
		o := outcomes[viewer]
		total := o[synccheck.InSync] + o[synccheck.Late] + o[synccheck.Missing] + o[synccheck.Conflict]
		t.Logf("%s: %v", viewer, o)
		if total == 0 {
			t.Errorf("%s: no checks", viewer)
			continue
		}
		// The simulator's storefront and notifications lag seconds, with a
		// slow tail past the SLA; its help desk refreshes the order-status
		// field at ticket events only, minutes to hours late.
		acc := float64(o[synccheck.InSync]) / float64(total)
		if fast := viewer != "helpdesk"; fast && (acc < 0.8 || acc == 1) || !fast && acc > 0.5 {
			t.Errorf("%s: accuracy %.3f, not what the simulator's %s does", viewer, acc, viewer)
		}
	}
}

// TestHoldbackKeepsChecksOpenUntilTheHeldScanArrives: while a normalize
// partition holds a carrier scan (its holdback), a viewer showing that
// scan's status is neither called in conflict nor failed; the scan, once
// released, settles the check, and lifting the holdback lets what is due
// fall due.
func TestHoldbackKeepsChecksOpenUntilTheHeldScanArrives(t *testing.T) {
	p, err := New(Config{SyncChecks: true, MaxHoldback: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	var checks, failed []string
	collect := func(out Output) {
		for _, c := range out.Checks {
			checks = append(checks, fmt.Sprintf("%s %s %s", c.Value["viewer"], c.Value["expected_status"], c.Value["outcome"]))
		}
		for _, f := range out.Failed {
			failed = append(failed, fmt.Sprintf("%s %s %s", f.Value["viewer"], f.Value["expected_status"], f.Value["reason"]))
		}
	}
	steps := []step{
		ev("storefront", "PLACED", 0), ev("oms", "CONFIRMED", 10*time.Minute),
		ev("wms", "SHIPPED", h).parcel("s-1", "1Z"),
		ev("storefront", "SHIPPED", h+time.Minute).parcel("s-1", "1Z"),
		// The carrier's IN_TRANSIT at 2h is held upstream: the storefront's
		// copy of it arrives first, then hours of other orders' events.
		ev("storefront", "IN_TRANSIT", 2*h+time.Minute).parcel("s-1", "1Z"),
	}
	collect(p.Hold(st, 3, t0.Add(2*h)))
	for i, s := range steps {
		collect(p.Process(st, s.input("o-1", i)))
	}
	collect(p.Process(st, ev("oms", "CONFIRMED", 7*h).input("o-2", 100))) // the watermark moves on (within MaxHoldback)
	if len(failed) != 0 || slices.Contains(checks, "storefront SHIPPED CONFLICT") {
		t.Fatalf("judged while the scan is held: checks %v, failed %v", checks, failed)
	}
	released := ev("carrier", "IN_TRANSIT", 2*h).parcel("s-1", "1Z").arrives(7*h + time.Minute)
	collect(p.Process(st, released.input("o-1", 101)))
	collect(p.Hold(st, 3, time.Time{}))
	collect(p.Advance(st, t0.Add(12*h)))
	if want := "storefront IN_TRANSIT IN_SYNC"; !slices.Contains(checks, want) {
		t.Errorf("checks %v, want %q", checks, want)
	}
	for _, c := range checks {
		if strings.Contains(c, "CONFLICT") {
			t.Errorf("conflict %q: the truth covered the report in time", c)
		}
	}
	if len(failed) != 0 {
		t.Errorf("failed syncs %v", failed)
	}
	// The holdback is in the changelog: a restored state holds back too.
	held := p.Hold(NewState(), 3, t0.Add(2*h))
	st2 := NewState()
	for _, c := range append(p.Process(st2, ev("oms", "CONFIRMED", 7*h).input("o-2", 0)).Changes, held.Changes...) {
		if err := st2.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.checkClock(st2); got != t0.Add(2*h).UnixMilli() {
		t.Errorf("restored check clock %v, want the holdback t0+2h", time.UnixMilli(got).UTC())
	}
}
