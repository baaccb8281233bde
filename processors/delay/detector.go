package delay

import (
	"fmt"
	"math"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// Config tunes the detector. The zero value means the defaults.
type Config struct {
	// NotifySLA is how long after a delay became known (known_at) the
	// customer must have been told: notify_by = known_at + NotifySLA, but
	// never after the promised date the notice revises when the delay was
	// known before it. The notifications viewer's SLA (viewers.map, 5m) by
	// default.
	NotifySLA time.Duration
	// MissingAfter is how long past notify_by an untold notice waits for a
	// late message before it closes NOT_NOTIFIED (24h, like the viewer
	// checks' missing_after).
	MissingAfter time.Duration
	// DefaultShipWindow is the ship-by promise of an order that promised
	// none: placement + DefaultShipWindow (the FTC mail-order rule's 30
	// days).
	DefaultShipWindow time.Duration
	// OnlyDelayNoticesTell: a notice of a carrier problem (exception,
	// delivery_attempt_failed, return_to_sender) is told only by a
	// delay_notice message. By default the notifications message that shows
	// the problem itself (delivery_failed: DELIVERY_ATTEMPT_FAILED, or an
	// EXCEPTION / RETURN_TO_SENDER message) tells it too: the mail-order
	// rule's notice is about shipping, and a customer told that the parcel
	// could not be delivered has been told.
	OnlyDelayNoticesTell bool
}

// Defaults.
const (
	DefaultNotifySLA         = 5 * time.Minute
	DefaultMissingAfter      = 24 * time.Hour
	DefaultDefaultShipWindow = 30 * 24 * time.Hour
)

// Detector applies the delay rules to orders. It holds no per-order state
// (that is the caller's Order) and is safe for concurrent use on different
// orders.
type Detector struct {
	sla, missingAfter, window int64 // ms
	onlyDelayNotices          bool
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Detector, error) {
	if cfg.NotifySLA < 0 || cfg.MissingAfter < 0 || cfg.DefaultShipWindow < 0 {
		return nil, fmt.Errorf("delay: negative NotifySLA (%v), MissingAfter (%v) or DefaultShipWindow (%v)",
			cfg.NotifySLA, cfg.MissingAfter, cfg.DefaultShipWindow)
	}
	if cfg.NotifySLA == 0 {
		cfg.NotifySLA = DefaultNotifySLA
	}
	if cfg.MissingAfter == 0 {
		cfg.MissingAfter = DefaultMissingAfter
	}
	if cfg.DefaultShipWindow == 0 {
		cfg.DefaultShipWindow = DefaultDefaultShipWindow
	}
	return &Detector{sla: cfg.NotifySLA.Milliseconds(), missingAfter: cfg.MissingAfter.Milliseconds(),
		window: cfg.DefaultShipWindow.Milliseconds(), onlyDelayNotices: cfg.OnlyDelayNoticesTell}, nil
}

// Event is what the detector reads of one canonical event of the order
// (schemas/avro/canonical_event.avsc). Times are Unix ms; 0 is null.
type Event struct {
	System  schemas.System // source_system
	EventID string         // source_event_id
	// ShipmentID and TrackingNumber name the parcel (a carrier estimate is
	// kept per parcel: by tracking number, else shipment ID).
	ShipmentID, TrackingNumber string
	Carrier                    string
	// Status is canonical_status ("" when none). Of a notifications event,
	// the status its message shows (delivery_failed: DELIVERY_ATTEMPT_FAILED).
	Status     canonical.Status
	OccurredAt int64
	// RecordedAt is when the source recorded the event: the moment a delay
	// it reveals became knowable (known_at), and a message's sending time.
	RecordedAt int64
	// EstimatedDelivery is the carrier's ETA (read from carrier events
	// only).
	EstimatedDelivery int64
	// PromisedShipBy and PromisedDeliverBy are the promises (read from
	// storefront and OMS events only).
	PromisedShipBy, PromisedDeliverBy int64
	// MessageType, DeliveryStatus and RevisedDate: notifications only.
	MessageType, DeliveryStatus string
	RevisedDate                 int64
	// ReturnParcel: the event is about a customer's return parcel (the
	// unify stage knows), whose estimate is not the order's delivery.
	ReturnParcel bool
}

// Truth is the order's truth after the event (package unify): its status,
// when it reached it (the authoritative event's time) and, when this event
// moved it, the order transition's ID (the cause_id of a notice it causes).
type Truth struct {
	Status       canonical.Status // "" or unknown: no truth yet
	At           int64
	TransitionID string
}

// Output is everything one call caused.
type Output struct {
	// Notices are delay_notice values: for every notice the call opened or
	// changed, one record with its state after the call (a higher version
	// than any before), in the order the order's notices were opened.
	Notices []Record
	// Failed are failed_sync values (reason delay_not_notified, viewer
	// notifications): at most one per notice over its life.
	Failed []Record
	// NextDue is the order's next due time after the call: call Due once
	// the watermark passes it (w > NextDue); 0 when nothing is due.
	NextDue int64
}

// Observe applies one canonical event of the order at watermark w, with t
// the order's truth after it. Pass the current truth on every call: a
// status other than the last one passed is a move (its At and TransitionID
// then describe it). Observe records placement, promises, the carrier's
// estimates and the messages that can tell a notice; on a truth move it
// withdraws ship notices the shipment proved false, closes the untold
// notices of a cancelled order and flags it for refund, or opens a notice
// for a carrier problem; it opens eta_past_promise when the event moved an
// estimate past the deliver-by in force; and it lets the remembered
// messages tell open notices. Call it for every event of the order that is
// not a duplicate, in processing order.
func (d *Detector) Observe(o *Order, orderID string, ev Event, t Truth, w int64) Output {
	e := emitter{orderID: orderID, d: d, o: o, w: w}
	var prev int64 // the parcel's estimate before this event's
	var moved bool // this event changed it
	known := ev.RecordedAt
	if known == 0 {
		known = ev.OccurredAt
	}
	if known != 0 && (o.seen == 0 || known < o.seen) {
		o.seen = known
	}
	switch ev.System {
	case schemas.Storefront, schemas.OMS:
		if ev.OccurredAt != 0 && (o.placed == 0 || ev.OccurredAt < o.placed) {
			o.placed = ev.OccurredAt
		}
		o.ship.promise(ev.PromisedShipBy, ev.OccurredAt)
		o.deliver.promise(ev.PromisedDeliverBy, ev.OccurredAt)
	case schemas.Carrier:
		if ev.EstimatedDelivery != 0 && !ev.ReturnParcel {
			prev, moved = o.estimate(parcelKey(ev), ev.EstimatedDelivery, ev.OccurredAt)
		}
	case schemas.Notifications:
		o.remember(ev)
	}
	if x, ok := canonical.IndexOf(t.Status); ok && x != o.truth {
		o.truth = x
		e.truthMoved(ev, t, known)
	}
	if moved {
		e.checkEstimate(ev, known, prev)
	}
	e.reviseCovered()
	e.tellAll()
	return e.finish()
}

// Due settles what the watermark w has passed: the ship-by in force
// (ship_by_missed, once per promise, renewed for a revised one); every open
// notice whose notify_by is before w and that was not told emits its one
// failed sync (delay_not_notified, detected_at w) and stays open; one whose
// notify_by + MissingAfter is before w closes NOT_NOTIFIED. Calling it again
// at the same or an earlier watermark emits nothing.
func (d *Detector) Due(o *Order, orderID string, w int64) Output {
	e := emitter{orderID: orderID, d: d, o: o, w: w}
	e.due()
	return e.finish()
}

// Evict settles the order for good before the caller drops it: first what
// Due(w) would, then every open notice closes NOT_NOTIFIED (emitting its
// failed sync first if it never failed). The order is left empty.
func (d *Detector) Evict(o *Order, orderID string, w int64) Output {
	e := emitter{orderID: orderID, d: d, o: o, w: w}
	e.due()
	for i := range o.notices {
		n := &o.notices[i]
		if n.outcome != open {
			continue
		}
		if !n.failed() {
			e.fail(n)
		}
		e.close(n, outNotNotified)
	}
	out := e.finish()
	*o = Order{}
	out.NextDue = 0
	return out
}

// NextDue is the earliest time at which Due has work for the order: the
// ship-by in force while the order has not shipped by it and it was not
// noticed; notify_by of an open notice not yet failed; notify_by +
// MissingAfter of a failed one. 0 when nothing is due.
func (d *Detector) NextDue(o *Order) int64 {
	var next int64
	add := func(t int64) {
		if next == 0 || t < next {
			next = t
		}
	}
	if at, ok := d.shipTimer(o); ok {
		add(at)
	}
	for i := range o.notices {
		n := &o.notices[i]
		if n.outcome != open {
			continue
		}
		if n.failed() {
			add(satAdd(n.notifyBy, d.missingAfter))
		} else {
			add(n.notifyBy)
		}
	}
	return next
}

// shipInForce is the ship-by date in force: the latest promise (or the
// FTC default from placement) or a later revised date; 0 when unknown.
func (d *Detector) shipInForce(o *Order) int64 {
	base := o.ship.promised
	if base == 0 && o.placed != 0 {
		base = satAdd(o.placed, d.window)
	}
	return max(base, o.ship.revised)
}

// shipOriginal is the first ship-by promised, or the FTC default.
func (d *Detector) shipOriginal(o *Order) int64 {
	if o.ship.original == 0 && o.placed != 0 {
		return satAdd(o.placed, d.window)
	}
	return o.ship.original
}

// shipTimer is the ship-by in force when it is armed: known, not lapsed
// before the order's first sight, not covered by a notice, and the order
// neither cancelled nor shipped by it.
func (d *Detector) shipTimer(o *Order) (int64, bool) {
	at := d.shipInForce(o)
	if at == 0 || at < o.seen || o.ship.covers(at) || over(o.truth) {
		return 0, false
	}
	if o.shippedAt != 0 && o.shippedAt <= at {
		return 0, false
	}
	return at, true
}

func (p *promise) inForce() int64 { return max(p.promised, p.revised) }

// promise records a promised date stated at event time at: the latest
// statement wins, the earliest is the original.
func (p *promise) promise(date, at int64) {
	if date == 0 {
		return
	}
	if p.promised == 0 || at >= p.promisedAt {
		p.promised, p.promisedAt = date, at
	}
	if p.original == 0 || at < p.originalAt {
		p.original, p.originalAt = date, at
	}
}

// covers reports whether a notice already covered the date in force at:
// it covered a date at or after it.
func (p *promise) covers(at int64) bool { return p.covered && at <= p.cover }

func (p *promise) coverAt(at int64) {
	if !p.covered || at > p.cover {
		p.cover, p.covered = at, true
	}
}

func (p *promise) revise(at int64) { p.revised = max(p.revised, at) }

func parcelKey(ev Event) string {
	if ev.TrackingNumber != "" {
		return ev.TrackingNumber
	}
	return ev.ShipmentID
}

// estimate keeps a parcel's latest estimate by event time; it returns
// the parcel's estimate before (0: none) and whether it changed.
func (o *Order) estimate(key string, eta, at int64) (prev int64, changed bool) {
	for i := range o.parcels {
		p := &o.parcels[i]
		if p.key == key {
			if at < p.at || eta == p.eta {
				return p.eta, false
			}
			prev = p.eta
			p.eta, p.at = eta, at
			return prev, true
		}
	}
	if len(o.parcels) == maxParcels {
		return 0, false // more parcels than any order has: keep the first ones
	}
	o.parcels = append(o.parcels, parcel{key: key, eta: eta, at: at})
	return 0, true
}

// eta is the order's estimated delivery: its last parcel's.
func (o *Order) eta() int64 {
	var eta int64
	for _, p := range o.parcels {
		eta = max(eta, p.eta)
	}
	return eta
}

// remember keeps a notifications message that can tell a notice: a
// delay_notice, or a message showing a carrier problem; sent or delivered
// (a bounced or failed message told no one).
func (o *Order) remember(ev Event) {
	if ev.DeliveryStatus != "sent" && ev.DeliveryStatus != "delivered" {
		return
	}
	m := message{at: ev.RecordedAt, revised: ev.RevisedDate}
	switch {
	case ev.MessageType == MessageDelayNotice:
	case carrierProblem(stOf(ev.Status)):
		m.status = stOf(ev.Status)
		m.revised = 0
	default:
		return
	}
	if m.at == 0 {
		m.at = ev.OccurredAt
	}
	i := len(o.messages)
	for i > 0 && o.messages[i-1].at > m.at {
		i--
	}
	o.messages = append(o.messages, message{})
	copy(o.messages[i+1:], o.messages[i:])
	o.messages[i] = m
	if len(o.messages) > maxMessages {
		o.messages = append(o.messages[:0], o.messages[len(o.messages)-maxMessages:]...)
	}
}

// emitter carries one call's work and builds its records.
type emitter struct {
	orderID string
	d       *Detector
	o       *Order
	w       int64
	touched []uint64 // notice IDs changed in this call, in first-touch order
	out     Output
}

func (e *emitter) touch(n *notice) {
	for _, id := range e.touched {
		if id == n.id {
			return
		}
	}
	e.touched = append(e.touched, n.id)
}

func (e *emitter) finish() Output {
	for i := range e.o.notices {
		n := &e.o.notices[i]
		for _, id := range e.touched {
			if id == n.id {
				n.version++
				n.updatedAt = e.w
				e.out.Notices = append(e.out.Notices, noticeRecord(e.orderID, n))
				break
			}
		}
	}
	if len(e.o.notices) == 0 {
		e.o.notices = nil
	}
	e.out.NextDue = e.d.NextDue(e.o)
	return e.out
}

// truthMoved applies a move of the truth (o.truth is the new status).
func (e *emitter) truthMoved(ev Event, t Truth, known int64) {
	o, x := e.o, e.o.truth
	switch {
	case shipped(x):
		if o.shippedAt == 0 {
			o.shippedAt = t.At
		}
		// Shipped by the promise after all (baton learned late): a ship
		// notice for it was a false alarm.
		for i := range o.notices {
			n := &o.notices[i]
			if n.kind == shipBy && n.outcome == open && t.At <= n.missed {
				e.close(n, outWithdrawn)
			}
		}
	case !over(x):
		// Back before SHIPPED: a parcel more than the order knew of (the
		// OMS announced it, or the warehouse released it).
		o.shippedAt = 0
	default:
		if o.shippedAt == 0 {
			if n := o.latest(shipBy, false); n != nil {
				e.flagRefund(n, refundCancelled)
			}
		}
		for i := range o.notices {
			n := &o.notices[i]
			if n.outcome != open {
				continue
			}
			if n.failed() {
				e.close(n, outNotNotified)
			} else {
				e.close(n, outCancelled)
			}
		}
	}
	if carrierProblem(x) {
		e.problem(ev, t, known)
	}
}

// problem applies a truth move into a carrier problem.
func (e *emitter) problem(ev Event, t Truth, known int64) {
	o, r := e.o, delayReason(e.o.truth)
	missed := o.deliver.inForce()
	if r == reasonReturnToSender {
		// The parcel goes back: the order is flagged for refund. When the
		// customer heard of the problem that sent it back, that notice
		// stands for it.
		if n := o.latestProblem(); n != nil {
			e.flagRefund(n, refundReturnToSender)
			return
		}
	}
	// The carrier's own estimate with the problem.
	var fresh int64
	if ev.System == schemas.Carrier && !ev.ReturnParcel {
		fresh = ev.EstimatedDelivery
	}
	if r != reasonReturnToSender && fresh != 0 && (missed == 0 || fresh <= missed) {
		// The carrier still expects the parcel by the promise (or nothing
		// was promised): no promise is missed.
		return
	}
	if o.deliver.covers(missed) {
		if r == reasonReturnToSender {
			if n := o.latest(0, true); n != nil {
				e.flagRefund(n, refundReturnToSender)
			}
		}
		return
	}
	n := e.open(r, deliverBy, missed, known)
	if n == nil {
		return
	}
	n.causeAt, n.cause = t.At, t.TransitionID
	n.problemSince = t.At
	if r == reasonReturnToSender && o.shippedAt != 0 && o.shippedAt < t.At {
		// The problem that sends the parcel back came first (a damage
		// scan may even reach baton after the return): a message about
		// it tells this notice.
		n.problemSince = o.shippedAt
	}
	e.fromEvent(n, ev)
	if r != reasonReturnToSender && fresh > missed {
		n.revised = fresh
		o.deliver.revise(fresh)
	}
	if r == reasonReturnToSender {
		n.flags |= fRefundDue
		n.refundWhy = refundReturnToSender
	}
}

// checkEstimate opens eta_past_promise when this event moved a parcel's
// estimate from at or before the deliver-by in force (prev) to after it.
// A parcel's first estimate is no move, nor a later one of a parcel already
// past the date; a date a notice covered is revised by reviseCovered.
func (e *emitter) checkEstimate(ev Event, known, prev int64) {
	o := e.o
	if !o.deliverOpen() {
		return
	}
	missed := o.deliver.inForce()
	if missed == 0 || prev == 0 || prev > missed || ev.EstimatedDelivery <= missed || o.deliver.covers(missed) {
		return
	}
	n := e.open(reasonETA, deliverBy, missed, known)
	if n == nil {
		return
	}
	n.causeAt = ev.OccurredAt
	if ev.EventID != "" {
		n.cause = string(ev.System) + "/" + ev.EventID
	}
	e.fromEvent(n, ev)
	n.revised = o.eta()
	o.deliver.revise(n.revised)
}

// reviseCovered makes the order's estimate the deliver-by in force when a
// notice covered the date in force and the estimate is past it: the
// customer was told that date is missed, and the estimate is the new
// expectation, which a later delay can miss again.
func (e *emitter) reviseCovered() {
	o := e.o
	if !o.deliverOpen() {
		return
	}
	if at := o.deliver.inForce(); at != 0 && o.deliver.covers(at) && o.eta() > at {
		o.deliver.revise(o.eta())
	}
}

// deliverOpen: the order may still miss a delivery promise: neither
// delivered (nor on the return branch), cancelled or refunded, nor
// returning to the sender.
func (o *Order) deliverOpen() bool {
	return !delivered(o.truth) && !over(o.truth) && o.truth != stRTS
}

func (e *emitter) fromEvent(n *notice, ev Event) {
	n.authority = string(ev.System)
	if ev.System == schemas.Carrier {
		n.shipment, n.carrier = ev.ShipmentID, ev.Carrier
		if n.shipment == "" {
			n.shipment = ev.TrackingNumber
		}
	}
}

// due runs the ship timer and the notices' deadlines at e.w.
func (e *emitter) due() {
	o, d := e.o, e.d
	for range maxNotices {
		at, ok := d.shipTimer(o)
		if !ok || at >= e.w {
			break
		}
		n := e.open(reasonShipBy, shipBy, at, at)
		if n == nil {
			break
		}
		n.causeAt = at
		n.revised = o.eta()
		n.flags |= fMayCancel
		if dflt := o.ship.promised == 0 && o.ship.revised == 0; dflt {
			n.flags |= fDefault
		}
		e.tell(n)
	}
	for i := range o.notices {
		n := &o.notices[i]
		if n.outcome != open {
			continue
		}
		if !n.failed() && n.notifyBy < e.w {
			e.fail(n)
		}
		if satAdd(n.notifyBy, d.missingAfter) < e.w {
			e.close(n, outNotNotified)
		}
	}
}

// open opens a notice of reason r about promise kind k whose date in force
// missed is missed (0: none promised), known at known; nil when the order
// holds maxNotices notices none of which can be dropped.
func (e *emitter) open(r reason, k kind, missed, known int64) *notice {
	o, d := e.o, e.d
	if len(o.notices) == maxNotices && !e.dropClosed() {
		return nil
	}
	p := o.promiseOf(k)
	n := notice{reason: r, kind: k, missed: missed, knownAt: known, detectedAt: e.w}
	n.notifyBy = satAdd(known, d.sla)
	if missed != 0 && known < missed {
		n.notifyBy = min(n.notifyBy, missed)
	}
	if k == shipBy {
		n.original = d.shipOriginal(o)
	} else {
		n.original = p.original
	}
	if prev := o.latest(k, false); prev != nil {
		// Its messages (an email, then the SMS) went out by its notify_by
		// or with the message that told it.
		n.renews, n.since = prev.id, max(prev.notifyBy, prev.toldAt)
	}
	n.id = noticeID(e.orderID, r, k, missed)
	p.coverAt(missed)
	o.notices = append(o.notices, n)
	np := &o.notices[len(o.notices)-1]
	e.touch(np)
	return np
}

// dropClosed drops the oldest notice closed before this call. One the
// customer was owed and not told in time (NOT_NOTIFIED, LATE) is
// remembered in o.dropped, for Untold.
func (e *emitter) dropClosed() bool {
	o := e.o
	for i := range o.notices {
		n := &o.notices[i]
		if n.outcome == open || e.isTouched(n.id) {
			continue
		}
		if n.untold() {
			o.rememberDropped(owedNotice{id: n.id, reason: n.reason, knownAt: n.knownAt, notifyBy: n.notifyBy, told: n.toldAt})
		}
		o.notices = append(o.notices[:i], o.notices[i+1:]...)
		return true
	}
	return false
}

func (e *emitter) isTouched(id uint64) bool {
	for _, t := range e.touched {
		if t == id {
			return true
		}
	}
	return false
}

// tellAll lets the remembered messages tell every open notice.
func (e *emitter) tellAll() {
	for i := range e.o.notices {
		if e.o.notices[i].outcome == open {
			e.tell(&e.o.notices[i])
		}
	}
}

// tell closes n if a remembered message told it: the earliest that does.
func (e *emitter) tell(n *notice) {
	for _, m := range e.o.messages {
		if !e.tells(m, n) {
			continue
		}
		n.flags |= fTold
		n.toldAt, n.via = m.at, m.status
		if m.revised != 0 {
			e.o.promiseOf(n.kind).revise(m.revised)
		}
		if m.at <= n.notifyBy {
			e.close(n, outNotified)
			return
		}
		if !n.failed() {
			e.fail(n)
		}
		e.close(n, outLate)
		return
	}
}

// tells reports whether message m tells notice n: a delay_notice (sent
// after the messages of the notice n renews went out) whose revised date,
// if any, is after the date n says is missed; or, for a carrier problem, a message
// showing a problem sent at or after the problem happened (for a return
// to sender, since the order shipped).
func (e *emitter) tells(m message, n *notice) bool {
	if m.status == 0 {
		return (n.renews == 0 || m.at > n.since) && (m.revised == 0 || m.revised > n.missed)
	}
	return !e.d.onlyDelayNotices && n.reason.problem() && m.at >= n.problemSince
}

func (e *emitter) fail(n *notice) {
	n.flags |= fFailed
	e.out.Failed = append(e.out.Failed, failedSync(e.orderID, n, e.w))
}

func (e *emitter) close(n *notice, outcome outcome) {
	n.outcome, n.closedAt = outcome, e.w
	e.touch(n)
}

func (e *emitter) flagRefund(n *notice, why refundWhy) {
	if n.flags&fRefundDue != 0 {
		return
	}
	n.flags |= fRefundDue
	n.refundWhy = why
	e.touch(n)
}

// latestProblem is the order's most recent notice of a carrier problem.
func (o *Order) latestProblem() *notice {
	for i := len(o.notices) - 1; i >= 0; i-- {
		if o.notices[i].reason.problem() {
			return &o.notices[i]
		}
	}
	return nil
}

// latest is the order's most recent notice of kind k (any kind if any).
func (o *Order) latest(k kind, any bool) *notice {
	for i := len(o.notices) - 1; i >= 0; i-- {
		if any || o.notices[i].kind == k {
			return &o.notices[i]
		}
	}
	return nil
}

func (o *Order) promiseOf(k kind) *promise {
	if k == shipBy {
		return &o.ship
	}
	return &o.deliver
}

// satAdd adds without overflowing (a corrupt or absurd input must not wrap
// a deadline into the past).
func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
