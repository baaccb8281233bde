package shopify

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files from the adapter's output")

const secret = "shpss_test_secret"

var received = time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)

// fixtures maps each sample (see testdata/README.md for their sources) to
// the topic it is delivered under.
var fixtures = []struct {
	file, topic string
	events      int
}{
	{"orders_create.json", "orders/create", 3},
	{"orders_updated.json", "orders/updated", 3},
	{"orders_cancelled.json", "orders/cancelled", 3},
	{"fulfillments_create.json", "fulfillments/create", 1},
	{"fulfillments_update.json", "fulfillments/update", 2},
	{"fulfillment_events_create.json", "fulfillment_events/create", 1},
	{"refunds_create.json", "refunds/create", 1},
}

func request(topic string, body []byte) ingest.Request {
	h := http.Header{}
	h.Set(HeaderTopic, topic)
	h.Set(HeaderWebhookID, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	h.Set(HeaderHMAC, Sign(secret, body))
	return ingest.Request{Header: h, Body: body, Received: received}
}

func TestAdaptGolden(t *testing.T) {
	a := New(secret)
	for _, f := range fixtures {
		t.Run(f.topic, func(t *testing.T) {
			req := request(f.topic, ingesttest.Fixture(t, f.file))
			ingesttest.AdaptGolden(t, a, schemas.Storefront, req, f.events, ingesttest.GoldenFile(f.file), *update)
		})
	}
}

func TestFulfillmentEventKeepsBothTimes(t *testing.T) {
	body := []byte(`{"id":1,"fulfillment_id":2,"order_id":3,"status":"in_transit","happened_at":"2026-11-02T08:00:00-05:00","created_at":"2026-11-02T13:04:10Z"}`)
	events, err := New(secret).Adapt(request("fulfillment_events/create", body))
	if err != nil {
		t.Fatal(err)
	}
	ev := events[0]
	if ev["occurred_at"] != "2026-11-02T13:00:00Z" || ev["recorded_at"] != "2026-11-02T13:04:10Z" {
		t.Fatalf("occurred_at %v recorded_at %v: want happened_at and created_at", ev["occurred_at"], ev["recorded_at"])
	}
}

func TestAdaptWithoutWebhookIDDerivesAStableID(t *testing.T) {
	body := ingesttest.Fixture(t, "refunds_create.json")
	req := request("refunds/create", body)
	req.Header.Del(HeaderWebhookID)
	a := New(secret)
	first, err := a.Adapt(req)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.Adapt(req)
	id := first[0]["event_id"].(string)
	if !strings.HasPrefix(id, "sha256:") || id != again[0]["event_id"] {
		t.Fatalf("derived IDs %v, %v: want one stable sha256: ID", id, again[0]["event_id"])
	}
}

func TestAdaptErrors(t *testing.T) {
	a := New(secret)
	order := ingesttest.Fixture(t, "orders_create.json")
	for _, tt := range []struct {
		name, topic, body, want string
		unsupported             bool
	}{
		{"unsupported topic", "products/update", `{"id":1}`, `Shopify topic "products/update"`, true},
		{"no topic header", "", `{"id":1}`, "X-Shopify-Topic header missing", false},
		{"not JSON", "orders/create", `<xml/>`, "orders/create: body is not JSON", false},
		{"array", "orders/create", `[]`, "want a JSON object", false},
		{"order without id", "orders/create", `{"name":"#1"}`, "order.id: missing", false},
		{"order id object", "orders/create", `{"id":{}}`, "order.id: want a string or number, got an object", false},
		{"bad time", "orders/updated", `{"id":1,"updated_at":"last tuesday"}`, `order.updated_at: want an RFC 3339 time, got "last tuesday"`, false},
		{"fulfillment without order", "fulfillments/create", `{"id":1,"status":"success"}`, "fulfillment.order_id: missing", false},
		{"event without status", "fulfillment_events/create", `{"order_id":1,"fulfillment_id":2}`, "fulfillment_event.status: missing", false},
		{"refund without order", "refunds/create", `{"id":1}`, "refund.order_id: missing", false},
		{"order body under refund topic", "refunds/create", string(order), "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.topic, []byte(tt.body))
			if tt.topic == "" {
				req.Header.Del(HeaderTopic)
			}
			events, err := a.Adapt(req)
			if tt.want == "" {
				// An order's body under refunds/create has an order_id-less
				// shape: it must fail, not map the order as a refund.
				if err == nil {
					t.Fatalf("accepted %d events", len(events))
				}
				return
			}
			ingesttest.CheckAdaptErr(t, err, tt.want, tt.unsupported)
		})
	}
}

func TestVerify(t *testing.T) {
	a := New(secret)
	body := ingesttest.Fixture(t, "orders_create.json")
	for _, tt := range []struct{ name, sig, want string }{
		{"valid", Sign(secret, body), ""},
		{"forged", Sign("someone-else", body), "X-Shopify-Hmac-Sha256 does not match the body"},
		{"missing", "", "X-Shopify-Hmac-Sha256 header missing"},
		{"hex instead of base64", ingest.SignHex([]byte(secret), body), "does not match"},
		{"garbage", "!!", "is not base64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := request("orders/create", body)
			req.Header.Set(HeaderHMAC, tt.sig)
			ingesttest.CheckVerifyErr(t, a.Verify(req), tt.want)
		})
	}
	req := request("orders/create", body)
	req.Body = bytes.Replace(body, []byte(`"409.94"`), []byte(`"0.01"`), 1)
	if err := a.Verify(req); !errors.Is(err, ingest.ErrSignature) {
		t.Fatalf("tampered body verified: %v", err)
	}
}

// FuzzAdapt feeds arbitrary topics and bodies: Adapt must never panic, and
// every event it returns must pass the storefront schema.
func FuzzAdapt(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.topic, ingesttest.Fixture(f, fx.file))
	}
	f.Add("orders/create", []byte(`{"id":1,"cancelled_at":"2026-01-01T00:00:00Z","financial_status":null}`))
	f.Add("fulfillments/update", []byte(`{"id":"f","order_id":"o","status":"s","tracking_numbers":[1,"x"]}`))
	a := New(secret)
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		h := http.Header{}
		h.Set(HeaderTopic, topic)
		events, err := a.Adapt(ingest.Request{Header: h, Body: body, Received: received})
		if err != nil {
			return
		}
		if err := ingest.CheckEvents(schemas.Storefront, events); err != nil {
			t.Fatalf("topic %q body %q: accepted events fail the schema: %v", topic, body, err)
		}
	})
}
