// Package simulator generates realistic order lifecycles across baton's
// seven source systems, for `baton simulate`, tests and benchmarks.
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
//   - storefront (Shopify), one event per webhook showing its one status
//     as the Shopify adapter does (package ingest/shopify/view: refunded
//     or cancelled first, then fulfilment and shipment status, then
//     payment), by status_type: order: cancelled; financial_status: paid,
//     authorized, pending, refunded (rarely partially_refunded);
//     fulfillment_status: partial, fulfilled; fulfillment_event:
//     label_printed, confirmed, carrier_picked_up, in_transit, delayed,
//     out_for_delivery, attempted_delivery, ready_for_pickup, delivered,
//     failure. event_type: orders/create, orders/updated, orders/cancelled,
//     fulfillments/create, fulfillment_events/create, refunds/create (the
//     last two carry the order's view, the orders/updated Shopify sends
//     with them folded in). The order_status field: open, cancelled; the
//     financial_status field: paid, authorized, pending, refunded,
//     partially_refunded, voided; the fulfillment_status field:
//     unfulfilled (Shopify's null), partial, fulfilled; shipment_status
//     (fulfillment events): the event's status;
//     shipment_fulfillment_status (fulfillments/create): success.
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
//   - returns (the returns portal, a feed): rma_created, label_issued,
//     in_transit (the return label's first scan), received, refunded, for
//     the customer returns only, at the facts' own times.
//
// # Ground truth
//
// Config.ViewerFaults (`baton simulate --viewer-faults SPEC --ground-truth
// FILE`) switches to the ground-truth profile, for testing the pipeline's
// viewer checks and WISMO attribution end to end: the run also says, in
// Stats.GroundTruth (the JSON file), exactly what the checks must report —
// per viewer the checks by outcome, the failed syncs by reason, the
// latency quantiles — with the faults injected to make them fail, and what
// the monthly WISMO review must report (see "WISMO tickets" below). The
// profile differs from the realistic one only where a check's outcome
// would otherwise be uncertain:
//
//   - lags are bounded: an authority records a fact within 30 s, a viewer
//     shows a change within 150 s of that (no slow tail) and never misses
//     one, an event reaches Kafka within 20 s; so a viewer that is not
//     faulted shows each change well inside its 5-minute SLA;
//   - the storefront's backfilled label event is left out: it shows PACKED
//     seconds after the fulfillment showed SHIPPED, and whether the SHIPPED
//     check then passes depends on which of the two reports and the
//     warehouse's SHIPPED reaches baton first;
//   - OMS "tick" events (a row update repeating the order's OMS status,
//     which moves no truth) follow each MISSING check's give-up time
//     (deadline + missing_after) and each CONFLICT's deadline when the
//     order has later events, so the watermark passes it before a later
//     report of the viewer arrives (a report after a conflict's deadline
//     settles nothing: with no other traffic on the partition, a viewer
//     repeating its contradiction, as the help desk does on a later ticket
//     event, would join the conflict rather than open another);
//   - sentinel orders (ORD-FLUSH-nnnn, one storefront orders/create each,
//     no checks) come 2 × missing_after + 1 h after the last event, keyed
//     to land on every partition of topics of up to 32 partitions: once the
//     pipeline has read them every check has closed.
//
// Every hard case and delivery quirk stays on: split shipments (with the
// OMS's PARTIALLY_SHIPPED hint), holds, cancellations before and after
// shipping, exceptions, failed attempts and pickups, returns (with return
// labels held for their link), help-desk and return tickets (the tickets
// WismoTicketShare opens are general questions here, tagged order_question:
// the profile's WISMO tickets are injected, below), delay notices,
// duplicates and out-of-order arrival.
//
// The expected checks are computed per order by the simulator's own reading
// of the pipeline's documented rules (judge.go), over its own events: each
// event's status through the status maps, the order's truth derived from
// the authoritative events as package unify does (per-parcel tracks, late
// and regressed reports, the aggregates, the return branch, the order-level
// flags), and each viewer checked as package synccheck does (first sight,
// reflects and covers, the reports a viewer showed before the truth arrived,
// pending conflicts, reports about one parcel of many, SUPERSEDED, one
// failed sync per failed check, MISSING after missing_after). The rules
// themselves — maps, authorities, viewers, SLAs — are the pipeline's,
// passed in as Rules (package simulator/simrules); the tests check the
// reading against the real processors.
//
// An order's expected outcome must not depend on how the pipeline
// interleaves the sources, so each order is judged in arrival order and
// again with any one source stream (a system's events for one record key,
// or the carrier scans held for their link) processed GroundTruthSkew (30
// s) later, or every other stream that much later; with the watermark
// passing deadlines as soon as other orders' traffic moves it or only with
// the order's own events; and with scans held over an hour for their link
// dead-lettered (normalize's hold timeout). An order whose check counts,
// failed syncs, or latencies (beyond GroundTruthLatencyTolerance) differ in
// any of these is drawn again from another random stream (RedrawnOrders,
// a few percent), as is one in which a scan carrying the order reaches
// unify before any event names both its parcel's ID and tracking number
// (unify would count two parcels for a while; not modelled). The ground
// truth is therefore exact for a pipeline that processes each order's
// sources in arrival order to within GroundTruthSkew; it is not for one
// replaying a backlog whose topics are read far apart in event time.
//
// Faults are injected per order and viewer: one uniform draw per viewer
// picks delay, drop or conflict at the configured rates (a share of the
// orders the viewer shows at all), on a random stream of its own, so the
// rates do not change the orders' lifecycles. The fault is tried at up to
// eight random places in the order and kept at the first where, in every
// processing order above, it has exactly its effect on that viewer and
// nothing else changes; otherwise it is counted as skipped:
//
//   - delay: the reports that showed a status in sync (the first one since
//     the truth moved, by email and SMS alike) and every later report of
//     the viewer are held back until the check's deadline + 1–60 minutes,
//     then delivered at once in order: k ≥ 1 checks IN_SYNC → LATE, each
//     with its sla_breached failed sync;
//   - drop: the viewer goes dark for the order from the report that showed
//     a status in sync: that check and every later one of the viewer that
//     was IN_SYNC or LATE are MISSING (each with one failed sync);
//   - conflict: while the truth is in flight (SHIPPED, PARTIALLY_SHIPPED,
//     IN_TRANSIT, OUT_FOR_DELIVERY, PARTIALLY_DELIVERED) and two skews clear
//     of the viewer's own reports, the viewer shows CANCELLED in its own
//     words (storefront orders/cancelled; a help-desk field change to
//     "Cancelled" on an unsolved ticket; a cancellation email), then, its
//     SLA and two skews later, its previous report again: one CONFLICT
//     check with its conflict failed sync.
//
// # WISMO tickets
//
// The ground truth's WISMO section (GroundTruth.Wismo, JSON "wismo") is
// what `baton report wismo --month YYYY-MM` must report: per UTC month
// from the first order's to the last with orders or tickets, the orders
// placed (as the report counts them: the earliest time any event reported
// the order PLACED; the sentinel orders count, in the month of
// sentinels_at, and sentinel_orders says how many) and the WISMO tickets
// (by ticket_at: the occurred_at of the ticket's first event) in rows by
// cause and link, with totals by cause. A run spans two months when
// Config.Start (`--start`) is near a month's end: 3,000 orders at the
// default interval take about 25 hours.
//
// The only WISMO tickets of the profile are injected, at most one per
// order, each a single help-desk event (created, tagged wismo and
// order_status, "Where is my order #n?", no order status shown: the agent
// has not loaded the order, so the ticket is the help desk's first sight
// of the order, if it had none, and its checks follow from there). An
// order gets one by the first of these it offers, at a share of such
// orders drawn on a stream of its own (the tickets never shift the
// orders' lifecycles or faults), at a random time in the spans that aim at
// the cause:
//
//   - viewer_out_of_sync: a storefront or notifications delay fault's
//     held-back check, past its deadline and before the release; or a drop
//     fault's check past its deadline, before it closes MISSING (25%);
//   - delay_not_notified: a delay notice not told in time, after its
//     notify_by and before a message told it (80%);
//   - carrier_exception: a carrier problem (the truth's or a parcel's),
//     from 10 minutes after it, while it lasts (15%);
//   - no_sync_problem: the order confirmed, in flight or delivered (from
//     an hour after delivery), nothing wrong (2.5%).
//
// The expected attribution is the ground truth's own reading of package
// wismo's rules as the unify stage applies them (gtwismo.go): the facts
// unify has when the ticket's first event arrives — the truth and the
// outbound parcels (the judge's truth), the storefront's and
// notifications' lags (the judge's open checks and pending conflicts,
// checks closed LATE until the report that caught up, among the four
// latest failures of the order synccheck remembers), the delay notices not
// told in time (its own reading of package delay over the order's events:
// promises, carrier estimates, ship-by timers on the watermark, problem
// notices, the messages that tell them) — then the first cause by
// precedence, and the link (<authority>-><viewer> of the winning lag, or
// delay_notice->notifications). A time is kept only if the attribution is
// the same in every processing order the checks are proven for (the
// ticket is then part of the order's judged outcome: an order whose
// tickets differ is not kept), GroundTruthWismoMargin (3 minutes) earlier
// and later, whether or not checks closed MISSING or CONFLICT count (their
// end is when the viewer shows the truth again, which the judge does not
// follow), and with no tie between lags that check IDs would break; and
// only if the ticket leaves what the faults did to the checks unchanged.
// Up to four times are tried; a ticket that finds none is not injected
// (GroundTruth.Wismo.Aims counts them). The natural tickets carry no tag
// or subject of the WISMO rules (simrules passes the pipeline's wismo.map:
// the run fails if a ticket is classified otherwise than meant).
//
// Without faults ("none") the checks are the profile's natural ones: a help
// desk that shows the order only on tickets (MISSING once a ticket is
// solved), viewers that race the truth by seconds, parcel reports ahead of
// a split order, refunds and cancellations crossing. WithoutFaults reports
// them for the same orders. ViewerFaults.Trace hands each order's check
// inputs to a test, which can replay them through package synccheck.
//
// # Determinism and memory
//
// Generate is a pure function of its Config: every draw comes from PCG
// streams seeded by Config.Seed (one per order, so an order's content
// depends only on the seed and its index), no map is iterated for output
// and no clock is read. Events are buffered in a min-heap by arrival time
// only until no later order can precede them, so memory is bounded by the
// orders in flight (rate × lifecycle span), not by Config.Orders. The
// ground-truth profile keeps one latency per reflected check as well, for
// exact quantiles: it is meant for test runs of thousands of orders.
package simulator
