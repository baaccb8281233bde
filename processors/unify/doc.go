// Package unify is the second processor: it joins the canonical events of
// each order (the normalize stage's output, keyed by order ID) into one
// canonical timeline and the order's truth — the canonical status decided
// by the authority rules — next to what every system last said.
//
// Per order it keeps: each system's latest view (status, source status,
// event and recorded time); every shipment with its own lifecycle; the
// promised ship-by and deliver-by dates; the order's own pre-fulfilment
// track; the order-level facts (cancelled, return requested, refunded);
// the truth; and the IDs of the events it has seen. Out of each event come
// order_transition records (the timeline), the order's new order_state
// value, and changelog records. Nothing reads the wall clock.
//
// # Authority
//
// Each canonical status has exactly one authority, a system (authority.map,
// embedded; LoadAuthority reads a user's copy). Only an event from the
// status's authority can move a truth; any other event — a viewer (help
// desk, notifications), the storefront's copy of a carrier scan, the OMS's
// mirror of the warehouse's shipping, a carrier's label scan (PACKED is the
// WMS's) — updates its system's view and nothing else. The aggregates
// PARTIALLY_SHIPPED and PARTIALLY_DELIVERED are derived, never reported
// with authority; PARTIALLY_SHIPPED may name a hint system (the OMS by
// default) whose PARTIALLY_SHIPPED, while it is that system's latest word,
// announces that more parcels are coming than the order knows.
//
// # Tracks
//
// Truths live on tracks: the order's own track (PLACED, ON_HOLD,
// CONFIRMED) and one per shipment (RELEASED through DELIVERED, the carrier
// side states, RETURN_IN_TRANSIT, RETURNED). CANCELLED, RETURN_REQUESTED
// and REFUNDED are order-level facts: once stated by their authority they
// stay. A track holds its status, the system that set it, the event time it
// was set (since) and its clock, the latest event time it followed.
//
// An authoritative event for status S on a track in status C, at event
// time t, is decided as follows (ranks are canonical ranks; "line" is the
// main line plus the ordered return branch; "problem" is a side state off
// the line: ON_HOLD, EXCEPTION, RETURN_TO_SENDER, DELIVERY_ATTEMPT_FAILED,
// AVAILABLE_FOR_PICKUP):
//
//   - the track has no status: advance;
//   - S equals C: the track follows the clock, nothing else;
//   - t is older than the clock: late, recorded in the timeline at its
//     event time (kind late, from_status the truth it did not move) and the
//     track does not move — except that an older report of a further stage
//     of the line still advances (progress does not un-happen: a carrier
//     whose clock is behind the warehouse's must not hold a parcel at
//     SHIPPED);
//   - S is further along (rank(S) > rank(C)): advance, or recovery when C
//     is a problem and S a main-line stage;
//   - S is a problem: advance into it (OUT_FOR_DELIVERY →
//     DELIVERY_ATTEMPT_FAILED, CONFIRMED → ON_HOLD), unless C is terminal
//     (DELIVERED or the return branch);
//   - C is a problem and S a main-line stage at or after the recovery floor
//     (the lowest stage of C's own authority: IN_TRANSIT for carrier side
//     states, CONFIRMED for a hold): recovery (DELIVERY_ATTEMPT_FAILED →
//     OUT_FOR_DELIVERY, EXCEPTION → IN_TRANSIT);
//   - otherwise S would move the track backward. From the system that set C,
//     that is the authority contradicting itself (the carrier's IN_TRANSIT
//     after its DELIVERED, an EXCEPTION after DELIVERED): a regression,
//     refused, counted in Output.Regressions and recorded nowhere else.
//     From another system it is an earlier stage's authority saying what the
//     track already implies (the storefront's PLACED when a payment is
//     captured after confirmation, the WMS's SHIPPED timestamped after the
//     carrier's acceptance scan): absorbed, silently.
//
// A move lists in skipped the main-line stages between the old and the new
// status that the track never reported (a carrier DELIVERED straight after
// SHIPPED skips IN_TRANSIT and OUT_FOR_DELIVERY); a late report counts as
// reported.
//
// # Shipments
//
// An event names its parcel by shipment ID, else by tracking number; an
// event naming neither names the order's one unnamed parcel (a system that
// does not name parcels), shown under the order ID. A carrier scan that
// carries the order but no shipment ID (AfterShip) creates a parcel known
// by its tracking number, shown under it until a system names it; when the
// WMS ships a parcel with both, the two records are merged (the further
// status wins). A non-authoritative event never creates a parcel.
//
// A parcel first seen is a customer's return parcel when the WMS checks in
// (RETURNED) a parcel it never shipped, or when a carrier scans it after a
// return was authorised or once every outbound parcel of the order is
// delivered with none announced (its tracking number can be no outbound
// parcel's: this catches an RMA that arrives late). On a return parcel
// every carrier scan on the way (IN_TRANSIT, OUT_FOR_DELIVERY, attempts,
// exceptions) is RETURN_IN_TRANSIT — the source status keeps the detail —
// and DELIVERED is the arrival back at the warehouse, ranked between
// RETURN_IN_TRANSIT and the WMS's RETURNED, which checks it in. Scans of a
// return label that normalize held until the check-in linked them arrive
// after RETURNED and are recorded as late.
//
// # The order's truth
//
// The truth is derived from the facts after every event, first match wins:
//
//  1. REFUNDED, once the refund's authority said so (full refunds only:
//     partial refunds carry no status);
//  2. the return branch, once a return was requested or a return parcel
//     exists: RETURNED when every return parcel is checked in,
//     RETURN_IN_TRANSIT while one is on its way or arrived back,
//     RETURN_REQUESTED before;
//  3. CANCELLED. A cancellation after shipping keeps the truth CANCELLED
//     (the commercial answer, and what the storefront and help desk show);
//     the parcels already with the carrier go on in their own lifecycles
//     (shipment transitions, order_state shipments) and may be delivered;
//     the order closes once none is in flight;
//  4. the outbound parcels' aggregate: RETURNED when all were sent back and
//     checked in; DELIVERED when all are delivered and no more are
//     announced; PARTIALLY_DELIVERED when some are; PARTIALLY_SHIPPED when
//     some have left the warehouse and others have not, or more are
//     announced; otherwise the least advanced parcel's status (the order
//     arrives with its last parcel), a problem state winning a tie of rank
//     so that the order shows it;
//  5. the order's own track: PLACED, ON_HOLD or CONFIRMED.
//
// So split shipments are partial until every parcel agrees; a backordered
// parcel that appears after the others were delivered moves the order from
// DELIVERED back to PARTIALLY_DELIVERED, and a parcel released while
// another is already packed moves it from PACKED back to RELEASED: both are
// legitimate and recorded as kind reopened. When the OMS announces more
// parcels (PARTIALLY_SHIPPED), the order stays partial until the OMS says
// SHIPPED and the last parcel arrives.
//
// # Transition kinds
//
// A shipment transition (shipment_id set) is advance, recovery or late as
// decided on its track. An order transition (shipment_id null) is: late for
// a late event on the order's own track; recovery when the truth leaves a
// problem state for the main line or an aggregate (also backward, e.g.
// DELIVERY_ATTEMPT_FAILED → IN_TRANSIT); reopened when it moves back along
// the main line because the event gave the order a new outbound parcel or
// announced more; advance otherwise (forward, into a problem state, into or
// out of CANCELLED). The truth never moves backward along the main line by
// any other kind. The transition's authority is the system of the event
// that caused it, event_time that event's occurred_at; transition_id hashes
// order, shipment, source system, event ID and kind, so it is the same on
// every replay and unique (an event causes at most one transition per order
// or shipment).
//
// # Duplicates
//
// An event whose (source_system, source_event_id) the order has seen is a
// duplicate (a retry upstream): it emits nothing and changes nothing but
// the watermark. The seen set is per order — 8 bytes of hash per event —
// and lives and dies with the order.
//
// # Event time
//
// An order's results are a function of its events alone: their contents
// and the systems' own times, never when or in what order they reached
// baton. They are the results of applying the order's events one by one
// in event-time order — by recorded_at, the emitting system's own time,
// then by system and source event ID — where, before each event, every
// timer of the order due before the event's time (a check's deadline, a
// delay notice's due time) fires at its own time (the clock 1 ms past
// it), and after the last event the timers due before the order's horizon
// fire: the later of its latest event's time and the partition's
// watermark. Every record carries those times (closed_at, detected_at,
// updated_at), never the watermark's.
//
// The partition's watermark is its latest recorded_at seen (or a quiet
// partition's idle advance by wall-clock time, the one input not in the
// records, which a stage can turn off). It only decides when timers fire
// for orders that get no events; the content of what they emit does not
// depend on it. Evictions follow the normalize partitions' progress (see
// Config.Origins, Processor.Progress).
//
// Events mostly arrive in order and are applied as they come. One that
// sorts before what its order has applied or fired — a late event: a scan
// held for its tracking link, a webhook retried an hour later, a backfill
// of another system — makes the order recompute itself from its history
// (every canonical event it applied, kept in event-time order in its
// state) and emit what differs from what it had emitted (Output.Late,
// Output.Corrections): each changed record again with the same ID and the
// order's next revision as its version, each record that no longer exists
// as a retraction (retracted true). Keeping the latest version of every
// ID, a consumer holds the same records whatever the arrival order, batch
// sizes, crashes, rebalances or process count. Alerting may run ahead of
// that (a failed sync emitted and later retracted was right about what
// baton knew then); the stored results do not.
//
// An order's life ends, in event time, Config.Retention (30 days) after
// its latest event once closed, Config.IdleTimeout (120 days) after it
// while open: an event of the order timed after that starts it afresh
// (a new life, without the ended one's results), whenever it arrives, and
// no timer of the ended life due after its end fires. The ended life's
// history stays with the order until the order is evicted, so that a late
// event of it, replayed with the whole history split into lives where
// they end, lands in its own life as it would have arriving first. The allowed lateness is Config.Retention too: an event
// timed more than that behind its source clock (how far its source
// partition had been processed when normalize read it: a function of
// that partition's records alone) is too late (Output.Rejected wraps
// ErrTooLate; the stage dead-letters it "too_late" and counts it) and
// changes nothing. An order's state stays until every normalize
// partition's progress (the least source clock its events can still
// carry) passes the end of its life by the allowed lateness, so every
// event that may still join it (timed before the end, not too late)
// finds it whatever the arrival order; only then is it evicted, emitting
// the same records whatever caused it (its timers due by the end fire,
// its open checks close at the end). So every result is a function of
// the events, too-late ones included. Without Config.Origins both follow
// the partition's watermark instead, as Flink's allowed lateness does,
// and which events are too late near the limit depends on arrival. Keep
// the retention above the lateness of any feed (a carrier that replays a
// month) and above a backfill's span.
//
// # Closing and eviction
//
// An order is closed when its truth is REFUNDED, RETURNED, DELIVERED,
// PARTIALLY_DELIVERED with every outbound parcel delivered or sent back
// and none announced, or CANCELLED with no parcel in flight; it closes at
// the time of the event that closed it, and an event that reopens it (a
// backorder, a return request) opens it again. A closed order's life ends
// at its close — or its latest event since, when later (a refund weeks
// after delivery) — plus Config.Retention, and it is evicted once the
// watermark passes that by the allowed lateness: its changelog records
// are tombstoned, the order_state topic keeps its last value. An event
// timed after the end starts the order afresh, so Retention should cover
// the return window. An order still open with no event for
// Config.IdleTimeout is evicted as well (Output.Expired), so that orders
// that never close (a lost parcel refunded only in part, events
// dead-lettered upstream) cannot grow the state without bound.
//
// # Checks, delays and WISMO tickets
//
// Three optional parts run on the truth as it is derived, their state
// inside the order's changelog record (see checks.go, delays.go,
// wismo.go): the viewer checks (Config.SyncChecks, package synccheck:
// Output.Checks and Output.Failed), delay detection (Config.Delays,
// package delay: Output.Notices, and failed syncs of reason
// delay_not_notified) and WISMO attribution (Config.Wismo, package wismo:
// Output.Tickets). Per new event the order is: the event is applied (the
// truth moves and the checker and detector hear of it), then a help-desk
// event's ticket is attributed — with the facts of that moment: the truth,
// the outbound parcels, the checks' lags (synccheck.Order.AppendLags) and
// the notices owed (delay.Order.AppendUntold), after the order's timers
// due before the event — then the viewer report reaches the checker, then
// the detector sees the event. Timers (checks' deadlines, delay notices'
// due times) run before the order's next event that passes them, or on
// the partition's timer heap as the watermark passes them, each at its
// own time (see "Event time").
//
// # Changelog and determinism
//
// Every input that changes an order writes that order's state under its
// order ID, in a compact binary form whose first byte is its format
// version (described in state.go, "The changelog's binary format"), and
// each event it applied as a record of its own (histKey), written before
// the order's record; every input that moves the watermark writes it
// under WatermarkKey. Applying a partition's changelog in order
// (State.Apply) rebuilds its state exactly, so a restored state decides
// exactly as the original: the same inputs give the same outputs byte for
// byte, and evictions are emitted in (time, order ID) order.
package unify
