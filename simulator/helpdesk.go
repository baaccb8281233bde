package simulator

import (
	"strconv"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// helpdeskEvent is a Zendesk ticket event.
//
// Vocabulary: event_type created, status_changed, tags_changed,
// field_changed; ticket_status new, open, pending, solved, closed; tags
// wismo and order_status on "where is my order" tickets, return_request on
// return tickets; order_status_shown in the help desk's own words (see
// orderView.label), null on tickets not linked to the order.
type helpdeskEvent struct {
	ticket    int
	eventType string
	status    string
	shown     string
	tags      []string
}

func (*helpdeskEvent) system() schemas.System { return schemas.Helpdesk }
func (*helpdeskEvent) idPrefix(*order) string { return "zd-audit" }

func (e *helpdeskEvent) key(o *order) string {
	if t := o.tickets[e.ticket]; t.linked {
		return o.id
	}
	return o.tickets[e.ticket].id
}

func (e *helpdeskEvent) fill(v map[string]any, o *order) {
	t := o.tickets[e.ticket]
	v["ticket_id"] = t.id
	v["order_id"] = nil
	if t.linked {
		v["order_id"] = o.id
	}
	v["event_type"] = e.eventType
	v["ticket_status"] = e.status
	v["order_status_shown"] = orNil(e.shown)
	tags := make([]any, len(e.tags))
	for i, tag := range e.tags {
		tags[i] = tag
	}
	v["tags"] = tags
	v["subject"] = t.subject
	v["description"] = nil // the simulated tickets are recognised by tag or subject
	v["channel"] = t.channel
}

var (
	wismoTags        = []string{"wismo", "order_status"}
	questionTags     = []string{"order_question"}
	untaggedWismo    = []string{"order_status"}
	returnTags       = []string{"return_request"}
	ticketChannels   = []string{"email", "email", "web", "chat", "phone"}
	zendeskAutoClose = 4 * 24 * time.Hour // solved tickets close after 4 days
)

// projectHelpdesk opens the order's tickets: a WISMO ticket for
// WismoTicketShare of orders, timed after the order's first trouble (or
// while it is slow in transit), and a return request before half of the
// returns. The help desk is a viewer: each ticket event shows the order
// status as the help desk's integration last refreshed it (helpdeskLag),
// and while a ticket is unsolved each refresh is a field_changed event.
func projectHelpdesk(rc *recorder, facts []fact) {
	r, o := rc.r, rc.o
	changes := labelTimeline(o, facts)
	visible := make([]time.Time, len(changes)) // when the help desk shows each change; zero: never
	for i, c := range changes {
		if lag, ok := rc.viewerLag(helpdeskLag); ok {
			visible[i] = c.known.Add(lag)
		}
	}
	hd := &helpdesk{rc: rc, changes: changes, visible: visible}
	if r.chance(rc.cfg.WismoTicketShare) {
		hd.wismo(wismoAt(o, facts, r))
	}
	for _, f := range facts {
		if f.kind == kReturnRequested && r.chance(0.5) {
			hd.returnRequest(f.at)
		}
	}
}

// helpdesk builds one order's tickets.
type helpdesk struct {
	rc      *recorder
	changes []labelChange
	visible []time.Time
}

// shownAt is the order status the help desk shows at t: the latest change
// already visible then.
func (hd *helpdesk) shownAt(t time.Time) string {
	shown := ""
	for i, c := range hd.changes {
		if !hd.visible[i].IsZero() && !hd.visible[i].After(t) {
			shown = c.label
		}
	}
	return shown
}

func (hd *helpdesk) newTicket(subject string, wismo bool) int {
	r, o := hd.rc.r, hd.rc.o
	t := &ticket{
		id:      strconv.Itoa(200000 + 2*o.idx + len(o.tickets)),
		subject: subject,
		channel: r.pick(ticketChannels),
		linked:  r.chance(0.9),
		wismo:   wismo,
	}
	o.tickets = append(o.tickets, t)
	return len(o.tickets) - 1
}

// event records a ticket event at t.
func (hd *helpdesk) event(ticket int, t time.Time, eventType, status string, tags []string) {
	shown := ""
	if hd.rc.o.tickets[ticket].linked {
		shown = hd.shownAt(t)
	}
	hd.rc.add(&helpdeskEvent{ticket: ticket, eventType: eventType, status: status, shown: shown, tags: tags},
		t, t.Add(hd.rc.r.between(0, 2*time.Second)))
}

// wismo opens a "where is my order" ticket at created and walks it to
// closed. A trigger tags most on creation; agents tag the rest when they
// open them. In the ground-truth profile the ticket is a general question
// about the order instead, which no WISMO rule classifies: that profile
// injects its WISMO tickets where their cause is certain (gtwismo.go).
func (hd *helpdesk) wismo(created time.Time) {
	r, o := hd.rc.r, hd.rc.o
	subject, tagged, untagged, isWismo := "Where is my order "+o.number+"?", wismoTags, untaggedWismo, true
	if hd.rc.cfg.ViewerFaults != nil {
		subject, tagged, untagged, isWismo = "A question about order "+o.number, questionTags, questionTags, false
	}
	tk := hd.newTicket(subject, isWismo)
	tags := tagged
	autoTagged := r.chance(0.7)
	if !autoTagged {
		tags = untagged
	}
	hd.event(tk, created, "created", "new", tags)
	opened := created.Add(r.around(2*time.Hour, 1, 10*time.Minute, 12*time.Hour))
	if !autoTagged {
		hd.event(tk, opened, "tags_changed", "new", tagged)
	}
	hd.event(tk, opened, "status_changed", "open", tagged)
	pending := opened.Add(r.between(5*time.Minute, time.Hour))
	hd.event(tk, pending, "status_changed", "pending", tagged)
	solved := pending.Add(r.around(20*time.Hour, 1, 2*time.Hour, 5*24*time.Hour))
	hd.refreshes(tk, created, solved, func(t time.Time) (string, []string) {
		switch {
		case t.Before(opened):
			return "new", tags
		case t.Before(pending):
			return "open", tagged
		}
		return "pending", tagged
	})
	hd.event(tk, solved, "status_changed", "solved", tagged)
	hd.event(tk, solved.Add(zendeskAutoClose), "status_changed", "closed", tagged)
}

// returnRequest: the customer asks to return the order; the agent
// authorises the return in the OMS at authorised, then solves the ticket.
func (hd *helpdesk) returnRequest(authorised time.Time) {
	r, o := hd.rc.r, hd.rc.o
	tk := hd.newTicket("Return request for order "+o.number, false)
	created := authorised.Add(-r.between(10*time.Minute, 6*time.Hour))
	hd.event(tk, created, "created", "new", returnTags)
	hd.event(tk, created.Add(r.between(0, authorised.Sub(created))), "status_changed", "open", returnTags)
	solved := authorised.Add(r.between(time.Minute, 30*time.Minute))
	hd.event(tk, solved, "status_changed", "solved", returnTags)
	hd.event(tk, solved.Add(zendeskAutoClose), "status_changed", "closed", returnTags)
}

// refreshes records a field_changed event for each order-status change the
// help desk shows between from and to, if the ticket is linked to the
// order; ticketAt gives the ticket's status and tags at a time.
func (hd *helpdesk) refreshes(tk int, from, to time.Time, ticketAt func(time.Time) (string, []string)) {
	if !hd.rc.o.tickets[tk].linked {
		return
	}
	for _, at := range hd.visible {
		if at.After(from) && at.Before(to) {
			status, tags := ticketAt(at)
			hd.event(tk, at, "field_changed", status, tags)
		}
	}
}

// wismoAt is when a customer asks where the order is: a few hours after its
// first trouble (a hold, a delay, a failed attempt, a damaged or lost
// parcel), else while its first parcel is in transit, else days after
// placing it.
func wismoAt(o *order, facts []fact, r rng) time.Time {
	var shipped, delivered time.Time
	for _, f := range facts {
		switch f.kind {
		case kOnHold, kDelayed, kAttemptFailed, kDamaged, kLost:
			return f.at.Add(r.between(2*time.Hour, 30*time.Hour))
		case kShipped:
			if shipped.IsZero() {
				shipped = f.at
			}
		case kDelivered:
			if delivered.IsZero() && !o.ships[f.ship].isReturn {
				delivered = f.at
			}
		}
	}
	if shipped.IsZero() {
		return o.placed.Add(r.between(24*time.Hour, 3*24*time.Hour))
	}
	span := 4 * 24 * time.Hour
	if !delivered.IsZero() {
		span = min(span, delivered.Sub(shipped)-30*time.Minute)
	}
	return shipped.Add(r.between(span/3, span))
}

// labelChange is a change of the order's status in the help desk's words.
type labelChange struct {
	at    time.Time // when it happened
	known time.Time // when its authority recorded it
	label string
}

// labelTimeline replays the facts and lists each change of the order's
// help-desk label.
func labelTimeline(o *order, facts []fact) []labelChange {
	v := &orderView{o: o, ships: make([]stage, o.outbound())}
	var out []labelChange
	for _, f := range facts {
		v.apply(f)
		if l := v.label(); len(out) == 0 || out[len(out)-1].label != l {
			out = append(out, labelChange{f.at, f.known, l})
		}
	}
	return out
}

// stage is an outbound parcel's progress as the help desk sees it.
type stage uint8

const (
	stNone stage = iota
	stProcessing
	stShipped
	stInTransit
	stDelayed
	stOutForDelivery
	stAttempted
	stPickup
	stDelivered
	stException
	stReturning
)

// orderView follows the truth fact by fact.
type orderView struct {
	o                                          *order
	ships                                      []stage
	confirmed, onHold, paymentHold, cancelled  bool
	returnRequested, returnInTransit, returned bool
	fullRefund, partialRefund                  bool
}

func (v *orderView) apply(f fact) {
	if f.ship >= 0 && v.o.ships[f.ship].isReturn {
		v.returnInTransit = v.returnInTransit || f.kind == kInTransit
		v.returned = v.returned || f.kind == kReturnReceived
		v.returnRequested = v.returnRequested || f.kind == kReturnRequested
		v.fullRefund = v.fullRefund || (f.kind == kRefunded && !f.partial)
		v.partialRefund = v.partialRefund || (f.kind == kRefunded && f.partial)
		return
	}
	set := func(s stage) { v.ships[f.ship] = s }
	switch f.kind {
	case kOnHold:
		v.onHold, v.paymentHold = true, f.reason == "payment_pending"
	case kConfirmed:
		v.onHold, v.confirmed = false, true
	case kReleased, kPicked, kPacked:
		set(stProcessing)
	case kShipped:
		set(stShipped)
	case kInTransit:
		set(stInTransit)
	case kDelayed:
		set(stDelayed)
	case kOutForDelivery:
		set(stOutForDelivery)
	case kAttemptFailed:
		set(stAttempted)
	case kAvailableForPickup:
		set(stPickup)
	case kDelivered:
		set(stDelivered)
	case kLost, kDamaged:
		set(stException)
	case kReturnToSender:
		set(stReturning)
	case kCancelled:
		v.cancelled = true
	case kRefunded:
		v.fullRefund = v.fullRefund || !f.partial
		v.partialRefund = v.partialRefund || f.partial
	}
}

// label names the order's status as the help desk shows it: Pending,
// Payment pending, On hold, Confirmed, Processing, Shipped, Partially
// shipped, In transit, Delayed, Out for delivery, Delivery attempted,
// Ready for pickup, Partially delivered, Delivered, Exception, Returning to
// sender, Cancelled, Return requested, Return in transit, Returned,
// Partially refunded, Refunded.
func (v *orderView) label() string {
	switch {
	case v.cancelled:
		return "Cancelled"
	case v.fullRefund:
		return "Refunded"
	case v.returned:
		return "Returned"
	case v.returnInTransit:
		return "Return in transit"
	case v.returnRequested:
		return "Return requested"
	case v.partialRefund:
		return "Partially refunded"
	case v.onHold && v.paymentHold:
		return "Payment pending"
	case v.onHold:
		return "On hold"
	}
	var count [stReturning + 1]int
	for _, s := range v.ships {
		count[s]++
	}
	n := len(v.ships)
	shipped := n - count[stNone] - count[stProcessing]
	switch {
	case count[stDelivered] == n:
		return "Delivered"
	case count[stException] > 0:
		return "Exception"
	case count[stReturning] > 0:
		return "Returning to sender"
	case count[stAttempted] > 0:
		return "Delivery attempted"
	case count[stPickup] > 0:
		return "Ready for pickup"
	case count[stDelayed] > 0:
		return "Delayed"
	case count[stDelivered] > 0:
		return "Partially delivered"
	case shipped > 0 && shipped < n:
		return "Partially shipped"
	case count[stOutForDelivery] > 0:
		return "Out for delivery"
	case count[stInTransit] > 0:
		return "In transit"
	case count[stShipped] > 0:
		return "Shipped"
	case count[stProcessing] > 0:
		return "Processing"
	case v.confirmed:
		return "Confirmed"
	}
	return "Pending"
}
