package simulator

import (
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/systems/returns"
)

// returnsEvent is a returns portal event about the order's customer
// return.
//
// Vocabulary (status): rma_created (the customer's request, authorised),
// label_issued (with the return label's tracking number), in_transit (the
// label's first carrier scan), received (checked in at the warehouse),
// refunded. The portal is a feed: baton's default authority file gives
// none of these statuses to it, so its events show as its own view of the
// order and move no truth.
type returnsEvent struct {
	status string
	ship   int  // the return parcel
	label  bool // carries the return label's tracking number and carrier
}

func (*returnsEvent) system() schemas.System { return schemas.System(returns.System.Name) }
func (*returnsEvent) idPrefix(*order) string { return "rtn" }
func (*returnsEvent) key(o *order) string    { return o.id }

func (e *returnsEvent) fill(v map[string]any, o *order) {
	v["order_id"] = o.id
	v["rma_id"] = o.returnID
	v["status"] = e.status
	v["reason"] = "changed_mind"
	v["tracking_number"], v["carrier"] = nil, nil
	if e.label {
		s := o.ships[e.ship]
		v["tracking_number"], v["carrier"] = s.tracking, s.carrier
	}
}

// projectReturns: the portal records each step of a customer return as it
// happens (the fact's own recorded time; the first carrier scan when the
// carrier reports it). Orders without a customer return have no portal
// events.
func projectReturns(rc *recorder, facts []fact) {
	ret, scanned := -1, false
	for _, f := range facts {
		if f.kind == kReturnRequested {
			ret = f.ship
		}
		if ret < 0 || f.ship != ret {
			continue
		}
		var status string
		switch f.kind {
		case kReturnRequested:
			status = "rma_created"
		case kLabelCreated:
			status = "label_issued"
		case kInTransit:
			if scanned {
				continue
			}
			status, scanned = "in_transit", true
		case kReturnReceived:
			status = "received"
		case kRefunded:
			status = "refunded"
		default:
			continue
		}
		rc.add(&returnsEvent{status: status, ship: ret, label: f.kind != kReturnRequested}, f.at, f.known)
	}
}
