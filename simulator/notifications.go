package simulator

import (
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// notificationEvent is one customer message.
//
// Vocabulary: status (the message type) order_confirmation,
// shipping_confirmation, out_for_delivery, delivered, delivery_failed
// (failed attempt, damaged or lost parcel), ready_for_pickup, delay_notice
// (with revised_date), cancellation, refund; channel email or sms;
// delivery_status sent, delivered, bounced (email) or failed (sms).
type notificationEvent struct {
	ship     int // -1: about the order as a whole
	channel  string
	status   string
	delivery string
	revised  time.Time
}

func (*notificationEvent) system() schemas.System { return schemas.Notifications }
func (*notificationEvent) idPrefix(*order) string { return "msg" }
func (*notificationEvent) key(o *order) string    { return o.id }

func (e *notificationEvent) fill(v map[string]any, o *order) {
	v["order_id"] = o.id
	v["shipment_id"] = nil
	if e.ship >= 0 {
		v["shipment_id"] = o.ships[e.ship].id
	}
	v["channel"] = e.channel
	v["status"] = e.status
	v["delivery_status"] = e.delivery
	v["revised_date"] = timeOrNil(e.revised)
}

// delayNoticeMissShare of the delay notices a promise calls for are never
// sent: the FTC measure is whether the customer was actually notified.
const delayNoticeMissShare = 0.2

// projectNotifications: notifications are a customer-facing viewer; each
// message goes out notifyLag after its trigger was recorded (or never), by
// email, and by SMS as well for customers who opted in to shipping
// updates.
func projectNotifications(rc *recorder, facts []fact) {
	o := rc.o
	n := notifier{rc: rc}
	for _, f := range facts {
		ship := f.ship
		if ship >= 0 && o.ships[ship].isReturn {
			ship = -1 // messages about a return are about the order
		}
		switch f.kind {
		case kPlaced:
			n.send(f, "order_confirmation", -1, false, time.Time{})
		case kShipped:
			n.send(f, "shipping_confirmation", ship, true, time.Time{})
		case kOutForDelivery:
			n.send(f, "out_for_delivery", ship, true, time.Time{})
		case kDelivered:
			if ship >= 0 {
				n.send(f, "delivered", ship, true, time.Time{})
			}
		case kAttemptFailed, kDamaged, kLost:
			n.send(f, "delivery_failed", ship, true, time.Time{})
		case kAvailableForPickup:
			n.send(f, "ready_for_pickup", ship, true, time.Time{})
		case kDelayed:
			if !o.deliverBy.IsZero() && f.eta.After(o.deliverBy) {
				n.delayNotice(f, ship, f.eta)
			}
		case kCancelled:
			n.send(f, "cancellation", -1, false, time.Time{})
		case kRefunded:
			n.send(f, "refund", -1, false, time.Time{})
		}
	}
	if known, revised, ok := shipDelay(o, facts, rc.r); ok {
		n.delayNotice(fact{at: known, known: known}, -1, revised)
	}
}

type notifier struct{ rc *recorder }

// send sends message status about fact f: by email, and by SMS too when
// sms is set and the customer opted in. The message states when f
// happened, and goes out notifyLag after f was recorded.
func (n notifier) send(f fact, status string, ship int, sms bool, revised time.Time) {
	r := n.rc.r
	channels := []string{"email"}
	if sms && n.rc.o.smsOptIn {
		channels = append(channels, "sms")
	}
	for _, ch := range channels {
		lag, ok := n.rc.viewerLag(notifyLag)
		if !ok {
			continue
		}
		delivery := []string{"delivered", "sent", "bounced"}[r.weighted(92, 6, 2)]
		if ch == "sms" {
			delivery = []string{"delivered", "sent", "failed"}[r.weighted(94, 4, 2)]
		}
		n.rc.add(&notificationEvent{ship: ship, channel: ch, status: status, delivery: delivery, revised: revised},
			f.at, f.known.Add(lag))
	}
}

// delayNotice tells the customer a promise will be missed, with the revised
// date, unless the merchant forgets to.
func (n notifier) delayNotice(f fact, ship int, revised time.Time) {
	if n.rc.r.chance(delayNoticeMissShare) {
		return
	}
	n.send(f, "delay_notice", ship, true, revised)
}

// shipDelay reports whether the order ships after its promised ship-by
// date (and was not cancelled), when the merchant knew, and the revised
// ship date: the end of the day the last parcel actually ships.
func shipDelay(o *order, facts []fact, r rng) (known, revised time.Time, ok bool) {
	if o.shipBy.IsZero() {
		return known, revised, false
	}
	var last time.Time
	for _, f := range facts {
		switch f.kind {
		case kCancelled:
			return known, revised, false
		case kShipped:
			last = later(last, f.at)
		}
	}
	if !last.After(o.shipBy) {
		return known, revised, false
	}
	known = later(o.placed.Add(time.Minute), earlier(o.shipBy, last).Add(-r.between(time.Hour, 12*time.Hour)))
	return known, dayStart(last).Add(24*time.Hour - time.Second), true
}
