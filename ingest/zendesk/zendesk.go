// Package zendesk adapts Zendesk webhooks about tickets to help-desk source
// events.
//
// It reads Zendesk's event-subscribed webhook format (zendesk_event_version
// 2022-11-06): a JSON object with "type" (zen:event-type:ticket.created,
// ticket.status_changed, ticket.tags_changed, ticket.custom_field_changed),
// "id" (the event ID, the de-duplication key), "subject" (zen:ticket:<id>),
// "time", "detail" (the ticket: id, status, subject, description, tags, via.channel,
// external_id, created_at, updated_at) and "event" (what changed). Other
// ticket event types are ErrUnsupported (422): subscribing to them was a
// configuration mistake.
//
// The order a ticket is about and the order status the agent sees live in
// ticket custom fields whose IDs differ per Zendesk account, so they are
// configuration (Options). Zendesk's ticket events do not carry custom field
// values in "detail"; they are read
//
//   - from event.custom_field / event.current of a custom_field_changed
//     event for that field, and
//   - from detail.custom_fields ([{"id": ..., "value": ...}], the Ticket API
//     shape), when the webhook body carries it, as a trigger-built body can
//     (see ingest/README.md).
//
// So with Zendesk's own events only the order field's custom_field_changed
// carries the order; ticket.created, status and tag changes and the
// order-status field's changes arrive without one (order_id null; the
// record is keyed by the ticket ID). That is enough: the normalize stage
// learns ticket → order from every help-desk event that carries both and
// places the ticket's other events, earlier and later, through it (see
// package normalize), so no trigger is needed. A trigger body that carries
// the order on every event only spares those events the wait for the link.
//
// Deliveries are signed: X-Zendesk-Webhook-Signature is the base64
// HMAC-SHA256 of X-Zendesk-Webhook-Signature-Timestamp followed by the raw
// body, with the webhook's signing secret. Timestamps further than the
// tolerance from now, either way, are refused, so a captured delivery cannot
// be replayed later.
package zendesk

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// Headers Zendesk sets on every webhook request.
const (
	HeaderSignature = "X-Zendesk-Webhook-Signature"
	HeaderTimestamp = "X-Zendesk-Webhook-Signature-Timestamp"
)

// DefaultTolerance is how far a signature timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Options configure the adapter for one Zendesk account.
type Options struct {
	// OrderNumberField is the ID of the ticket custom field holding the
	// order number (becomes order_id); empty reads none.
	OrderNumberField string
	// OrderStatusField is the ID of the ticket custom field showing the
	// agent the order's status (becomes order_status_shown); empty reads
	// none.
	OrderStatusField string
	// OrderFromExternalID takes order_id from the ticket's external_id
	// when no order-number field value is known, for accounts that link
	// tickets to orders that way.
	OrderFromExternalID bool
	// Tolerance bounds the signature timestamp's age (and how far ahead
	// of our clock it may be); 0 means DefaultTolerance.
	Tolerance time.Duration
	// Now stands in for time.Now in tests.
	Now func() time.Time
}

// Adapter is the Zendesk webhook adapter, served at /webhooks/zendesk.
type Adapter struct {
	secret []byte
	opts   Options
}

// New returns the adapter; secret is the webhook's signing secret (Admin
// Center > Apps and integrations > Webhooks > the webhook > Signing secret).
func New(secret string, opts Options) *Adapter {
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Adapter{secret: []byte(secret), opts: opts}
}

// Vendor is "zendesk".
func (a *Adapter) Vendor() string { return "zendesk" }

// System is the help desk.
func (a *Adapter) System() schemas.System { return schemas.Helpdesk }

// Sign returns the signature Zendesk would send for timestamp and body.
func Sign(secret, timestamp string, body []byte) string {
	return ingest.SignBase64([]byte(secret), []byte(timestamp), body)
}

// Verify checks the signature over timestamp + body, then that the
// timestamp is within the tolerance of now.
func (a *Adapter) Verify(req ingest.Request) error {
	ts := strings.TrimSpace(req.Header.Get(HeaderTimestamp))
	if ts == "" {
		return fmt.Errorf("%w: %s header missing", ingest.ErrSignature, HeaderTimestamp)
	}
	if err := ingest.VerifyHMAC(HeaderSignature, req.Header.Get(HeaderSignature), ingest.Base64, a.secret, []byte(ts), req.Body); err != nil {
		return err
	}
	t, err := ingest.ParseTime(ts)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ingest.ErrSignature, HeaderTimestamp, err)
	}
	return ingest.CheckFresh(HeaderTimestamp, t, a.opts.Now(), a.opts.Tolerance)
}

