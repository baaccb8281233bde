package delay

import "github.com/baton-pipeline/baton/canonical"

// st is a canonical status as a one-byte index (canonical.Index).
type st = canonical.Index

var stRTS = canonical.MustIndex(canonical.ReturnToSender)

// stOf is the index of a canonical status; 0 for an unknown one.
func stOf(s canonical.Status) st { x, _ := canonical.IndexOf(s); return x }

// shipped: the order has shipped: SHIPPED or a later status, REFUNDED
// excepted (an order refunded without shipping reaches nothing).
// PARTIALLY_DELIVERED counts as shipped: the order-level truth cannot say
// whether a backordered parcel still waits once another is delivered.
func shipped(s st) bool {
	return s != 0 && s.Status() != canonical.Refunded && s.Status().AtLeast(canonical.Shipped)
}

// delivered: DELIVERED or the return branch after it.
func delivered(s st) bool {
	return s != 0 && s.Status() != canonical.Refunded && s.Status().AtLeast(canonical.Delivered)
}

// over: the order was cancelled or refunded; nothing more will ship.
func over(s st) bool {
	return s.Status() == canonical.Cancelled || s.Status() == canonical.Refunded
}

// carrierProblem: a carrier problem a delay notice is about.
func carrierProblem(s st) bool { return delayReason(s) != 0 }

// delayReason is the reason of the notice a truth move into s causes; 0
// for any other status.
func delayReason(s st) reason {
	switch s.Status() {
	case canonical.Exception:
		return reasonException
	case canonical.DeliveryAttemptFailed:
		return reasonAttemptFailed
	case canonical.ReturnToSender:
		return reasonReturnToSender
	}
	return 0
}
