// Package view is the one-view rule for Shopify: the single status a
// Shopify webhook shows the customer, which the storefront reports as its
// view of the order.
//
// A viewer is checked on one latest status (package synccheck), and one
// webhook is one moment of the storefront, so each webhook is one report:
// an order carries three statuses (its own open/closed/cancelled, its
// financial_status, its fulfillment_status), and reporting each as an
// event of its own, all at the same time, let whichever came last stand
// for the storefront — "unfulfilled" after "cancelled", "fulfilled" after
// a delivery. The rule is the order status page's: what ends the order
// first, then how far its shipments got, then its payment.
//
// The package is plain logic over the fields Shopify sends, with no
// dependencies, so the adapter (ingest/shopify) and the simulator, which
// models a Shopify storefront, apply the same rule. A Shown is looked up
// in the storefront status map as (status_type, status); the rule picks a
// Shopify code, the map says what it means.
package view

// Status types (storefront_event.status_type): which Shopify vocabulary a
// shown status is from.
const (
	TypeOrder             = "order"              // the order's own status: open, closed, cancelled
	TypeFinancial         = "financial_status"   // pending, authorized, partially_paid, paid, partially_refunded, refunded, voided, expired
	TypeFulfillment       = "fulfillment_status" // the order's: partial, fulfilled, restocked (null: unfulfilled)
	TypeFulfillmentObject = "fulfillment"        // a fulfillment's own status: pending, open, success, cancelled, error, failure
	TypeShipment          = "fulfillment_event"  // FulfillmentEventStatus, also a fulfillment's shipment_status: label_printed ... delivered
	TypeRefund            = "refund"             // a refund transaction's status: success, pending, failure, error
)

// Shown is the one status a webhook shows: Status in the vocabulary Type.
type Shown struct {
	Type, Status string
}

// Order is what an orders/create, orders/updated or orders/cancelled
// webhook says about the order. Empty strings stand for Shopify's nulls.
type Order struct {
	Cancelled    bool          // cancelled_at is set
	Closed       bool          // closed_at is set (archived)
	Financial    string        // financial_status
	Fulfillment  string        // fulfillment_status; "" is unfulfilled
	Fulfillments []Fulfillment // fulfillments, as embedded in the order
}

// Status is the order's own status: cancelled, closed or open.
func (o Order) Status() string {
	switch {
	case o.Cancelled:
		return "cancelled"
	case o.Closed:
		return "closed"
	}
	return "open"
}

// Shows returns what the order shows, the first of:
//
//  1. refunded in full (financial_status refunded): the last word on the
//     order's money, also for a cancelled order. The truth ranks it the
//     same way (package unify: REFUNDED before CANCELLED), and a viewer
//     showing REFUNDED while the truth is CANCELLED is not contradicting
//     it, whereas one showing CANCELLED could never reflect the REFUNDED
//     that the OMS's refund brings. A partial refund ends nothing.
//  2. cancelled: "Order canceled", whatever its payment and fulfilment say
//     (Shopify sends fulfillment_status null, i.e. unfulfilled, with it).
//  3. its fulfilment, once anything is fulfilled: fulfilled shows its
//     parcels' shipment_status when all its live fulfillments (neither
//     cancelled nor failed) share one — so an orders/updated after the
//     delivery (a tag edit, a note) shows "delivered", not the
//     "fulfilled" behind it — and fulfilled otherwise (no tracking yet,
//     or parcels at different stages: the least that is true of all);
//     partial shows partial, since the storefront has no order-level
//     word for "partly delivered" (its parcels' own reports say that);
//     any other value (restocked) as it is.
//  4. its payment, while nothing is fulfilled (pending, authorized,
//     paid, ...).
//  5. its own status (open, closed), when Shopify sent no
//     financial_status.
func (o Order) Shows() Shown {
	switch {
	case o.Financial == "refunded":
		return Shown{TypeFinancial, o.Financial}
	case o.Cancelled:
		return Shown{TypeOrder, o.Status()}
	case o.Fulfillment == "fulfilled":
		if s := commonShipmentStatus(o.Fulfillments); s != "" {
			return Shown{TypeShipment, s}
		}
		return Shown{TypeFulfillment, o.Fulfillment}
	case o.Fulfillment != "":
		return Shown{TypeFulfillment, o.Fulfillment}
	case o.Financial != "":
		return Shown{TypeFinancial, o.Financial}
	}
	return Shown{TypeOrder, o.Status()}
}

// commonShipmentStatus returns the shipment_status every live fulfillment
// has, or "" when there is none, one has none or two differ.
func commonShipmentStatus(fs []Fulfillment) string {
	common := ""
	for _, f := range fs {
		if !f.live() {
			continue
		}
		if f.ShipmentStatus == "" || (common != "" && f.ShipmentStatus != common) {
			return ""
		}
		common = f.ShipmentStatus
	}
	return common
}

// Fulfillment is what a fulfillments/create or fulfillments/update webhook
// (or an order's embedded fulfillment) says about one fulfillment, the
// storefront's word for a parcel.
type Fulfillment struct {
	Status         string // pending, open, success, cancelled, error, failure
	ShipmentStatus string // the latest fulfillment event's status; "" when none
}

// live reports whether the fulfillment still stands for a parcel on its
// way: not cancelled, and its request did not fail.
func (f Fulfillment) live() bool {
	switch f.Status {
	case "cancelled", "error", "failure":
		return false
	}
	return true
}

// Shows returns what the fulfillment shows: its status when it no longer
// stands for a parcel (cancelled, error, failure: a shipment_status it
// still carries is stale), else its shipment_status when it has one (the
// tracking the customer sees: in_transit, delivered, ...), else its status
// (pending, open, success).
func (f Fulfillment) Shows() Shown {
	if f.live() && f.ShipmentStatus != "" {
		return Shown{TypeShipment, f.ShipmentStatus}
	}
	return Shown{TypeFulfillmentObject, f.Status}
}
