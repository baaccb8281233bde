package simulator

import (
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// carrierEvent is a tracking scan as an aggregator delivers it, keyed by
// tracking number. Statuses are the provider's own, unmapped; see
// easyPostStatus and afterShipStatus for the vocabularies.
type carrierEvent struct {
	ship   int
	status string
	sub    string
	desc   string
	loc    string
	eta    time.Time
}

func (*carrierEvent) system() schemas.System { return schemas.Carrier }

func (e *carrierEvent) idPrefix(o *order) string {
	if o.ships[e.ship].provider == "aftership" {
		return "as-ckpt"
	}
	return "evt"
}

func (e *carrierEvent) key(o *order) string { return o.ships[e.ship].tracking }

func (e *carrierEvent) fill(v map[string]any, o *order) {
	s := o.ships[e.ship]
	v["tracking_number"] = s.tracking
	v["carrier"] = s.carrier
	v["provider"] = s.provider
	v["order_id"] = nil
	if s.scansCarryOrder {
		v["order_id"] = o.id
	}
	v["shipment_id"] = nil
	v["status"] = e.status
	v["sub_status"] = orNil(e.sub)
	v["description"] = orNil(e.desc)
	v["location"] = orNil(e.loc)
	v["estimated_delivery"] = timeOrNil(e.eta)
}

// projectCarrier: the carrier is the authority for every parcel status
// after hand-off; the aggregator publishes each scan after
// carrierPublishLag.
func projectCarrier(rc *recorder, facts []fact) {
	for _, f := range facts {
		if f.ship < 0 {
			continue
		}
		s := rc.o.ships[f.ship]
		status, sub, desc := easyPostStatus(f, s)
		if s.provider == "aftership" {
			status, sub, desc = afterShipStatus(f, s)
		}
		if status == "" {
			continue
		}
		rc.add(&carrierEvent{ship: f.ship, status: status, sub: sub, desc: desc, loc: f.loc, eta: f.eta},
			f.at, f.known)
	}
}

// easyPostStatus names a carrier fact as an EasyPost tracker (status,
// status_detail, message), or "" for facts that are not scans.
//
// Statuses: pre_transit, in_transit, out_for_delivery, delivered,
// available_for_pickup, return_to_sender, failure. EasyPost has no
// failed-attempt or delay status: those are in_transit with status_detail
// delivery_exception, weather_delay or delayed, so a mapping must look at
// status_detail, not only status.
func easyPostStatus(f fact, s *shipment) (status, detail, message string) {
	switch f.kind {
	case kLabelCreated:
		return "pre_transit", "label_created", "Shipping label created, " + s.carrier + " awaiting item"
	case kInTransit:
		switch f.scan {
		case scanAccepted:
			return "in_transit", "received_at_origin_facility", "Accepted at origin facility"
		case scanDeparted:
			return "in_transit", "departed_facility", "Departed facility"
		case scanArrived:
			return "in_transit", "arrived_at_facility", "Arrived at facility"
		default:
			return "in_transit", "received_at_destination_facility", "Arrived at destination facility"
		}
	case kDelayed:
		if f.variant == 0 {
			return "in_transit", "weather_delay", "Delayed due to weather"
		}
		return "in_transit", "delayed", "Delayed in transit, revised delivery date"
	case kOutForDelivery:
		return "out_for_delivery", "out_for_delivery", "Out for delivery"
	case kAttemptFailed:
		return "in_transit", "delivery_exception", attemptMessages[f.variant]
	case kAvailableForPickup:
		return "available_for_pickup", "arrived_at_pickup_location", "Available for pickup"
	case kDelivered:
		if f.variant == deliveredPickedUp {
			return "delivered", "arrived_at_destination", "Picked up at pickup location"
		}
		return "delivered", "arrived_at_destination", "Delivered"
	case kLost:
		return "failure", "lost", "Package lost in transit"
	case kDamaged:
		return "failure", "damaged", "Package damaged in transit"
	case kReturnToSender:
		return "return_to_sender", "return", "Return to sender: " + f.reason
	case kReturnedToSender:
		return "return_to_sender", "return", "Delivered to original sender"
	}
	return "", "", ""
}

// afterShipStatus names a carrier fact as an AfterShip checkpoint (tag,
// subtag, message), or "" for facts that are not scans.
//
// Tags: InfoReceived, InTransit, OutForDelivery, AttemptFail,
// AvailableForPickup, Delivered, Exception. Subtags: InfoReceived_001;
// InTransit_002 (acceptance), _003 (arrival at a hub or the destination
// facility), _007 (departure); OutForDelivery_001; AttemptFail_001, _002,
// _003; AvailableForPickup_001; Delivered_001, _002 (picked up), _003
// (signed); Exception_005 (delayed), _010 (returning to sender), _011
// (returned to sender), _012 (damaged), _013 (lost). AfterShip has no
// return-to-sender tag: it is Exception with subtag _010/_011.
func afterShipStatus(f fact, s *shipment) (tag, subtag, message string) {
	switch f.kind {
	case kLabelCreated:
		return "InfoReceived", "InfoReceived_001", "Shipment information received by " + s.carrier
	case kInTransit:
		switch f.scan {
		case scanAccepted:
			return "InTransit", "InTransit_002", "Shipment picked up"
		case scanDeparted:
			return "InTransit", "InTransit_007", "Departure scan"
		case scanArrived:
			return "InTransit", "InTransit_003", "Arrival scan"
		default:
			return "InTransit", "InTransit_003", "Arrived at destination facility"
		}
	case kDelayed:
		return "Exception", "Exception_005", "Delay in transit, revised delivery date"
	case kOutForDelivery:
		return "OutForDelivery", "OutForDelivery_001", "Out for delivery"
	case kAttemptFailed:
		return "AttemptFail", []string{"AttemptFail_001", "AttemptFail_002", "AttemptFail_003"}[f.variant], attemptMessages[f.variant]
	case kAvailableForPickup:
		return "AvailableForPickup", "AvailableForPickup_001", "Available for pickup"
	case kDelivered:
		return "Delivered", []string{"Delivered_001", "Delivered_002", "Delivered_003"}[f.variant], "Delivered"
	case kLost:
		return "Exception", "Exception_013", "Shipment lost"
	case kDamaged:
		return "Exception", "Exception_012", "Shipment damaged"
	case kReturnToSender:
		return "Exception", "Exception_010", "Returning to sender: " + f.reason
	case kReturnedToSender:
		return "Exception", "Exception_011", "Returned to sender"
	}
	return "", "", ""
}

// attemptMessages, by fact.variant of kAttemptFailed.
var attemptMessages = []string{
	"Delivery attempted, notice left",
	"Delivery attempted, recipient not available",
	"Delivery attempted, business closed",
}
