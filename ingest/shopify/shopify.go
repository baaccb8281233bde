// Package shopify adapts Shopify webhooks (REST/JSON webhook payloads) to
// storefront source events.
//
// Shopify sends the resource itself as the body (an order, a fulfillment, a
// fulfillment event, a refund) and says what it is in X-Shopify-Topic. The
// body is signed with the app's client secret: X-Shopify-Hmac-Sha256 is the
// base64 HMAC-SHA256 of the raw body. X-Shopify-Webhook-Id is the same on
// every retry of one delivery, so it is the de-duplication key.
//
// One webhook can become several events: an order carries three statuses a
// customer can see (the order's own open/closed/cancelled, its
// financial_status and its fulfillment_status), and each is one event, so
// the downstream viewer checks can compare each vocabulary on its own. Event
// IDs are "<X-Shopify-Webhook-Id>#<status_type>": stable across retries,
// distinct within a delivery.
//
// Times: occurred_at is when the change happened (for a fulfillment event,
// Shopify's happened_at, which copies the carrier's scan time); recorded_at
// is when Shopify itself recorded it (created_at of the fulfillment event,
// updated_at of an order or fulfillment). Sync latency is measured on
// recorded_at, so the two must never be mixed up.
package shopify

import (
	"fmt"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// Headers Shopify sets on every webhook.
const (
	HeaderTopic     = "X-Shopify-Topic"
	HeaderHMAC      = "X-Shopify-Hmac-Sha256"
	HeaderWebhookID = "X-Shopify-Webhook-Id"
)

// Status types (storefront_event.status_type): which Shopify vocabulary an
// event's status is from.
const (
	StatusOrder             = "order"              // open, closed, cancelled
	StatusFinancial         = "financial_status"   // pending, authorized, paid, partially_refunded, refunded, voided, ...
	StatusFulfillment       = "fulfillment_status" // unfulfilled (null), partial, fulfilled, restocked
	StatusFulfillmentObject = "fulfillment"        // a fulfillment's status: pending, open, success, cancelled, error, failure
	StatusFulfillmentEvent  = "fulfillment_event"  // FulfillmentEventStatus: label_printed ... in_transit ... delivered
	StatusRefund            = "refund"             // the refund transaction's status: success, pending, failure, error
)

// Adapter is the Shopify webhook adapter, served at /webhooks/shopify.
type Adapter struct {
	secret []byte
}

// New returns the adapter; secret is the app's client secret (API secret
// key), or for a webhook created in the shop admin, the key shown there.
func New(secret string) *Adapter { return &Adapter{secret: []byte(secret)} }

// Vendor is "shopify".
func (a *Adapter) Vendor() string { return "shopify" }

// System is the storefront.
func (a *Adapter) System() schemas.System { return schemas.Storefront }

// Verify checks X-Shopify-Hmac-Sha256 against the raw body.
func (a *Adapter) Verify(req ingest.Request) error {
	return ingest.VerifyHMAC(HeaderHMAC, req.Header.Get(HeaderHMAC), ingest.Base64, a.secret, req.Body)
}

// Sign returns the X-Shopify-Hmac-Sha256 Shopify would send for body.
func Sign(secret string, body []byte) string { return ingest.SignBase64([]byte(secret), body) }

// topics are the webhook topics baton subscribes to; any other is
// ErrUnsupported (422), since subscribing to it was a configuration mistake.
var topics = map[string]func(d delivery) ([]map[string]any, error){
	"orders/create":             orderEvents,
	"orders/updated":            orderEvents,
	"orders/cancelled":          orderEvents,
	"fulfillments/create":       fulfillmentEvents,
	"fulfillments/update":       fulfillmentEvents,
	"fulfillment_events/create": fulfillmentEventEvents,
	"refunds/create":            refundEvents,
}

// delivery is one webhook being adapted.
type delivery struct {
	topic string
	id    string // X-Shopify-Webhook-Id, or derived from topic and body
	body  ingest.Object
	req   ingest.Request
}

// Adapt maps one webhook to storefront events (see the package doc).
func (a *Adapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	topic := req.Header.Get(HeaderTopic)
	if topic == "" {
		return nil, fmt.Errorf("%s header missing: cannot tell what the body is", HeaderTopic)
	}
	adapt, ok := topics[topic]
	if !ok {
		return nil, fmt.Errorf("%w: Shopify topic %q (baton handles orders/create, orders/updated, orders/cancelled, fulfillments/create, fulfillments/update, fulfillment_events/create, refunds/create)", ingest.ErrUnsupported, topic)
	}
	body, err := ingest.DecodeObject(req.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", topic, err)
	}
	id := req.Header.Get(HeaderWebhookID)
	if id == "" {
		id = ingest.DerivedID("shopify", topic, string(req.Body))
	}
	events, err := adapt(delivery{topic: topic, id: id, body: body, req: req})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", topic, err)
	}
	return events, nil
}

