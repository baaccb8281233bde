package unify

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"slices"
)

// applier applies one new (not duplicate) event to its order.
type applier struct {
	p     *Processor
	st    *State
	o     *order
	ev    *event
	out   *Output
	dirty bool // something order_state shows changed
	grew  bool // the order gained an outbound parcel, or more were announced
	// truthMove is the ID of the order transition this event caused, if
	// it moved the order's truth.
	truthMove string
}

func (a *applier) apply() {
	more := a.o.expectMore(a.p.auth.hint)
	if a.ev.status != 0 {
		a.view()
	}
	a.promises()
	switch roles[a.ev.status] {
	case roleShipment:
		a.shipment()
	case roleBase:
		a.base()
	case roleFlag:
		a.flag()
	}
	a.grew = a.grew || (!more && a.o.expectMore(a.p.auth.hint))
	a.truth()
	if a.dirty {
		a.o.updated = max(a.o.updated, a.ev.occurred)
	}
}

// view records what the event's system says, when it is at least as new as
// what that system said before.
func (a *applier) view() {
	o, ev := a.o, a.ev
	i, found := slices.BinarySearchFunc(o.views, ev.system, func(v view, y sys) int { return int(v.system) - int(y) })
	if !found {
		o.views = slices.Insert(o.views, i, view{system: ev.system})
	} else if ev.occurred < o.views[i].occurred {
		return
	}
	v := &o.views[i]
	nv := view{system: ev.system, status: ev.status, source: a.st.intern(ev.source), occurred: ev.occurred, recorded: ev.recorded}
	if *v != nv {
		*v = nv
		a.dirty = true
	}
}

// promises keeps the latest promised dates (by event time).
func (a *applier) promises() {
	o, ev := a.o, a.ev
	if (ev.shipBy == 0 && ev.deliverBy == 0) || ev.occurred < o.promisedAt {
		return
	}
	o.promisedAt = ev.occurred
	if ev.shipBy != 0 && ev.shipBy != o.shipBy {
		o.shipBy, a.dirty = ev.shipBy, true
	}
	if ev.deliverBy != 0 && ev.deliverBy != o.deliverBy {
		o.deliverBy, a.dirty = ev.deliverBy, true
	}
}

// shipment applies a parcel status to the parcel the event names.
func (a *applier) shipment() {
	o, ev := a.o, a.ev
	i, changed := o.locate(ev.shipmentID, ev.tracking)
	a.dirty = a.dirty || changed
	s := ev.status
	var ret bool
	if i >= 0 {
		ret = o.ships[i].ret
	} else {
		// A parcel the order has not seen: a customer's return when the
		// warehouse checks in a parcel it never shipped, or when a carrier
		// scans it after a return was authorised or once every outbound
		// parcel is delivered (its tracking number can be no outbound
		// parcel's: none is waiting to ship or announced); otherwise
		// outbound.
		ret = s == sReturned || (s.Rank() > sShipped.Rank() && (o.returnReq != 0 || a.p.allDelivered(o)))
	}
	if ret {
		s = forReturn(s)
	}
	if a.p.auth.by[s] != ev.system {
		return
	}
	if i < 0 {
		o.ships = append(o.ships, shipment{id: ev.shipmentID, tracking: ev.tracking, ret: ret})
		i = len(o.ships) - 1
		a.grew = !ret
	}
	sh := &o.ships[i]
	clock := sh.clock
	switch d := a.p.decide(&sh.track, s, ev.system, ev.occurred, ret); d {
	case dSame:
		sh.clock = max(sh.clock, ev.occurred)
	case dAdvance, dRecovery:
		from := sh.status
		kind := KindAdvance
		if d == dRecovery {
			kind = KindRecovery
		}
		skipped := sh.move(s, ev.system, ev.occurred, ret)
		a.emit(i, kind, from, s, skipped)
	case dLate:
		sh.reached |= s.Bit() // reported, if late: not skipped
		a.emit(i, KindLate, sh.status, s, nil)
		return
	case dRegression:
		a.out.Regressions++
		return
	case dAbsorbed:
		return
	}
	if ev.eta != 0 && ev.eta != sh.eta && (sh.eta == 0 || ev.occurred >= clock) {
		sh.eta, a.dirty = ev.eta, true
	}
}

