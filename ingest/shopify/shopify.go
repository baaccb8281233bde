// Package shopify adapts Shopify webhooks (REST/JSON webhook payloads) to
// storefront source events.
//
// Shopify sends the resource itself as the body (an order, a fulfillment, a
// fulfillment event, a refund) and says what it is in X-Shopify-Topic. The
// body is signed with the app's client secret: X-Shopify-Hmac-Sha256 is the
// base64 HMAC-SHA256 of the raw body. X-Shopify-Webhook-Id is the same on
// every retry of one delivery, so it is the de-duplication key.
//
// One webhook is one storefront event: what the storefront shows the
// customer at one moment is one status, and the viewer checks compare the
// storefront's latest report with the truth. An order carries three
// statuses (its own open/closed/cancelled, its financial_status, its
// fulfillment_status), a fulfillment two (its status and its
// shipment_status); package view picks the one the order status page shows
// (refunded or cancelled first, then fulfilment and shipment status, then
// payment) as status_type and status, and the others stay on the event for
// analysts (order_status, financial_status, fulfillment_status,
// shipment_status, shipment_fulfillment_status). The event ID is
// X-Shopify-Webhook-Id: stable across retries.
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
	"github.com/baton-pipeline/baton/ingest/shopify/view"
	"github.com/baton-pipeline/baton/schemas"
)

// Headers Shopify sets on every webhook.
const (
	HeaderTopic     = "X-Shopify-Topic"
	HeaderHMAC      = "X-Shopify-Hmac-Sha256"
	HeaderWebhookID = "X-Shopify-Webhook-Id"
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

// event starts the storefront event of this delivery, showing shown.
func (d delivery) event(shown view.Shown) map[string]any {
	return map[string]any{
		"event_id":    d.id,
		"event_type":  d.topic,
		"status_type": shown.Type,
		"status":      shown.Status,
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

// orderEvents maps orders/create, orders/updated and orders/cancelled to
// the one event showing what the order shows (view.Order.Shows), with the
// order's three statuses as fields (a null fulfillment_status stays null:
// Shopify's "unfulfilled").
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
	order := view.Order{
		Cancelled:   o["cancelled_at"] != nil,
		Closed:      o["closed_at"] != nil,
		Financial:   o.String("financial_status"),
		Fulfillment: o.String("fulfillment_status"),
	}
	for _, f := range o.Objects("fulfillments") {
		order.Fulfillments = append(order.Fulfillments, fulfillment(f))
	}
	ev := d.event(order.Shows())
	ev["order_id"] = orderID
	ev["order_number"] = ingest.Nullable(o.String("name"))
	ev["order_status"] = order.Status()
	ev["financial_status"] = ingest.Nullable(order.Financial)
	ev["fulfillment_status"] = ingest.Nullable(order.Fulfillment)
	ev["customer_id"] = ingest.Nullable(o.Object("customer").String("id"))
	ev["occurred_at"] = occurred
	ev["recorded_at"] = recorded
	return []map[string]any{ev}, nil
}

// fulfillment reads a fulfillment's two statuses.
func fulfillment(f ingest.Object) view.Fulfillment {
	return view.Fulfillment{Status: f.String("status"), ShipmentStatus: f.String("shipment_status")}
}

// fulfillmentEvents maps fulfillments/create and fulfillments/update to
// the one event showing what the fulfillment shows (view.Fulfillment.Shows:
// its shipment_status, the tracking the customer sees, when it has one and
// is not cancelled or failed; else its status), with both as fields.
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
	if _, err := f.Require("fulfillment", "status"); err != nil {
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
	ful := fulfillment(f)
	ev := d.event(ful.Shows())
	ev["order_id"] = orderID
	ev["shipment_id"] = shipmentID
	ev["shipment_status"] = ingest.Nullable(ful.ShipmentStatus)
	ev["shipment_fulfillment_status"] = ful.Status
	ev["tracking_number"] = ingest.Nullable(tracking)
	ev["carrier"] = ingest.Nullable(f.String("tracking_company"))
	ev["occurred_at"] = occurred
	ev["recorded_at"] = recorded
	return []map[string]any{ev}, nil
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
	ev := d.event(view.Shown{Type: view.TypeShipment, Status: status})
	ev["order_id"] = orderID
	ev["shipment_id"] = shipmentID
	ev["shipment_status"] = status // the fulfillment's shipment_status from now on
	ev["occurred_at"] = occurred
	ev["recorded_at"] = recorded
	return []map[string]any{ev}, nil
}

// refundEvents maps refunds/create. A refund has no status of its own; its
// refund transaction's status (success, pending, failure, error) says
// whether money went back, and "created" stands in when it carries none.
// A refund cannot say whether it is full (the status map gives it no
// order status); the orders/updated Shopify sends with it can.
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
	ev := d.event(view.Shown{Type: view.TypeRefund, Status: status})
	ev["order_id"] = orderID
	ev["occurred_at"] = occurred
	ev["recorded_at"] = recorded
	return []map[string]any{ev}, nil
}
