package generic

import (
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

const secret = "generic-test-secret"

var received = time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)

func request(t testing.TB, file string) ingest.Request {
	t.Helper()
	body := ingesttest.Fixture(t, file)
	h := http.Header{}
	h.Set(SignatureHeader, Sign(secret, body))
	return ingest.Request{Header: h, Body: body, Received: received}
}

func TestAdaptGolden(t *testing.T) {
	for _, tt := range []struct {
		file string
		a    *Adapter
		n    int
	}{
		{"wms_shipped.json", NewWMS(secret), 1},
		{"wms_batch.json", NewWMS(secret), 2},
		{"notifications_delay.json", NewNotifications(secret), 2},
	} {
		t.Run(tt.file, func(t *testing.T) {
			ingesttest.AdaptGolden(t, tt.a, tt.a.System(), request(t, tt.file), tt.n, ingesttest.GoldenFile(tt.file), *update)
		})
	}
}

func TestAdaptRejectsWhatTheSchemaRejects(t *testing.T) {
	a := NewWMS(secret)
	for _, tt := range []struct{ body, want string }{
		{`"shipped"`, "body must be a wms event object or an array of them"},
		{`[1]`, "event 1 of 1: want a JSON object"},
		{`{"event_id":"w","order_id":"o","warehouse_id":"D","status":"packed","occurred_at":"2026-11-01T10:00:00Z","colour":"red"}`, `unknown field "colour"`},
		{`[{"event_id":"w","order_id":"o","warehouse_id":"D","status":"packed","occurred_at":"2026-11-01T10:00:00Z"},{"event_id":"x"}]`, "event 2 of 2: order_id: required field missing"},
		{`{"event_id":"w","order_id":"o","warehouse_id":"D","status":"packed","occurred_at":"yesterday"}`, `occurred_at: expected an RFC 3339 time, got "yesterday"`},
		{`{`, "body is not JSON"},
		// Found by FuzzAdapt (testdata/fuzz/FuzzAdapt/c2d06f428d3ff028):
		// schema-valid, but without the record key or the de-duplication key.
		{`{"event_id":"w","order_id":"","warehouse_id":"D","status":"packed","occurred_at":"2026-11-01T10:00:00Z"}`, "wms record has no key: none of order_id is set"},
		{`{"event_id":"","order_id":"o","warehouse_id":"D","status":"packed","occurred_at":"2026-11-01T10:00:00Z"}`, "event 1 of 1: event_id: empty"},
	} {
		_, err := a.Adapt(ingest.Request{Body: []byte(tt.body), Received: received})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Adapt(%s) error = %v, want %q", tt.body, err, tt.want)
		}
		if errors.Is(err, ingest.ErrUnsupported) {
			t.Errorf("Adapt(%s): malformed input reported as unsupported", tt.body)
		}
	}
	if ev, err := a.Adapt(ingest.Request{Body: []byte(`[]`)}); err != nil || len(ev) != 0 {
		t.Errorf("empty array: %v, %v", ev, err)
	}
}

func TestVerify(t *testing.T) {
	a := NewWMS(secret)
	body := []byte(`{"event_id":"w-1"}`)
	valid := Sign(secret, body)
	for _, tt := range []struct {
		name, sig, want string
	}{
		{"valid", valid, ""},
		{"forged", Sign("not-the-secret", body), "does not match the body"},
		{"missing", "", "X-Baton-Signature header missing"},
		{"no prefix", strings.TrimPrefix(valid, "sha256="), `must be "sha256=" followed by`},
		{"not hex", "sha256=zz", "is not hex"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.sig != "" {
				h.Set(SignatureHeader, tt.sig)
			}
			ingesttest.CheckVerifyErr(t, a.Verify(ingest.Request{Header: h, Body: body}), tt.want)
		})
	}
	// A body changed in transit no longer verifies.
	h := http.Header{}
	h.Set(SignatureHeader, valid)
	if err := a.Verify(ingest.Request{Header: h, Body: append(body, ' ')}); !errors.Is(err, ingest.ErrSignature) {
		t.Fatalf("altered body verified: %v", err)
	}
	// Without a secret nothing verifies, not even an empty-key signature.
	h.Set(SignatureHeader, Sign("", body))
	if err := NewWMS("").Verify(ingest.Request{Header: h, Body: body}); !errors.Is(err, ingest.ErrSignature) {
		t.Fatalf("adapter without secret verified: %v", err)
	}
}

// FuzzAdapt feeds arbitrary bodies to both generic adapters: Adapt must not
// panic, and whatever it accepts must pass the schema the gateway checks.
func FuzzAdapt(f *testing.F) {
	for _, file := range []string{"wms_shipped.json", "wms_batch.json", "notifications_delay.json"} {
		f.Add(ingesttest.Fixture(f, file))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"recorded_at":null}`))
	adapters := []*Adapter{NewWMS(secret), NewNotifications(secret)}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, a := range adapters {
			events, err := a.Adapt(ingest.Request{Body: body, Received: received})
			if err != nil {
				continue
			}
			if err := ingest.CheckEvents(a.System(), events); err != nil {
				t.Fatalf("%s accepted %q but its events fail the schema: %v", a.Vendor(), body, err)
			}
		}
	})
}

func TestEveryGenericSystemLoads(t *testing.T) {
	for _, s := range schemas.Systems {
		if _, err := New(s, secret); err != nil {
			t.Error(err)
		}
	}
}
