// Package simulator generates realistic order lifecycles across baton's six
// source systems, for `baton simulate`, tests and benchmarks.
//
// # Model
//
// Each order is first planned as a truth: a list of facts (placed,
// confirmed, released … shipped, carrier scans, delivered, or the hard
// cases), each at the time it really happened and with the time its
// authority recorded it. Each system's events are then projections of the
// facts in that system's own vocabulary:
//
//   - authorities record their own facts: the storefront placement and
//     payments, the OMS holds, confirmations, cancellations, returns and
//     refunds (a Debezium stream of the orders table), the WMS's operations
//     per parcel, the carrier's scans (through EasyPost or AfterShip);
//   - viewers reflect facts after their own delay, counted from when the
//     authority recorded the fact: the storefront in seconds to minutes, the
//     help desk's order-status field in minutes to hours, notifications in
//     seconds; each has a slow tail beyond the 5-minute sync target and a
//     small share of changes it never shows.
//
// occurred_at is when the fact happened (a storefront fulfillment event
// copies the carrier's scan time); recorded_at is when the emitting system
// recorded or showed it. Event IDs are unique per source event and derived
// from the order index, so they are deterministic.
//
// Tracking numbers resolve to orders through the WMS: every outbound
// tracking number appears in a WMS shipped event for the same order (labels
// of parcels cancelled before pickup are voided). A customer's return label
// is the exception: the WMS links it only when the return is checked in
// (return_received, after the carrier delivered it to the warehouse), and
// AfterShip scans carry the order ID for 60% of its trackings; until then a
// normalizer must hold those scans.
//
// # Hard cases
//
// By Config share: split shipments (2–3 parcels, some backordered and
// shipped after the first is delivered), OMS holds, cancellations (before
// shipping, or after: the parcel is then delivered anyway), carrier
// exceptions (delay with a revised ETA, damage then return to sender,
// loss then refund), failed attempts (re-attempt, pickup point, or an
// unclaimed pickup returned to sender), returns after delivery (RMA, return
// label scans, WMS return_received, refund), WISMO tickets, delay notices
// when a promised ship-by or deliver-by date is missed (a fifth are never
// sent), and the delivery quirks: duplicates (the same event, same
// event_id and content, delivered again up to 15 minutes later) and
// out-of-order arrival (an event delivered after a later event of the same
// system and record key).
//
// # Vocabularies
//
// Each system speaks its own, unmapped; the normalize stage's status maps
// must cover all of these.
//
//   - storefront (Shopify), by status_type: order: open, cancelled;
//     financial_status: paid, refunded, partially_refunded;
//     fulfillment_status: partial, fulfilled; fulfillment_event:
//     label_printed, confirmed, carrier_picked_up, in_transit, delayed,
//     out_for_delivery, attempted_delivery, ready_for_pickup, delivered,
//     failure. event_type: orders/create, orders/updated, orders/cancelled,
//     fulfillments/create, fulfillment_events/create, refunds/create.
//     The financial_status field: paid, authorized, pending, refunded,
//     partially_refunded, voided; the fulfillment_status field:
//     unfulfilled (Shopify's null), partial, fulfilled.
//     label_printed/confirmed events are backfilled: their occurred_at is
//     the label scan at the pack station, hours before the fulfillment (and
//     so the event) existed.
//   - oms (Debezium, op c/u): NEW, ON_HOLD (hold_reason payment_pending,
//     fraud_review, address_verification), CONFIRMED, ALLOCATED,
//     PARTIALLY_SHIPPED, SHIPPED, CANCELLED, RETURN_AUTHORIZED (return_id
//     set from here on), PARTIALLY_REFUNDED, REFUNDED; previous_status is
//     the status before the change.
//   - wms: released, picked, packed, shipped, return_received.
//   - carrier, EasyPost (status/status_detail): pre_transit/label_created;
//     in_transit/received_at_origin_facility, departed_facility,
//     arrived_at_facility, received_at_destination_facility, weather_delay,
//     delayed, delivery_exception (a failed attempt);
//     out_for_delivery/out_for_delivery;
//     available_for_pickup/arrived_at_pickup_location;
//     delivered/arrived_at_destination; failure/lost, damaged;
//     return_to_sender/return. EasyPost has no failed-attempt or delay
//     status, so a map must key on status_detail for in_transit.
//   - carrier, AfterShip (tag/subtag): InfoReceived/InfoReceived_001;
//     InTransit/InTransit_002, _003, _007; OutForDelivery/OutForDelivery_001;
//     AttemptFail/AttemptFail_001, _002, _003;
//     AvailableForPickup/AvailableForPickup_001; Delivered/Delivered_001,
//     _002 (picked up), _003 (signed); Exception/Exception_005 (delayed),
//     _010 (returning to sender), _011 (returned to sender), _012 (damaged),
//     _013 (lost). Return to sender is an Exception subtag, and a delay is
//     an Exception too, so a map must key on the subtag for Exception.
//     Carrier codes: UPS, FedEx, USPS, DHL. A return label's Delivered
//     scan means delivered back to the warehouse.
//   - helpdesk (Zendesk): ticket_status new, open, pending, solved,
//     closed; event_type created, status_changed, tags_changed,
//     field_changed; tags wismo, order_status, return_request;
//     order_status_shown: Pending, Payment pending, On hold, Confirmed,
//     Processing, Shipped, Partially shipped, In transit, Delayed, Out for
//     delivery, Delivery attempted, Ready for pickup, Partially delivered,
//     Delivered, Exception, Returning to sender, Cancelled, Return
//     requested, Return in transit, Returned, Partially refunded, Refunded
//     (null on tickets without an order).
//   - notifications: order_confirmation, shipping_confirmation,
//     out_for_delivery, delivered, delivery_failed, ready_for_pickup,
//     delay_notice (with revised_date), cancellation, refund; channel
//     email, sms; delivery_status sent, delivered, bounced, failed.
//
// # Determinism and memory
//
// Generate is a pure function of its Config: every draw comes from PCG
// streams seeded by Config.Seed (one per order, so an order's content
// depends only on the seed and its index), no map is iterated for output
// and no clock is read. Events are buffered in a min-heap by arrival time
// only until no later order can precede them, so memory is bounded by the
// orders in flight (rate × lifecycle span), not by Config.Orders.
package simulator
