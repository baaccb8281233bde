package ingest_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/ingest/shopify"
	"github.com/baton-pipeline/baton/ingest/zendesk"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// fakeAdapter is a wms adapter whose Adapt does what the test says: return
// events as given, panic, or block until released.
type fakeAdapter struct {
	vendor  string
	events  []map[string]any
	panics  bool
	started chan struct{}
	release chan struct{}
}

func (f *fakeAdapter) Vendor() string                  { return f.vendor }
func (f *fakeAdapter) System() schemas.System          { return schemas.WMS }
func (f *fakeAdapter) Verify(req ingest.Request) error { return nil }
func (f *fakeAdapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	if f.panics {
		var m map[string]any
		m["boom"] = 1 // a nil-map write: a typical adapter bug
	}
	if f.started != nil {
		f.started <- struct{}{}
		<-f.release
	}
	return f.events, nil
}

func wmsEvent(id string) map[string]any {
	return map[string]any{"event_id": id, "order_id": "o-" + id, "warehouse_id": "DC1", "status": "packed",
		"occurred_at": "2026-11-01T10:00:00Z", "recorded_at": "2026-11-01T10:00:01Z"}
}

func shopifyHeader(topic, webhookID string, body []byte) http.Header {
	h := http.Header{}
	h.Set(shopify.HeaderTopic, topic)
	h.Set(shopify.HeaderWebhookID, webhookID)
	h.Set(shopify.HeaderHMAC, shopify.Sign(shopifySecret, body))
	return h
}

func genericHeader(body []byte) http.Header {
	h := http.Header{}
	h.Set(generic.SignatureHeader, generic.Sign(genericSecret, body))
	return h
}

func zendeskHeader(body []byte, at time.Time) http.Header {
	ts := at.UTC().Format(time.RFC3339)
	h := http.Header{}
	h.Set(zendesk.HeaderTimestamp, ts)
	h.Set(zendesk.HeaderSignature, zendesk.Sign(zendeskSecret, ts, body))
	return h
}

func TestGatewayProducesEveryEventBeforeAnswering(t *testing.T) {
	t.Parallel()
	h := devHarness(t, nil)
	order, err := os.ReadFile("shopify/testdata/orders_create.json")
	if err != nil {
		t.Fatal(err)
	}
	r := h.post("shopify", shopifyHeader("orders/create", "wh-1", order), order)
	if r.status != http.StatusOK || r.events != 1 {
		t.Fatalf("orders/create: %d %q, %d events; want 200 with 1 event", r.status, r.err, r.events)
	}
	ticket := []byte(`{"type":"zen:event-type:ticket.tags_changed","id":"zd-1","detail":{"id":"35436","status":"OPEN","tags":["wismo"],"updated_at":"2026-11-01T10:00:00Z"}}`)
	if r := h.post("zendesk", zendeskHeader(ticket, time.Now()), ticket); r.status != http.StatusOK || r.events != 1 {
		t.Fatalf("zendesk: %+v", r)
	}
	// Acknowledged means consumable right away: no wait, no retry.
	recs := consume(t, h.brokers, h.topics.Source(schemas.Storefront).Name)
	if len(recs) != 1 {
		t.Fatalf("storefront topic holds %d records, want 1", len(recs))
	}
	for i, v := range decode(t, h.registry, recs) {
		if string(recs[i].Key) != "450789469" || v["order_id"] != "450789469" || v["event_id"] != "wh-1" {
			t.Errorf("record %d: key %s value %v", i, recs[i].Key, v)
		}
	}
	ids := h.eventIDs(schemas.Helpdesk)
	if ids["zd-1"] != 1 {
		t.Fatalf("helpdesk topic: %v", ids)
	}
	if got, _ := h.metric("baton_webhook_requests_total", "vendor", "shopify", "outcome", ingest.OutcomeAccepted); got != 1 {
		t.Errorf("accepted shopify requests = %v", got)
	}
	if _, series := h.metric("baton_webhook_produce_seconds"); series != 2 {
		t.Errorf("produce latency series = %d, want one per vendor (2)", series)
	}
}

