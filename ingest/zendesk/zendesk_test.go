package zendesk

import (
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files from the adapter's output")

// secret is the example signing secret of Zendesk's verification guide.
const secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="

var (
	now      = time.Date(2099, 7, 4, 5, 35, 0, 0, time.UTC)
	received = now
	opts     = Options{OrderNumberField: "360001234567", OrderStatusField: "360007654321", Now: func() time.Time { return now }}
)

var fixtures = []string{
	"ticket_created.json",
	"ticket_status_changed.json",
	"ticket_tags_changed.json",
	"ticket_custom_field_changed.json",
	"trigger_status_changed.json",
}

// signed is a delivery signed as Zendesk signs it, at timestamp ts.
func signed(body []byte, ts time.Time) ingest.Request {
	stamp := ts.UTC().Format(time.RFC3339)
	h := http.Header{}
	h.Set(HeaderTimestamp, stamp)
	h.Set(HeaderSignature, Sign(secret, stamp, body))
	return ingest.Request{Header: h, Body: body, Received: received}
}

func TestAdaptGolden(t *testing.T) {
	a := New(secret, opts)
	for _, file := range fixtures {
		t.Run(file, func(t *testing.T) {
			req := signed(ingesttest.Fixture(t, file), now.Add(-time.Second))
			ingesttest.AdaptGolden(t, a, schemas.Helpdesk, req, 1, ingesttest.GoldenFile(file), *update)
		})
	}
}

func TestOrderFromExternalIDAndUnconfiguredFields(t *testing.T) {
	body := ingesttest.Fixture(t, "ticket_status_changed.json")
	ev, err := New(secret, Options{OrderFromExternalID: true}).Adapt(signed(body, now))
	if err != nil {
		t.Fatal(err)
	}
	if ev[0]["order_id"] != "TEST1234" || ev[0]["order_status_shown"] != nil {
		t.Fatalf("order_id %v order_status_shown %v: want external_id and no status field", ev[0]["order_id"], ev[0]["order_status_shown"])
	}
	// Without configuration, a custom field change is still a ticket event,
	// just not linked to an order.
	ev, err = New(secret, Options{}).Adapt(signed(ingesttest.Fixture(t, "ticket_custom_field_changed.json"), now))
	if err != nil || ev[0]["order_id"] != nil || ev[0]["event_type"] != "field_changed" {
		t.Fatalf("unconfigured custom field change: %v, %v", ev, err)
	}
}

func TestAdaptErrors(t *testing.T) {
	a := New(secret, opts)
	for _, tt := range []struct {
		name, body, want string
		unsupported      bool
	}{
		{"other ticket event", `{"type":"zen:event-type:ticket.priority_changed","detail":{"id":"1","status":"OPEN"}}`, `Zendesk event type "zen:event-type:ticket.priority_changed"`, true},
		{"user event", `{"type":"zen:event-type:user.active_changed","detail":{"id":"1"}}`, "user.active_changed", true},
		{"no type", `{"detail":{"id":"1","status":"open"}}`, "type missing", false},
		{"no detail", `{"type":"zen:event-type:ticket.created"}`, "detail (the ticket) missing", false},
		{"no ticket id", `{"type":"zen:event-type:ticket.created","detail":{"status":"open"}}`, "detail.id missing and subject is not zen:ticket:<id>", false},
		{"no status", `{"type":"zen:event-type:ticket.created","detail":{"id":"1"}}`, "detail.status missing", false},
		{"bad time", `{"type":"zen:event-type:ticket.created","detail":{"id":"1","status":"new","updated_at":"soon"}}`, `detail.updated_at: want an RFC 3339 time, got "soon"`, false},
		{"not an object", `["zen:event-type:ticket.created"]`, "want a JSON object", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Adapt(signed([]byte(tt.body), now))
			ingesttest.CheckAdaptErr(t, err, tt.want, tt.unsupported)
		})
	}
	// The ticket ID falls back to the event subject, the status to the
	// status_changed event's new value.
	ev, err := a.Adapt(signed([]byte(`{"type":"zen:event-type:ticket.status_changed","subject":"zen:ticket:77","detail":{},"event":{"current":"PENDING","previous":"OPEN"}}`), now))
	if err != nil || ev[0]["ticket_id"] != "77" || ev[0]["ticket_status"] != "pending" || ev[0]["recorded_at"] != ingest.FormatTime(received) {
		t.Fatalf("fallbacks: %v, %v", ev, err)
	}
}

