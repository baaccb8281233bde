// Package generic adapts baton's own documented webhook format, for systems
// that have no vendor format baton knows: the WMS and the notification
// system (or any source system). The body is one event, or an array of
// events, written exactly as `baton produce` takes them: the field names of
// the system's Avro schema (in its folder, systems/<system>/), times in RFC
// 3339. Deliveries are authenticated with a shared secret:
//
//	X-Baton-Signature: sha256=<hex HMAC-SHA256 of the raw body>
package generic

import (
	"fmt"
	"strings"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Baton-Signature"

// signaturePrefix names the algorithm, so a later one can be added
// without ambiguity.
const signaturePrefix = "sha256="

// Adapter is the generic JSON adapter for one source system; its vendor
// name (and URL path segment) is the system's name, e.g. /webhooks/wms.
type Adapter struct {
	sys    schemas.System
	secret []byte
	schema *schemas.Schema
}

// New returns the generic adapter for sys, authenticated with secret.
func New(sys schemas.System, secret string) (*Adapter, error) {
	sch, err := schemas.Load(sys.SchemaName())
	if err != nil {
		return nil, fmt.Errorf("generic adapter for %s: %w", sys, err)
	}
	return &Adapter{sys: sys, secret: []byte(secret), schema: sch}, nil
}

// NewWMS is the warehouse adapter, served at /webhooks/wms.
func NewWMS(secret string) *Adapter { return must(New(schemas.WMS, secret)) }

// NewNotifications is the customer-notification adapter, served at
// /webhooks/notifications.
func NewNotifications(secret string) *Adapter { return must(New(schemas.Notifications, secret)) }

func must(a *Adapter, err error) *Adapter {
	if err != nil {
		panic(err) // the schemas are embedded; the package tests load them all
	}
	return a
}

// Vendor is the system's name.
func (a *Adapter) Vendor() string { return string(a.sys) }

// System is the source system the adapter writes.
func (a *Adapter) System() schemas.System { return a.sys }

// Sign returns the X-Baton-Signature value for body: what a sender (or a
// test) puts in the header.
func Sign(secret string, body []byte) string {
	return signaturePrefix + ingest.SignHex([]byte(secret), body)
}

// Verify checks X-Baton-Signature against the raw body.
func (a *Adapter) Verify(req ingest.Request) error {
	got := strings.TrimSpace(req.Header.Get(SignatureHeader))
	if got == "" {
		return fmt.Errorf("%w: %s header missing", ingest.ErrSignature, SignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(got, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: %s must be %q followed by the hex HMAC-SHA256 of the body", ingest.ErrSignature, SignatureHeader, signaturePrefix)
	}
	return ingest.VerifyHMAC(SignatureHeader, hexSig, ingest.Hex, a.secret, req.Body)
}

// Adapt returns the events of the body, each checked against the schema,
// with its record key (order_id) and event_id set.
// recorded_at may be left out: the sender's record time is then the
// delivery's arrival time. An empty array is a valid delivery of nothing.
func (a *Adapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	v, err := ingest.DecodeJSON(req.Body)
	if err != nil {
		return nil, err
	}
	var items []any
	switch x := v.(type) {
	case map[string]any:
		items = []any{x}
	case []any:
		items = x
	default:
		return nil, fmt.Errorf("body must be a %s event object or an array of them", a.sys)
	}
	events := make([]map[string]any, 0, len(items))
	for i, it := range items {
		ev, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("event %d of %d: want a JSON object", i+1, len(items))
		}
		if ev["recorded_at"] == nil {
			ev["recorded_at"] = ingest.FormatTime(req.Received)
		}
		if err := ingest.CheckEvent(a.schema, a.sys, ev); err != nil {
			return nil, fmt.Errorf("event %d of %d: %w", i+1, len(items), err)
		}
		events = append(events, ev)
	}
	return events, nil
}