// event starts a storefront event of this delivery with its status.
func (d delivery) event(statusType, status string) map[string]any {
	return map[string]any{
		"event_id":    d.id + "#" + statusType,
		"event_type":  d.topic,
		"status_type": statusType,
		"status":      status,
	}
}

// times returns occurred_at from the first of occurredKeys set and
// recorded_at from the first of recordedKeys set, each falling back to the
// delivery's arrival: every event keeps both times, even when Shopify sent
// only one.
func (d delivery) times(where string, occurredKeys, recordedKeys []string) (occurred, recorded string, err error) {
	recorded, _, ok, err := d.body.Time(where, recordedKeys...)
	if err != nil {
		return "", "", err
	}
	if !ok {
		recorded = ingest.FormatTime(d.req.Received)
	}
	occurred, _, ok, err = d.body.Time(where, occurredKeys...)
	if err != nil {
		return "", "", err
	}
	if !ok {
		occurred = recorded
	}
	return occurred, recorded, nil
}

// orderEvents maps orders/create, orders/updated and orders/cancelled: one
// event per status the order carries. A null fulfillment_status is how
// Shopify's REST payload says "unfulfilled" (what the customer sees), so
// it becomes that status; a null financial_status is left out.
func orderEvents(d delivery) ([]map[string]any, error) {
	o := d.body
	orderID, err := o.Require("order", "id")
	if err != nil {
		return nil, err
	}
	occurredKeys := map[string][]string{
		"orders/create":    {"created_at"},
		"orders/updated":   {"updated_at"},
		"orders/cancelled": {"cancelled_at", "updated_at"},
	}[d.topic]
	occurred, recorded, err := d.times("order", occurredKeys, []string{"updated_at", "created_at"})
	if err != nil {
		return nil, err
	}
	orderStatus := "open"
	switch {
	case o["cancelled_at"] != nil:
		orderStatus = "cancelled"
	case o["closed_at"] != nil:
		orderStatus = "closed"
	}
	financial, fulfillment := o.String("financial_status"), o.String("fulfillment_status")
	statuses := [][2]string{{StatusOrder, orderStatus}}
	if financial != "" {
		statuses = append(statuses, [2]string{StatusFinancial, financial})
	}
	shown := fulfillment
	if shown == "" {
		shown = "unfulfilled"
	}
	statuses = append(statuses, [2]string{StatusFulfillment, shown})

	events := make([]map[string]any, 0, len(statuses))
	for _, s := range statuses {
		ev := d.event(s[0], s[1])
		ev["order_id"] = orderID
		ev["order_number"] = ingest.Nullable(o.String("name"))
		ev["financial_status"] = ingest.Nullable(financial)
		ev["fulfillment_status"] = ingest.Nullable(fulfillment)
		ev["customer_id"] = ingest.Nullable(o.Object("customer").String("id"))
		ev["occurred_at"] = occurred
		ev["recorded_at"] = recorded
		events = append(events, ev)
	}
	return events, nil
}

