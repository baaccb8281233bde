package ingest_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/aftership"
	"github.com/baton-pipeline/baton/ingest/easypost"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/ingest/shopify"
	"github.com/baton-pipeline/baton/ingest/zendesk"
	"github.com/baton-pipeline/baton/schemas"
)

const (
	easypostSecret  = "easypost-secret"
	aftershipSecret = "aftership-secret"
)

// delivery is one webhook of a load run, with the event IDs the adapter
// makes of it (computed up front with the adapter itself, the oracle).
type delivery struct {
	vendor string
	header http.Header
	body   []byte
	ids    []string
	forged bool
}

// loadMix builds deliveries across six vendors: unique ones, ~5% exact
// re-deliveries of an earlier webhook (same vendor ID and body, as a
// vendor retry sends) and ~5% forged (signed with the wrong secret).
type loadMix struct {
	t        testing.TB
	rng      *rand.Rand
	adapters map[string]ingest.Adapter
	easypost []byte
	after    []byte
	now      time.Time
}

func newLoadMix(t testing.TB, seed uint64) *loadMix {
	t.Helper()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	m := &loadMix{
		t:   t,
		rng: rand.New(rand.NewPCG(seed, seed)),
		adapters: map[string]ingest.Adapter{
			"shopify":       shopify.New(shopifySecret),
			"zendesk":       zendesk.New(zendeskSecret, zendesk.Options{OrderNumberField: "360001234567"}),
			"wms":           generic.NewWMS(genericSecret),
			"notifications": generic.NewNotifications(genericSecret),
			"easypost":      easypost.New(easypostSecret),
			"aftership":     aftership.New(aftershipSecret),
		},
		easypost: read("easypost/testdata/tracker_updated.json"),
		after:    read("aftership/testdata/tracking_update.json"),
		now:      time.Now().UTC(),
	}
	return m
}

// loadAdapters are the load mix's adapters that the harness does not add
// on its own.
func loadAdapters() []ingest.Adapter {
	return []ingest.Adapter{easypost.New(easypostSecret), aftership.New(aftershipSecret)}
}

var loadVendors = []string{"shopify", "zendesk", "wms", "notifications", "easypost", "aftership"}

// unique builds the n-th unique delivery; forged ones are signed with a
// wrong secret but would otherwise be valid.
func (m *loadMix) unique(n int, forged bool) delivery {
	vendor := loadVendors[n%len(loadVendors)]
	secretFor := func(s string) string {
		if forged {
			return "not-" + s
		}
		return s
	}
	var body []byte
	h := http.Header{}
	switch vendor {
	case "shopify":
		body = fmt.Appendf(nil, `{"id":%d,"name":"#%d","financial_status":"paid","fulfillment_status":null,"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:%02d:00Z","customer":{"id":7}}`, 9000000000+n, n, n%60)
		h.Set(shopify.HeaderTopic, "orders/updated")
		h.Set(shopify.HeaderWebhookID, fmt.Sprintf("wh-%d", n))
		h.Set(shopify.HeaderHMAC, shopify.Sign(secretFor(shopifySecret), body))
	case "zendesk":
		body = fmt.Appendf(nil, `{"type":"zen:event-type:ticket.status_changed","id":"zd-%d","subject":"zen:ticket:%d","detail":{"id":"%d","status":"OPEN","tags":["wismo"],"updated_at":"2026-11-01T10:00:00Z"},"event":{"current":"OPEN","previous":"NEW"}}`, n, n, n)
		ts := m.now.Format(time.RFC3339)
		h.Set(zendesk.HeaderTimestamp, ts)
		h.Set(zendesk.HeaderSignature, zendesk.Sign(secretFor(zendeskSecret), ts, body))
	case "wms":
		body = fmt.Appendf(nil, `[{"event_id":"w-%d-a","order_id":"o-%d","warehouse_id":"DC1","status":"picked","occurred_at":"2026-11-01T10:00:00Z"},{"event_id":"w-%d-b","order_id":"o-%d","warehouse_id":"DC1","status":"packed","occurred_at":"2026-11-01T10:05:00Z"}]`, n, n, n, n)
		h.Set(generic.SignatureHeader, generic.Sign(secretFor(genericSecret), body))
	case "notifications":
		body = fmt.Appendf(nil, `{"event_id":"n-%d","order_id":"o-%d","channel":"email","status":"shipping_confirmation","delivery_status":"sent","occurred_at":"2026-11-01T11:00:00Z"}`, n, n)
		h.Set(generic.SignatureHeader, generic.Sign(secretFor(genericSecret), body))
	case "easypost":
		body = bytes.Replace(m.easypost, []byte(`"id":"trk_1"`), fmt.Appendf(nil, `"id":"trk_load_%d"`, n), 1)
		h.Set(easypost.SignatureHeader, easypost.Sign(secretFor(easypostSecret), body))
	case "aftership":
		body = bytes.ReplaceAll(m.after, []byte(`9405516902697649303570`), fmt.Appendf(nil, `LOAD%018d`, n))
		h.Set(aftership.SignatureHeader, aftership.Sign(secretFor(aftershipSecret), body))
	}
	d := delivery{vendor: vendor, header: h, body: body, forged: forged}
	if m.adapters == nil {
		return d // no oracle: benchmarks only send
	}
	events, err := m.adapters[vendor].Adapt(ingest.Request{Header: h, Body: body, Received: m.now})
	if err != nil || len(events) == 0 {
		m.t.Fatalf("load mix: %s delivery %d does not adapt (%d events): %v", vendor, n, len(events), err)
	}
	for _, ev := range events {
		d.ids = append(d.ids, ev["event_id"].(string))
	}
	if len(d.ids) != len(unique(d.ids)) {
		m.t.Fatalf("load mix: %s delivery %d repeats an event ID: %v", vendor, n, d.ids)
	}
	return d
}

