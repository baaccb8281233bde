package aftership

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

type cp struct {
	local, tag, subtag, msg, loc string
	utc                          string // the expected instant
}

func expectUSPS(cps []cp) []map[string]any {
	out := make([]map[string]any, len(cps))
	for i, c := range cps {
		out[i] = map[string]any{
			"event_id":           "aftership:usps:9405516902697649303570:" + c.local + ":" + c.tag + ":" + c.subtag + ":" + ingesttest.ScanDigest(c.msg, c.loc),
			"tracking_number":    "9405516902697649303570",
			"carrier":            "usps",
			"provider":           "aftership",
			"order_id":           nil,
			"shipment_id":        nil,
			"status":             c.tag,
			"sub_status":         c.subtag,
			"description":        c.msg,
			"location":           c.loc,
			"estimated_delivery": ingesttest.Time("2021-05-17T00:00:00Z"),
			"occurred_at":        ingesttest.Time(c.utc),
			"recorded_at":        ingesttest.Time("2021-05-17T09:05:31Z"),
		}
	}
	return out
}

// TestAdaptGolden: AfterShip's documented sample. The USPS checkpoints carry
// Eastern local times without an offset (EDT, UTC-4, in May); the three
// without a state are placed by the state code in their facility name.
func TestAdaptGolden(t *testing.T) {
	want := expectUSPS([]cp{
		{"2021-05-13T13:04:00", "InfoReceived", "InfoReceived_001", "Shipping Label Created, USPS Awaiting Item", "BOCA RATON, FL, 33487, USA, United States", "2021-05-13T17:04:00Z"},
		{"2021-05-13T18:10:00", "InTransit", "InTransit_002", "Accepted at USPS Origin Facility", "BOCA RATON, FL, 33487, USA, United States", "2021-05-13T22:10:00Z"},
		{"2021-05-13T19:25:00", "InTransit", "InTransit_003", "Arrived at USPS Regional Origin Facility", "WEST PALM BEACH FL DISTRIBUTION CENTER", "2021-05-13T23:25:00Z"},
		{"2021-05-14T00:25:00", "InTransit", "InTransit_007", "Departed USPS Regional Origin Facility", "WEST PALM BEACH FL DISTRIBUTION CENTER", "2021-05-14T04:25:00Z"},
		{"2021-05-15T13:06:00", "InTransit", "InTransit_003", "Arrived at USPS Regional Destination Facility", "FAYETTEVILLE NC DISTRIBUTION CENTER ANNEX", "2021-05-15T17:06:00Z"},
		{"2021-05-16T05:52:00", "InTransit", "InTransit_007", "Departed USPS Regional Facility", "FAYETTEVILLE NC DISTRIBUTION CENTER ANNEX", "2021-05-16T09:52:00Z"},
		{"2021-05-17T03:45:00", "InTransit", "InTransit_003", "Arrived at Post Office", "HOLLY RIDGE, NC, 28445, USA, United States", "2021-05-17T07:45:00Z"},
	})
	got, err := New("s").Adapt(ingest.Request{Body: ingesttest.Fixture(t, "tracking_update.json"), Received: ingesttest.Time("2030-01-01T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.WantEvents(t, schemas.Carrier, got, want)
}

// TestAdaptRefusesUnplaceableLocalTime: the trimmed 2026-07 sample has a
// checkpoint time without offset and no location at all. baton refuses it
// as unsupported, naming the checkpoint, instead of guessing UTC.
func TestAdaptRefusesUnplaceableLocalTime(t *testing.T) {
	_, err := New("s").Adapt(ingest.Request{Body: ingesttest.Fixture(t, "tracking_update_2026_07.json")})
	if !errors.Is(err, ingest.ErrUnsupported) {
		t.Fatalf("want ErrUnsupported, got %v", err)
	}
	for _, want := range []string{"usps 0000000000000000", "checkpoints[0].checkpoint_time", `"2021-01-14T00:52:00" has no UTC offset`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCheckpointTimes(t *testing.T) {
	tests := []struct {
		name, time string
		p          place
		want       string // RFC 3339 UTC, or "" for an error
	}{
		{"offset wins over place", "2024-01-10T08:00:00+08:00", place{country: "USA", state: "CA"}, "2024-01-10T00:00:00Z"},
		{"Z", "2024-01-10T08:00:00Z", place{}, "2024-01-10T08:00:00Z"},
		{"single-zone country", "2024-01-10T08:00:00", place{country: "DEU"}, "2024-01-10T07:00:00Z"},
		{"single-zone country in summer", "2024-07-10T08:00:00", place{country: "GBR"}, "2024-07-10T07:00:00Z"},
		{"US state, winter", "2024-01-10T08:00:00", place{country: "USA", state: "CA"}, "2024-01-10T16:00:00Z"},
		{"US state, lower case", "2024-01-10T08:00:00", place{country: "usa", state: "ny"}, "2024-01-10T13:00:00Z"},
		{"Arizona keeps standard time", "2024-07-10T08:00:00", place{country: "USA", state: "AZ"}, "2024-07-10T15:00:00Z"},
		{"Canada province", "2024-01-10T08:00:00", place{country: "CAN", state: "BC"}, "2024-01-10T16:00:00Z"},
		{"Australia state", "2024-01-10T08:00:00", place{country: "AUS", state: "WA"}, "2024-01-10T00:00:00Z"},
		{"state word in facility name", "2024-01-10T08:00:00", place{country: "USA", words: []string{"DENVER CO NETWORK DISTRIBUTION CENTER"}}, "2024-01-10T15:00:00Z"},
		{"minutes only", "2024-01-10T08:00", place{country: "JPN"}, "2024-01-09T23:00:00Z"},
		{"date only", "2024-01-10", place{country: "JPN"}, "2024-01-09T15:00:00Z"},
		{"two state words: ambiguous", "2024-01-10T08:00:00", place{country: "USA", words: []string{"KANSAS CITY MO KS HUB"}}, ""},
		{"US without state", "2024-01-10T08:00:00", place{country: "USA"}, ""},
		{"multi-zone country not in table", "2024-01-10T08:00:00", place{country: "BRA", state: "SP"}, ""},
		{"no place", "2024-01-10T08:00:00", place{}, ""},
		{"garbage", "10/01/2024", place{country: "DEU"}, ""},
		{"empty", "", place{country: "DEU"}, ""},
		{"year out of range", "0001-01-01T00:00:00Z", place{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkpointTime(tt.time, tt.p)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("want an error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(ingesttest.Time(tt.want)) || got.Location() != time.UTC {
				t.Fatalf("got %v want %s", got, tt.want)
			}
		})
	}
}

// TestAdaptFallbacks: order_id when present, the newer estimate field, a
// location built from parts, a domestic shipment's country for a checkpoint
// without one, and ts as the record time when created_at is missing.
func TestAdaptFallbacks(t *testing.T) {
	body := `{"event":"tracking_update","event_id":"e1","ts":1712741696,"msg":{"slug":"royal-mail","tracking_number":"RM1GB",
	"order_id":"#1001","origin_country_iso3":"GBR","destination_country_iso3":"GBR",
	"latest_estimated_delivery":{"type":"specific","source":"Carrier EDD","datetime":"2024-04-11T17:00:00+01:00"},
	"checkpoints":[{"tag":"OutForDelivery","subtag":"OutForDelivery_001","message":"Out for delivery","city":"LONDON","zip":"EC1A 1BB",
	"checkpoint_time":"2024-04-10T07:30:00"}]}}`
	got, err := New("s").Adapt(ingest.Request{Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"event_id":           "aftership:royal-mail:RM1GB:2024-04-10T07:30:00:OutForDelivery:OutForDelivery_001:" + ingesttest.ScanDigest("Out for delivery", "LONDON, EC1A 1BB"),
		"tracking_number":    "RM1GB",
		"carrier":            "royal-mail",
		"provider":           "aftership",
		"order_id":           "#1001",
		"shipment_id":        nil,
		"status":             "OutForDelivery",
		"sub_status":         "OutForDelivery_001",
		"description":        "Out for delivery",
		"location":           "LONDON, EC1A 1BB",
		"estimated_delivery": ingesttest.Time("2024-04-11T16:00:00Z"),
		"occurred_at":        ingesttest.Time("2024-04-10T06:30:00Z"), // BST
		"recorded_at":        time.Unix(1712741696, 0).UTC(),
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestAdaptRedeliveryKeepsIDs(t *testing.T) {
	body := ingesttest.Fixture(t, "tracking_update.json")
	first, err := New("s").Adapt(ingest.Request{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	later := strings.Replace(string(body), `"ts": 1621242332`, `"ts": 1621299999`, 1)
	later = strings.Replace(later, `"event_id": "bca2a741-8613-4694-bfb4-2ceb0016ee4f"`, `"event_id": "another"`, 1)
	second, err := New("s").Adapt(ingest.Request{Body: []byte(later)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[any]bool{}
	for i := range first {
		if first[i]["event_id"] != second[i]["event_id"] {
			t.Errorf("checkpoint %d changed ID across webhooks", i)
		}
		if seen[first[i]["event_id"]] {
			t.Errorf("duplicate event_id %v", first[i]["event_id"])
		}
		seen[first[i]["event_id"]] = true
	}
}

func TestAdaptRejects(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
		unsupported         bool
	}{
		{"edd_revise", `{"event":"edd_revise","event_id":"e2","msg":{}}`, `"edd_revise"`, true},
		{"not json", `nope`, "not a webhook object", false},
		{"no event", `{"msg":{}}`, "no event", false},
		{"no msg", `{"event":"tracking_update","event_id":"e3"}`, "no msg", false},
		{"no tracking number", `{"event":"tracking_update","event_id":"e4","msg":{"slug":"ups"}}`, "needs tracking_number and slug", false},
		{"bad ts", `{"event":"tracking_update","ts":1.5,"msg":{"slug":"ups","tracking_number":"1Z"}}`, "not Unix seconds", false},
		{"checkpoint without tag", `{"event":"tracking_update","ts":1,"msg":{"slug":"ups","tracking_number":"1Z","checkpoints":[{"checkpoint_time":"2024-01-01T00:00:00Z"}]}}`, "checkpoints[0] has no tag", false},
		{"bad created_at", `{"event":"tracking_update","ts":1712741696,"msg":{"slug":"ups","tracking_number":"1Z","checkpoints":[{"tag":"InTransit","checkpoint_time":"2024-01-01T00:00:00Z","created_at":"soon"}]}}`, "checkpoints[0].created_at", false},
		{"wrong type", `{"event":"tracking_update","msg":{"slug":7}}`, "not a webhook object", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("s").Adapt(ingest.Request{Body: []byte(tt.body), Received: time.Now()})
			ingesttest.CheckAdaptErr(t, err, tt.wantErr, tt.unsupported)
		})
	}
}

func TestVerify(t *testing.T) {
	const secret = "your_webhook_secret"
	body := ingesttest.Fixture(t, "tracking_update.json")
	valid := Sign(secret, body)
	tests := []struct {
		name, header string
		body         []byte
		wantErr      string
	}{
		{"valid", valid, body, ""},
		{"forged", Sign("guess", body), body, "does not match"},
		{"altered body", valid, []byte(strings.Replace(string(body), "InTransit_003", "Delivered_001", 1)), "does not match"},
		{"missing", "", body, "aftership-hmac-sha256 header missing"},
		{"hex instead of base64", ingest.SignHex([]byte(secret), body), body, "does not match"},
		{"not base64", "%%%", body, "is not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Aftership-Hmac-Sha256", tt.header) // canonical form, as net/http delivers it
			}
			err := New(secret).Verify(ingest.Request{Header: h, Body: tt.body})
			ingesttest.CheckVerifyErr(t, err, tt.wantErr)
		})
	}
}

// TestSignKnownVector pins the scheme to an independently computed value:
// printf '%s' '{"event":"tracking_update"}' | openssl dgst -sha256 -hmac your_webhook_secret -binary | base64
func TestSignKnownVector(t *testing.T) {
	if got, want := Sign("your_webhook_secret", []byte(`{"event":"tracking_update"}`)), "QLeavDnkEyzwrMQt6r0pi/KKkYT2Un34R1RaYbiM70M="; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestAdapterIdentity(t *testing.T) {
	a := New("s")
	if a.Vendor() != "aftership" || a.System() != schemas.Carrier {
		t.Fatalf("vendor %q system %q", a.Vendor(), a.System())
	}
}
