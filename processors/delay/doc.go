// Package delay tells customers before they ask: it detects when an
// order's promise will be missed, produces a delay notice for it (the US
// FTC mail-order rule's notice: the promise, a revised date or why there is
// none, whether the customer may cancel for a full refund, and the
// deadline by which the customer must be told), and checks that the
// notifications viewer actually told the customer (notification sync): a
// notice not told by its deadline emits one failed sync of reason
// delay_not_notified, like the viewer checks of package synccheck.
//
// The package is pure logic: no Kafka, no clock. The unify stage holds one
// Order inside each order's state and calls the Detector with every
// canonical event of the order and the order's truth after it (Observe),
// when the partition watermark passes the order's next due time (Due) and
// when the order is evicted (Evict). Times are Unix milliseconds; w, the
// partition's event-time watermark, is passed to every call and is the only
// clock: detected_at, closed_at, updated_at and a failed sync's detected_at
// are w. The same calls give the same records, byte for byte, also after
// the Order went through AppendBinary and DecodeOrder between any two
// calls.
//
// # Promises
//
// Storefront and OMS events carry promised_ship_by and promised_deliver_by:
// per kind, the latest statement by event time is the promise, the
// earliest is the original (original_promise). An order that promised no
// ship-by has the FTC default: placement + 30 days (Config.DefaultShipWindow;
// placement is the earliest storefront or OMS event time), flagged
// promise_is_default. No deliver-by is assumed: an order without one misses
// no delivery promise. The carrier's estimated_delivery (carrier events,
// not a customer's return parcel) is kept per parcel (by tracking number,
// else shipment ID), latest by event time; the order's estimate is its last
// parcel's.
//
// The date in force of a kind is the later of the promise and the revised
// date — a notice's own revised date, the revised_date of a delay message
// that told a notice of that kind, or (deliver-by) the order's estimate
// once a notice covered the date (below). A notice covers the date in force
// it says is missed: a date in force at or before a covered one needs no
// other notice; a later one (a re-promise, a revised date) is uncovered
// again, and missing it is a new notice that renews the earlier one (the
// mail-order rule's renewed consent), its renews field naming it.
//
// # Detection
//
// At most one notice covers a date in force, whatever its reason.
//
//   - ship_by_missed (Due): the watermark passes the ship-by in force (w >
//     date) while the order has not shipped by it: its truth never reached
//     SHIPPED or later (PARTIALLY_SHIPPED has not; CANCELLED and REFUNDED
//     never arm the timer), or reached it after the date (baton learned of
//     a late shipment before the timer fired). known_at and cause_at are
//     the date itself; may_cancel is true (the rule's cancel-for-refund
//     option); revised_date is the order's estimate when a label exists.
//     When the truth then reaches a shipped status at a time at or before
//     the date (the warehouse's event reached baton late), the open notice
//     closes WITHDRAWN. A truth that goes back before SHIPPED (the OMS
//     announces another parcel) un-ships the order. PARTIALLY_DELIVERED
//     counts as shipped: the order-level truth cannot tell that a
//     backordered parcel still waits once another is delivered. A ship-by
//     in force that lapsed before the order's first sight — the earliest
//     recorded_at of its events (else occurred_at) — arms nothing: baton
//     met the order after the date (a Debezium snapshot reads a row as it
//     is today, its recorded_at the snapshot's; a backfill starts in the
//     middle of an order; an evicted order is seen again), so whether it
//     shipped in time and whether the customer was told happened before
//     baton could see. (A returned order's snapshot row has its ship-by
//     hours before its last change: judged, it was a false ship_by_missed
//     and delay_not_notified for every old order a snapshot reads.) A
//     later date in force, a re-promise, is judged as usual.
//   - eta_past_promise (Observe): a carrier event moves a parcel's
//     estimate from at or before the deliver-by in force to after it. A
//     parcel's first estimate is no move, nor is a later one of a parcel
//     already past the date: the issue asks for the estimate moving past
//     the promise, and the simulator's merchant announces exactly those
//     (an estimate past the promise from the label on is a promise broken
//     at checkout, not a delay the carrier reported). revised_date is the
//     order's estimate. known_at is the carrier event's recorded_at.
//   - exception, delivery_attempt_failed, return_to_sender (Observe): the
//     truth moves into EXCEPTION, DELIVERY_ATTEMPT_FAILED or
//     RETURN_TO_SENDER. missed_promise is the deliver-by in force (null when
//     none was promised). An exception or failed attempt whose carrier event
//     carries an estimate that still keeps the date in force (or when no
//     date was promised) is no delay: no notice. Otherwise revised_date is
//     that estimate when it is past the date, else null. cause_id is the
//     truth transition's ID, cause_at the truth's time, known_at the
//     causing event's recorded_at. A return to sender after an earlier
//     problem notice opens none: the customer heard of the problem that
//     sends the parcel back, and that notice is flagged instead.
//
// A notice without a revised date says why in no_revised_date_reason ("no
// carrier estimate").
//
// # Deadline: notify_by
//
// notify_by = known_at + Config.NotifySLA (5m, the notifications viewer's
// SLA), but never after the date it says is missed when the delay was
// known before that date: min(known_at + SLA, missed_promise) then. known_at
// is when the delay became knowable — the recorded_at of the carrier or
// truth event that revealed it (what the merchant's systems could have
// reacted to; the simulator's messages lag from there too), or, for a
// ship-by, the date itself, the earliest moment baton can tell it passed
// (the rule's "no later than the promised date" is unattainable for a
// detector that learns of it then; the SLA is the grace for the message
// to go out).
//
// # Notification sync
//
// Notifications events whose delivery_status is sent or delivered (bounced
// and failed told no one; anything else is not counted) are remembered
// (the latest eight per order) if they can tell a notice: a delay_notice
// (message_type), or — unless Config.OnlyDelayNoticesTell — a message
// showing a carrier problem (canonical EXCEPTION, DELIVERY_ATTEMPT_FAILED,
// RETURN_TO_SENDER: delivery_failed), since the rule's notice is about
// shipping and a customer told the parcel could not be delivered was told.
// A message tells an open notice when
//
//   - it is a delay_notice whose revised_date is after the notice's
//     missed_promise, or absent, sent at any time for a first notice (so
//     the notice a merchant sends before the ship-by passes counts), and
//     for a renewal after the renewed notice's messages went out (after its
//     notify_by and the message that told it): the email and SMS of an
//     earlier notice, or its revised date, do not tell its renewal; or
//   - the notice is about a carrier problem and the message shows one, sent
//     at or after the problem (for a return to sender, since the order
//     shipped).
//
// The earliest such message tells it: notified_at is its sending time
// (recorded_at), notified_via delay_notice or the status it showed, and its
// revised_date, if any, revises the notice's promise kind. The notice closes
// NOTIFIED if notified_at ≤ notify_by, else LATE. Due at w: an open notice
// with notify_by < w emits its failed sync (reason delay_not_notified,
// viewer notifications, expected_status delay_notice, check_id the
// notice_id, truth_at known_at, deadline notify_by) and stays open for a
// late message; one with notify_by + Config.MissingAfter (24h) < w closes
// NOT_NOTIFIED. Every LATE and NOT_NOTIFIED notice has exactly one failed
// sync; a NOTIFIED one may have one too (a message sent in time that
// reached baton after the watermark passed notify_by).
//
// # Cancellation and refund
//
// An order whose truth becomes CANCELLED or REFUNDED closes its open
// notices: CANCELLED if not yet failed (a cancellation with a refund
// answers the delay: nothing to tell), else NOT_NOTIFIED. An order
// cancelled before it shipped after a missed ship-by will never ship: its
// latest ship_by_missed notice is flagged refund_due (cancelled_before_
// shipping); a return to sender is flagged refund_due (return_to_sender)
// on its own notice or on the problem notice that stands for it. A flag set
// on a closed notice emits a new version of it.
//
// # Records
//
// Output.Notices are delay_notice values (schema below): every call emits,
// for each notice it opened or changed, one record with the notice's state
// after the call and a version one higher (1 when opened): keep the highest
// version per notice_id (ClickHouse ReplacingMergeTree(version)). A notice
// opened and told in the same call is emitted once, closed. Output.Failed
// are failed_sync values (schemas/avro/failed_sync.avsc).
//
// An order evicted and then started afresh (an event after its eviction)
// is detected again from nothing: a notice found again has the same
// notice_id and starts over at version 1, so consumers keeping the highest
// version keep the first life's.
//
// notice_id is 16 hex digits of a 64-bit FNV-1a hash over the order ID,
// the reason, the promise kind and missed_promise in decimal ms, each
// followed by a NUL: an order has at most one notice per kind and date in
// force, so the ID is unique, and the same on every replay.
//
// Fields (testdata/delay_notice.avsc): notice_id, order_id, reason,
// promise (ship_by, deliver_by), renews (null or the notice_id renewed),
// original_promise, promise_is_default, missed_promise, revised_date (null
// or the new date), no_revised_date_reason (null when revised_date is set),
// shipment_id, carrier, cause_id, cause_authority (the system of the
// causing event; "" for a ship-by), cause_at, known_at, notify_by,
// detected_at, may_cancel, refund_due, refund_due_reason, state (open,
// closed), outcome (null while open; NOTIFIED, LATE, NOT_NOTIFIED,
// WITHDRAWN, CANCELLED), notified, notified_at, notified_via,
// failed_sync_emitted, closed_at, version, updated_at.
//
// # Untold
//
// Order.AppendUntold (and Untold) lists the notices the customer was owed
// and not told in time, for WISMO attribution (package wismo): a ticket is
// attributed to what the customer faced when asking, and it often reaches
// baton after the notice closed. An Untold has the notice_id (its failed
// sync's check_id), reason, known_at, notify_by and the time a message
// told it (0: never). It lists every notice open (untold: a notice is
// open until told), closed NOT_NOTIFIED, or closed LATE (told after
// notify_by); not those told in time (NOTIFIED), withdrawn (the delay
// proved false: nothing was owed) or cancelled before they failed (the
// cancellation answered the delay). The caller compares notify_by and the
// telling with the ticket's time.
//
// A notice dropped from the order's notices to make room (below) is still
// listed when it was owed (NOT_NOTIFIED or LATE): the order remembers the
// last four such, oldest forgotten first, so Untold lists at most 20
// notices. Evict forgets everything. Neither list changes a record.
//
// # State
//
// An Order is 240 bytes: its placement and first sight, two promises, the
// truth, and slices of at most 16 parcel estimates, 8 messages, 16 notices
// (closed ones are kept for renewals and refund flags; the oldest closed
// is dropped for a seventeenth) and 4 untold notices dropped (40 bytes
// each).
// AppendBinary writes it compactly (varints, statuses by name, a format
// byte first; an empty order is that byte); DecodeOrder reads it back and
// rejects corrupt input with an error, never a panic. Format 2 added the
// dropped untold notices, format 3 the first sight; DecodeOrder still
// reads formats 1 and 2 (an order from them has no first sight: each of
// its ship-by dates is judged).
package delay
