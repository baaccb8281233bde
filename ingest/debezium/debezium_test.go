package debezium

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
)

func TestAdaptGolden(t *testing.T) {
	received := ingesttest.Time("2030-01-01T00:00:00Z") // must not be used: every fixture has source.ts_ms
	tests := []struct {
		file string
		want map[string]any
	}{
		{"pg_create.json", map[string]any{ // schema/payload wrapper, ZonedTimestamp columns
			"event_id":            "postgres.public.orders:24023128:c:1001",
			"order_id":            "1001",
			"op":                  "c",
			"status":              "confirmed",
			"previous_status":     nil,
			"hold_reason":         nil,
			"return_id":           nil,
			"customer_id":         "C-42",
			"promised_ship_by":    ingesttest.Time("2019-05-30T17:00:00Z"),
			"promised_deliver_by": ingesttest.Time("2019-06-03T21:00:00Z"),
			"occurred_at":         ingesttest.Time("2019-05-28T08:58:24.861234Z"),
			"recorded_at":         ingesttest.Time("2019-05-28T08:58:24.863Z"),
		}},
		{"pg_update.json", map[string]any{ // no wrapper; REPLICA IDENTITY FULL gives the old status
			"event_id":            "postgres.public.orders:24023128:u:1001",
			"order_id":            "1001",
			"op":                  "u",
			"status":              "on_hold",
			"previous_status":     "confirmed",
			"hold_reason":         "payment_review",
			"return_id":           nil,
			"customer_id":         "C-42",
			"promised_ship_by":    ingesttest.Time("2019-05-30T17:00:00Z"),
			"promised_deliver_by": ingesttest.Time("2019-06-03T21:00:00Z"),
			"occurred_at":         ingesttest.Time("2016-06-10T18:40:25.487Z"),
			"recorded_at":         ingesttest.Time("2016-06-10T18:40:25.523Z"),
		}},
		{"pg_delete.json", map[string]any{ // the before image's status, op d
			"event_id":            "postgres.public.orders:46523128:d:1001",
			"order_id":            "1001",
			"op":                  "d",
			"status":              "cancelled",
			"previous_status":     "cancelled",
			"hold_reason":         nil,
			"return_id":           nil,
			"customer_id":         "C-42",
			"promised_ship_by":    nil,
			"promised_deliver_by": nil,
			"occurred_at":         ingesttest.Time("2016-06-10T17:45:01.912Z"),
			"recorded_at":         ingesttest.Time("2016-06-10T18:05:02.300Z"),
		}},
		{"pg_snapshot_read.json", map[string]any{ // no schema: MicroTimestamp numbers inferred by size
			"event_id":            "postgres.public.orders:24023128:r:1002",
			"order_id":            "1002",
			"op":                  "r",
			"status":              "return_authorized",
			"previous_status":     nil,
			"hold_reason":         nil,
			"return_id":           "RMA-7",
			"customer_id":         "C-7",
			"promised_ship_by":    ingesttest.Time("2019-05-28T00:00:00Z"),
			"promised_deliver_by": nil,
			"occurred_at":         ingesttest.Time("2019-05-28T08:00:00.123456Z"),
			"recorded_at":         ingesttest.Time("2019-05-28T08:58:24.863Z"),
		}},
		{"mysql_update.json", map[string]any{ // binlog position; Timestamp (ms) and Date (days) from the schema; integer IDs
			"event_id":            "inventory.orders:mysql-bin.000003:484:0:u:1004",
			"order_id":            "1004",
			"op":                  "u",
			"status":              "confirmed",
			"previous_status":     "on_hold",
			"hold_reason":         nil,
			"return_id":           nil,
			"customer_id":         "77",
			"promised_ship_by":    ingesttest.Time("2016-06-11T00:00:00Z"),
			"promised_deliver_by": ingesttest.Time("2016-06-12T00:00:00Z"),
			"occurred_at":         ingesttest.Time("2016-06-10T17:50:29.100Z"),
			"recorded_at":         ingesttest.Time("2016-06-10T17:50:29.100Z"),
		}},
	}
	a := New("", DefaultColumns)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := a.Adapt(ingest.Request{Body: ingesttest.Fixture(t, tt.file), Received: received, Trusted: true})
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.WantEvents(t, schemas.OMS, got, []map[string]any{tt.want})
		})
	}
}

