package synccheck

import (
	"math"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// Checker applies the viewer rules to orders. It holds no per-order state
// (that is the caller's Order) and is safe for concurrent use on different
// orders.
type Checker struct {
	v *Viewers
}

// New returns a Checker for the viewer rules v; nil means the embedded
// defaults.
func New(v *Viewers) *Checker {
	if v == nil {
		d, err := DefaultViewers()
		if err != nil {
			panic(err) // the embedded file is tested
		}
		v = d
	}
	return &Checker{v: v}
}

// Viewers returns the rules the Checker applies.
func (c *Checker) Viewers() *Viewers { return c.v }

// Truth is the order-level truth: a change of it (Checker.Truth) or the
// current one (Checker.View).
type Truth struct {
	Status canonical.Status // "" or unknown: no truth yet
	// At is when the truth reached Status: the authoritative event's time,
	// Unix ms.
	At        int64
	Authority schemas.System
	Carrier   string // the carrier of the scan that set the truth; "" when unknown
	// TransitionID is the order_transition that moved the truth, the
	// check_id's anchor; "" makes the check_id hash At instead.
	TransitionID string
}

// Report is one viewer event for the order.
type Report struct {
	Viewer schemas.System
	// Status is the canonical status the viewer shows; "" when the event
	// carried none (it still counts as first sight). A status that is not
	// canonical counts as none.
	Status canonical.Status
	// At is the viewer's own time for the event (when it recorded or showed
	// it), Unix ms.
	At int64
	// ParcelOfMany: the report is about one parcel of an order with
	// several. The order's truth is its least advanced parcel's (or an
	// aggregate), so a parcel may rightly be ahead of it: the report closes
	// the checks it reflects but is not judged for conflicts (and does not
	// withdraw a pending one).
	ParcelOfMany bool
}

// Output is everything one call caused.
type Output struct {
	// Checks are sync_check values: checks that closed, in the order they
	// closed.
	Checks []Record
	// Failed are failed_sync values, one per check over its life.
	Failed []Record
	// NextDue is the order's next due time after the call: call Due once
	// the watermark passes it (w > NextDue); 0 when nothing is due.
	NextDue int64
}

// Truth records that the order's truth moved to t.Status at t.At. For each
// viewer already seen and expected to reflect the status it opens a check
// (closed at once when the viewer already shows it); it closes SUPERSEDED
// the open checks the new truth no longer implies whose deadline t.At has
// not passed and which have not failed, and settles the pending conflicts
// the new truth now reflects. w is the partition watermark.
func (c *Checker) Truth(o *Order, orderID string, t Truth, w int64) Output {
	e := emitter{orderID: orderID, o: o}
	x := stOf(t.Status)
	if x != 0 && len(o.views) > 0 {
		o.filter(func(k *check) bool {
			v := &o.views[k.view]
			if k.by == byReport {
				if !covers(x, k.shown) {
					return true // still contradicted
				}
				if t.At > k.deadline {
					// The truth caught up too late: the contradiction
					// lasted until then, unless the viewer corrected itself
					// first.
					until := v.uncontradicted(k.status, k.t)
					if until == 0 || t.At < until {
						until = t.At
					}
					e.conflict(v, k, w, until)
				}
				return false // otherwise withdrawn: the viewer was racing the truth
			}
			if !k.failed && t.At <= k.deadline && !reflects(x, k.status) {
				e.check(v, k, Superseded, 0, 0, w)
				return false
			}
			return true
		})
		auth := sysByName[t.Authority]
		for vi := range o.views {
			v := &o.views[vi]
			conf := c.v.conf(v.sys)
			if conf.expects&x.Bit() == 0 || o.hasOpen(vi, x) {
				continue
			}
			k := check{status: x, auth: auth, carrier: t.Carrier, view: uint8(vi), by: byTruth, t: t.At}
			if t.At < v.first {
				// The truth moved before the viewer first showed the order:
				// the viewer is checked from its first sight — once per
				// status: the truth returning to x (its events reaching
				// baton late) is the same check, which has its record.
				if v.sighted&x.Bit() != 0 {
					continue
				}
				v.sighted |= x.Bit()
				k.by, k.t = byFirstSight, v.first
			}
			k.deadline = satAdd(k.t, conf.sla)
			k.id = checkID(orderID, v.sys, x, k.by, t.TransitionID, k.t)
			if s, at, ok := v.reflecting(x, k.t); ok {
				e.reflected(v, &k, s, at, w)
				continue
			}
			o.checks = append(o.checks, k)
		}
		o.truthCorrects(x, t.At)
	}
	e.NextDue = c.NextDue(o)
	return e.Output
}

// View records a viewer event: the viewer showed r.Status at r.At while
// the order's truth is t. It marks the viewer's first sight (opening a
// first_sight check when the viewer starts out behind the truth), closes
// the viewer's open checks r.Status reflects, and opens, replaces,
// withdraws or confirms the viewer's pending conflict. Reports from
// systems that are not configured viewers are ignored. w is the partition
// watermark.
func (c *Checker) View(o *Order, orderID string, r Report, t Truth, w int64) Output {
	y := sysByName[r.Viewer]
	conf := c.v.conf(y)
	if !conf.on {
		return Output{NextDue: c.NextDue(o)}
	}
	e := emitter{orderID: orderID, o: o}
	s, x := stOf(r.Status), stOf(t.Status)
	vi := o.viewIndex(y)
	if vi < 0 {
		vi = len(o.views)
		o.views = append(o.views, view{sys: y, first: r.At})
		if x != 0 && conf.expects&x.Bit() != 0 && !reflects(s, x) {
			k := check{status: x, auth: sysByName[t.Authority], carrier: t.Carrier, view: uint8(vi), by: byFirstSight, t: r.At}
			if r.At < t.At {
				// The viewer was seen before the truth moved: an ordinary
				// truth check, which the Truth call could not open.
				k.by, k.t = byTruth, t.At
			}
			k.deadline = satAdd(k.t, conf.sla)
			k.id = checkID(orderID, y, x, k.by, t.TransitionID, k.t)
			if k.by == byFirstSight {
				o.views[vi].sighted |= x.Bit()
			}
			o.checks = append(o.checks, k)
		}
	}
	v := &o.views[vi]
	// Only the viewer's latest report (by its own time) says what it shows
	// now; an older one that arrives late still closes checks.
	latest := s != 0 && (v.shown == 0 || r.At >= v.shownAt)
	judged := latest && !r.ParcelOfMany // a report judged for conflicts
	conflicting := judged && x != 0 && !covers(x, s)
	pending := false
	o.filter(func(k *check) bool {
		if int(k.view) != vi {
			return true
		}
		if k.by == byReport {
			if !judged || x == 0 {
				return true
			}
			switch {
			case r.At > k.deadline:
				// Past the deadline only the clock (Due) or the truth
				// (Truth) settles the conflict: the truth may have covered
				// the status in time and still be on its way (a held scan).
				pending = pending || conflicting
				return true
			case conflicting:
				pending = true // a newer conflicting report: same conflict, new shown status
				k.shown = s
				return true
			}
			return false // withdrawn: the viewer corrected itself in time
		}
		if reflects(s, k.status) {
			e.reflected(v, k, s, r.At, w)
			return false
		}
		return true
	})
	if conflicting && !pending {
		k := check{status: x, auth: sysByName[t.Authority], carrier: t.Carrier, view: uint8(vi), by: byReport, shown: s,
			t: r.At, deadline: satAdd(r.At, conf.sla)}
		k.id = checkID(orderID, y, x, byReport, "", r.At)
		if !o.confirmed(k.id) {
			// (A report at the very time of a conflict confirmed already —
			// another event of the viewer, arriving after the confirmation
			// — is that conflict, whose record was emitted.)
			o.checks = append(o.checks, k)
		}
	}
	if s != 0 {
		v.remember(s, r.At)
		o.reportCorrects(vi, s, r.At, x, judged)
	}
	e.NextDue = c.NextDue(o)
	return e.Output
}

// Due settles what the watermark w has passed: every open check whose
// deadline is before w and that has not failed yet emits its one
// FailedSync (sla_breached) and stays open; every open check whose
// deadline plus missing_after is before w closes MISSING; every pending
// conflict whose deadline is before w is confirmed (a CONFLICT check and a
// FailedSync conflict). Calling it again at the same or an earlier
// watermark emits nothing.
func (c *Checker) Due(o *Order, orderID string, w int64) Output {
	e := emitter{orderID: orderID, o: o}
	c.due(o, &e, w)
	e.NextDue = c.NextDue(o)
	return e.Output
}

func (c *Checker) due(o *Order, e *emitter, w int64) {
	o.filter(func(k *check) bool {
		v := &o.views[k.view]
		if k.by == byReport {
			if k.deadline < w {
				e.conflict(v, k, w, v.uncontradicted(k.status, k.t))
				return false
			}
			return true
		}
		if !k.failed && k.deadline < w {
			e.failed(v, k, ReasonSLABreached, w)
		}
		if satAdd(k.deadline, c.v.missingAfter) < w {
			e.check(v, k, Missing, 0, 0, w)
			e.remember(k, failMissing, v.shown, 0)
			return false
		}
		return true
	})
}

// Evict settles the order for good before the caller drops it: first what
// Due(w) would, then every check still open closes MISSING (emitting its
// FailedSync first if it never failed, so every MISSING check has one) and
// pending conflicts not yet due are dropped. The order is left empty.
func (c *Checker) Evict(o *Order, orderID string, w int64) Output {
	e := emitter{orderID: orderID} // no o: nothing is remembered of an evicted order
	c.due(o, &e, w)
	for i := range o.checks {
		k := &o.checks[i]
		if k.by == byReport {
			continue
		}
		v := &o.views[k.view]
		if !k.failed {
			e.failed(v, k, ReasonSLABreached, w)
		}
		e.check(v, k, Missing, 0, 0, w)
	}
	*o = Order{}
	return e.Output
}

// NextDue is the earliest time at which Due has work for the order: the
// smallest deadline of a check not yet failed or of a pending conflict,
// and deadline plus missing_after of a failed check. 0 when nothing is
// open. Call Due once the watermark passes it.
func (c *Checker) NextDue(o *Order) int64 {
	var next int64
	for i := range o.checks {
		k := &o.checks[i]
		d := k.deadline
		if k.by != byReport && k.failed {
			d = satAdd(d, c.v.missingAfter)
		}
		if next == 0 || d < next {
			next = d
		}
	}
	return next
}

// satAdd adds without overflowing (a corrupt or absurd input must not wrap
// a deadline into the past).
func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func (o *Order) viewIndex(y sys) int {
	for i := range o.views {
		if o.views[i].sys == y {
			return i
		}
	}
	return -1
}

// hasOpen reports whether view vi has an open check (not a conflict) for x.
func (o *Order) hasOpen(vi int, x st) bool {
	for i := range o.checks {
		k := &o.checks[i]
		if int(k.view) == vi && k.status == x && k.by != byReport {
			return true
		}
	}
	return false
}

// filter keeps the checks keep returns true for, in order, calling it once
// per check in order (it may emit and update the check).
func (o *Order) filter(keep func(k *check) bool) {
	n := 0
	for i := range o.checks {
		if keep(&o.checks[i]) {
			o.checks[n] = o.checks[i]
			n++
		}
	}
	if n == 0 {
		o.checks = nil // most orders spend most of their life with no open check
		return
	}
	clear(o.checks[n:])
	o.checks = o.checks[:n]
}

// emitter builds the records of one call.
type emitter struct {
	orderID string
	o       *Order // where failures are remembered; nil: nowhere (Evict)
	Output
}

func (e *emitter) check(v *view, k *check, outcome string, shown st, shownAt, w int64) {
	e.Checks = append(e.Checks, syncCheck(e.orderID, v, k, outcome, shown, shownAt, w))
}

func (e *emitter) failed(v *view, k *check, reason string, w int64) {
	k.failed = true
	e.Failed = append(e.Failed, failedSync(e.orderID, v, k, reason, w))
}

// conflict confirms a pending conflict; its shown status is the viewer's
// latest. until is when the contradiction ended (0: it has not).
func (e *emitter) conflict(v *view, k *check, w, until int64) {
	e.failed(v, k, ReasonConflict, w)
	e.check(v, k, Conflict, k.shown, k.t, w)
	e.remember(k, failConflict, k.shown, until)
}

// remember keeps a check that failed and closed for Lags.
func (e *emitter) remember(k *check, outcome failOutcome, shown st, until int64) {
	if e.o == nil {
		return
	}
	f := failure{id: k.id, t: k.t, deadline: k.deadline, until: until, status: k.status, shown: shown, auth: k.auth,
		view: k.view, outcome: outcome}
	o := e.o
	switch {
	case o.failures == nil:
		o.failures = make([]failure, 0, maxFailures)
	case len(o.failures) == maxFailures:
		o.failures = append(o.failures[:0], o.failures[1:]...)
	}
	o.failures = append(o.failures, f)
}

// reflected closes k: the viewer showed s, which reflects it, at r. A LATE
// check that never failed emits its FailedSync first: every LATE check has
// one, whether or not Due ran between the deadline and the report.
func (e *emitter) reflected(v *view, k *check, s st, r, w int64) {
	if r <= k.deadline {
		e.check(v, k, InSync, s, r, w)
		return
	}
	if !k.failed {
		e.failed(v, k, ReasonSLABreached, w)
	}
	e.check(v, k, Late, s, r, w)
	e.remember(k, failLate, v.before(r), r)
}
