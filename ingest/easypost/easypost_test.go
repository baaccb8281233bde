package easypost

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
)

// scan is one expected event; the tracker-wide fields come from the case.
type scan struct {
	datetime, status, sub, desc, loc string
}

func expect(trackerID, code, carrier string, est any, recorded time.Time, scans []scan) []map[string]any {
	out := make([]map[string]any, len(scans))
	for i, s := range scans {
		var loc any
		if s.loc != "" {
			loc = s.loc
		}
		out[i] = map[string]any{
			"event_id":           "easypost:" + trackerID + ":" + s.datetime + ":" + s.status + ":" + s.sub + ":" + ingesttest.ScanDigest(s.desc, s.loc),
			"tracking_number":    code,
			"carrier":            carrier,
			"provider":           "easypost",
			"order_id":           nil,
			"shipment_id":        nil,
			"status":             s.status,
			"sub_status":         s.sub,
			"description":        s.desc,
			"location":           loc,
			"estimated_delivery": est,
			"occurred_at":        ingesttest.Time(s.datetime),
			"recorded_at":        recorded,
		}
	}
	return out
}

func TestAdaptGolden(t *testing.T) {
	received := ingesttest.Time("2030-01-01T00:00:00Z") // must not be used: the payloads carry updated_at
	tests := []struct {
		file string
		want []map[string]any
	}{
		{
			// EasyPost's own webhook fixture (a FedEx Ground tracker, 7 scans).
			file: "tracker_updated.json",
			want: expect("trk_1", "1", "FedEx", ingesttest.Time("2024-08-05T00:00:00Z"), ingesttest.Time("2024-08-02T19:26:51Z"), []scan{
				{"2024-07-31T15:00:00Z", "pre_transit", "label_created", "Shipment information sent to FedEx", "32837, US"},
				{"2024-07-31T19:27:00Z", "in_transit", "arrived_at_facility", "Picked up", "ORLANDO, FL, 32809, US"},
				{"2024-07-31T22:35:00Z", "in_transit", "arrived_at_facility", "Arrived at FedEx location", "ORLANDO, FL, 32809, US"},
				{"2024-08-01T14:42:13Z", "in_transit", "departed_facility", "Departed FedEx location", "ORLANDO, FL, 32809, US"},
				{"2024-08-02T02:46:19Z", "in_transit", "unknown", "On the way", "KENLY, NC, 27542, US"},
				{"2024-08-02T18:35:20Z", "in_transit", "unknown", "On the way", "EDISON TWP, NJ, 08817, US"},
				{"2024-08-02T18:50:00Z", "in_transit", "arrived_at_facility", "Arrived at FedEx location", "EDISON, NJ, 08817, US"},
			}),
		},
		{
			// The docs' tracker.created Event around the docs' Tracker object:
			// an all-null location becomes null, not "".
			file: "tracker_created.json",
			want: expect("trk_acfcc5058c5445bda6c3c331125d52c9", "EZ1000000001", "USPS", ingesttest.Time("2023-12-01T05:14:45Z"), ingesttest.Time("2023-12-01T05:14:45Z"), []scan{
				{"2023-11-01T05:14:45Z", "pre_transit", "status_update", "Pre-Shipment Info Sent to USPS", ""},
				{"2023-11-01T17:51:45Z", "pre_transit", "status_update", "Shipping Label Created", "HOUSTON, TX, 77063"},
			}),
		},
	}
	a := New("secret")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := a.Adapt(ingest.Request{Body: ingesttest.Fixture(t, tt.file), Received: received})
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.WantEvents(t, schemas.Carrier, got, tt.want)
		})
	}
}