// eventTypes maps the ticket event types baton reads to event_type.
var eventTypes = map[string]string{
	"zen:event-type:ticket.created":              "created",
	"zen:event-type:ticket.status_changed":       "status_changed",
	"zen:event-type:ticket.tags_changed":         "tags_changed",
	"zen:event-type:ticket.custom_field_changed": "field_changed",
}

// Adapt maps one ticket event to one help-desk event.
func (a *Adapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	o, err := ingest.DecodeObject(req.Body)
	if err != nil {
		return nil, err
	}
	typ := o.String("type")
	if typ == "" {
		return nil, fmt.Errorf("type missing: want a Zendesk event (zen:event-type:ticket.*)")
	}
	eventType, ok := eventTypes[typ]
	if !ok {
		return nil, fmt.Errorf("%w: Zendesk event type %q (baton reads ticket.created, ticket.status_changed, ticket.tags_changed, ticket.custom_field_changed)", ingest.ErrUnsupported, typ)
	}
	detail := o.Object("detail")
	if detail == nil {
		return nil, fmt.Errorf("%s: detail (the ticket) missing", typ)
	}
	change := o.Object("event")

	ticketID := detail.String("id")
	if ticketID == "" {
		ticketID, _ = strings.CutPrefix(o.String("subject"), "zen:ticket:")
	}
	if ticketID == "" {
		return nil, fmt.Errorf("%s: detail.id missing and subject is not zen:ticket:<id>", typ)
	}
	status := detail.String("status")
	if status == "" && eventType == "status_changed" {
		status = scalar(change["current"])
	}
	if status == "" {
		return nil, fmt.Errorf("%s: detail.status missing", typ)
	}
	recorded, _, ok, err := detail.Time("detail", "updated_at", "created_at")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	if !ok {
		if recorded, _, ok, err = o.Time(typ, "time"); err != nil {
			return nil, err
		}
	}
	if !ok {
		recorded = ingest.FormatTime(req.Received)
	}
	eventID := o.String("id")
	if eventID == "" {
		eventID = ingest.DerivedID("zendesk", string(req.Body))
	}

	fields := a.customFields(detail, change)
	orderID := fields[a.opts.OrderNumberField]
	if orderID == "" && a.opts.OrderFromExternalID {
		orderID = detail.String("external_id")
	}
	return []map[string]any{{
		"event_id":           eventID,
		"ticket_id":          ticketID,
		"order_id":           ingest.Nullable(orderID),
		"event_type":         eventType,
		"ticket_status":      strings.ToLower(status),
		"order_status_shown": ingest.Nullable(fields[a.opts.OrderStatusField]),
		"tags":               tags(detail),
		"subject":            ingest.Nullable(detail.String("subject")),
		"description":        ingest.Nullable(clip(detail.String("description"), maxDescription)),
		"channel":            ingest.Nullable(detail.Object("via").String("channel")),
		// Zendesk stamps the change with the ticket's updated_at: it is
		// both when it happened and when the help desk recorded it.
		"occurred_at": recorded,
		"recorded_at": recorded,
	}}, nil
}

// maxDescription bounds the description carried on: enough for the
// keywords a customer writes in the first lines, not a whole e-mail thread
// in every event of the ticket.
const maxDescription = 2000

// clip cuts s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// customFields returns the configured fields' values this delivery knows:
// detail.custom_fields first, then the changed field of a
// custom_field_changed event (the newer value wins).
func (a *Adapter) customFields(detail, change ingest.Object) map[string]string {
	out := map[string]string{}
	want := func(id string) bool {
		return id != "" && (id == a.opts.OrderNumberField || id == a.opts.OrderStatusField)
	}
	for _, cf := range detail.Objects("custom_fields") {
		if id := cf.String("id"); want(id) {
			out[id] = scalar(cf["value"])
		}
	}
	if id := change.Object("custom_field").String("id"); want(id) {
		out[id] = scalar(change["current"])
	}
	return out
}

// scalar reads a changed value: Zendesk writes it bare or as {"value": v}.
// Only strings and numbers are values an order number or status can be;
// anything else reads as unknown.
func scalar(v any) string {
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	}
	return ""
}

// tags reads detail.tags: an array in Zendesk events, a space-separated
// string in a trigger-built body ({{ticket.tags}}).
func tags(detail ingest.Object) []any {
	out := []any{}
	if s, ok := detail["tags"].(string); ok {
		for _, t := range strings.Fields(s) {
			out = append(out, t)
		}
		return out
	}
	for _, t := range detail.Strings("tags") {
		out = append(out, t)
	}
	return out
}