// base applies PLACED, ON_HOLD or CONFIRMED to the order's own track.
func (a *applier) base() {
	o, ev := a.o, a.ev
	s := ev.status
	if a.p.auth.by[s] != ev.system {
		return
	}
	switch a.p.decide(&o.base, s, ev.system, ev.occurred, false) {
	case dSame:
		o.base.clock = max(o.base.clock, ev.occurred)
	case dAdvance, dRecovery:
		o.base.move(s, ev.system, ev.occurred, false)
	case dLate:
		o.base.reached |= s.Bit()
		a.emit(-1, KindLate, o.truth, s, nil)
	case dRegression:
		a.out.Regressions++
	}
}

// flag records CANCELLED, RETURN_REQUESTED or REFUNDED: stated once, they
// stay (the earliest statement's event time is kept).
func (a *applier) flag() {
	o, ev := a.o, a.ev
	if a.p.auth.by[ev.status] != ev.system {
		return
	}
	var f *int64
	switch ev.status {
	case sCancelled:
		f = &o.cancelled
	case sReturnRequested:
		f = &o.returnReq
	default:
		f = &o.refunded
	}
	if *f == 0 || ev.occurred < *f {
		*f = ev.occurred
		a.dirty = true
	}
}

// truth re-derives the order's truth and records its move.
func (a *applier) truth() {
	o, ev := a.o, a.ev
	to := a.p.derive(o)
	from := o.truth
	if to == from {
		return
	}
	var skipped []st
	if from != 0 && from != sCancelled && to.Stage() && to.Rank() > from.Rank() {
		reached := o.reached
		for i := range o.ships {
			if !o.ships[i].ret {
				reached |= o.ships[i].reached
			}
		}
		skipped = skippedStages(from.Rank(), to.Rank(), reached|o.base.reached)
	}
	o.truth, o.truthAuth, o.truthSince = to, ev.system, ev.occurred
	o.reached |= to.Bit()
	a.emit(-1, orderKind(from, to, a.grew), from, to, skipped)
	a.checkTruth(to, a.out.Transitions[len(a.out.Transitions)-1].Value["transition_id"].(string))
}

// emit records a transition of the order (ship -1) or of ships[ship].
func (a *applier) emit(ship int, kind string, from, to st, skipped []st) {
	o, ev := a.o, a.ev
	var shipID, tracking string
	if ship >= 0 {
		sh := &o.ships[ship]
		shipID, tracking = shipmentName(ev.orderID, sh), sh.tracking
	}
	o.transitions++
	a.dirty = true
	a.out.Transitions = append(a.out.Transitions, transitionRecord(ev, ship >= 0, shipID, tracking, kind, from, to, skipped))
}

// shipmentName is how outputs name a shipment: its ID; until a system names
// it, its tracking number; for a system that names no parcels, the order ID.
func shipmentName(orderID string, sh *shipment) string {
	switch {
	case sh.id != "":
		return sh.id
	case sh.tracking != "":
		return sh.tracking
	}
	return orderID
}

// transitionID is deterministic: the order, the shipment (empty for the
// order), the causing event and the kind. One event causes at most one
// transition per order or shipment and kind, so IDs are unique.
func transitionID(orderID, shipID string, y sys, eventID, kind string) string {
	h := sha256.New()
	for _, part := range []string{orderID, shipID, y.String(), eventID, kind} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// seenHash is the de-duplication key of an event within its order: 64 bits
// of FNV-1a over system and event ID. Within one order (tens of events) a
// collision is ~1e-17 likely; the hash keeps the seen set at 8 bytes an
// event.
func seenHash(y sys, eventID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte{byte(y), 0})
	h.Write([]byte(eventID))
	return h.Sum64()
}

func (o *order) hasSeen(h uint64) bool { return slices.Contains(o.seen, h) }
