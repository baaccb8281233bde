package unify

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// st is a canonical status as a one-byte index (canonical.Index), so that
// the state of millions of open orders stays compact.
type st = canonical.Index

// role is what a status means to the unify stage.
type role uint8

const (
	roleNone     role = iota
	roleBase          // the order's own pre-fulfilment track: PLACED, ON_HOLD, CONFIRMED
	roleShipment      // a parcel's lifecycle, RELEASED through RETURNED
	roleFlag          // an order-level fact that, once stated, stays: CANCELLED, RETURN_REQUESTED, REFUNDED
	roleHint          // an aggregate a system may report; never a truth by itself
)

// The statuses the logic names.
var (
	sPlaced, sOnHold, sConfirmed                       = canonical.MustIndex(canonical.Placed), canonical.MustIndex(canonical.OnHold), canonical.MustIndex(canonical.Confirmed)
	sReleased, sShipped, sInTransit                    = canonical.MustIndex(canonical.Released), canonical.MustIndex(canonical.Shipped), canonical.MustIndex(canonical.InTransit)
	sOutForDelivery, sDeliveryAttemptFailed            = canonical.MustIndex(canonical.OutForDelivery), canonical.MustIndex(canonical.DeliveryAttemptFailed)
	sAvailableForPickup, sException, sReturnToSender   = canonical.MustIndex(canonical.AvailableForPickup), canonical.MustIndex(canonical.Exception), canonical.MustIndex(canonical.ReturnToSender)
	sDelivered, sPartiallyShipped, sPartiallyDelivered = canonical.MustIndex(canonical.Delivered), canonical.MustIndex(canonical.PartiallyShipped), canonical.MustIndex(canonical.PartiallyDelivered)
	sCancelled, sReturnRequested, sReturnInTransit     = canonical.MustIndex(canonical.Cancelled), canonical.MustIndex(canonical.ReturnRequested), canonical.MustIndex(canonical.ReturnInTransit)
	sReturned, sRefunded                               = canonical.MustIndex(canonical.Returned), canonical.MustIndex(canonical.Refunded)
)

// roles is each status's role, by st.
var roles = func() []role {
	out := make([]role, canonical.Indexes())
	for i := 1; i < len(out); i++ {
		switch x := st(i); {
		case x == sPlaced || x == sOnHold || x == sConfirmed:
			out[i] = roleBase
		case x == sCancelled || x == sReturnRequested || x == sRefunded:
			out[i] = roleFlag
		case x.Aggregate():
			out[i] = roleHint
		default:
			out[i] = roleShipment
		}
	}
	return out
}()

// lastSt is the highest status index: loops over every status run
// st(1)..lastSt.
var lastSt = st(canonical.Indexes() - 1)

func parseSt(name string) (st, bool) { return canonical.IndexOf(canonical.Status(name)) }

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