// fulfillmentEvents maps fulfillments/create and fulfillments/update: the
// fulfillment's own status, and its shipment_status (the latest
// fulfillment event status, what the customer's order page shows) when set.
func fulfillmentEvents(d delivery) ([]map[string]any, error) {
	f := d.body
	orderID, err := f.Require("fulfillment", "order_id")
	if err != nil {
		return nil, err
	}
	shipmentID, err := f.Require("fulfillment", "id")
	if err != nil {
		return nil, err
	}
	status, err := f.Require("fulfillment", "status")
	if err != nil {
		return nil, err
	}
	occurredKey := "updated_at"
	if d.topic == "fulfillments/create" {
		occurredKey = "created_at"
	}
	occurred, recorded, err := d.times("fulfillment", []string{occurredKey, "created_at"}, []string{"updated_at", "created_at"})
	if err != nil {
		return nil, err
	}
	tracking := f.String("tracking_number")
	if tracking == "" {
		if all := f.Strings("tracking_numbers"); len(all) > 0 {
			tracking = all[0]
		}
	}
	statuses := [][2]string{{StatusFulfillmentObject, status}}
	if s := f.String("shipment_status"); s != "" {
		statuses = append(statuses, [2]string{StatusFulfillmentEvent, s})
	}
	events := make([]map[string]any, 0, len(statuses))
	for _, s := range statuses {
		ev := d.event(s[0], s[1])
		ev["order_id"] = orderID
		ev["shipment_id"] = shipmentID
		ev["tracking_number"] = ingest.Nullable(tracking)
		ev["carrier"] = ingest.Nullable(f.String("tracking_company"))
		ev["occurred_at"] = occurred
		ev["recorded_at"] = recorded
		events = append(events, ev)
	}
	return events, nil
}

// fulfillmentEventEvents maps fulfillment_events/create: a tracking update
// on one fulfillment. happened_at is the carrier's time, created_at the
// time Shopify recorded (and so showed) it.
func fulfillmentEventEvents(d delivery) ([]map[string]any, error) {
	e := d.body
	orderID, err := e.Require("fulfillment_event", "order_id")
	if err != nil {
		return nil, err
	}
	shipmentID, err := e.Require("fulfillment_event", "fulfillment_id")
	if err != nil {
		return nil, err
	}
	status, err := e.Require("fulfillment_event", "status")
	if err != nil {
		return nil, err
	}
	occurred, recorded, err := d.times("fulfillment_event", []string{"happened_at", "created_at"}, []string{"created_at", "updated_at"})
	if err != nil {
		return nil, err
	}
	ev := d.event(StatusFulfillmentEvent, status)
	ev["order_id"] = orderID
	ev["shipment_id"] = shipmentID
	ev["occurred_at"] = occurred
	ev["recorded_at"] = recorded
	return []map[string]any{ev}, nil
}

// refundEvents maps refunds/create. A refund has no status of its own; its
// refund transaction's status (success, pending, failure, error) says
// whether money went back, and "created" stands in when it carries none.
func refundEvents(d delivery) ([]map[string]any, error) {
	r := d.body
	orderID, err := r.Require("refund", "order_id")
	if err != nil {
		return nil, err
	}
	status := "created"
	for _, tx := range r.Objects("transactions") {
		if tx.String("kind") == "refund" && tx.String("status") != "" {
			status = tx.String("status")
			break
		}
	}
	occurred, recorded, err := d.times("refund", []string{"processed_at", "created_at"}, []string{"created_at"})
	if err != nil {
		return nil, err
	}
	ev := d.event(StatusRefund, status)
	ev["order_id"] = orderID
	ev["occurred_at"] = occurred
	ev["recorded_at"] = recorded
	return []map[string]any{ev}, nil
}
