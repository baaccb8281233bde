package simulator

import (
	"cmp"
	"time"

	"github.com/baton-pipeline/baton/ingest/shopify/view"
	"github.com/baton-pipeline/baton/schemas"
)

// storefrontEvent is a Shopify webhook about the order, as the Shopify
// adapter (ingest/shopify) turns it into a storefront event: one event per
// webhook, whose status_type and status are the one status it shows
// (package ingest/shopify/view, the rule the adapter applies).
//
// Vocabulary (status_type → status):
//   - orders/create: financial_status: paid, authorized, pending (an
//     unfulfilled order shows its payment)
//   - orders/updated (a pending or authorized payment captured),
//     orders/cancelled, and the orders/updated Shopify sends with
//     fulfillments/create and refunds/create (folded into those here): the
//     order's one view as of that moment (view.Order.Shows): order:
//     cancelled; financial_status: paid, refunded (and, rarely,
//     partially_refunded on an order the storefront shows unfulfilled);
//     fulfillment_status: partial, fulfilled; fulfillment_event: the
//     shipment_status all its fulfillments share
//   - fulfillment_events/create: fulfillment_event: FulfillmentEventStatus
//     from the tracking app: label_printed, confirmed, carrier_picked_up,
//     in_transit, delayed, out_for_delivery, attempted_delivery,
//     ready_for_pickup, delivered, failure
//
// The financial_status field carries paid, authorized, pending, refunded,
// partially_refunded or voided; fulfillment_status carries unfulfilled
// (Shopify's null), partial or fulfilled; order_status open or cancelled;
// shipment_status (fulfillment events) the event's status;
// shipment_fulfillment_status success on fulfillments/create.
type storefrontEvent struct {
	eventType   string
	statusType  string
	status      string
	order       string // order_status; "" when the event does not carry the order
	financial   string // "" when the event does not carry it
	fulfillment string
	shipment    string // shipment_status
	fulfilled   string // shipment_fulfillment_status
	ship        int    // the fulfillment's parcel; -1 for order events
	orderFields bool   // orders/* webhooks carry the customer and promises
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
	v["order_status"] = orNil(e.order)
	v["financial_status"] = orNil(e.financial)
	v["fulfillment_status"] = orNil(e.fulfillment)
	v["shipment_status"] = orNil(e.shipment)
	v["shipment_fulfillment_status"] = orNil(e.fulfilled)
	setParcel(v, o, e.ship)
	v["customer_id"], v["promised_ship_by"], v["promised_deliver_by"] = nil, nil, nil
	if e.orderFields {
		setOrderFields(v, o)
	}
}

// shows sets the event's status to what order shows, and the order's
// fields; fulfillment_status null is written "unfulfilled".
func (e *storefrontEvent) shows(order view.Order) {
	shown := order.Shows()
	e.statusType, e.status = shown.Type, shown.Status
	e.order, e.financial, e.fulfillment = order.Status(), order.Financial, cmp.Or(order.Fulfillment, "unfulfilled")
}

// storefrontView is what the storefront knows while it replays the facts.
type storefrontView struct {
	rc        *recorder
	financial string
	cancelled bool
	toShip    int         // parcels that will ship
	created   []time.Time // when each parcel's fulfillment was created; zero: never
	shown     []string    // the last fulfillment event status per parcel
	// tracked are the fulfillment events shown per parcel, in the order
	// recorded: what an order webhook's fulfillments say at its time.
	tracked [][]tracked
	// orders are the order webhooks (and those folded into fulfillments
	// and refunds), resolved once every fulfillment event is known.
	orders []orderWebhook
}

// tracked is a fulfillment event the storefront showed.
type tracked struct {
	at     time.Time
	status string
}

// orderWebhook is an order webhook whose status is resolved at the end:
// the order as of its recorded time, with its payment and cancellation as
// they were then.
type orderWebhook struct {
	ev        *storefrontEvent
	rec       *record
	financial string
	cancelled bool
}

