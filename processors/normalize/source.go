package normalize

import (
	"errors"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// Source is the part of a source event the canonical event is built from.
// It is JSON-encoded in held state, so its fields are exported and tagged.
type Source struct {
	System            string           `json:"system"`
	EventID           string           `json:"event_id"`
	OrderID           string           `json:"order_id,omitempty"`
	ShipmentID        string           `json:"shipment_id,omitempty"`
	TrackingNumber    string           `json:"tracking_number,omitempty"`
	Carrier           string           `json:"carrier,omitempty"`
	TicketID          string           `json:"ticket_id,omitempty"`
	Tags              []string         `json:"tags,omitempty"`
	Subject           string           `json:"subject,omitempty"`
	Description       string           `json:"description,omitempty"`
	MessageType       string           `json:"message_type,omitempty"`
	DeliveryStatus    string           `json:"delivery_status,omitempty"`
	OccurredAt        time.Time        `json:"occurred_at"`
	RecordedAt        time.Time        `json:"recorded_at"`
	Ingested          time.Time        `json:"ingested"`
	EstimatedDelivery *time.Time       `json:"estimated_delivery,omitempty"`
	PromisedShipBy    *time.Time       `json:"promised_ship_by,omitempty"`
	PromisedDeliverBy *time.Time       `json:"promised_deliver_by,omitempty"`
	RevisedDate       *time.Time       `json:"revised_date,omitempty"`
	SourceStatus      string           `json:"source_status"`
	CanonicalStatus   canonical.Status `json:"canonical_status,omitempty"`
	HasStatus         bool             `json:"has_status"`
	LinkedBy          string           `json:"linked_by,omitempty"`
	// SourceClock is how far its source partition had been processed in
	// event time when the event was read, itself included (its system's
	// State.SourceClock then): unify measures its lateness against it.
	SourceClock time.Time `json:"source_clock,omitzero"`
}

// rejectError carries the reason a source event cannot be parsed.
type rejectError struct {
	reason string
	err    error
}

func (e *rejectError) Error() string { return e.err.Error() }

// parseSource reads the fields the canonical event needs from a source
// value in JSON form.
func parseSource(sys schemas.System, plain map[string]any, ingested time.Time) (Source, error) {
	str := func(f string) string { s, _ := plain[f].(string); return s }
	spec, ok := schemas.SpecOf(sys)
	if !ok {
		return Source{}, fmt.Errorf("unknown system %q", sys)
	}
	// Carrier scans are linked by their tracking number, help-desk events
	// by the order they carry or else their ticket (Processor.ticket).
	for _, f := range spec.RequiredIDs {
		if str(f) == "" {
			return Source{}, &rejectError{ReasonMissingID, errors.New(f + " is missing")}
		}
	}
	if sys == schemas.Helpdesk && str("order_id") == "" && str("ticket_id") == "" {
		return Source{}, &rejectError{ReasonMissingID, errors.New("the ticket event carries neither an order reference (order_id) nor a ticket ID")}
	}
	ev := Source{
		System: string(sys), EventID: str("event_id"), OrderID: str("order_id"), ShipmentID: str("shipment_id"),
		TrackingNumber: str("tracking_number"), Carrier: str("carrier"), TicketID: str("ticket_id"),
		Subject: str("subject"), Description: str("description"), DeliveryStatus: str("delivery_status"), Ingested: ingested.UTC(),
	}
	if sys == schemas.Notifications {
		ev.MessageType = str("status")
	}
	if tags, ok := plain["tags"].([]any); ok {
		for _, t := range tags {
			if s, ok := t.(string); ok {
				ev.Tags = append(ev.Tags, s)
			}
		}
	}
	var err error
	if ev.OccurredAt, err = schemas.PlainTimeField(plain, "occurred_at"); err != nil {
		return Source{}, &rejectError{ReasonInvalidTime, err}
	}
	if ev.RecordedAt, err = schemas.PlainTimeField(plain, "recorded_at"); err != nil {
		return Source{}, &rejectError{ReasonInvalidTime, err}
	}
	for f, dst := range map[string]**time.Time{"estimated_delivery": &ev.EstimatedDelivery, "promised_ship_by": &ev.PromisedShipBy,
		"promised_deliver_by": &ev.PromisedDeliverBy, "revised_date": &ev.RevisedDate} {
		if plain[f] == nil {
			continue
		}
		t, err := schemas.PlainTimeField(plain, f)
		if err != nil {
			return Source{}, &rejectError{ReasonInvalidTime, err}
		}
		*dst = &t
	}
	return ev, nil
}

// sourceClock is SourceClock, nil when unknown (an event held before it
// existed).
func (ev Source) sourceClock() *time.Time {
	if ev.SourceClock.IsZero() {
		return nil
	}
	return &ev.SourceClock
}

// resolved is the canonical event of an event resolved through a link,
// linkedBy saying which kind.
func (ev Source) resolved(l Link, linkedBy string) Event {
	ev.OrderID, ev.LinkedBy = l.OrderID, linkedBy
	if ev.ShipmentID == "" {
		ev.ShipmentID = l.ShipmentID
	}
	return ev.canonical()
}

// canonical builds the canonical event (JSON form of canonical_event.avsc).
func (ev Source) canonical() Event {
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	optTime := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return *t
	}
	var status any
	if ev.HasStatus {
		status = string(ev.CanonicalStatus)
	}
	tags := make([]any, len(ev.Tags))
	for i, t := range ev.Tags {
		tags[i] = t
	}
	return Event{Key: ev.OrderID, Value: map[string]any{
		"order_id":            ev.OrderID,
		"shipment_id":         opt(ev.ShipmentID),
		"tracking_number":     opt(ev.TrackingNumber),
		"source_system":       ev.System,
		"source_event_id":     ev.EventID,
		"source_status":       ev.SourceStatus,
		"canonical_status":    status,
		"linked_by":           ev.LinkedBy,
		"occurred_at":         ev.OccurredAt,
		"recorded_at":         ev.RecordedAt,
		"ingested_at":         ev.Ingested,
		"carrier":             opt(ev.Carrier),
		"estimated_delivery":  optTime(ev.EstimatedDelivery),
		"promised_ship_by":    optTime(ev.PromisedShipBy),
		"promised_deliver_by": optTime(ev.PromisedDeliverBy),
		"ticket_id":           opt(ev.TicketID),
		"tags":                tags,
		"message_type":        opt(ev.MessageType),
		"delivery_status":     opt(ev.DeliveryStatus),
		"revised_date":        optTime(ev.RevisedDate),
		"subject":             opt(ev.Subject),
		"description":         opt(ev.Description),
		"source_clock":        optTime(ev.sourceClock()),
	}}
}
