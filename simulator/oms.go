package simulator

import (
	"slices"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// omsEvent is a Debezium change event of the OMS orders table: op c when
// the row is created, u on every update, with the status column before and
// after.
//
// Vocabulary (status): NEW, ON_HOLD (hold_reason payment_pending,
// fraud_review or address_verification), CONFIRMED, ALLOCATED (sent to the
// warehouse), PARTIALLY_SHIPPED, SHIPPED, CANCELLED, RETURN_AUTHORIZED,
// PARTIALLY_REFUNDED, REFUNDED. The OMS is the authority for ON_HOLD,
// CONFIRMED, CANCELLED, RETURN_AUTHORIZED and the refunds; it mirrors
// shipping from the WMS (PARTIALLY_SHIPPED, SHIPPED) after omsMirrorLag, and
// may repeat a status when another column changed (a second partial
// shipment).
type omsEvent struct {
	op         string
	status     string
	previous   string
	holdReason string
	rma        bool // the return_id column is set
}

func (*omsEvent) system() schemas.System { return schemas.OMS }
func (*omsEvent) idPrefix(*order) string { return "pg-lsn" }
func (*omsEvent) key(o *order) string    { return o.id }

func (e *omsEvent) fill(v map[string]any, o *order) {
	v["order_id"] = o.id
	v["op"] = e.op
	v["status"] = e.status
	v["previous_status"] = orNil(e.previous)
	v["hold_reason"] = orNil(e.holdReason)
	v["return_id"] = nil
	if e.rma {
		v["return_id"] = o.returnID
	}
	setOrderFields(v, o)
}

// omsChange is one update of the order row, before previous_status is
// known.
type omsChange struct {
	at       time.Time // the row's updated_at
	recorded time.Time // the commit (Debezium source.ts_ms)
	status   string    // "" for a mirrored shipment: PARTIALLY_SHIPPED or SHIPPED
	reason   string
	rma      bool
	terminal bool // no later change applies (CANCELLED, a full refund)
}

// projectOMS turns the OMS's facts and the shipments it mirrors into row
// changes, in the order the database applied them. The OMS learns of a
// shipment omsMirrorLag after the WMS recorded it.
func projectOMS(rc *recorder, facts []fact) {
	var changes []omsChange
	toShip := 0
	for _, f := range facts {
		if c, ok := omsChangeFor(f, rc.r); ok {
			changes = append(changes, c)
			toShip += b2i(f.kind == kShipped)
		}
	}
	slices.SortStableFunc(changes, func(a, b omsChange) int { return a.at.Compare(b.at) })
	prev, shipped, rma := "", 0, false
	for _, c := range changes {
		if c.status == "" {
			shipped++
			c.status = "PARTIALLY_SHIPPED"
			if shipped == toShip {
				c.status = "SHIPPED"
			}
		}
		rma = rma || c.rma
		e := &omsEvent{op: "u", status: c.status, previous: prev, holdReason: c.reason, rma: rma}
		if prev == "" {
			e.op = "c"
		}
		rc.add(e, c.at, c.recorded)
		prev = c.status
		if c.terminal {
			return
		}
	}
}

// omsChangeFor is the row change a fact causes, if any.
func omsChangeFor(f fact, r rng) (omsChange, bool) {
	c := omsChange{at: f.at, recorded: f.known}
	switch f.kind {
	case kImported:
		c.status = "NEW"
	case kOnHold:
		c.status, c.reason = "ON_HOLD", f.reason
	case kConfirmed:
		c.status = "CONFIRMED"
	case kAllocated:
		c.status = "ALLOCATED"
	case kShipped:
		c.at = f.known.Add(omsMirrorLag.must(r))
		c.recorded = c.at.Add(commitLag.must(r))
	case kCancelled:
		c.status, c.terminal = "CANCELLED", true
	case kReturnRequested:
		c.status, c.rma = "RETURN_AUTHORIZED", true
	case kRefunded:
		if f.ship < 0 {
			return c, false // the refund of a cancellation: the row stays CANCELLED
		}
		c.status, c.terminal = "REFUNDED", !f.partial
		if f.partial {
			c.status = "PARTIALLY_REFUNDED"
		}
	default:
		return c, false
	}
	return c, true
}
