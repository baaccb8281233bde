package delay

import "github.com/baton-pipeline/baton/canonical"

// st is a canonical status as a one-byte index (0: none). The index is
// internal: the binary state and every record spell statuses by name.
type st uint8

var (
	stNames  = []canonical.Status{""}
	stByName = map[canonical.Status]st{}
	stRTS    st
)

func init() {
	for _, in := range canonical.All() {
		stByName[in.Status] = st(len(stNames))
		stNames = append(stNames, in.Status)
	}
	stRTS = stByName[canonical.ReturnToSender]
}

func (s st) name() string { return string(stNames[s]) }

func (s st) status() canonical.Status { return stNames[s] }

// shipped: the order has shipped: SHIPPED or a later status, REFUNDED
// excepted (an order refunded without shipping reaches nothing).
// PARTIALLY_DELIVERED counts as shipped: the order-level truth cannot say
// whether a backordered parcel still waits once another is delivered.
func (s st) shipped() bool {
	return s != 0 && s.status() != canonical.Refunded && s.status().AtLeast(canonical.Shipped)
}

// delivered: DELIVERED or the return branch after it.
func (s st) delivered() bool {
	return s != 0 && s.status() != canonical.Refunded && s.status().AtLeast(canonical.Delivered)
}

// over: the order was cancelled or refunded; nothing more will ship.
func (s st) over() bool {
	return s.status() == canonical.Cancelled || s.status() == canonical.Refunded
}

// problem: a carrier problem a delay notice is about.
func (s st) problem() bool { return s.delayReason() != 0 }

// delayReason is the reason of the notice a truth move into s causes; 0
// for any other status.
func (s st) delayReason() reason {
	switch s.status() {
	case canonical.Exception:
		return reasonException
	case canonical.DeliveryAttemptFailed:
		return reasonAttemptFailed
	case canonical.ReturnToSender:
		return reasonReturnToSender
	}
	return 0
}
