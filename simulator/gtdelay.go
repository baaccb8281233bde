package simulator

import (
	"cmp"
	"slices"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// The ground truth's own reading of delay detection (processors/delay, as
// the unify stage runs it), over one order's records in processing order:
// which delay notices open, their known_at and notify_by, and which
// message tells each and when. The WISMO attribution needs it: a ticket
// asked after a notice's notify_by while it was still untold is
// delay_not_notified. Only what an attribution reads is kept (no IDs,
// versions, refund flags or revised dates beyond those that move a date in
// force).

// Delay detection's defaults (delay.Config): notify_by is known_at + the
// notifications viewer's SLA; an untold notice closes NOT_NOTIFIED
// dMissingAfter past it; an order promising no ship-by has placement +
// dShipWindow.
const (
	dMissingAfter = 24 * 3600 * 1000
	dShipWindow   = 30 * 24 * 3600 * 1000
	dMaxParcels   = 16
	dMaxMessages  = 8
	dMaxNotices   = 16
)

type dReason uint8

const (
	drShipBy dReason = iota + 1
	drETA
	drException
	drAttemptFailed
	drReturnToSender
)

func (r dReason) problem() bool { return r >= drException }

type dOutcome uint8

const (
	doOpen dOutcome = iota
	doNotified
	doLate
	doNotNotified
	doWithdrawn
	doCancelled
)

const (
	dkShipBy    = 0
	dkDeliverBy = 1
)

// dPromise is a promised date as the ground truth reads it: it keeps every
// date the order stated, every date a delay message or a fresh estimate
// moved the promise to, and every date a notice told the customer about,
// and answers from them when asked. (Delay detection folds each into a
// running value as it comes; keeping them all lets the two disagree.)
type dPromise struct {
	stated []dStatement // in processing order
	moved  []int64
	told   []int64
}

// dStatement is a promised date stated by an event at event time at.
type dStatement struct{ date, at int64 }

// state records a statement of the date (none when it is 0).
func (p *dPromise) state(date, at int64) {
	if date != 0 {
		p.stated = append(p.stated, dStatement{date, at})
	}
}

// promised is the date of the statement of the latest event time, the one
// processed last among equals; 0 when none was made.
func (p *dPromise) promised() int64 {
	latest := -1
	for i, st := range p.stated {
		if latest < 0 || st.at >= p.stated[latest].at {
			latest = i
		}
	}
	if latest < 0 {
		return 0
	}
	return p.stated[latest].date
}

// movedTo is the latest date the promise was moved to; 0 when never moved.
func (p *dPromise) movedTo() int64 { return maxOf(p.moved) }

// inForce is the date the customer can hold the retailer to: the later of
// the promise and where it was moved.
func (p *dPromise) inForce() int64 { return max(p.promised(), p.movedTo()) }

// move records that a message or an estimate moved the promise to date.
func (p *dPromise) move(date int64) { p.moved = append(p.moved, date) }

// tell records that a notice told the customer the date at was missed.
func (p *dPromise) tell(at int64) { p.told = append(p.told, at) }

// covers reports whether a notice already told of a date at or after at.
func (p *dPromise) covers(at int64) bool {
	return slices.ContainsFunc(p.told, func(t int64) bool { return at <= t })
}

func maxOf(dates []int64) int64 {
	if len(dates) == 0 {
		return 0
	}
	return slices.Max(dates)
}

// dEstimate is a parcel's latest estimated delivery and the event time
// the carrier gave it.
type dEstimate struct{ eta, at int64 }

type dMessage struct {
	at, revised int64
	status      cst // 0: a delay_notice; else the carrier problem it shows
}

// dNotice is one delay notice.
type dNotice struct {
	reason       dReason
	kind         int
	outcome      dOutcome
	failed, told bool
	renews       bool
	since        int64 // a renewal: delay messages after this can tell it
	problemSince int64
	knownAt      int64
	notifyBy     int64
	missed       int64
	toldAt       int64
}

// dEvent is what delay detection reads of one canonical event.
type dEvent struct {
	sys                schemas.System
	status             cst
	occurred, recorded int64
	parcel             string // tracking number, else shipment ID
	eta                int64  // carrier events of outbound parcels
	shipBy, deliverBy  int64  // storefront and OMS events
	msgType, delivery  string // notifications
	revised            int64
}

// dOrder is one order's delay state.
type dOrder struct {
	sla       int64
	placed    int64
	seen      int64 // first sight: the earliest recorded_at (else occurred_at) of any event
	shippedAt int64
	ship      dPromise
	deliver   dPromise
	truth     cst
	parcels   map[string]dEstimate // by tracking number, else shipment ID
	messages  []dMessage
	notices   []dNotice
}

func dShipped(s cst) bool {
	return s != 0 && s.Status() != canonical.Refunded && s.Status().AtLeast(canonical.Shipped)
}

func dDelivered(s cst) bool {
	return s != 0 && s.Status() != canonical.Refunded && s.Status().AtLeast(canonical.Delivered)
}

func dOver(s cst) bool { return s.Status() == canonical.Cancelled || s.Status() == canonical.Refunded }

// dProblemReasons: the carrier problems a delay notice is about, by the
// status the truth moves into.
var dProblemReasons = map[canonical.Status]dReason{
	canonical.Exception:             drException,
	canonical.DeliveryAttemptFailed: drAttemptFailed,
	canonical.ReturnToSender:        drReturnToSender,
}

// dProblemReason is the reason of the notice a move into s opens; 0 when s
// is no carrier problem.
func dProblemReason(s cst) dReason { return dProblemReasons[s.Status()] }

// observe applies one event of the order, with the order's truth after it
// (truth, since truthAt), at watermark w.
func (o *dOrder) observe(ev *dEvent, truth cst, truthAt int64) {
	var prev int64
	var moved bool
	known := cmp.Or(ev.recorded, ev.occurred) // when the system knew it
	o.seen = earliest(o.seen, known)
	switch ev.sys {
	case schemas.Storefront, schemas.OMS:
		o.placed = earliest(o.placed, ev.occurred)
		o.ship.state(ev.shipBy, ev.occurred)
		o.deliver.state(ev.deliverBy, ev.occurred)
	case schemas.Carrier:
		if ev.eta != 0 {
			prev, moved = o.estimate(ev.parcel, ev.eta, ev.occurred)
		}
	case schemas.Notifications:
		o.remember(ev)
	}
	if truth != 0 && truth != o.truth {
		o.truth = truth
		o.truthMoved(ev, truthAt, known)
	}
	if moved {
		o.checkEstimate(ev, known, prev)
	}
	o.reviseCovered()
	for i := range o.notices {
		if o.notices[i].outcome == doOpen {
			o.tell(&o.notices[i])
		}
	}
}

// earliest is the earlier of two times, 0 standing for none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// estimate records the carrier's estimate eta at event time at for the
// parcel key: an older estimate than the one held changes nothing. It
// returns the parcel's estimate before it and whether it changed. An
// order's parcels beyond dMaxParcels are not followed.
func (o *dOrder) estimate(key string, eta, at int64) (int64, bool) {
	held, known := o.parcels[key]
	switch {
	case !known && len(o.parcels) == dMaxParcels:
		return 0, false
	case known && (at < held.at || eta == held.eta):
		return held.eta, false
	}
	if o.parcels == nil {
		o.parcels = make(map[string]dEstimate)
	}
	o.parcels[key] = dEstimate{eta, at}
	return held.eta, true
}

// eta is the order's estimated delivery: the latest of its parcels'.
func (o *dOrder) eta() int64 {
	var latest int64
	for _, p := range o.parcels {
		latest = max(latest, p.eta)
	}
	return latest
}

// remember keeps a message that can tell a notice, a delay notice or one
// showing a carrier problem, that reached the customer: in the order they
// were sent (arrival order among equal times), the latest dMaxMessages.
func (o *dOrder) remember(ev *dEvent) {
	if ev.delivery != "sent" && ev.delivery != "delivered" {
		return // bounced or failed: it told no one
	}
	m := dMessage{at: cmp.Or(ev.recorded, ev.occurred)}
	switch {
	case ev.msgType == "delay_notice":
		m.revised = ev.revised
	case dProblemReason(ev.status) != 0:
		m.status = ev.status
	default:
		return
	}
	later := slices.IndexFunc(o.messages, func(k dMessage) bool { return k.at > m.at })
	if later < 0 {
		later = len(o.messages)
	}
	o.messages = slices.Insert(o.messages, later, m)
	o.messages = o.messages[max(0, len(o.messages)-dMaxMessages):]
}

func (o *dOrder) truthMoved(ev *dEvent, at, known int64) {
	x := o.truth
	switch {
	case dShipped(x):
		if o.shippedAt == 0 {
			o.shippedAt = at
		}
		for i := range o.notices {
			n := &o.notices[i]
			if n.kind == dkShipBy && n.outcome == doOpen && at <= n.missed {
				n.outcome = doWithdrawn
			}
		}
	case !dOver(x):
		o.shippedAt = 0
	default:
		for i := range o.notices {
			n := &o.notices[i]
			if n.outcome != doOpen {
				continue
			}
			if n.failed {
				n.outcome = doNotNotified
			} else {
				n.outcome = doCancelled
			}
		}
	}
	if dProblemReason(x) != 0 {
		o.problem(ev, at, known)
	}
}

func (o *dOrder) problem(ev *dEvent, at, known int64) {
	r := dProblemReason(o.truth)
	missed := o.deliver.inForce()
	if r == drReturnToSender && o.latestProblem() >= 0 {
		return // the problem notice before stands for it (flagged for refund)
	}
	var fresh int64
	if ev.sys == schemas.Carrier {
		fresh = ev.eta
	}
	if r != drReturnToSender && fresh != 0 && (missed == 0 || fresh <= missed) {
		return
	}
	if o.deliver.covers(missed) {
		return
	}
	n := o.open(r, dkDeliverBy, missed, known)
	if n == nil {
		return
	}
	n.problemSince = at
	if r == drReturnToSender && o.shippedAt != 0 && o.shippedAt < at {
		n.problemSince = o.shippedAt
	}
	if r != drReturnToSender && fresh > missed {
		o.deliver.move(fresh)
	}
}

func (o *dOrder) deliverOpen() bool {
	return !dDelivered(o.truth) && !dOver(o.truth) && o.truth.Status() != canonical.ReturnToSender
}

func (o *dOrder) checkEstimate(ev *dEvent, known, prev int64) {
	if !o.deliverOpen() {
		return
	}
	missed := o.deliver.inForce()
	if missed == 0 || prev == 0 || prev > missed || ev.eta <= missed || o.deliver.covers(missed) {
		return
	}
	if o.open(drETA, dkDeliverBy, missed, known) == nil {
		return
	}
	o.deliver.move(o.eta())
}

func (o *dOrder) reviseCovered() {
	if !o.deliverOpen() {
		return
	}
	if at := o.deliver.inForce(); at != 0 && o.deliver.covers(at) && o.eta() > at {
		o.deliver.move(o.eta())
	}
}

func (o *dOrder) promiseOf(k int) *dPromise {
	if k == dkShipBy {
		return &o.ship
	}
	return &o.deliver
}

func (o *dOrder) shipInForce() int64 {
	base := o.ship.promised()
	if base == 0 && o.placed != 0 {
		base = satAdd(o.placed, dShipWindow)
	}
	return max(base, o.ship.movedTo())
}

func (o *dOrder) shipTimer() (int64, bool) {
	at := o.shipInForce()
	if at == 0 || at < o.seen || o.ship.covers(at) || dOver(o.truth) {
		return 0, false
	}
	if o.shippedAt != 0 && o.shippedAt <= at {
		return 0, false
	}
	return at, true
}

// nextDue is when due has work (0: none).
func (o *dOrder) nextDue() int64 {
	var next int64
	add := func(t int64) {
		if next == 0 || t < next {
			next = t
		}
	}
	if at, ok := o.shipTimer(); ok {
		add(at)
	}
	for i := range o.notices {
		n := &o.notices[i]
		switch {
		case n.outcome != doOpen:
		case n.failed:
			add(satAdd(n.notifyBy, dMissingAfter))
		default:
			add(n.notifyBy)
		}
	}
	return next
}

// due settles what watermark w has passed.
func (o *dOrder) due(w int64) {
	for range dMaxNotices {
		at, ok := o.shipTimer()
		if !ok || at >= w {
			break
		}
		n := o.open(drShipBy, dkShipBy, at, at)
		if n == nil {
			break
		}
		o.tell(n)
	}
	for i := range o.notices {
		n := &o.notices[i]
		if n.outcome != doOpen {
			continue
		}
		if !n.failed && n.notifyBy < w {
			n.failed = true
		}
		if satAdd(n.notifyBy, dMissingAfter) < w {
			n.outcome = doNotNotified
		}
	}
}

// dueIfPassed runs due when the watermark w passed the next due time, as
// the unify stage's timers do.
func (o *dOrder) dueIfPassed(w int64) {
	if next := o.nextDue(); next != 0 && next < w {
		o.due(w)
	}
}

func (o *dOrder) open(r dReason, k int, missed, known int64) *dNotice {
	if len(o.notices) == dMaxNotices {
		drop := -1
		for i := range o.notices {
			if o.notices[i].outcome != doOpen {
				drop = i
				break
			}
		}
		if drop < 0 {
			return nil
		}
		o.notices = append(o.notices[:drop], o.notices[drop+1:]...)
	}
	n := dNotice{reason: r, kind: k, missed: missed, knownAt: known, notifyBy: satAdd(known, o.sla)}
	if missed != 0 && known < missed {
		n.notifyBy = min(n.notifyBy, missed)
	}
	for i := len(o.notices) - 1; i >= 0; i-- {
		if prev := &o.notices[i]; prev.kind == k {
			n.renews, n.since = true, max(prev.notifyBy, prev.toldAt)
			break
		}
	}
	o.promiseOf(k).tell(missed)
	o.notices = append(o.notices, n)
	return &o.notices[len(o.notices)-1]
}

func (o *dOrder) latestProblem() int {
	for i := len(o.notices) - 1; i >= 0; i-- {
		if o.notices[i].reason.problem() {
			return i
		}
	}
	return -1
}

func (o *dOrder) tell(n *dNotice) {
	for _, m := range o.messages {
		if !o.tells(m, n) {
			continue
		}
		n.told, n.toldAt = true, m.at
		if m.revised != 0 {
			o.promiseOf(n.kind).move(m.revised)
		}
		if m.at <= n.notifyBy {
			n.outcome = doNotified
			return
		}
		n.failed = true
		n.outcome = doLate
		return
	}
}

func (o *dOrder) tells(m dMessage, n *dNotice) bool {
	if m.status == 0 {
		return (!n.renews || m.at > n.since) && (m.revised == 0 || m.revised > n.missed)
	}
	return n.reason.problem() && m.at >= n.problemSince
}

// untold lists the notices not told in time (the attribution's delays):
// open (untold), closed NOT_NOTIFIED, or told late.
func (o *dOrder) untold() []wDelay {
	var out []wDelay
	for i := range o.notices {
		n := &o.notices[i]
		switch n.outcome {
		case doOpen, doNotNotified:
			out = append(out, wDelay{knownAt: n.knownAt, notifyBy: n.notifyBy})
		case doLate:
			out = append(out, wDelay{knownAt: n.knownAt, notifyBy: n.notifyBy, toldAt: n.toldAt})
		}
	}
	return out
}