func TestAdaptTombstones(t *testing.T) {
	for _, body := range []string{"", "   \n", "null", `{"schema":null,"payload":null}`} {
		got, err := New("", DefaultColumns).Adapt(ingest.Request{Body: []byte(body), Trusted: true})
		if err != nil || len(got) != 0 {
			t.Errorf("tombstone %q: got %v, %v; want no events and no error", body, got, err)
		}
	}
}

func TestAdaptCustomColumns(t *testing.T) {
	cols := ColumnMap{OrderID: "id", Status: "first_name"} // the docs' customers table, mapped for the test
	got, err := New("", cols).Adapt(ingest.Request{Body: ingesttest.Fixture(t, "pg_customers_docs.json")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"event_id": "postgres.public.customers:24023128:c:1", "order_id": "1", "op": "c", "status": "Anne",
		"previous_status": nil, "hold_reason": nil, "return_id": nil, "customer_id": nil,
		"promised_ship_by": nil, "promised_deliver_by": nil,
		// no updated_at column: the commit time stands in for occurred_at
		"occurred_at": ingesttest.Time("2019-05-28T08:58:24.863Z"), "recorded_at": ingesttest.Time("2019-05-28T08:58:24.863Z"),
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("\n got %v\nwant %v", got[0], want)
	}
}

func TestAdaptRejects(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
		cols                ColumnMap
		unsupported         bool
	}{
		{name: "truncate", body: string(ingesttest.Fixture(t, "pg_truncate.json")), wantErr: "postgres.public.orders at 24023128 op t", unsupported: true},
		{name: "docs customers table with the orders map", body: string(ingesttest.Fixture(t, "pg_customers_docs.json")), wantErr: "after image has no order_id (order ID column)"},
		{name: "delete without the old row", body: string(ingesttest.Fixture(t, "pg_delete_replica_identity_default.json")), wantErr: "before image has no status (status column) (set REPLICA IDENTITY FULL"},
		{name: "flattened by the unwrap SMT", body: `{"order_id":"1","status":"confirmed"}`, wantErr: "ExtractNewRecordState"},
		{name: "not json", body: `{"op":`, wantErr: "body is not JSON"},
		{name: "array", body: `[1]`, wantErr: "is an array, want an object"},
		{name: "trailing", body: `{} {}`, wantErr: "data after the top-level value"},
		{name: "unknown op", body: `{"op":"x","source":{"db":"d","table":"t","lsn":1}}`, wantErr: "d.t at 1 op x: unknown op"},
		{name: "no table", body: `{"op":"c","source":{"db":"d"}}`, wantErr: "no db or table"},
		{name: "struct status", body: `{"op":"c","after":{"order_id":"1","status":{"a":1}},"source":{"db":"d","table":"t","lsn":1,"ts_ms":1559033904863}}`, wantErr: "column status is an object"},
		{name: "bad time", body: `{"op":"c","after":{"order_id":"1","status":"s","updated_at":"tomorrow"},"source":{"db":"d","table":"t","lsn":1,"ts_ms":1559033904863}}`, wantErr: `column updated_at: "tomorrow" is not an ISO 8601`},
		{name: "time out of range", body: `{"op":"c","after":{"order_id":"1","status":"s","promised_ship_by":-5000000},"source":{"db":"d","table":"t","lsn":1,"ts_ms":1559033904863}}`, wantErr: "column promised_ship_by"},
		{name: "payload not object", body: `{"schema":{},"payload":"x"}`, wantErr: "payload is string"},
		{name: "column map without status", body: string(ingesttest.Fixture(t, "pg_update.json")), cols: ColumnMap{OrderID: "order_id"}, wantErr: "Status must name a column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("", tt.cols).Adapt(ingest.Request{Body: []byte(tt.body), Received: time.Now(), Trusted: true})
			ingesttest.CheckAdaptErr(t, err, tt.wantErr, tt.unsupported)
		})
	}
}