func TestGatewayRejections(t *testing.T) {
	t.Parallel()
	invalid := &fakeAdapter{vendor: "invalid", events: []map[string]any{wmsEvent("ok-1"), {"event_id": "bad", "status": 7}}}
	panicky := &fakeAdapter{vendor: "panicky", panics: true}
	h := devHarness(t, func(c *ingest.GatewayConfig) { c.MaxBody = 4096 }, invalid, panicky)
	wms := []byte(`{"event_id":"w-1","order_id":"o-1","warehouse_id":"DC1","status":"packed","occurred_at":"2026-11-01T10:00:00Z"}`)

	// Forged, missing and stale signatures: 401, counted, nothing kept.
	forged := genericHeader(wms)
	forged.Set(generic.SignatureHeader, generic.Sign("guess", wms))
	wantResponse(t, h.post("wms", forged, wms), 401, "X-Baton-Signature does not match the body")
	wantResponse(t, h.post("wms", http.Header{}, wms), 401, "X-Baton-Signature header missing")
	ticket := []byte(`{"type":"zen:event-type:ticket.created","id":"zd-2","detail":{"id":"1","status":"new"}}`)
	wantResponse(t, h.post("zendesk", zendeskHeader(ticket, time.Now().Add(-time.Hour)), ticket), 401, "old, more than the 5m0s tolerance")

	// Unsupported kind: 422, dead-lettered.
	product := []byte(`{"id":632910392,"title":"IPod Nano - 8GB"}`)
	wantResponse(t, h.post("shopify", shopifyHeader("products/update", "wh-p", product), product), 422, `Shopify topic "products/update"`)
	// Malformed: 400, dead-lettered.
	broken := []byte(`{"id":`)
	wantResponse(t, h.post("shopify", shopifyHeader("orders/create", "wh-b", broken), broken), 400, "malformed shopify payload: orders/create: body is not JSON")
	// An event the schema refuses: 400, dead-lettered, and none of the
	// delivery's events produced, not even the valid first one.
	wantResponse(t, h.post("invalid", nil, []byte(`{}`)), 400, "invalid event 2 of 2 does not fit the wms schema")
	// An adapter panic: 500, dead-lettered, the server lives on.
	wantResponse(t, h.post("panicky", nil, []byte(`{"x":1}`)), 500, "panicky adapter failed on this payload (a bug in baton)")
	// Too large: 413 from the declared length, and from a body that lies
	// about (or omits) its length.
	big := []byte(`{"pad":"` + strings.Repeat("x", 5000) + `"}`)
	wantResponse(t, h.post("wms", genericHeader(big), big), 413, "over the 4096-byte limit")
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/wms", io.MultiReader(strings.NewReader(string(big))))
	req.ContentLength = -1
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 413 {
		t.Fatalf("chunked oversized body: %v %v", resp, err)
	}
	// Unknown and unconfigured vendors, wrong method, health.
	wantResponse(t, h.post("nosuch", nil, wms), 404, `no webhook vendor "nosuch"; configured: invalid, notifications, panicky, shopify, wms, zendesk`)
	wantResponse(t, h.post("easypost", nil, wms), 404, `webhook vendor "easypost" is not configured on this gateway: BATON_EASYPOST_SECRET is not set`)
	if resp, err := http.Get(h.srv.URL + "/webhooks/wms"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /webhooks/wms: %v %v", resp, err)
	}
	if resp, err := http.Get(h.srv.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	}
	// A good delivery still goes through after all that.
	if r := h.post("wms", genericHeader(wms), wms); r.status != 200 || r.events != 1 {
		t.Fatalf("valid wms after rejections: %+v", r)
	}

	if ids := h.eventIDs(schemas.WMS, schemas.Storefront); len(ids) != 1 || ids["w-1"] != 1 {
		t.Fatalf("source topics hold %v, want only w-1: rejected deliveries must produce nothing", ids)
	}
	dead := decode(t, h.registry, consume(t, h.brokers, h.topics.Name(topology.DeadLetter)))
	recs := consume(t, h.brokers, h.topics.Name(topology.DeadLetter))
	reasons := map[string]string{}
	for i, d := range dead {
		reasons[d["reason"].(string)] = d["source_topic"].(string)
		if d["stage"] != "ingest" || fmt.Sprint(d["source_partition"]) != "-1" || fmt.Sprint(d["source_offset"]) != "-1" {
			t.Errorf("dead letter %d: %v", i, d)
		}
		if d["source_topic"] == "webhook:shopify" && d["reason"] == ingest.ReasonMalformed {
			if got := recs[i].Value; len(got) == 0 {
				t.Errorf("dead letter without value")
			}
			var topicHeader string
			for _, hd := range recs[i].Headers {
				if hd.Key == "http.x-shopify-topic" {
					topicHeader = string(hd.Value)
				}
			}
			if topicHeader != "orders/create" {
				t.Errorf("dead letter headers %v lack http.x-shopify-topic: orders/create", recs[i].Headers)
			}
		}
	}
	want := map[string]string{
		ingest.ReasonUnsupported:  "webhook:shopify",
		ingest.ReasonMalformed:    "webhook:shopify",
		ingest.ReasonInvalidEvent: "webhook:invalid",
		ingest.ReasonAdapterPanic: "webhook:panicky",
	}
	if len(dead) != len(want) {
		t.Errorf("%d dead letters (%v), want %d: signature failures and oversized bodies are never dead-lettered", len(dead), reasons, len(want))
	}
	for reason, src := range want {
		if reasons[reason] != src {
			t.Errorf("dead letter %s from %s missing (have %v)", reason, src, reasons)
		}
	}
	for _, tc := range []struct {
		vendor, outcome string
		want            float64
	}{
		{"wms", ingest.OutcomeUnauthorized, 2},
		{"zendesk", ingest.OutcomeUnauthorized, 1},
		{"shopify", ingest.OutcomeUnsupported, 1},
		{"shopify", ingest.OutcomeMalformed, 1},
		{"invalid", ingest.OutcomeInvalid, 1},
		{"panicky", ingest.OutcomePanic, 1},
		{"wms", ingest.OutcomeTooLarge, 2},
		{"unknown", ingest.OutcomeUnknownVendor, 1},
		{"easypost", ingest.OutcomeNotConfigured, 1},
		{"wms", ingest.OutcomeAccepted, 1},
	} {
		if got, _ := h.metric("baton_webhook_requests_total", "vendor", tc.vendor, "outcome", tc.outcome); got != tc.want {
			t.Errorf("requests{%s,%s} = %v, want %v", tc.vendor, tc.outcome, got, tc.want)
		}
	}
	if got, _ := h.metric("baton_webhook_signature_failures_total", "vendor", "wms"); got != 2 {
		t.Errorf("signature failures{wms} = %v, want 2", got)
	}
	if got, _ := h.metric("baton_dead_letters_total", "stage", "ingest", "reason", ingest.ReasonAdapterPanic); got != 1 {
		t.Errorf("dead letters{ingest,adapter_panic} = %v, want 1", got)
	}
}

