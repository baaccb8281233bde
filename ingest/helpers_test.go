package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/ingest/shopify"
	"github.com/baton-pipeline/baton/ingest/zendesk"
	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// Secrets of the test gateways' adapters.
const (
	shopifySecret = "shopify-secret"
	zendeskSecret = "zendesk-secret"
	genericSecret = "generic-secret"
)

// harness is a gateway on a real broker and registry, served over real
// HTTP on loopback.
type harness struct {
	t        testing.TB
	brokers  []string
	registry string
	topics   topology.Topics
	gw       *ingest.Gateway
	srv      *httptest.Server
	metrics  *ingest.Metrics
	promReg  *prometheus.Registry
	client   *kgo.Client
}

// newHarness starts a gateway with the Shopify, Zendesk and generic (wms,
// notifications) adapters plus extra ones, on its own topic prefix.
func newHarness(t testing.TB, brokers []string, registryURL string, mutate func(*ingest.GatewayConfig), extra ...ingest.Adapter) *harness {
	t.Helper()
	h := &harness{t: t, brokers: brokers, registry: registryURL, topics: topology.New(testenv.Unique("ingest") + ".")}
	testenv.DeleteTopicsAtCleanup(t, brokers, h.topics.Prefix)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, ingest.ProducerOpts(30*time.Second)...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	h.client = cl
	reg, err := sr.NewClient(sr.URLs(registryURL))
	if err != nil {
		t.Fatal(err)
	}
	h.promReg = prometheus.NewRegistry()
	h.metrics = ingest.NewMetrics(h.promReg, nil)
	cfg := ingest.GatewayConfig{
		Client:   cl,
		Registry: reg,
		Topics:   h.topics,
		Adapters: append([]ingest.Adapter{
			shopify.New(shopifySecret),
			zendesk.New(zendeskSecret, zendesk.Options{OrderNumberField: "360001234567"}),
			generic.NewWMS(genericSecret),
			generic.NewNotifications(genericSecret),
		}, extra...),
		Disabled:       map[string]string{"easypost": "BATON_EASYPOST_SECRET is not set"},
		ProduceTimeout: 15 * time.Second,
		Metrics:        h.metrics,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	gw, err := ingest.NewGateway(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gw
	h.srv = httptest.NewServer(gw.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

// devHarness is newHarness on the dev stack.
func devHarness(t testing.TB, mutate func(*ingest.GatewayConfig), extra ...ingest.Adapter) *harness {
	t.Helper()
	testenv.Require(t, "kafka", "registry")
	return newHarness(t, testenv.Brokers(), testenv.RegistryURL(), mutate, extra...)
}

// response is what the gateway answered.
type response struct {
	status     int
	events     int
	err        string
	retryAfter string
}

func (h *harness) post(vendor string, header http.Header, body []byte) response {
	h.t.Helper()
	return postTo(h.t, http.DefaultClient, h.srv.URL, vendor, header, body)
}

func postTo(t testing.TB, cl *http.Client, base, vendor string, header http.Header, body []byte) response {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/"+vendor, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.Do(req)
	if err != nil {
		t.Errorf("POST /webhooks/%s: %v", vendor, err)
		return response{}
	}
	defer resp.Body.Close()
	var out struct {
		Events int    `json:"events"`
		Error  string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Errorf("POST /webhooks/%s: %d with a body that is not JSON: %v", vendor, resp.StatusCode, err)
	}
	return response{status: resp.StatusCode, events: out.Events, err: out.Error, retryAfter: resp.Header.Get("Retry-After")}
}

// consume reads every record of the topics up to their end offsets now.
func consume(t testing.TB, brokers []string, topics ...string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %v: %v", topics, err)
	}
	want := map[string]map[int32]int64{}
	remaining := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			if want[o.Topic] == nil {
				want[o.Topic] = map[int32]int64{}
			}
			want[o.Topic][o.Partition] = o.Offset
			remaining++
		}
	})
	var out []*kgo.Record
	for remaining > 0 {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %v: %d partitions not read to their end: %v", topics, remaining, ctx.Err())
		}
		f.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		f.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if end, ok := want[r.Topic][r.Partition]; ok && r.Offset+1 >= end {
				delete(want[r.Topic], r.Partition)
				remaining--
			}
		})
	}
	return out
}

// decoded are records decoded to baton's JSON form.
func decode(t testing.TB, registryURL string, recs []*kgo.Record) []map[string]any {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(registryURL))
	if err != nil {
		t.Fatal(err)
	}
	dec := schemas.NewDecoder(cl)
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		d, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			t.Fatalf("decode %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
		}
		out = append(out, d.Plain)
	}
	return out
}

// eventIDs counts the event IDs in the source topics.
func (h *harness) eventIDs(systems ...schemas.System) map[string]int {
	h.t.Helper()
	var names []string
	for _, s := range systems {
		names = append(names, h.topics.Source(s).Name)
	}
	out := map[string]int{}
	for _, v := range decode(h.t, h.registry, consume(h.t, h.brokers, names...)) {
		out[v["event_id"].(string)]++
	}
	return out
}

// wantErrContains fails unless r has the status and its error mentions want.
func wantResponse(t testing.TB, r response, status int, want string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.err, want) {
		t.Fatalf("got %d %q, want %d with %q", r.status, r.err, status, want)
	}
}

// metric returns the value of the counter (or the sample count of the
// histogram) name with exactly these labels, 0 if absent; series counts
// the series of name.
func (h *harness) metric(name string, labels ...string) (value float64, series int) {
	h.t.Helper()
	mfs, err := h.promReg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		series = len(mf.GetMetric())
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				value = c.GetValue()
			} else if hg := m.GetHistogram(); hg != nil {
				value = float64(hg.GetSampleCount())
			}
		}
	}
	return value, series
}