func TestEpochUnits(t *testing.T) {
	want := ingesttest.Time("2024-05-01T10:00:00Z")
	for _, tt := range []struct {
		n, semantic string
		want        time.Time
	}{
		{"1714557600000", timestampMillis, want},
		{"1714557600000", connectTime, want},
		{"1714557600000000", timestampMicros, want},
		{"1714557600000000000", timestampNanos, want},
		{"19844", dateDays, ingesttest.Time("2024-05-01T00:00:00Z")},
		{"1714557600000", "", want},
		{"1714557600000000", "", want},
		{"1714557600000000000", "", want},
		{"19844", "", ingesttest.Time("2024-05-01T00:00:00Z")},
	} {
		got, err := timeColumn(map[string]any{"c": jsonNumber(tt.n)}, "c", tt.semantic)
		if err != nil || !got.(time.Time).Equal(tt.want) {
			t.Errorf("%s (%s): got %v, %v want %v", tt.n, tt.semantic, got, err, tt.want)
		}
	}
	for _, s := range []string{"2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "2024-05-01T10:00:00", "2024-05-01 12:00:00+02", "2024-05-01 10:00:00.000+00:00"} {
		got, err := timeColumn(map[string]any{"c": s}, "c", zonedTimestamp)
		if err != nil || !got.(time.Time).Equal(want) {
			t.Errorf("%q: got %v, %v", s, got, err)
		}
	}
}

func TestVerify(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the Standard Webhooks spec's example secret
	body := ingesttest.Fixture(t, "pg_create.json")
	now := time.Unix(1700000000, 0)
	signed, err := Sign(secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, body)
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(h http.Header)) http.Header {
		h := signed.Clone()
		edit(h)
		return h
	}
	forged, _ := Sign("whsec_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, body)
	tests := []struct {
		name     string
		header   http.Header
		body     []byte
		received time.Time
		trusted  bool
		wantErr  string
	}{
		{"valid", signed, body, now, false, ""},
		{"valid, a minute late", signed, body, now.Add(time.Minute), false, ""},
		{"valid among rotated signatures", with(func(h http.Header) {
			h.Set(HeaderSignature, "v1,AAAA "+forged.Get(HeaderSignature)+" v2,xyz "+signed.Get(HeaderSignature))
		}), body, now, false, ""},
		{"trusted (from Kafka)", http.Header{}, body, now, true, ""},
		{"forged", forged, body, now, false, "no v1 signature"},
		{"altered body", signed, append(body, ' '), now, false, "no v1 signature"},
		{"other message id", with(func(h http.Header) { h.Set(HeaderID, "msg_other") }), body, now, false, "no v1 signature"},
		{"stale", signed, body, now.Add(6 * time.Minute), false, "old, more than"},
		{"future", signed, body, now.Add(-6 * time.Minute), false, "in the future"},
		{"missing signature", with(func(h http.Header) { h.Del(HeaderSignature) }), body, now, false, "webhook-signature header missing"},
		{"missing timestamp", with(func(h http.Header) { h.Del(HeaderTimestamp) }), body, now, false, "webhook-timestamp header missing"},
		{"missing id", with(func(h http.Header) { h.Del(HeaderID) }), body, now, false, "webhook-id header missing"},
		{"no headers at all", http.Header{}, body, now, false, "header missing"},
		{"bad timestamp", with(func(h http.Header) { h.Set(HeaderTimestamp, "soon") }), body, now, false, "is not Unix seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(secret, DefaultColumns).Verify(ingest.Request{Header: tt.header, Body: tt.body, Received: tt.received, Trusted: tt.trusted})
			ingesttest.CheckVerifyErr(t, err, tt.wantErr)
		})
	}
	// Without a usable secret nothing verifies, and the reason says why.
	for _, bad := range []string{"", "whsec_***"} {
		err := New(bad, DefaultColumns).Verify(ingest.Request{Header: signed, Body: body, Received: now})
		if !errors.Is(err, ingest.ErrSignature) || CheckSecret(bad) == nil {
			t.Errorf("secret %q: Verify = %v, CheckSecret = %v", bad, err, CheckSecret(bad))
		}
	}
	if err := CheckSecret(secret); err != nil {
		t.Fatal(err)
	}
}

// TestSignStandardWebhooksVector checks the signing against the Standard
// Webhooks specification's worked example (secret, msg_id, timestamp, body
// and the resulting v1 signature as published in its reference libraries'
// tests).
func TestSignStandardWebhooksVector(t *testing.T) {
	h, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get(HeaderSignature), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestAdapterIdentity(t *testing.T) {
	a := New("", ColumnMap{})
	if a.Vendor() != "debezium" || a.System() != schemas.OMS || a.cols != DefaultColumns {
		t.Fatalf("vendor %q system %q cols %+v", a.Vendor(), a.System(), a.cols)
	}
}

func jsonNumber(s string) json.Number { return json.Number(s) }
