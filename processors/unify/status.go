package unify

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// st is a canonical status as a one-byte index (0: none), so that the state
// of millions of open orders stays compact. The index is internal: the
// changelog and every output spell statuses by name.
type st uint8

// role is what a status means to the unify stage.
type role uint8

const (
	roleNone     role = iota
	roleBase          // the order's own pre-fulfilment track: PLACED, ON_HOLD, CONFIRMED
	roleShipment      // a parcel's lifecycle, RELEASED through RETURNED
	roleFlag          // an order-level fact that, once stated, stays: CANCELLED, RETURN_REQUESTED, REFUNDED
	roleHint          // an aggregate a system may report; never a truth by itself
)

// class is canonical.Class, short for the rules here.
type class = canonical.Class

const (
	classStage     = canonical.ClassStage
	classProblem   = canonical.ClassProblem
	classReturn    = canonical.ClassReturn
	classAggregate = canonical.ClassAggregate
)

type stInfo struct {
	name  canonical.Status
	rank  int
	class class
	role  role
}

var (
	stInfos  []stInfo // by st; [0] is none
	stByName = map[canonical.Status]st{}
)

// The statuses the logic names.
var (
	sPlaced, sOnHold, sConfirmed, sReleased, sShipped, sInTransit, sOutForDelivery st
	sDeliveryAttemptFailed, sAvailableForPickup, sException, sReturnToSender       st
	sDelivered, sPartiallyShipped, sPartiallyDelivered, sCancelled                 st
	sReturnRequested, sReturnInTransit, sReturned, sRefunded                       st
)

func init() {
	stInfos = append(stInfos, stInfo{})
	for _, in := range canonical.All() {
		i := stInfo{name: in.Status, rank: in.Rank, class: in.Class()}
		stByName[in.Status] = st(len(stInfos))
		stInfos = append(stInfos, i)
	}
	get := func(s canonical.Status) st { return stByName[s] }
	sPlaced, sOnHold, sConfirmed, sReleased = get(canonical.Placed), get(canonical.OnHold), get(canonical.Confirmed), get(canonical.Released)
	sShipped, sInTransit, sOutForDelivery = get(canonical.Shipped), get(canonical.InTransit), get(canonical.OutForDelivery)
	sDeliveryAttemptFailed, sAvailableForPickup = get(canonical.DeliveryAttemptFailed), get(canonical.AvailableForPickup)
	sException, sReturnToSender, sDelivered = get(canonical.Exception), get(canonical.ReturnToSender), get(canonical.Delivered)
	sPartiallyShipped, sPartiallyDelivered, sCancelled = get(canonical.PartiallyShipped), get(canonical.PartiallyDelivered), get(canonical.Cancelled)
	sReturnRequested, sReturnInTransit = get(canonical.ReturnRequested), get(canonical.ReturnInTransit)
	sReturned, sRefunded = get(canonical.Returned), get(canonical.Refunded)
	for s := range stInfos[1:] {
		x := st(s + 1)
		i := &stInfos[x]
		switch {
		case x == sPlaced || x == sOnHold || x == sConfirmed:
			i.role = roleBase
		case x == sCancelled || x == sReturnRequested || x == sRefunded:
			i.role = roleFlag
		case i.class == classAggregate:
			i.role = roleHint
		default:
			i.role = roleShipment
		}
	}
	if len(stInfos) > 32 {
		panic("unify: more than 31 canonical statuses do not fit the reached masks")
	}
}

func parseSt(name string) (st, bool) { s, ok := stByName[canonical.Status(name)]; return s, ok }

func (s st) String() string  { return string(stInfos[s].name) }
func (s st) info() stInfo    { return stInfos[s] }
func (s st) rank() int       { return stInfos[s].rank }
func (s st) class() class    { return stInfos[s].class }
func (s st) stage() bool     { return stInfos[s].class == classStage }
func (s st) problem() bool   { return stInfos[s].class == classProblem }
func (s st) bit() uint32     { return 1 << s }
func (s st) aggregate() bool { return stInfos[s].class == classAggregate }
func (s st) onLine() bool    { c := stInfos[s].class; return c == classStage || c == classReturn }
func (s st) preShip() bool   { return s != 0 && s.rank() < sShipped.rank() && s.class() == classStage }

// sys is a source system as a one-byte index into schemas.Systems (0: none).
type sys uint8

var sysByName = func() map[string]sys {
	m := make(map[string]sys, len(schemas.Systems))
	for i, s := range schemas.Systems {
		m[string(s)] = sys(i + 1)
	}
	return m
}()

func (y sys) String() string {
	if y == 0 {
		return ""
	}
	return string(schemas.Systems[y-1])
}
