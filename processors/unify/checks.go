package unify

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// Viewer checks (package synccheck) run inside the unify stage: they need
// the order's truth at every moment, in the same order the truth is
// derived, and their state and timers then live in the order's changelog
// record, restored and replayed with it. See the package doc, "Viewer
// checks".

// system is y as a schemas.System, for the checker.
func (y sys) system() schemas.System { return schemas.System(y.String()) }

// checkTruth tells the checker the order's truth moved (the order-level
// transition just emitted, with ID transitionID).
func (a *applier) checkTruth(to st, transitionID string) {
	a.truthMove = transitionID
	c := a.p.checker
	if c == nil {
		return
	}
	t := synccheck.Truth{Status: canonical.Status(to.String()), At: a.ev.occurred, Authority: a.ev.system.system(), TransitionID: transitionID}
	if a.ev.system.String() == string(schemas.Carrier) {
		t.Carrier = a.ev.carrier
	}
	a.addChecks(c.Truth(&a.o.checks, a.ev.orderID, t, a.st.now))
}

// checkView tells the checker what a viewer's event shows (any event of a
// viewer system counts, even one without a status: it is the viewer's
// first sight of the order). The viewer's time is the event's recorded_at.
func (a *applier) checkView() {
	c := a.p.checker
	if c == nil {
		return
	}
	o, ev := a.o, a.ev
	var status canonical.Status
	if ev.status != 0 {
		status = canonical.Status(ev.status.String())
	}
	var truth synccheck.Truth
	if o.truth != 0 {
		truth = synccheck.Truth{Status: canonical.Status(o.truth.String()), At: o.truthSince, Authority: o.truthAuth.system()}
	}
	r := synccheck.Report{Viewer: ev.system.system(), Status: status, At: ev.recorded}
	if ev.shipmentID != "" || ev.tracking != "" {
		r.ParcelOfMany = o.outbound() > 1 || o.expectMore(a.p.auth.hint)
	}
	a.addChecks(c.View(&o.checks, ev.orderID, r, truth, a.st.now))
}

func (a *applier) addChecks(c synccheck.Output) { addChecks(a.out, c) }

func addChecks(out *Output, c synccheck.Output) {
	out.Checks = append(out.Checks, c.Checks...)
	out.Failed = append(out.Failed, c.Failed...)
}

// schedule puts the order's next due time (of its viewer checks or its
// delay notices, whichever is first) on the partition's timer heap when it
// changed. An entry whose time is no longer the order's scheduled time is
// stale and skipped when popped (lazy deletion).
func (p *Processor) schedule(st *State, id string, o *order) {
	next := p.nextTimer(o)
	if next == o.scheduled {
		return
	}
	o.scheduled = next
	if next != 0 {
		st.timers.Push(next, id)
	}
}

// passed reports whether the clock w passed the due time t (0: none), as
// the timer heap pops them.
func passed(t, w int64) bool { return t != 0 && t < w }

// nextTimer is the due time of the order's next timer to fire: nextDue,
// unless that falls after the end of the order's life (0: none).
func (p *Processor) nextTimer(o *order) int64 {
	if next := p.nextDue(o); next < p.horizonCap(o) {
		return next
	}
	return 0
}

// nextDue is the order's next due time: the first of its viewer checks'
// and its delay notices' (0: none).
func (p *Processor) nextDue(o *order) int64 {
	var next int64
	if p.checker != nil {
		next = p.checker.NextDue(&o.checks)
	}
	if p.detector != nil {
		if d := p.detector.NextDue(&o.delays); d != 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next
}

// fireDue runs the checks and delay timers of every order whose next due
// time the check clock passed, in (due time, order ID) order, and returns
// touched with those orders added (their changelog records must be
// rewritten).
func (p *Processor) fireDue(st *State, out *Output, touched []string) []string {
	if p.checker == nil && p.detector == nil {
		return touched
	}
	st.due = st.timers.PopDue(st.watermark, st.due[:0])
	for _, e := range st.due {
		o := st.orders[e.Key]
		if o == nil || o.scheduled != e.Due {
			continue // evicted, or rescheduled since: a stale entry
		}
		o.scheduled = 0 // popped: schedule pushes the next one
		if p.droppable(st, o) {
			// It fires what is due by the end of its life, and no
			// timer after (see evictOrder).
			p.evictOrder(st, e.Key, o, out)
			continue
		}
		m := out.mark()
		p.fireOrder(st, e.Key, o, min(st.watermark, p.horizonCap(o)), out)
		out.stampSince(m, o.revision)
		p.schedule(st, e.Key, o)
		touched = appendOnce(touched, e.Key)
	}
	return touched
}

// evictChecks closes an evicted order's open checks (MISSING) and delay
// notices (NOT_NOTIFIED when untold).
func (p *Processor) evictChecks(st *State, id string, o *order, out *Output) {
	if p.checker != nil {
		addChecks(out, p.checker.Evict(&o.checks, id, st.now))
	}
	if p.detector != nil {
		addNotices(out, p.detector.Evict(&o.delays, id, st.now))
	}
}

func appendOnce(ids []string, id string) []string {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

// outbound counts the order's outbound parcels (not customers' returns).
func (o *order) outbound() int {
	n := 0
	for i := range o.ships {
		if !o.ships[i].ret {
			n++
		}
	}
	return n
}
