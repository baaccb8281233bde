package unify

import (
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/wismo"
)

// track is one lifecycle: the order's own pre-fulfilment track or one
// shipment's. Times are Unix milliseconds of event time.
type track struct {
	status  st
	auth    sys    // the system whose event put the track in status
	reached uint32 // every status the track has been in (bit per st), for skipped
	since   int64  // event time of the event that moved the track into status
	clock   int64  // latest event time the track followed: older events are late
}

// shipment is one parcel of the order, outbound or a customer's return.
type shipment struct {
	id       string // "" until a system names it
	tracking string // "" until a system gives it
	track
	ret bool  // a customer's return parcel
	eta int64 // the carrier's estimated delivery; 0: none
}

// view is what one system last said about the order (latest by event time).
type view struct {
	system   sys
	status   st
	source   string // the source's own code (interned)
	occurred int64
	recorded int64
}

// order is one order's state. It is kept small: millions are held at once.
type order struct {
	truth      st
	truthAuth  sys
	reached    uint32 // every truth the order has had
	truthSince int64
	base       track // PLACED / ON_HOLD / CONFIRMED
	// Order-level facts, by event time (0: not stated).
	cancelled, returnReq, refunded int64
	views                          []view     // sorted by system
	ships                          []shipment // in order of appearance
	shipBy, deliverBy, promisedAt  int64
	transitions                    int32
	updated                        int64 // event time of the latest event that changed the order's view
	closed                         int64 // event time when the order closed; 0: open
	touched                        int64 // event time of its latest event, for the idle timeout
	seen                           []uint64
	checks                         synccheck.Order // the viewer checks (zero when no viewer has shown the order)
	delays                         delay.Order     // promises and delay notices (zero when delay detection is off)
	wismo                          wismo.Order     // help-desk tickets seen (zero when none or attribution is off)
	scheduled                      int64           // the due time of its entry on the timer heap (not stored: rebuilt on restore)
	// Event time (see eventtime.go): the events applied, in event-time
	// order; the latest due time of a timer fired; the horizon its timers
	// have fired up to; how many times it was recomputed for a late event.
	hist     []histEntry
	saved    int // history entries in the changelog (not stored: all, after a restore)
	fired    int64
	horizon  int64
	revision uint32
}

// decision is what an authoritative event does to a track.
type decision uint8

const (
	dSame       decision = iota // the track is already in that status: it follows the clock, nothing else
	dAbsorbed                   // an earlier stage's authority confirming what the track implies: ignored
	dAdvance                    // the track moves
	dRecovery                   // the track leaves a problem state for the main line
	dLate                       // older than the track's clock: recorded, the track does not move
	dRegression                 // the track's own authority contradicting itself backward: refused
)

// Transition kinds (order_transition.kind).
const (
	KindAdvance  = "advance"
	KindLate     = "late"
	KindRecovery = "recovery"
	KindReopened = "reopened"
)

// decide applies the track rules (see the package doc, "Tracks") to an
// authoritative event with status s from system y at event time t.
func (p *Processor) decide(tr *track, s st, y sys, t int64, ret bool) decision {
	c := tr.status
	switch {
	case c == 0:
		return dAdvance
	case s == c:
		return dSame
	}
	rs, rc := trackRank(s, ret), trackRank(c, ret)
	if t < tr.clock {
		if s.OnLine() && c.OnLine() && rs > rc {
			return dAdvance // an older report of further progress: progress does not un-happen
		}
		return dLate
	}
	switch {
	case rs > rc:
		if c.Problem() && s.Stage() {
			return dRecovery
		}
		return dAdvance
	case s.Problem():
		if terminal(c) {
			break
		}
		return dAdvance
	case c.Problem() && s.Stage() && rs >= p.floor[c].Rank():
		return dRecovery
	}
	if y == tr.auth {
		return dRegression
	}
	return dAbsorbed
}

// trackRank is the rank on a track: on a return parcel, DELIVERED (arrived
// back at the warehouse) comes after RETURN_IN_TRANSIT and before RETURNED.
func trackRank(s st, ret bool) int {
	if ret && s == sDelivered {
		return (sReturnInTransit.Rank() + sReturned.Rank()) / 2
	}
	return s.Rank()
}

