package ingest

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCarrierScanEvent(t *testing.T) {
	at := time.Date(2024, 3, 5, 19, 31, 0, 0, time.UTC)
	key := make([]string, 2, 8) // spare capacity: Event must not write into it
	copy(key, []string{"vendor", "scan"})
	s := CarrierScan{IDKey: key, Provider: "vendor", TrackingNumber: "9400", Carrier: "USPS", Status: "delivered",
		Description: "Delivered", Location: "BOSTON, MA", OccurredAt: at, RecordedAt: at.Add(time.Minute)}
	// printf 'Delivered\0BOSTON, MA' | sha256sum | cut -c1-12
	const digest = "464124c233f3"
	want := map[string]any{
		"event_id": "vendor:scan:" + digest, "tracking_number": "9400", "carrier": "USPS", "provider": "vendor",
		"order_id": nil, "shipment_id": nil, "status": "delivered", "sub_status": nil,
		"description": "Delivered", "location": "BOSTON, MA", "estimated_delivery": nil,
		"occurred_at": at, "recorded_at": at.Add(time.Minute),
	}
	if got := s.Event(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if spare := key[:3][2]; spare != "" {
		t.Fatalf("Event appended %q into the caller's IDKey", spare)
	}
	s.OrderID, s.SubStatus, s.EstimatedDelivery = "#1001", "left_at_door", at.Add(24*time.Hour)
	ev := s.Event()
	if ev["order_id"] != "#1001" || ev["sub_status"] != "left_at_door" || ev["estimated_delivery"] != at.Add(24*time.Hour) {
		t.Fatalf("optional fields: %v", ev)
	}
	s.Location = "BOSTON, MA, US"
	if other := s.Event()["event_id"]; other == ev["event_id"] {
		t.Fatalf("a different location kept the event ID %v", other)
	}
}

func TestShipmentTimes(t *testing.T) {
	for _, tt := range []struct{ in, want, wantErr string }{
		{"2024-03-05T14:31:00-05:00", "2024-03-05T19:31:00Z", ""},
		{"2024-03-05T19:31:00.5Z", "2024-03-05T19:31:00.5Z", ""},
		{"2024-03-05T14:31:00", "", "is not an RFC 3339 time"},
		{"", "", "is not an RFC 3339 time"},
		{"1969-12-31T23:59:59Z", "", `"1969-12-31T23:59:59Z" is outside 1970-2200`},
		{"2201-01-01T00:00:00Z", "", "is outside 1970-2200"},
	} {
		got, err := ParseShipmentTime(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseShipmentTime(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339Nano) != tt.want || got.Location() != time.UTC {
			t.Errorf("ParseShipmentTime(%q) = %v, %v; want %s in UTC", tt.in, got, err, tt.want)
		}
	}
}

func TestJoinNonEmpty(t *testing.T) {
	if got := JoinNonEmpty(", ", " BOSTON ", "", "MA", "  ", "US"); got != "BOSTON, MA, US" {
		t.Fatalf("got %q", got)
	}
	if got := JoinNonEmpty(", "); got != "" {
		t.Fatalf("no parts: got %q", got)
	}
}
