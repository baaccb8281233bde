// Package wismo finds the help-desk tickets that ask "where is my order?"
// (WISMO) and attributes each to the cause visible when the customer asked:
// a viewer out of sync with the truth, a delay the customer was not told
// of, a carrier problem, or none (a genuine question). The monthly review
// counts them per 1,000 orders and ranks the integration links to fix
// first (DESIGN.md: "WISMO tickets per 1,000 orders, attributed to the
// integration link that was out of sync").
//
// The package is pure logic: no Kafka, no clock. The unify stage holds one
// Order inside each order's state and calls the Attributor with every
// help-desk event of the order (Ticket). Times are Unix milliseconds of
// event time. The same calls with the same facts give the same records,
// byte for byte, also after the Order went through AppendBinary and
// DecodeOrder between any two calls. Nothing is timed: there is no Due and
// nothing to do at eviction.
//
// # Configuration
//
// wismo.map (embedded; LoadRules reads a user's copy, ParseRules names
// file:line in errors) lists the WISMO tags (default wismo,
// where_is_my_order, order_status), the keywords ("where is my order",
// "tracking", "hasn't arrived", "not received", ...) and
// attribute_viewers, the viewers a ticket may be attributed to, in tie
// order (default storefront, notifications).
//
// # Classification
//
// A ticket event is WISMO (Rules.Classify) when it carries one of the tags
// (compared without regard to case), else when its subject or description
// contains one of the keywords as whole words: both folded (lower case,
// white-space runs as one space, typographic apostrophes as '), with no
// letter or digit right before or after the keyword. Tags are tried first,
// in file order, then keywords: the first match is classified_by (tag or
// keyword) and matched.
//
// A ticket is classified once: by its first event that matches. Later
// events of a classified ticket are ignored, so a ticket makes one
// wismo_ticket record. An order remembers its last 16 tickets (unclassified
// ones are forgotten first); an order evicted and seen again starts with
// none, so consumers de-duplicate by ticket_id.
//
// # Ticket time
//
// ticket_at is the occurred_at of the first event of the ticket baton saw —
// normally its creation: when the customer asked. The ticket is attributed
// then, at that first event, whether or not the event classifies it (the
// attribution is kept with the ticket until it is). So a ticket an agent
// tags hours later is attributed to what the customer saw when asking, not
// to what baton knows when the tag arrives; classified_at is the
// classifying event's occurred_at. The cost is one attribution per ticket,
// WISMO or not (return requests too), which is small next to keeping the
// order's history. A ticket's events that arrive out of order are not
// re-attributed: ticket_at stays the first-arrived event's time.
//
// # Attribution
//
// Rules.Attribute takes Facts — what the unify stage knows of the order
// when the ticket's first event arrives: the truth, the outbound parcels'
// statuses, every viewer lag (synccheck.Order.AppendLags: open checks,
// pending conflicts, and the latest failures closed since — LATE, MISSING,
// CONFLICT — with when the viewer showed the truth again) and the delay
// notices not told in time (delay.Order.AppendUntold) — and the ticket
// time t, and returns the first cause that applies, in this order. The
// closed failures matter: a ticket often reaches baton after the check
// that explains it closed (the storefront caught up minutes after the
// customer wrote), and the ticket is judged by what the customer faced at
// t, not by what is open when baton sees it.
//
//  1. viewer_out_of_sync: a viewer of attribute_viewers was out of sync at
//     t: one of its lags had its deadline (truth_at + the viewer's SLA)
//     before t and it had not caught up by t. The viewer out of sync
//     longest wins (least since), ties by attribute_viewers order. A lag
//     within its SLA is not counted: the synchronization rules allow it,
//     and a viewer that is merely racing the truth (a pending conflict)
//     has not failed.
//  2. delay_not_notified: a delay notice whose notify_by was before t and
//     that was not told by t (the notifications viewer's failed sync of
//     reason delay_not_notified).
//  3. carrier_exception: the truth, or an outbound parcel, was in
//     EXCEPTION, DELIVERY_ATTEMPT_FAILED or RETURN_TO_SENDER since t or
//     before.
//  4. no_sync_problem: none of these — a genuine question.
//
// The precedence is the order in which to fix things. A customer-facing
// viewer out of sync is a failure of an integration baton measures, and
// the most direct cause of the question: the seed's customers are "much
// less forgiving about conflicting information" than about delays, and a
// stale order page hides the delay or the exception too (had it shown the
// truth, the customer would not have needed to ask). A delay not notified
// comes next: the truth was right everywhere, but the message the
// mail-order rule requires never left, which is the notifications
// integration's fix. A carrier exception with every viewer in sync and the
// customer told is the carrier's problem, not an integration's: it is
// counted, but no link is ranked for it. What remains had no sync problem.
//
// A ticket attributed to a failed sync names it: viewer, out_of_sync_since,
// check_id (failed_sync.check_id: the sync check's, or the delay notice's
// notice_id), failed_sync_reason (sla_breached, conflict,
// delay_not_notified), expected and shown status. Its link
// (Attribution.Link) is "<authority>-><viewer>" — the viewer did not
// follow what that system said, e.g. carrier->storefront — or
// delay_notice->notifications. Every record carries the order's truth when
// attributed (truth_status, truth_since).
//
// # Records
//
// Output.Tickets are wismo_ticket values (schemas/avro/wismo_ticket.avsc),
// keyed by order ID: ticket_id, order_id, classified_by, matched,
// ticket_at, classified_at, cause, link, viewer, out_of_sync_since,
// check_id, failed_sync_reason, expected_status, shown_status,
// delay_reason, problem_status, problem_since, truth_status, truth_since.
//
// # Monthly review
//
// `baton report wismo --month YYYY-MM` reads these rows back grouped by
// cause and link; its arithmetic is package reports/wismoreview's.
//
// # What the unify stage calls
//
// For every canonical event of the help desk (source_system helpdesk,
// ticket_id set), before the event is applied to the viewer checks — the
// facts are those the customer faced, not what the ticket itself reports:
//
//	out := attributor.Ticket(&o.wismo, orderID, wismo.Ticket{ID: ticketID, Tags: tags,
//		Subject: subject, At: occurredAt}, func() wismo.Facts { return factsOf(o) })
//
// and write out.Tickets to the wismo-tickets topic in the same transaction
// as the order's changelog record (the Order changed when a ticket was
// first seen or classified). factsOf is called only on a ticket's first
// event. It fills Facts.Viewers with the viewer checks' lags,
// o.checks.AppendLags(nil), and Facts.Delays with the delay notices owed,
// o.delays.AppendUntold(nil): ViewerLag is synccheck.Lag and Delay is
// delay.Untold, so they need no conversion.
//
// # State
//
// An Order with no ticket seen is the zero value and allocates nothing;
// one with tickets holds, per ticket, its ID and time and, until it is
// classified, its attribution. AppendBinary writes it compactly (varints,
// statuses and systems by name, a format byte first; an Order with no
// ticket is that single byte) for the caller's changelog; DecodeOrder
// reads it back and rejects corrupt input with an error, never a panic.
package wismo