func TestVerify(t *testing.T) {
	a := New(secret, opts)
	body := ingesttest.Fixture(t, "ticket_created.json")
	fresh := signed(body, now.Add(-30*time.Second))
	for _, tt := range []struct {
		name   string
		mutate func(h http.Header)
		body   []byte
		want   string
	}{
		{"valid", func(http.Header) {}, body, ""},
		{"valid at the tolerance edge", func(h http.Header) {
			stamp := now.Add(-DefaultTolerance).Format(time.RFC3339)
			h.Set(HeaderTimestamp, stamp)
			h.Set(HeaderSignature, Sign(secret, stamp, body))
		}, body, ""},
		{"forged", func(h http.Header) {
			h.Set(HeaderSignature, Sign("not-the-secret", h.Get(HeaderTimestamp), body))
		}, body, "X-Zendesk-Webhook-Signature does not match the body"},
		{"body changed", func(http.Header) {}, append([]byte(" "), body...), "does not match"},
		{"signed over body only", func(h http.Header) {
			h.Set(HeaderSignature, ingest.SignBase64([]byte(secret), body))
		}, body, "does not match"},
		{"timestamp swapped", func(h http.Header) {
			h.Set(HeaderTimestamp, now.Format(time.RFC3339))
		}, body, "does not match"},
		{"missing signature", func(h http.Header) { h.Del(HeaderSignature) }, body, "X-Zendesk-Webhook-Signature header missing"},
		{"missing timestamp", func(h http.Header) { h.Del(HeaderTimestamp) }, body, "X-Zendesk-Webhook-Signature-Timestamp header missing"},
		{"stale", func(h http.Header) {
			stamp := now.Add(-DefaultTolerance - time.Second).Format(time.RFC3339)
			h.Set(HeaderTimestamp, stamp)
			h.Set(HeaderSignature, Sign(secret, stamp, body))
		}, body, "5m1s old, more than the 5m0s tolerance"},
		{"future", func(h http.Header) {
			stamp := now.Add(time.Hour).Format(time.RFC3339)
			h.Set(HeaderTimestamp, stamp)
			h.Set(HeaderSignature, Sign(secret, stamp, body))
		}, body, "1h0m0s in the future"},
		{"signed unparsable timestamp", func(h http.Header) {
			h.Set(HeaderTimestamp, "1720000000")
			h.Set(HeaderSignature, Sign(secret, "1720000000", body))
		}, body, `want an RFC 3339 time, got "1720000000"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := fresh
			req.Header = fresh.Header.Clone()
			req.Body = tt.body
			tt.mutate(req.Header)
			ingesttest.CheckVerifyErr(t, a.Verify(req), tt.want)
		})
	}
	// The tolerance is configurable.
	strict := New(secret, Options{Tolerance: 10 * time.Second, Now: opts.Now})
	if err := strict.Verify(fresh); err == nil || !strings.Contains(err.Error(), "10s tolerance") {
		t.Fatalf("30 s old with a 10 s tolerance: %v", err)
	}
}

// FuzzAdapt feeds arbitrary bodies: Adapt must never panic, and every event
// it returns must pass the help-desk schema.
func FuzzAdapt(f *testing.F) {
	var seeds [][]byte
	for _, file := range fixtures {
		seeds = append(seeds, ingesttest.Fixture(f, file))
	}
	seeds = append(seeds, []byte(`{"type":"zen:event-type:ticket.custom_field_changed","detail":{"id":1,"status":"x","tags":"a  b"},"event":{"custom_field":{"id":360001234567},"current":[1]}}`))
	a := New(secret, Options{OrderNumberField: "360001234567", OrderStatusField: "360007654321", OrderFromExternalID: true})
	ingesttest.FuzzAdapter(f, a, schemas.Helpdesk, ingest.Request{Received: received}, seeds...)
}

// TestClipKeepsWholeRunes: a long description is cut to maxDescription
// bytes without splitting a character.
func TestClipKeepsWholeRunes(t *testing.T) {
	long := strings.Repeat("é", maxDescription) // 2 bytes each
	got := clip("x"+long, maxDescription)
	if len(got) > maxDescription || !utf8.ValidString(got) || len(got) < maxDescription-1 {
		t.Errorf("clip gave %d bytes (valid UTF-8: %v), want at most %d whole runes", len(got), utf8.ValidString(got), maxDescription)
	}
	if s := "short"; clip(s, maxDescription) != s {
		t.Errorf("a short description was cut")
	}
}
