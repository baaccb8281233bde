package simulator

import (
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// storefrontEvent is a Shopify webhook about the order.
//
// Vocabulary (status_type → status):
//   - order: open (orders/create), cancelled (orders/cancelled)
//   - financial_status: paid (orders/updated, when an authorized or pending
//     payment is captured), refunded, partially_refunded (refunds/create)
//   - fulfillment_status: partial, fulfilled (fulfillments/create: the
//     order's fulfillment_status once that fulfillment exists; Shopify sends
//     orders/updated alongside, folded in here)
//   - fulfillment_event: FulfillmentEventStatus from the tracking app:
//     label_printed, confirmed, carrier_picked_up, in_transit, delayed,
//     out_for_delivery, attempted_delivery, ready_for_pickup, delivered,
//     failure
//
// The financial_status field carries paid, authorized, pending, refunded,
// partially_refunded or voided; fulfillment_status carries unfulfilled
// (Shopify's null), partial or fulfilled.
type storefrontEvent struct {
	eventType   string
	statusType  string
	status      string
	financial   string // "" when the event does not carry it
	fulfillment string
	ship        int  // the fulfillment's parcel; -1 for order events
	orderFields bool // orders/* webhooks carry the customer and promises
}

func (*storefrontEvent) system() schemas.System { return schemas.Storefront }
func (*storefrontEvent) idPrefix(*order) string { return "shopify" }
func (*storefrontEvent) key(o *order) string    { return o.id }

func (e *storefrontEvent) fill(v map[string]any, o *order) {
	v["event_type"] = e.eventType
	v["order_id"] = o.id
	v["order_number"] = o.number
	v["status_type"] = e.statusType
	v["status"] = e.status
	v["financial_status"] = orNil(e.financial)
	v["fulfillment_status"] = orNil(e.fulfillment)
	setParcel(v, o, e.ship)
	v["customer_id"], v["promised_ship_by"], v["promised_deliver_by"] = nil, nil, nil
	if e.orderFields {
		setOrderFields(v, o)
	}
}

// storefrontView is what the storefront knows while it replays the facts.
type storefrontView struct {
	rc          *recorder
	financial   string
	fulfillment string
	shipped     int
	toShip      int         // parcels that will ship
	created     []time.Time // when each parcel's fulfillment was created; zero: never
	shown       []string    // the last fulfillment event status per parcel
}

// projectStorefront: the storefront is the authority for PLACED (and takes
// payments); for everything else it is a viewer that shows a change
// storefrontLag after its authority recorded it, or never.
func projectStorefront(rc *recorder, facts []fact) {
	o := rc.o
	sv := &storefrontView{rc: rc, financial: o.payment, fulfillment: "unfulfilled",
		created: make([]time.Time, len(o.ships)), shown: make([]string, len(o.ships))}
	// Fulfillments are created first, as their events must come after them.
	for _, f := range facts {
		if f.kind == kShipped {
			sv.toShip++
			if lag, ok := rc.viewerLag(storefrontLag); ok {
				sv.created[f.ship] = f.known.Add(lag)
			}
		}
	}
	for _, f := range facts {
		sv.apply(f)
	}
}

func (sv *storefrontView) apply(f fact) {
	rc, o := sv.rc, sv.rc.o
	switch f.kind {
	case kPlaced:
		sv.order(f.at, f.known, "orders/create", "order", "open")
	case kPaymentCaptured:
		sv.financial = "paid"
		sv.order(f.at, f.known, "orders/updated", "financial_status", "paid")
	case kCancelled:
		if sv.financial != "paid" {
			sv.financial = "voided"
		} else {
			sv.financial = "refunded"
		}
		if lag, ok := rc.viewerLag(storefrontLag); ok {
			sv.order(f.at, f.known.Add(lag), "orders/cancelled", "order", "cancelled")
		}
	case kRefunded:
		status := "refunded"
		if f.partial {
			status = "partially_refunded"
		}
		sv.financial = status
		if lag, ok := rc.viewerLag(storefrontLag); ok {
			rc.add(&storefrontEvent{eventType: "refunds/create", statusType: "financial_status", status: status,
				financial: status, ship: -1}, f.at, f.known.Add(lag))
		}
	case kShipped:
		sv.shipped++
		sv.fulfillment = "partial"
		if sv.shipped == sv.toShip {
			sv.fulfillment = "fulfilled"
		}
		if created := sv.created[f.ship]; !created.IsZero() {
			rc.add(&storefrontEvent{eventType: "fulfillments/create", statusType: "fulfillment_status",
				status: sv.fulfillment, fulfillment: sv.fulfillment, ship: f.ship}, f.at, created)
		}
	default:
		if f.ship >= 0 && !o.ships[f.ship].isReturn {
			sv.trackingEvent(f)
		}
	}
}

// order records an orders/* webhook carrying the order's current statuses.
func (sv *storefrontView) order(occurred, recorded time.Time, topic, statusType, status string) {
	sv.rc.add(&storefrontEvent{eventType: topic, statusType: statusType, status: status,
		financial: sv.financial, fulfillment: sv.fulfillment, ship: -1, orderFields: true}, occurred, recorded)
}

// trackingEvent mirrors a carrier fact as a fulfillment event when the
// fulfillment's shown status changes. The event copies the scan time
// (happened_at) and is recorded after the lag, and never before its
// fulfillment exists: a tracking app backfills the label scan once the
// fulfillment is created.
func (sv *storefrontView) trackingEvent(f fact) {
	rc, o := sv.rc, sv.rc.o
	status := fulfillmentEventStatus(f, o.ships[f.ship])
	if status == "" || status == sv.shown[f.ship] {
		return
	}
	sv.shown[f.ship] = status
	created := sv.created[f.ship]
	if created.IsZero() {
		return // the fulfillment was never created: nothing to attach events to
	}
	if f.kind == kLabelCreated && rc.cfg.ViewerFaults != nil {
		// The ground-truth profile leaves out the backfilled label event: it
		// shows PACKED seconds after the fulfillment showed SHIPPED, and a
		// SHIPPED check opened after it (the warehouse's event processed a
		// moment later) would close against PACKED, not SHIPPED.
		return
	}
	lag, ok := rc.viewerLag(storefrontLag)
	if !ok {
		return
	}
	recorded := later(f.known.Add(lag), created.Add(rc.r.between(time.Second, 30*time.Second)))
	rc.add(&storefrontEvent{eventType: "fulfillment_events/create", statusType: "fulfillment_event",
		status: status, ship: f.ship}, f.at, recorded)
}

// fulfillmentEventStatus names a carrier fact in Shopify's
// FulfillmentEventStatus, or "" when the storefront shows nothing for it.
// The tracking app posts the label scan as label_printed (EasyPost) or
// confirmed (AfterShip's InfoReceived).
func fulfillmentEventStatus(f fact, s *shipment) string {
	switch f.kind {
	case kLabelCreated:
		if s.provider == "aftership" {
			return "confirmed"
		}
		return "label_printed"
	case kInTransit:
		if f.scan == scanAccepted {
			return "carrier_picked_up"
		}
		return "in_transit"
	case kDelayed:
		return "delayed"
	case kOutForDelivery:
		return "out_for_delivery"
	case kAttemptFailed:
		return "attempted_delivery"
	case kAvailableForPickup:
		return "ready_for_pickup"
	case kDelivered:
		return "delivered"
	case kLost, kDamaged, kReturnToSender:
		return "failure"
	}
	return ""
}
