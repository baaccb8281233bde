// Package synccheck answers "is every viewer telling the customer the
// truth?". A viewer is a system that shows an order's status to a customer
// or an agent — the storefront, the help desk, the notifications it sends
// — and each is checked against the order's truth, the status the
// authority rules decided (package unify). Every check is recorded when it
// closes, as a sync_check record; a check that fails (not reflected within
// the viewer's SLA, or a contradiction that lasts) also emits one
// failed_sync record, at the moment it fails.
//
// The package is pure logic: no Kafka, no clock. The unify stage holds one
// Order inside each order's state and calls the Checker when the order's
// truth moves (Truth), when a viewer's canonical event arrives (View),
// when the partition watermark passes the order's next due time (Due) and
// when the order is evicted (Evict). Times are Unix milliseconds; w, the
// check clock, is passed to every call and is the only clock: closed_at
// and detected_at are w. Package unify calls in event time (see its
// "Event time"): w is the time of the event being applied, or of the
// deadline being passed (1 ms past it), never the time it reached baton,
// so the records are a function of the events. The same calls
// give the same records, byte for byte, also after the Order went through
// AppendBinary and DecodeOrder between any two calls.
//
// # Configuration
//
// viewers.map (embedded; LoadViewers reads a user's copy, ParseViewers
// names file:line in errors) has one row per viewer: its system, its SLA
// and the canonical statuses it is expected to reflect; and missing_after,
// how long after its deadline an unreflected check is given up as MISSING
// (24h by default). By default the storefront and the help desk (SLA 5m)
// are expected to reflect the customer-facing lifecycle from CONFIRMED on,
// not the warehouse-internal PLACED, ON_HOLD, RELEASED, PICKED and PACKED;
// notifications (SLA 5m) only SHIPPED, OUT_FOR_DELIVERY, DELIVERED,
// DELIVERY_ATTEMPT_FAILED, EXCEPTION and CANCELLED.
//
// # Reflecting
//
// A viewer showing S reflects the truth X (Reflects) when S is X, or when
// X is a main-line stage, an aggregate or on the return branch
// (RETURN_REQUESTED < RETURN_IN_TRANSIT < RETURNED < REFUNDED) and S has
// reached it (canonical AtLeast: DELIVERED reflects SHIPPED, RETURNED
// reflects DELIVERED, CANCELLED reflects only CANCELLED) — except that a
// problem status S (EXCEPTION, RETURN_TO_SENDER, DELIVERY_ATTEMPT_FAILED,
// AVAILABLE_FOR_PICKUP, ON_HOLD) reflects only itself and X of strictly
// lower rank: a stale EXCEPTION does not show the IN_TRANSIT the truth
// recovered to. A problem truth is reflected only by itself.
//
// # Checks
//
// Per order and viewer the Order keeps the viewer's first sight (its own
// time of its first event for the order: a viewer is checked only from
// then on), its latest shown status and that status's time (latest by the
// viewer's own time), its open checks and at most one pending conflict.
// A check expects one status X from one viewer: opened at t (truth_at),
// due at deadline = t + the viewer's SLA.
//
//   - Truth: the truth moved to X at t (the authoritative event's time).
//     First, every open check of the order whose status X does not reflect
//     (EXCEPTION → IN_TRANSIT recovers, SHIPPED → CANCELLED), that has not
//     failed and whose deadline t has not passed, closes SUPERSEDED: the
//     viewer had no fair chance, and no failed sync is emitted. Checks
//     past their deadline stay open (they have failed or will at the next
//     Due) until reflected or MISSING; checks X still implies stay open
//     (SHIPPED → IN_TRANSIT: the SHIPPED check is closed by the same
//     IN_TRANSIT that closes the new one). Then, for each viewer already
//     seen and expected to reflect X, a check opens (opened_by truth) —
//     unless that viewer has an open check for X already, which stands for
//     it. If the truth moved before the viewer's first sight (t < first
//     sight, the truth's event reached baton late) the check opens as
//     first_sight at t = the first sight. If the viewer's latest status
//     already reflects X, the check closes at once, as if that status had
//     just been shown (below): IN_SYNC with latency 0 when it was shown
//     before the truth moved. A viewer's first sight is checked against a
//     status once: when the truth returns to a status X it had left, both
//     moves timed before the viewer's first sight (carrier scans held
//     until their tracking number was linked: IN_TRANSIT, EXCEPTION,
//     IN_TRANSIT), no first_sight check opens for X again — its check_id
//     (viewer, X, first_sight, first sight time) names the check opened
//     the first time, which has its record.
//   - View: the viewer showed S (or nothing) at its time r. At first
//     sight, if the truth is set, the viewer is expected to reflect it and
//     S does not, a check opens for the truth (opened_by first_sight,
//     t = r; the first sight counts as checked against the truth) — or,
//     when r is before the truth's time, an ordinary truth check
//     (opened_by truth, t = the truth's time): the viewer was seen before
//     the truth moved. Then every open check of the viewer that S
//     reflects closes: IN_SYNC if r ≤ deadline, else LATE; latency_ms =
//     max(0, r − t). A report older than the viewer's latest (it arrived
//     late) still closes checks but does not change the latest status and
//     plays no part in conflicts.
//   - Due at watermark w: every open check with deadline < w that has not
//     failed emits its failed sync (sla_breached, detected_at w) and stays
//     open; every open check with deadline + missing_after < w closes
//     MISSING; every pending conflict with deadline < w is confirmed.
//   - Evict at w: what Due(w) does, then every open check closes MISSING
//     (emitting its failed sync first if it never failed) and pending
//     conflicts are dropped.
//
// Every LATE, MISSING and CONFLICT check has exactly one failed sync: a
// check closed LATE that had not failed yet (Due was not called between
// its deadline and the report) emits it as it closes. Called in event
// time, an IN_SYNC check has none: a report the viewer timestamped before
// the deadline that reached baton after the deadline was called is a
// late event, and package unify's correction retracts the failed sync
// (the alert was right about what baton knew then; the stored outcome is
// right about what happened).
//
// # Conflicts
//
// A viewer contradicts the truth when it shows a status S the truth does
// not reflect and that is not the truth: ahead of it (DELIVERED while
// IN_TRANSIT, SHIPPED while PARTIALLY_SHIPPED) or on another branch
// (CANCELLED while SHIPPED). A viewer merely behind the truth is no
// conflict — the open checks measure that: showing a status the truth
// reflects, a stage of no higher rank than a problem truth (IN_TRANSIT
// while EXCEPTION, PLACED while ON_HOLD: the viewer has not heard of the
// problem yet), any stage or REFUNDED while the truth is CANCELLED, or
// CANCELLED while REFUNDED. A report about one parcel of an order with
// several (Report.ParcelOfMany) is not judged at all: the order's truth is
// its least advanced parcel's or an aggregate (PARTIALLY_SHIPPED), and the
// storefront's tracking page rightly shows the parcel that is further
// along. Such a report still closes the checks it reflects, so in a split
// shipment a viewer's report on one parcel counts for the order: the
// checks are order-level, and per-parcel contradictions are not detected.
//
// A contradiction is not confirmed at once. A viewer often hears of a
// carrier scan seconds before the carrier's own feed reaches baton (the
// storefront's tracking page polls the carrier too): it is racing the
// truth, not contradicting it. So a conflicting latest report opens a
// pending conflict (opened_by report) with expected_status the truth at
// the time of the report, t = r and deadline r + SLA. It is withdrawn,
// with nothing emitted, if the truth comes to cover S at a time up to the
// deadline (whenever that truth reaches baton: a carrier scan held until
// its tracking number is linked may arrive after the viewer's later
// reports), or the viewer's next report at a time up to the deadline shows
// a status the truth covers. It is confirmed when the check clock passes
// the deadline (Due), or when the truth covering S arrives with a time
// after the deadline: a CONFLICT check (shown_status S, shown_at the
// report's time) and a failed sync with reason conflict. Reports after
// the deadline settle nothing: the viewer repeating the contradiction is
// the same conflict. A viewer has at most one pending conflict: a newer
// conflicting report before the deadline replaces its shown status and
// keeps t (and expected_status). A report at the very time of a conflict
// confirmed already (another event of the viewer, delivered out of order)
// is that conflict too: its check_id (viewer, expected status, report, the
// report's time) names the confirmed one, so it opens none — as long as
// the order remembers that conflict (its last four failures, see Lags).
//
// A conflict and a check are separate records: a viewer that shows
// CANCELLED while the truth is SHIPPED fails the SHIPPED check
// (sla_breached) and, if it keeps showing CANCELLED, a conflict.
//
// # Check IDs
//
// check_id is 16 hex digits of a 64-bit FNV-1a hash over the order ID, the
// viewer, the expected status, opened_by and, for a check opened by the
// truth, the truth transition's ID (Truth.TransitionID) — for a first
// sight, a report, or a truth without a transition ID, truth_at in
// decimal milliseconds — each followed by a NUL. It is fixed when the
// check opens, so a replay yields the same IDs and consumers can
// de-duplicate by it.
//
// # Lags
//
// Order.AppendLags (and Lags) lists the ways the order's viewers were
// behind or against the truth, for WISMO attribution (package wismo): a
// ticket is attributed to what the customer faced when asking, and a
// ticket often reaches baton after the check that explains it closed — the
// storefront caught up minutes after the customer wrote, or never did. So
// besides what is open, the Order remembers the checks that failed and
// closed. A Lag (see its fields) has the check's check_id, viewer,
// expected and shown status, truth_authority, since (truth_at; a
// conflict's first contradicting report), deadline and until, when the
// viewer showed the truth again (0: not yet). It lists:
//
//   - every open check (its shown status the viewer's latest) and pending
//     conflict, until 0 — within its SLA or past it: the caller compares
//     the deadline with the ticket's time;
//   - every check closed LATE: until is the report that caught up, shown
//     what the viewer showed just before it;
//   - every check closed MISSING: until is 0 until the viewer shows, in a
//     report after truth_at, a status that reflects the check's expected
//     status or the order's truth of that call (the report's time), or the
//     truth moves to a status the viewer's latest reflects (the later of
//     the truth's and that report's time). A check the truth left while it
//     was open (an EXCEPTION the truth recovered from, the viewer showing
//     the recovery) thus counts until the viewer's next report or the
//     truth's next move: the checker keeps no truth of its own;
//   - every confirmed conflict: until is when the viewer stopped showing
//     the contradiction — its first report after the contradicting one
//     that the truth covers (after the confirmation, only a report judged
//     for conflicts counts), or the truth coming to cover what the viewer
//     shows (the later of the truth's time and that report's) — 0 while it
//     still shows it.
//
// Checks closed IN_SYNC or SUPERSEDED and withdrawn conflicts are not
// lags. The failures remembered are the order's latest four (in closing
// order; a fifth drops the oldest): a ticket asks about the order's
// present, and an order rarely fails more than a couple of checks. They
// are part of the binary state, so they survive a restore; they are
// forgotten with the order at Evict. They change no record, except that
// a conflict remembered is not opened again (see Conflicts).
//
// # State
//
// An Order (72 bytes) with no viewer seen is the zero value and allocates
// nothing; one with viewers holds a view (48 bytes, and 16 per earlier
// report it remembers) per viewer, a check (48 bytes) per open check or
// pending conflict, and a failure (40 bytes) per remembered failure (at
// most four), and releases the check slice whenever no check is open.
// AppendBinary writes it compactly (varints, statuses and systems by name,
// a format byte first; an Order with no viewer seen is that single byte)
// for the caller's changelog; DecodeOrder reads it back and rejects
// corrupt input with an error, never a panic. Format 4 added the
// remembered failures and each view's first-sight statuses; DecodeOrder
// still reads format 3.
package synccheck