func TestGatewayShutdownFinishesDeliveriesInFlight(t *testing.T) {
	t.Parallel()
	slow := &fakeAdapter{vendor: "slow", events: []map[string]any{wmsEvent("slow-1")}, started: make(chan struct{}), release: make(chan struct{})}
	h := devHarness(t, nil, slow)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.gw.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	answered := make(chan response, 1)
	go func() { answered <- postTo(t, http.DefaultClient, base, "slow", nil, []byte(`{}`)) }()
	<-slow.started
	cancel() // stop while the delivery is in the adapter
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a delivery in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	// New connections are refused once shutdown began.
	if _, err := http.Post(base+"/webhooks/slow", "application/json", strings.NewReader(`{}`)); err == nil {
		t.Error("a new delivery was accepted after shutdown began")
	}
	close(slow.release)
	if r := <-answered; r.status != http.StatusOK || r.events != 1 {
		t.Fatalf("in-flight delivery answered %+v, want 200", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if ids := h.eventIDs(schemas.WMS); ids["slow-1"] != 1 {
		t.Fatalf("in-flight delivery's event: %v", ids)
	}
}

func TestHandleTrustedSkipsVerify(t *testing.T) {
	t.Parallel()
	h := devHarness(t, nil)
	a, _ := h.gw.Adapter("wms")
	body := []byte(`{"event_id":"t-1","order_id":"o","warehouse_id":"D","status":"picked","occurred_at":"2026-11-01T10:00:00Z"}`)
	if out := h.gw.Handle(context.Background(), a, ingest.Request{Body: body}); out.Status != 401 || !errors.Is(out.Err, ingest.ErrSignature) {
		t.Fatalf("untrusted without signature: %+v", out)
	}
	if out := h.gw.Handle(context.Background(), a, ingest.Request{Body: body, Trusted: true}); out.Status != 200 || out.Events != 1 {
		t.Fatalf("trusted: %+v", out)
	}
}

func TestHandleRefusesEventsWithoutEventID(t *testing.T) {
	t.Parallel()
	h := devHarness(t, nil)
	noID := &fakeAdapter{vendor: "noid", events: []map[string]any{wmsEvent("")}}
	out := h.gw.Handle(context.Background(), noID, ingest.Request{Body: []byte(`{}`), Trusted: true})
	if out.Status != http.StatusBadRequest || !strings.Contains(out.Err.Error(), "event_id: empty") {
		t.Fatalf("event without ID: %d %v, want 400 naming event_id", out.Status, out.Err)
	}
}

// TestGatewayRecordSizeLimits posts WMS events padded to bodies around the
// limits: the gateway's (--max-body, 1 MiB) and Kafka's record limit
// (records.MaxRecordBytes, about 1,000,000 bytes). Every delivery ends:
// accepted and kept, or 413 with its reason and, for an event too large
// for a record, a dead letter that fits (the body's first bytes, its size
// and hash). None gets a 503, which the vendor would retry for ever.
func TestGatewayRecordSizeLimits(t *testing.T) {
	t.Parallel()
	h := devHarness(t, nil)
	body := func(size int) []byte {
		ev := wmsEvent(fmt.Sprintf("w-%d", size))
		ev["warehouse_id"] = ""
		b, _ := json.Marshal(ev)
		ev["warehouse_id"] = strings.Repeat("x", size-len(b))
		b, _ = json.Marshal(ev)
		if len(b) != size {
			t.Fatalf("padded body is %d bytes, want %d", len(b), size)
		}
		return b
	}
	tooLarge, accepted := map[string][]byte{}, []string{}
	for _, tc := range []struct {
		size int
		want int // 0: either 200 or 413, the limit lies within the envelope
	}{
		{900_000, 200},
		{999_999, 0},
		{1_000_013, 0},
		{1_010_000, 413},
		{1_048_576, 413},
		{1_048_577, 413},
	} {
		b := body(tc.size)
		r := h.post("wms", genericHeader(b), b)
		t.Logf("%d-byte body: %d %s", tc.size, r.status, r.err)
		switch {
		case tc.want != 0 && r.status != tc.want, r.status != 200 && r.status != 413:
			t.Errorf("%d-byte body: %d %q, want %d", tc.size, r.status, r.err, cmp.Or(tc.want, 413))
		case r.status == 413 && tc.size > ingest.DefaultMaxBody:
			wantResponse(t, r, 413, "over the 1048576-byte limit")
		case r.status == 413:
			wantResponse(t, r, 413, "above the 1000012-byte record limit")
			tooLarge[fmt.Sprintf("w-%d", tc.size)] = b
		default:
			accepted = append(accepted, fmt.Sprintf("w-%d", tc.size))
		}
	}
	kept := h.eventIDs(schemas.WMS)
	recs := consume(t, h.brokers, h.topics.Name(topology.DeadLetter))
	dead := decode(t, h.registry, recs)
	if len(dead) != len(tooLarge) {
		t.Errorf("%d dead letters, want one per event too large for a record (%d)", len(dead), len(tooLarge))
	}
	for id, b := range tooLarge {
		if kept[id] != 0 {
			t.Errorf("%s was refused but is in the source topic", id)
		}
		found := false
		for i, d := range dead {
			kept, _ := base64.StdEncoding.DecodeString(d["value"].(string))
			if !bytes.HasPrefix(b, kept) || !strings.Contains(d["error"].(string), fmt.Sprintf("%x", sha256.Sum256(b))) {
				continue
			}
			found = true
			if d["reason"] != ingest.ReasonTooLarge || !strings.Contains(d["error"].(string), fmt.Sprintf("truncated to its first %d of %d bytes", len(kept), len(b))) {
				t.Errorf("dead letter of %s: reason %v, error %q", id, d["reason"], d["error"])
			}
			if n := records.RecordBytes(recs[i]); n > records.MaxRecordBytes || len(kept) < len(b)-64<<10 {
				t.Errorf("dead letter of %s is %d bytes as a record (limit %d) and keeps %d of the body's %d", id, n, records.MaxRecordBytes, len(kept), len(b))
			}
		}
		if !found {
			t.Errorf("no dead letter keeps the start of %s with the whole body's SHA-256", id)
		}
	}
	for _, id := range accepted {
		if kept[id] != 1 {
			t.Errorf("%s was accepted but is not in the source topic once: %v", id, kept)
		}
	}
}