// TestAdaptRedeliveryDeduplicates: a later update repeats the history; the
// scans already seen keep their event IDs.
func TestAdaptRedeliveryDeduplicates(t *testing.T) {
	a := New("secret")
	body := ingesttest.Fixture(t, "tracker_updated.json")
	first, err := a.Adapt(ingest.Request{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	later := strings.Replace(string(body), `"updated_at":"2024-08-02T19:26:51Z"`, `"updated_at":"2024-08-03T08:00:00Z"`, 1)
	second, err := a.Adapt(ingest.Request{Body: []byte(later)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if first[i]["event_id"] != second[i]["event_id"] {
			t.Errorf("event %d: ID changed across deliveries: %v vs %v", i, first[i]["event_id"], second[i]["event_id"])
		}
	}
	seen := map[any]bool{}
	for _, e := range first {
		if seen[e["event_id"]] {
			t.Errorf("duplicate event_id %v within one tracker", e["event_id"])
		}
		seen[e["event_id"]] = true
	}
}

func TestAdaptLocalOffsetAndFallbacks(t *testing.T) {
	body := `{"id":"evt_2","object":"Event","description":"tracker.updated","result":{"id":"trk_2","object":"Tracker",
	"tracking_code":"9400","carrier":"USPS","est_delivery_date":null,"tracking_details":[
	{"status":"delivered","status_detail":null,"message":"","description":"Delivered, In/At Mailbox","datetime":"2024-03-05T14:31:00-05:00",
	 "tracking_location":{"city":"BOSTON","state":"MA","country":"US","zip":null}}]}}`
	received := ingesttest.Time("2024-03-05T19:40:00Z")
	got, err := New("s").Adapt(ingest.Request{Body: []byte(body), Received: received})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"event_id":           "easypost:trk_2:2024-03-05T14:31:00-05:00:delivered::" + ingesttest.ScanDigest("Delivered, In/At Mailbox", "BOSTON, MA, US"),
		"tracking_number":    "9400",
		"carrier":            "USPS",
		"provider":           "easypost",
		"order_id":           nil,
		"shipment_id":        nil,
		"status":             "delivered",
		"sub_status":         nil,
		"description":        "Delivered, In/At Mailbox",
		"location":           "BOSTON, MA, US",
		"estimated_delivery": nil,
		"occurred_at":        ingesttest.Time("2024-03-05T19:31:00Z"),
		"recorded_at":        received, // no updated_at anywhere: arrival time stands in
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestAdaptRejects(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
		unsupported         bool
	}{
		{"other event", `{"id":"evt_3","object":"Event","description":"batch.updated","result":{}}`, `"batch.updated"`, true},
		{"not json", `<xml/>`, "not an Event object", false},
		{"trailing data", `{"description":"tracker.updated"} {}`, "trailing data", false},
		{"no description", `{"id":"evt_4"}`, "no description", false},
		{"no result", `{"id":"evt_5","description":"tracker.created"}`, "has no result", false},
		{"result not tracker", `{"id":"evt_6","description":"tracker.created","result":{"object":"Shipment"}}`, `result object is "Shipment"`, false},
		{"no tracking code", `{"id":"evt_7","description":"tracker.created","result":{"object":"Tracker","id":"trk","carrier":"UPS"}}`, "no tracking_code", false},
		{"bad datetime", `{"id":"evt_8","description":"tracker.updated","result":{"object":"Tracker","id":"trk","carrier":"UPS","tracking_code":"1Z",
			"tracking_details":[{"status":"in_transit","datetime":"yesterday"}]}}`, `tracking_details[0].datetime: "yesterday"`, false},
		{"wrong type", `{"id":"evt_9","description":"tracker.updated","result":{"object":"Tracker","id":7}}`, "result is not a Tracker", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("s").Adapt(ingest.Request{Body: []byte(tt.body), Received: time.Now()})
			ingesttest.CheckAdaptErr(t, err, tt.wantErr, tt.unsupported)
		})
	}
}

func TestVerify(t *testing.T) {
	const secret = "A1B2C3" // the secret in EasyPost's webhooks guide
	body := ingesttest.Fixture(t, "tracker_updated.json")
	valid := Sign(secret, body)
	if !strings.HasPrefix(valid, "hmac-sha256-hex=") || len(valid) != len("hmac-sha256-hex=")+64 {
		t.Fatalf("signature has the wrong shape: %s", valid)
	}
	tests := []struct {
		name    string
		header  string
		body    []byte
		wantErr string
	}{
		{"valid", valid, body, ""},
		{"valid upper-case hex", "hmac-sha256-hex=" + strings.ToUpper(strings.TrimPrefix(valid, "hmac-sha256-hex=")), body, ""},
		{"forged", Sign("not-the-secret", body), body, "does not match"},
		{"altered body", valid, append([]byte(" "), body...), "does not match"},
		{"missing", "", body, "X-Hmac-Signature header missing"},
		{"no prefix", strings.TrimPrefix(valid, "hmac-sha256-hex="), body, "does not start with"},
		{"not hex", "hmac-sha256-hex=zz", body, "is not hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("X-Hmac-Signature", tt.header)
			}
			err := New(secret).Verify(ingest.Request{Header: h, Body: tt.body})
			ingesttest.CheckVerifyErr(t, err, tt.wantErr)
		})
	}
	// No secret configured: nothing verifies, not even an "empty" signature.
	h := http.Header{"X-Hmac-Signature": {Sign("", body)}}
	if err := New("").Verify(ingest.Request{Header: h, Body: body}); !errors.Is(err, ingest.ErrSignature) {
		t.Fatalf("empty secret verified: %v", err)
	}
}

// TestSignKnownVector pins the scheme to an independently computed value:
// printf '%s' '{"description":"tracker.updated"}' | openssl dgst -sha256 -hmac A1B2C3
func TestSignKnownVector(t *testing.T) {
	got := Sign("A1B2C3", []byte(`{"description":"tracker.updated"}`))
	const want = "hmac-sha256-hex=db2a080b66926501be0fbb2ce19c8eb2f6ad85bd433f731132cca5d9329f3a6d"
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestAdapterIdentity(t *testing.T) {
	a := New("s")
	if a.Vendor() != "easypost" || a.System() != schemas.Carrier {
		t.Fatalf("vendor %q system %q", a.Vendor(), a.System())
	}
}