func unique(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// build returns total deliveries in a shuffled order.
func (m *loadMix) build(total int) []delivery {
	out := make([]delivery, 0, total)
	for n := 0; len(out) < total; n++ {
		switch r := m.rng.IntN(100); {
		case r < 5 && len(out) > 0:
			out = append(out, out[m.rng.IntN(len(out))]) // a vendor retry
		case r < 10:
			out = append(out, m.unique(n, true))
		default:
			out = append(out, m.unique(n, false))
		}
	}
	m.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// send posts every delivery from workers goroutines over keep-alive
// connections and returns the responses in delivery order.
func send(t testing.TB, base string, deliveries []delivery, workers int) []response {
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer cl.CloseIdleConnections()
	out := make([]response, len(deliveries))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := deliveries[i]
				out[i] = postTo(t, cl, base, d.vendor, d.header, d.body)
			}
		}()
	}
	for i := range deliveries {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// TestLoadWithoutLoss sends 3,000 webhooks from 32 goroutines, six vendors
// mixed, with re-deliveries and forgeries, and checks the topics against
// the answers: every event of every 2xx is there exactly as many times as
// it was acknowledged (so once after de-duplication by event ID), and
// nothing of a non-2xx is.
func TestLoadWithoutLoss(t *testing.T) {
	t.Parallel()
	// The test is about loss, not latency: on a loaded machine (-race, a
	// shared dev broker) a delivery may take seconds, and a 503 would only
	// make the vendor retry, so the produce timeout is generous here.
	h := devHarness(t, func(c *ingest.GatewayConfig) { c.ProduceTimeout = 30 * time.Second }, loadAdapters()...)
	deliveries := newLoadMix(t, 6).build(3000)

	start := time.Now()
	responses := send(t, h.srv.URL, deliveries, 32)
	elapsed := time.Since(start)

	acked := map[string]int{}    // event ID -> acknowledged deliveries carrying it
	rejected := map[string]int{} // event ID -> refused deliveries carrying it
	var ok, forged, dups int
	seen := map[string]bool{}
	for i, d := range deliveries {
		r := responses[i]
		if d.forged {
			forged++
			if r.status != http.StatusUnauthorized {
				t.Errorf("forged %s delivery answered %d %q, want 401", d.vendor, r.status, r.err)
			}
		} else if r.status != http.StatusOK || r.events != len(d.ids) {
			t.Errorf("%s delivery answered %d %q with %d events, want 200 with %d", d.vendor, r.status, r.err, r.events, len(d.ids))
		}
		key := d.vendor + string(d.body)
		if seen[key] {
			dups++
		}
		seen[key] = true
		for _, id := range d.ids {
			if r.status >= 200 && r.status < 300 {
				acked[id]++
			} else {
				rejected[id]++
			}
		}
		if r.status == http.StatusOK {
			ok++
		}
	}
	t.Logf("%d deliveries (%d duplicates, %d forged) in %s: %.0f webhooks/s; %d acknowledged, %d distinct events",
		len(deliveries), dups, forged, elapsed.Round(time.Millisecond), float64(len(deliveries))/elapsed.Seconds(), ok, len(acked))
	if dups < 100 || forged < 100 {
		t.Fatalf("mix has %d duplicates and %d forgeries, want ~5%% each", dups, forged)
	}

	inKafka := h.eventIDs(schemas.Storefront, schemas.Helpdesk, schemas.WMS, schemas.Notifications, schemas.Carrier)
	for id, n := range acked {
		if inKafka[id] != n {
			t.Errorf("event %s acknowledged %d times, in Kafka %d times", id, n, inKafka[id])
		}
	}
	for id, n := range inKafka {
		if acked[id] == 0 {
			t.Errorf("event %s is in Kafka %d times but no delivery carrying it was acknowledged (refused %d times)", id, n, rejected[id])
		}
	}
	if sig, _ := h.metric("baton_webhook_signature_failures_total", "vendor", "shopify"); sig == 0 {
		t.Error("no shopify signature failures counted")
	}
}