// terminal statuses end an outbound parcel's main line: no problem state
// follows them.
func terminal(s st) bool { return s == sDelivered || s.ReturnBranch() }

// move puts tr in s on an event at t, reporting the main-line stages between
// the old and the new status the track never reached.
func (tr *track) move(s st, y sys, t int64, ret bool) (skipped []st) {
	if tr.status != 0 && s.Stage() && trackRank(s, ret) > trackRank(tr.status, ret) {
		skipped = skippedStages(tr.status.Rank(), s.Rank(), tr.reached)
	}
	tr.status, tr.auth, tr.since = s, y, t
	tr.reached |= s.Bit()
	tr.clock = max(tr.clock, t)
	return skipped
}

// skippedStages lists the main-line stages ranked strictly between from and
// to that are not in reached.
func skippedStages(from, to int, reached uint32) []st {
	var out []st
	for s := st(1); s <= lastSt; s++ {
		if s.Stage() && s.Rank() > from && s.Rank() < to && reached&s.Bit() == 0 {
			out = append(out, s)
		}
	}
	return out
}

// forReturn reads a carrier status on a return parcel: every scan on the
// way is RETURN_IN_TRANSIT (the source status keeps the detail), DELIVERED
// is the arrival back (ranked by trackRank), others are unchanged.
func forReturn(s st) st {
	switch s {
	case sShipped, sInTransit, sOutForDelivery, sDeliveryAttemptFailed, sAvailableForPickup, sException, sReturnToSender:
		return sReturnInTransit
	}
	return s
}

// locate finds the shipment an event names, by shipment ID, then tracking
// number; an event with neither names the order's unnamed shipment (a
// system that does not name parcels). It fills in the identifier the
// shipment lacked and merges two records of one parcel (one known by ID,
// one by tracking number) when an event names both. It returns -1 when no
// shipment matches.
func (o *order) locate(id, tracking string) (i int, changed bool) {
	byID, byTN := -1, -1
	for k := range o.ships {
		sh := &o.ships[k]
		if id != "" && sh.id == id {
			byID = k
		}
		if tracking != "" && sh.tracking == tracking {
			byTN = k
		}
		if id == "" && tracking == "" && sh.id == "" && sh.tracking == "" {
			return k, false
		}
	}
	switch {
	case byID >= 0 && byTN >= 0 && byID != byTN:
		o.merge(byID, byTN)
		if byTN < byID {
			byID--
		}
		return byID, true
	case byID >= 0:
		if tracking != "" && o.ships[byID].tracking == "" {
			o.ships[byID].tracking = tracking
			changed = true
		}
		return byID, changed
	case byTN >= 0:
		if id != "" && o.ships[byTN].id == "" {
			o.ships[byTN].id = id
			changed = true
		}
		return byTN, changed
	}
	return -1, false
}

// merge folds ships[from] (a parcel first seen by its tracking number) into
// ships[into] (the same parcel named by the WMS): the further status wins,
// the clocks and reached sets join, and from is removed.
func (o *order) merge(into, from int) {
	a, b := &o.ships[into], o.ships[from]
	if a.tracking == "" {
		a.tracking = b.tracking
	}
	ret := a.ret
	if a.status == 0 || (b.status != 0 && trackRank(b.status, ret) > trackRank(a.status, ret)) {
		a.status, a.auth, a.since = b.status, b.auth, b.since
	}
	a.reached |= b.reached
	a.clock = max(a.clock, b.clock)
	if b.eta != 0 {
		a.eta = b.eta
	}
	o.ships = append(o.ships[:from], o.ships[from+1:]...)
}

// expectMore reports whether the hint system's latest word is
// PARTIALLY_SHIPPED: more parcels are coming than the order knows.
func (o *order) expectMore(hint sys) bool {
	if hint == 0 {
		return false
	}
	for _, v := range o.views {
		if v.system == hint {
			return v.status == sPartiallyShipped
		}
	}
	return false
}