// projectStorefront: the storefront is the authority for PLACED (and takes
// payments); for everything else it is a viewer that shows a change
// storefrontLag after its authority recorded it, or never.
func projectStorefront(rc *recorder, facts []fact) {
	o := rc.o
	sv := &storefrontView{rc: rc, financial: o.payment,
		created: make([]time.Time, len(o.ships)), shown: make([]string, len(o.ships)), tracked: make([][]tracked, len(o.ships))}
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
	for _, w := range sv.orders {
		w.ev.shows(sv.orderAt(w.rec.recorded, w.financial, w.cancelled))
	}
}

// orderAt is the order as a webhook recorded at t shows it: its
// fulfillments are those created by t, each with the last fulfillment
// event recorded by t; fulfilled once every parcel that ships has one.
func (sv *storefrontView) orderAt(t time.Time, financial string, cancelled bool) view.Order {
	order := view.Order{Cancelled: cancelled, Financial: financial}
	for k, c := range sv.created {
		if c.IsZero() || c.After(t) {
			continue
		}
		f := view.Fulfillment{Status: "success"}
		var latest time.Time
		for _, e := range sv.tracked[k] {
			if !e.at.After(t) && !e.at.Before(latest) {
				f.ShipmentStatus, latest = e.status, e.at
			}
		}
		order.Fulfillments = append(order.Fulfillments, f)
	}
	switch n := len(order.Fulfillments); {
	case n == 0:
	case n < sv.toShip:
		order.Fulfillment = "partial"
	default:
		order.Fulfillment = "fulfilled"
	}
	return order
}

func (sv *storefrontView) apply(f fact) {
	rc, o := sv.rc, sv.rc.o
	switch f.kind {
	case kPlaced:
		sv.order(f.at, f.known, "orders/create", -1, true)
	case kPaymentCaptured:
		sv.financial = "paid"
		sv.order(f.at, f.known, "orders/updated", -1, true)
	case kCancelled:
		// An uncaptured payment is voided; a captured one is refunded by
		// its own fact, which follows.
		if sv.financial != "paid" {
			sv.financial = "voided"
		}
		sv.cancelled = true
		if lag, ok := rc.viewerLag(storefrontLag); ok {
			sv.order(f.at, f.known.Add(lag), "orders/cancelled", -1, true)
		}
	case kRefunded:
		sv.financial = "refunded"
		if f.partial {
			sv.financial = "partially_refunded"
		}
		if lag, ok := rc.viewerLag(storefrontLag); ok {
			sv.order(f.at, f.known.Add(lag), "refunds/create", -1, false)
		}
	case kShipped:
		if created := sv.created[f.ship]; !created.IsZero() {
			sv.order(f.at, created, "fulfillments/create", f.ship, false)
		}
	default:
		if f.ship >= 0 && !o.ships[f.ship].isReturn {
			sv.trackingEvent(f)
		}
	}
}

// order records an order webhook (or one folded into a fulfillment or
// refund webhook about parcel ship, -1 for none), to show the order's
// status as of its recorded time once every fulfillment event is known.
func (sv *storefrontView) order(occurred, recorded time.Time, topic string, ship int, orderFields bool) {
	ev := &storefrontEvent{eventType: topic, ship: ship, orderFields: orderFields}
	if topic == "fulfillments/create" {
		ev.fulfilled = "success"
	}
	sv.rc.add(ev, occurred, recorded)
	sv.orders = append(sv.orders, orderWebhook{ev: ev, rec: sv.rc.recs[len(sv.rc.recs)-1], financial: sv.financial, cancelled: sv.cancelled})
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
	rc.add(&storefrontEvent{eventType: "fulfillment_events/create", statusType: view.TypeShipment,
		status: status, shipment: status, ship: f.ship}, f.at, recorded)
	sv.tracked[f.ship] = append(sv.tracked[f.ship], tracked{rc.recs[len(rc.recs)-1].recorded, status})
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
