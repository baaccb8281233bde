package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/ingest/debezium"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/ingest/shopify"
	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// freeAddr is a port nobody listens on.
var freeAddr = testenv.FreeAddr

// TestIngestCommand runs `baton ingest` as a process against the dev
// stack: a Shopify webhook and a Debezium change event consumed from Kafka
// land in their source topics, an unconfigured vendor answers 404 saying
// why, metrics are served, and SIGTERM stops it cleanly.
func TestIngestCommand(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "kafka", "registry")
	prefix := testenv.Unique("ingestcmd") + "."
	testenv.DeleteTopicsAtCleanup(t, testenv.Brokers(), prefix)
	topics := topology.New(prefix)
	cdcTopic := prefix + "cdc.public.orders"
	listen, metrics := freeAddr(t), freeAddr(t)

	kcl, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer kcl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := topology.EnsureTopics(ctx, kadm.NewClient(kcl), topology.Topic{Name: cdcTopic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	change, err := os.ReadFile("../../ingest/debezium/testdata/pg_update.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := kcl.ProduceSync(ctx, &kgo.Record{Topic: cdcTopic, Key: []byte(`{"order_id":"1001"}`), Value: change}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cmd, stderr, exited := startIngest(t, ctx, listen, []string{"--metrics-addr", metrics,
		"--debezium-topic", cdcTopic, "--debezium-group", prefix + "cdc", "--max-body", "64KiB"},
		"BATON_BROKERS="+strings.Join(testenv.Brokers(), ","), "BATON_TOPIC_PREFIX="+prefix, "BATON_SHOPIFY_SECRET=shh")
	base := "http://" + listen
	waitReady(t, ctx, base, stderr)

	post := func(vendor string, h http.Header, body []byte) (int, string) {
		code, _, b := postWebhook(t, base, vendor, h, body)
		return code, b
	}
	order, err := os.ReadFile("../../ingest/shopify/testdata/orders_create.json")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(shopify.HeaderTopic, "orders/create")
	h.Set(shopify.HeaderWebhookID, "cmd-1")
	h.Set(shopify.HeaderHMAC, shopify.Sign("shh", order))
	if code, body := post("shopify", h, order); code != 200 || body != `{"events":1}`+"\n" {
		t.Fatalf("shopify webhook: %d %s", code, body)
	}
	if code, body := post("easypost", http.Header{}, []byte(`{}`)); code != 404 || !strings.Contains(body, "BATON_EASYPOST_SECRET is not set") {
		t.Fatalf("unconfigured easypost: %d %s", code, body)
	}
	if code, body := post("debezium", http.Header{}, change); code != 404 || !strings.Contains(body, "not whsec_ followed by a base64 key") {
		t.Fatalf("debezium over HTTP with a non-whsec secret: %d %s", code, body)
	}
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 70000)...)
	gh := http.Header{}
	gh.Set(generic.SignatureHeader, generic.Sign("generic-shh", big))
	if code, _ := post("wms", gh, big); code != 413 {
		t.Fatalf("70 kB body with --max-body 64KiB: %d", code)
	}

	dec := (&stack{t: t, svc: devServices()}).decoder()
	wantIDs := func(sys schemas.System, n int) []string {
		var ids []string
		for _, r := range (&stack{t: t, svc: devServices()}).consumeAll(topics.Source(sys).Name, n) {
			d, err := dec.Decode(ctx, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.Plain["event_id"].(string))
		}
		return ids
	}
	if ids := wantIDs(schemas.Storefront, 1); len(ids) != 1 || ids[0] != "cmd-1" {
		t.Fatalf("storefront events %v", ids)
	}
	if ids := wantIDs(schemas.OMS, 1); len(ids) != 1 || !strings.Contains(ids[0], ":u:1001") {
		t.Fatalf("oms events from the Debezium topic: %v", ids)
	}

	m := []byte(scrape(t, metrics))
	for _, want := range []string{
		`baton_webhook_requests_total{outcome="accepted",vendor="shopify"} 1`,
		`baton_webhook_requests_total{outcome="not_configured",vendor="easypost"} 1`,
		`baton_webhook_requests_total{outcome="too_large",vendor="wms"} 1`,
		`baton_webhook_requests_total{outcome="accepted",vendor="debezium"} 1`,
		`baton_webhook_produce_seconds_count{vendor="shopify"} 1`,
	} {
		if !bytes.Contains(m, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("baton ingest exited with %v after SIGTERM:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("baton ingest still running 30 s after SIGTERM:\n%s", stderr.String())
	}
	for _, want := range []string{"webhook vendor disabled", "vendor=easypost", "webhook gateway listening", "webhook gateway stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
}

// startIngest starts `baton ingest --listen listen ARGS` with the dev
// registry, the generic endpoints' secret "generic-shh", the other vendors
// off and env on top, and waits until it answers /healthz. It is killed at
// the end of the test if still running.
func startIngest(t testing.TB, ctx context.Context, listen string, args []string, env ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	cmd := exec.Command(batonBin, append([]string{"ingest", "--listen", listen}, args...)...)
	cmd.Env = append(append(os.Environ(),
		"BATON_REGISTRY_URL="+testenv.RegistryURL(),
		"BATON_WEBHOOK_SECRET=generic-shh",
		"BATON_SHOPIFY_SECRET=", "BATON_EASYPOST_SECRET=", "BATON_AFTERSHIP_SECRET=", "BATON_ZENDESK_SECRET=", "BATON_DEBEZIUM_SECRET=",
	), env...)
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	for {
		if resp, err := http.Get("http://" + listen + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd, stderr, exited
		}
		select {
		case err := <-exited:
			t.Fatalf("baton ingest exited before listening: %v\n%s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if ctx.Err() != nil {
			t.Fatalf("baton ingest not listening: %s", stderr.String())
		}
	}
}

// scrape returns the metrics served on addr.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	return string(m)
}

// waitReady waits until the gateway's /readyz answers 200: it connects to
// Kafka in the background after it starts listening.
func waitReady(t testing.TB, ctx context.Context, base string, stderr *bytes.Buffer) {
	t.Helper()
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("baton ingest not ready:\n%s", stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// postWebhook posts body to the vendor's endpoint; it returns the status,
// the headers and the body of the answer.
func postWebhook(t testing.TB, base, vendor string, h http.Header, body []byte) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/"+vendor, bytes.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestIngestRefusesToStartWithNothingConfigured(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(batonBin, "ingest", "--metrics-addr", "")
	cmd.Env = append(os.Environ(), "BATON_SHOPIFY_SECRET=", "BATON_EASYPOST_SECRET=", "BATON_AFTERSHIP_SECRET=",
		"BATON_ZENDESK_SECRET=", "BATON_WEBHOOK_SECRET=", "BATON_DEBEZIUM_SECRET=", "BATON_DEBEZIUM_TOPIC=")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 || !bytes.Contains(out, []byte("no webhook vendor is configured")) {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestIngestFlagParsing(t *testing.T) {
	var b byteSize
	for in, want := range map[string]int64{"1048576": 1 << 20, "1MiB": 1 << 20, "512KiB": 512 << 10, "2MB": 2000000, "10 B": 10} {
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("byteSize %q = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1MiB", "lots", "1TiB"} {
		if err := b.Set(bad); err == nil {
			t.Errorf("byteSize %q accepted", bad)
		}
	}
	b = 1 << 20
	if b.String() != "1MiB" {
		t.Errorf("1 MiB prints as %s", b.String())
	}

	cols, err := parseColumns("order_id=id, status=state,hold_reason=")
	if err != nil {
		t.Fatal(err)
	}
	want := debezium.DefaultColumns
	want.OrderID, want.Status, want.HoldReason = "id", "state", ""
	if cols != want {
		t.Errorf("columns = %+v, want %+v", cols, want)
	}
	for _, bad := range []string{"colour=red", "order_id", "status="} {
		if _, err := parseColumns(bad); err == nil {
			t.Errorf("--debezium-columns %q accepted", bad)
		}
	}
	b2, _ := json.Marshal(columnFields())
	if !strings.Contains(string(b2), "promised_deliver_by") {
		t.Errorf("column fields %s", b2)
	}
}
