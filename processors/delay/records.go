package delay

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// Record is one output value in baton's JSON form (what
// schemas.Schema.FromJSON accepts: time.Time for timestamps, nil for
// null), keyed by order ID: the same type as the viewer checks' records,
// so failed syncs of both go to one topic.
type Record = synccheck.Record

// The reasons of a notice (delay_notice.reason).
const (
	ReasonShipByMissed          = "ship_by_missed"
	ReasonETAPastPromise        = "eta_past_promise"
	ReasonException             = "exception"
	ReasonDeliveryAttemptFailed = "delivery_attempt_failed"
	ReasonReturnToSender        = "return_to_sender"
)

// The promises a notice is about (delay_notice.promise).
const (
	PromiseShipBy    = "ship_by"
	PromiseDeliverBy = "deliver_by"
)

// The states and outcomes of a notice.
const (
	StateOpen   = "open"
	StateClosed = "closed"

	Notified    = "NOTIFIED"     // told by notify_by
	Late        = "LATE"         // told after notify_by (it has a failed sync)
	NotNotified = "NOT_NOTIFIED" // never told (it has a failed sync)
	Withdrawn   = "WITHDRAWN"    // the order shipped by the promise after all
	Cancelled   = "CANCELLED"    // cancelled or refunded before notify_by, untold
)

// The reasons an order is flagged for cancellation and refund
// (delay_notice.refund_due_reason).
const (
	RefundCancelledBeforeShipping = "cancelled_before_shipping"
	RefundReturnToSender          = "return_to_sender"
)

// NoCarrierEstimate is no_revised_date_reason when a notice has no
// revised date: the carrier gave no estimate (or none with the problem).
const NoCarrierEstimate = "no carrier estimate"

// ReasonDelayNotNotified is the failed_sync reason of a notice not told by
// its notify_by; the failed sync's viewer is notifications and its
// expected_status MessageDelayNotice.
const ReasonDelayNotNotified = "delay_not_notified"

// MessageDelayNotice is the notifications message type of a delay notice
// (canonical_event.message_type).
const MessageDelayNotice = "delay_notice"

// noticeID is notice_id: 64-bit FNV-1a over the order ID, the reason, the
// promise kind and the date in force it says is missed (decimal ms), each
// followed by a NUL; 16 hex digits. An order has at most one notice per
// promise kind and date in force (a notice covers it), so the ID is unique
// and the same on every replay.
func noticeID(orderID string, r reason, k kind, missed int64) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
		h *= prime // the NUL separator
	}
	add(orderID)
	add(reasonNames[r])
	add(kindNames[k])
	var buf [20]byte
	add(string(strconv.AppendInt(buf[:0], missed, 10)))
	if h == 0 {
		h = 1 // 0 means "none" in renews
	}
	return h
}

func idString(id uint64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (56 - 8*i))
	}
	return hex.EncodeToString(b[:])
}

