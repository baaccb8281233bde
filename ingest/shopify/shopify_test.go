package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

var update = flag.Bool("update", false, "rewrite the golden files from the adapter's output")

const secret = "shpss_test_secret"

var received = time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)

// fixtures maps each sample (see testdata/README.md for their sources) to
// the topic it is delivered under. Every webhook is one event.
var fixtures = []struct {
	file, topic string
}{
	{"orders_create.json", "orders/create"},
	{"orders_updated.json", "orders/updated"},
	{"orders_updated_delivered.json", "orders/updated"},
	{"orders_cancelled.json", "orders/cancelled"},
	{"orders_cancelled_refunded.json", "orders/cancelled"},
	{"fulfillments_create.json", "fulfillments/create"},
	{"fulfillments_update.json", "fulfillments/update"},
	{"fulfillment_events_create.json", "fulfillment_events/create"},
	{"refunds_create.json", "refunds/create"},
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
		t.Run(f.file, func(t *testing.T) {
			req := request(f.topic, ingesttest.Fixture(t, f.file))
			ingesttest.AdaptGolden(t, a, schemas.Storefront, req, 1, ingesttest.GoldenFile(f.file), *update)
		})
	}
}

// edited returns a fixture with its top-level fields replaced: Shopify's
// documented payload with only the fields a case is about changed.
func edited(t *testing.T, file string, fields map[string]any) []byte {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(ingesttest.Fixture(t, file), &body); err != nil {
		t.Fatal(err)
	}
	maps.Copy(body, fields)
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ful is an order's embedded fulfillment; shipment "" is null.
func ful(status, shipment string) map[string]any {
	return map[string]any{"id": 255858046, "order_id": 450789469, "status": status,
		"shipment_status": ingest.Nullable(shipment), "tracking_number": "1Z2345"}
}

// TestOneViewPerWebhook: every Shopify webhook is one storefront event,
// showing the one status the order status page shows (package view), and
// that status resolves in the shipped storefront map to what the customer
// sees. The payloads are Shopify's documented shapes (testdata), with the
// fields each case is about changed.
func TestOneViewPerWebhook(t *testing.T) {
	sm, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	with := func(base, more map[string]any) map[string]any {
		out := maps.Clone(base)
		maps.Copy(out, more)
		return out
	}
	fulfilled := map[string]any{"financial_status": "paid", "fulfillment_status": "fulfilled"}
	for _, tt := range []struct {
		name, topic string
		body        []byte
		code        string           // status_type/status
		want        canonical.Status // "": carries no order status
	}{
		{"new order shows its payment", "orders/create", ingesttest.Fixture(t, "orders_create.json"),
			"financial_status/authorized", canonical.Placed},
		{"new order without financial_status", "orders/create", edited(t, "orders_create.json", map[string]any{"financial_status": nil}),
			"order/open", canonical.Placed},
		{"cancel before the OMS: unpaid, voided", "orders/cancelled", ingesttest.Fixture(t, "orders_cancelled.json"),
			"order/cancelled", canonical.Cancelled},
		{"cancel before the OMS: paid, refunded at once", "orders/cancelled", ingesttest.Fixture(t, "orders_cancelled_refunded.json"),
			"financial_status/refunded", canonical.Refunded},
		{"cancel before the OMS: the orders/updated sent with it", "orders/updated", ingesttest.Fixture(t, "orders_cancelled.json"),
			"order/cancelled", canonical.Cancelled},
		{"partial fulfilment", "orders/updated", ingesttest.Fixture(t, "orders_updated.json"),
			"fulfillment_status/partial", canonical.PartiallyShipped},
		{"partial fulfilment, its parcel delivered", "orders/updated",
			edited(t, "orders_updated.json", map[string]any{"fulfillments": []any{ful("success", "delivered")}}),
			"fulfillment_status/partial", canonical.PartiallyShipped},
		{"fulfilled, no tracking yet", "orders/updated", edited(t, "orders_create.json", with(fulfilled, map[string]any{"fulfillments": []any{ful("success", "")}})),
			"fulfillment_status/fulfilled", canonical.Shipped},
		{"fulfilled, in transit", "orders/updated", edited(t, "orders_create.json", with(fulfilled, map[string]any{"fulfillments": []any{ful("success", "in_transit")}})),
			"fulfillment_event/in_transit", canonical.InTransit},
		{"tag edit after delivery", "orders/updated", ingesttest.Fixture(t, "orders_updated_delivered.json"),
			"fulfillment_event/delivered", canonical.Delivered},
		{"two parcels, one delivered", "orders/updated",
			edited(t, "orders_create.json", with(fulfilled, map[string]any{"fulfillments": []any{ful("success", "delivered"), ful("success", "out_for_delivery")}})),
			"fulfillment_status/fulfilled", canonical.Shipped},
		{"refund in full after delivery", "orders/updated", edited(t, "orders_updated_delivered.json", map[string]any{"financial_status": "refunded"}),
			"financial_status/refunded", canonical.Refunded},
		{"partial refund after delivery", "orders/updated", edited(t, "orders_updated_delivered.json", map[string]any{"financial_status": "partially_refunded"}),
			"fulfillment_event/delivered", canonical.Delivered},
		{"refund webhook: partial or full, it cannot say", "refunds/create", ingesttest.Fixture(t, "refunds_create.json"),
			"refund/success", ""},
		{"fulfillment requested from a fulfilment service", "fulfillments/create", ingesttest.Fixture(t, "fulfillments_create.json"),
			"fulfillment/pending", ""},
		{"fulfillment created by the merchant", "fulfillments/create", edited(t, "fulfillments_create.json", map[string]any{"status": "success"}),
			"fulfillment/success", canonical.Shipped},
		{"fulfillment in transit", "fulfillments/update", ingesttest.Fixture(t, "fulfillments_update.json"),
			"fulfillment_event/in_transit", canonical.InTransit},
		{"fulfillment delivered", "fulfillments/update", edited(t, "fulfillments_update.json", map[string]any{"shipment_status": "delivered"}),
			"fulfillment_event/delivered", canonical.Delivered},
		{"fulfillment cancelled, its tracking stale", "fulfillments/update", edited(t, "fulfillments_update.json", map[string]any{"status": "cancelled"}),
			"fulfillment/cancelled", ""},
		{"fulfillment request failed", "fulfillments/update", edited(t, "fulfillments_create.json", map[string]any{"status": "failure"}),
			"fulfillment/failure", ""},
		{"fulfillment event", "fulfillment_events/create", ingesttest.Fixture(t, "fulfillment_events_create.json"),
			"fulfillment_event/label_printed", canonical.Packed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			events, err := New(secret).Adapt(request(tt.topic, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Fatalf("%d events, want one per webhook: %v", len(events), events)
			}
			ev := events[0]
			if ev["event_id"] != "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" {
				t.Errorf("event_id %v, want the webhook ID", ev["event_id"])
			}
			res, err := sm.Resolve(schemas.Storefront, ev)
			if err != nil {
				t.Fatalf("%v does not resolve: %v", ev, err)
			}
			if res.Code != tt.code || res.Status != tt.want {
				t.Errorf("shows %s (%q), want %s (%q)", res.Code, res.Status, tt.code, tt.want)
			}
		})
	}
}

// TestCancellationInShopifyClosesTheCancelledCheck is issue 15's false
// failed sync: a cancellation made in Shopify before the OMS's. The
// storefront's reports (through the adapter and the shipped map) go to the
// viewer checker as the unify stage passes them; when the OMS cancels, the
// storefront already shows it, so the CANCELLED check closes IN_SYNC and
// no failed sync follows. Three events per orders/* webhook at one time
// left "unfulfilled" (PLACED) as its latest status, and the check failed.
func TestCancellationInShopifyClosesTheCancelledCheck(t *testing.T) {
	sm, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := synccheck.New(nil)
	var o synccheck.Order
	ms := func(s any) int64 { return ingesttest.Time(s.(string)).UnixMilli() }
	placed := synccheck.Truth{Status: canonical.Placed, Authority: schemas.Storefront}
	var out []synccheck.Output
	for _, d := range []struct{ topic, file string }{
		{"orders/create", "orders_create.json"},
		{"orders/cancelled", "orders_cancelled.json"},
	} {
		events, err := New(secret).Adapt(request(d.topic, ingesttest.Fixture(t, d.file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			res, err := sm.Resolve(schemas.Storefront, ev)
			if err != nil {
				t.Fatal(err)
			}
			if placed.At == 0 {
				placed.At = ms(ev["recorded_at"])
			}
			r := synccheck.Report{Viewer: schemas.Storefront, Status: res.Status, At: ms(ev["recorded_at"])}
			out = append(out, c.View(&o, "450789469", r, placed, r.At))
		}
	}
	// The OMS follows two minutes later, within the storefront's SLA (a
	// storefront showing CANCELLED longer than that before the OMS, the
	// authority, says so contradicts the truth: a conflict).
	cancelled := ingesttest.Time("2008-01-10T17:32:46Z").UnixMilli()
	out = append(out, c.Truth(&o, "450789469", synccheck.Truth{Status: canonical.Cancelled, At: cancelled, Authority: schemas.OMS, TransitionID: "t-cancel"}, cancelled))
	out = append(out, c.Due(&o, "450789469", cancelled+48*time.Hour.Milliseconds()))
	var closed []string
	for _, x := range out {
		for _, f := range x.Failed {
			t.Errorf("failed sync %v", f.Value)
		}
		for _, k := range x.Checks {
			closed = append(closed, fmt.Sprint(k.Value["viewer"], " ", k.Value["expected_status"], " ", k.Value["outcome"]))
		}
	}
	if want := []string{"storefront CANCELLED IN_SYNC"}; !slices.Equal(closed, want) {
		t.Errorf("checks %q, want %q", closed, want)
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

// releasedStorefront is the storefront schema as released before the one
// view per webhook (issue 15): records it wrote may still be in a source
// topic when a newer baton starts, so the embedded schema must register
// after it.
const releasedStorefront = `{
  "type": "record",
  "name": "StorefrontEvent",
  "namespace": "io.baton.source",
  "doc": "A change the storefront (e.g. Shopify) emitted about an order: order created/updated/cancelled, a fulfillment created or updated, a fulfillment (tracking) event, a refund. The storefront is the authority for PLACED and a customer-facing viewer of every later status.",
  "fields": [
    {"name": "event_id", "type": "string", "doc": "The storefront's own event ID (e.g. X-Shopify-Webhook-Id or the fulfillment event id); the de-duplication key."},
    {"name": "event_type", "type": "string", "doc": "What changed, in the storefront's words: orders/create, orders/updated, orders/cancelled, fulfillments/create, fulfillments/update, fulfillment_events/create, refunds/create."},
    {"name": "order_id", "type": "string", "doc": "The order ID shared by every system."},
    {"name": "order_number", "type": ["null", "string"], "default": null, "doc": "The customer-facing order number/name (e.g. #1001)."},
    {"name": "status_type", "type": "string", "doc": "Which storefront vocabulary status is from: order, financial_status, fulfillment_status, fulfillment_event."},
    {"name": "status", "type": "string", "doc": "The storefront's own status code, unmapped (e.g. paid, fulfilled, in_transit)."},
    {"name": "financial_status", "type": ["null", "string"], "default": null, "doc": "Shopify order financial_status when the event carries it."},
    {"name": "fulfillment_status", "type": ["null", "string"], "default": null, "doc": "Shopify order fulfillment_status when the event carries it."},
    {"name": "shipment_id", "type": ["null", "string"], "default": null, "doc": "The fulfillment (shipment) ID, for fulfillment events."},
    {"name": "tracking_number", "type": ["null", "string"], "default": null, "doc": "The carrier tracking number of the fulfillment; links carrier scans to this order."},
    {"name": "carrier", "type": ["null", "string"], "default": null, "doc": "The carrier (tracking company) of the fulfillment."},
    {"name": "customer_id", "type": ["null", "string"], "default": null},
    {"name": "promised_ship_by", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null, "doc": "The ship-by date promised to the customer at checkout, if any."},
    {"name": "promised_deliver_by", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null, "doc": "The delivery date promised to the customer at checkout, if any."},
    {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When the change happened in the real world (Shopify happened_at: for a fulfillment event this copies the carrier's scan time)."},
    {"name": "recorded_at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When the storefront itself recorded or showed the change (Shopify created_at/updated_at); the viewer time used for sync latency."}
  ]
}`

// TestStorefrontSchemaRegistersAfterTheReleasedOne: the fields the one view
// keeps for analysts (order_status, shipment_status,
// shipment_fulfillment_status) are a backward-compatible change, which the
// dev registry (enforcing BACKWARD, as Confluent's does) accepts after the
// released schema, and an adapted event keeps them through the wire.
func TestStorefrontSchemaRegistersAfterTheReleasedOne(t *testing.T) {
	testenv.Require(t, "registry")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := sr.NewClient(sr.URLs(testenv.RegistryURL()))
	if err != nil {
		t.Fatal(err)
	}
	subject := schemas.Subject(testenv.Unique("shopify") + ".source.storefront")
	released, err := schemas.Parse("storefront_event", releasedStorefront)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.NewEncoder(ctx, cl, subject, released); err != nil {
		t.Fatal(err)
	}
	cur, err := schemas.NewEncoder(ctx, cl, subject, schemas.MustLoad("storefront_event"))
	if err != nil {
		t.Fatalf("the storefront schema is not backward compatible with the released one: %v", err)
	}
	events, err := New(secret).Adapt(request("fulfillments/update", ingesttest.Fixture(t, "fulfillments_update.json")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := cur.EncodePlain(events[0])
	if err != nil {
		t.Fatal(err)
	}
	d, err := schemas.NewDecoder(cl).Decode(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got := d.Plain
	if got["shipment_status"] != "in_transit" || got["shipment_fulfillment_status"] != "success" || got["order_status"] != nil {
		t.Errorf("read back %v", got)
	}
}