// derive computes the order's truth from its facts (see the package doc,
// "The order's truth").
func (p *Processor) derive(o *order) st {
	if o.refunded != 0 {
		return sRefunded
	}
	var nret, back, moving int
	for _, sh := range o.ships {
		if !sh.ret {
			continue
		}
		nret++
		switch sh.status {
		case sReturned:
			back++
		case sReturnInTransit, sDelivered:
			moving++
		}
	}
	if o.returnReq != 0 || nret > 0 {
		switch {
		case nret > 0 && back == nret:
			return sReturned
		case moving > 0:
			return sReturnInTransit
		case o.returnReq != 0:
			return sReturnRequested
		}
	}
	if o.cancelled != 0 {
		return sCancelled
	}
	if s := p.aggregate(o); s != 0 {
		return s
	}
	return o.base.status
}

// aggregate derives the order status from its outbound parcels; 0 when it
// has none.
func (p *Processor) aggregate(o *order) st {
	var n, delivered, returned, pre int
	var least st // the least advanced parcel still in the warehouse or on its way
	more := o.expectMore(p.auth.hint)
	for _, sh := range o.ships {
		if sh.ret || sh.status == 0 {
			continue
		}
		n++
		switch {
		case sh.status == sDelivered:
			delivered++
			continue
		case sh.status == sReturned:
			returned++
			continue
		case sh.status.PreShip():
			pre++
		}
		if least == 0 || lessAdvanced(sh.status, least) {
			least = sh.status
		}
	}
	switch {
	case n == 0:
		return 0
	case returned == n:
		return sReturned
	case delivered > 0 && delivered == n && !more:
		return sDelivered
	case delivered > 0:
		return sPartiallyDelivered
	case n-returned-pre > 0 && (pre > 0 || more):
		return sPartiallyShipped
	}
	return least
}

// lessAdvanced orders parcels for the order's status: lower rank first; at
// equal rank a problem state first, so the order shows it.
func lessAdvanced(a, b st) bool {
	if a.Rank() != b.Rank() {
		return a.Rank() < b.Rank()
	}
	if a.Problem() != b.Problem() {
		return a.Problem()
	}
	return a < b
}

// allDelivered reports whether the order has outbound parcels, each
// delivered (or sent back and checked in, with at least one delivered),
// and no more announced.
func (p *Processor) allDelivered(o *order) bool {
	delivered := false
	for i := range o.ships {
		sh := &o.ships[i]
		switch {
		case sh.ret:
		case sh.status == sDelivered:
			delivered = true
		case sh.status != sReturned:
			return false
		}
	}
	return delivered && !o.expectMore(p.auth.hint)
}

// inFlight reports whether an outbound parcel is with the carrier and not
// yet settled (delivered or back at the warehouse).
func inFlight(sh *shipment) bool {
	return !sh.ret && sh.status != 0 && !sh.status.PreShip() && sh.status != sDelivered && sh.status != sReturned
}

// isClosed reports whether the order reached an end (see the package doc,
// "Closing and eviction").
func (p *Processor) isClosed(o *order) bool {
	switch o.truth {
	case sRefunded, sReturned, sDelivered:
		return true
	case sPartiallyDelivered:
		if o.expectMore(p.auth.hint) {
			return false
		}
		for i := range o.ships {
			sh := &o.ships[i]
			if !sh.ret && sh.status != sDelivered && sh.status != sReturned {
				return false
			}
		}
		return true
	case sCancelled:
		for i := range o.ships {
			if inFlight(&o.ships[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// orderKind names an order-level move of the truth from one status to
// another; grew says the event gave the order a new outbound parcel or
// announced more (see the package doc, "Transition kinds").
func orderKind(from, to st, grew bool) string {
	if from == 0 || from == sCancelled || to == sCancelled {
		return KindAdvance
	}
	rt, rf := to.Rank(), from.Rank()
	switch {
	case rt > rf || (rt == rf && !to.Problem()):
		if from.Problem() && (to.Stage() || to.Aggregate()) {
			return KindRecovery
		}
		return KindAdvance
	case to.Problem():
		return KindAdvance
	case grew:
		return KindReopened
	case from.Problem():
		return KindRecovery
	}
	return KindAdvance
}