// noticeRecord builds a delay_notice value: the notice as of its latest
// version.
func noticeRecord(orderID string, n *notice) Record {
	state, outcome, closed := StateOpen, any(nil), any(nil)
	if n.outcome != open {
		state, outcome, closed = StateClosed, outcomeNames[n.outcome], schemas.PlainTime(n.closedAt)
	}
	var renews, noRevised, via, refund any
	if n.renews != 0 {
		renews = idString(n.renews)
	}
	if n.revised == 0 {
		noRevised = NoCarrierEstimate
	}
	told := n.flags&fTold != 0
	if told {
		via = MessageDelayNotice
		if n.via != 0 {
			via = n.via.String()
		}
	}
	if n.refundWhy != 0 {
		refund = refundNames[n.refundWhy]
	}
	var toldAt any
	if told {
		toldAt = schemas.PlainTime(n.toldAt)
	}
	return Record{Key: orderID, Value: map[string]any{
		"notice_id":              idString(n.id),
		"order_id":               orderID,
		"reason":                 reasonNames[n.reason],
		"promise":                kindNames[n.kind],
		"renews":                 renews,
		"original_promise":       schemas.PlainOptionalTime(n.original),
		"promise_is_default":     n.flags&fDefault != 0,
		"missed_promise":         schemas.PlainOptionalTime(n.missed),
		"revised_date":           schemas.PlainOptionalTime(n.revised),
		"no_revised_date_reason": noRevised,
		"shipment_id":            schemas.PlainOptionalString(n.shipment),
		"carrier":                schemas.PlainOptionalString(n.carrier),
		"cause_id":               schemas.PlainOptionalString(n.cause),
		"cause_authority":        n.authority,
		"cause_at":               schemas.PlainTime(n.causeAt),
		"known_at":               schemas.PlainTime(n.knownAt),
		"notify_by":              schemas.PlainTime(n.notifyBy),
		"detected_at":            schemas.PlainTime(n.detectedAt),
		"may_cancel":             n.flags&fMayCancel != 0,
		"refund_due":             n.flags&fRefundDue != 0,
		"refund_due_reason":      refund,
		"state":                  state,
		"outcome":                outcome,
		"notified":               told,
		"notified_at":            toldAt,
		"notified_via":           via,
		"failed_sync_emitted":    n.failed(),
		"closed_at":              closed,
		"version":                int64(n.version),
		"updated_at":             schemas.PlainTime(n.updatedAt),
		"retracted":              false,
	}}
}

// failedSync builds the failed_sync value of a notice not told by its
// notify_by (schemas/avro/failed_sync.avsc): check_id is the notice ID.
func failedSync(orderID string, n *notice, w int64) Record {
	return Record{Key: orderID, Value: map[string]any{
		"check_id":        idString(n.id),
		"order_id":        orderID,
		"viewer":          string(schemas.Notifications),
		"reason":          ReasonDelayNotNotified,
		"expected_status": MessageDelayNotice,
		"shown_status":    nil,
		"truth_at":        schemas.PlainTime(n.knownAt),
		"deadline":        schemas.PlainTime(n.notifyBy),
		"detected_at":     schemas.PlainTime(w),
		"truth_authority": n.authority,
		"carrier":         schemas.PlainOptionalString(n.carrier),
		"version":         int64(0), "retracted": false, // a correction re-emits with a higher version (package unify, "Event time")
	}}
}

// Errors of EventFromPlain wrap ErrInvalid.
var ErrInvalid = errors.New("delay: invalid canonical event")

// EventFromPlain reads the fields the detector needs from a canonical
// event in the JSON form schemas.Schema.Plain produces (times as RFC 3339
// strings or time.Time, nullable fields nil).
func EventFromPlain(p map[string]any) (Event, error) {
	str := func(f string) string { s, _ := p[f].(string); return s }
	ev := Event{System: schemas.System(str("source_system")), EventID: str("source_event_id"),
		ShipmentID: str("shipment_id"), TrackingNumber: str("tracking_number"), Carrier: str("carrier"),
		Status: canonical.Status(str("canonical_status")), MessageType: str("message_type"), DeliveryStatus: str("delivery_status")}
	for _, f := range []struct {
		name     string
		dst      *int64
		required bool
	}{
		{"occurred_at", &ev.OccurredAt, true}, {"recorded_at", &ev.RecordedAt, true},
		{"estimated_delivery", &ev.EstimatedDelivery, false}, {"promised_ship_by", &ev.PromisedShipBy, false},
		{"promised_deliver_by", &ev.PromisedDeliverBy, false}, {"revised_date", &ev.RevisedDate, false},
	} {
		v, err := canonical.PlainTime(p[f.name], f.required)
		if err != nil {
			return Event{}, fmt.Errorf("%w: %s: %v", ErrInvalid, f.name, err)
		}
		*f.dst = v
	}
	return ev, nil
}
