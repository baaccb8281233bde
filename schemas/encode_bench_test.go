package schemas_test

import (
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// benchCanonical is a canonical_event value as the normalize stage builds
// it: times as time.Time, optional fields nil or set, two tags.
func benchCanonical() map[string]any {
	at := time.Date(2026, 11, 1, 10, 0, 0, 123_000_000, time.UTC)
	return map[string]any{
		"order_id":            "ord-000123456",
		"shipment_id":         "shp-000123456-1",
		"tracking_number":     "1Z999AA10123456784",
		"source_system":       "carrier",
		"source_event_id":     "easypost:evt_8c1f6d2e4b7a4f0e9d3c2b1a",
		"source_status":       "easypost/in_transit/arrived_at_facility",
		"canonical_status":    "IN_TRANSIT",
		"linked_by":           "tracking_link",
		"occurred_at":         at,
		"recorded_at":         at.Add(2 * time.Minute),
		"ingested_at":         at.Add(2*time.Minute + 350*time.Millisecond),
		"carrier":             "UPS",
		"estimated_delivery":  at.Add(50 * time.Hour),
		"promised_ship_by":    nil,
		"promised_deliver_by": at.Add(72 * time.Hour),
		"ticket_id":           nil,
		"tags":                []any{"wismo", "order_status"},
		"message_type":        nil,
		"delivery_status":     nil,
		"revised_date":        nil,
	}
}

// benchOrderState is an order_state value as the unify stage builds it:
// three system views and two shipments, one still without an ETA.
func benchOrderState() map[string]any {
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	view := func(sys, status, source string, d time.Duration) any {
		return map[string]any{"system": sys, "status": status, "source_status": source,
			"occurred_at": at.Add(d), "recorded_at": at.Add(d + 30*time.Second)}
	}
	return map[string]any{
		"order_id":        "ord-000123456",
		"truth":           "PARTIALLY_SHIPPED",
		"truth_authority": "wms",
		"truth_since":     at.Add(3 * time.Hour),
		"views": []any{
			view("carrier", "IN_TRANSIT", "easypost/in_transit", 5*time.Hour),
			view("storefront", "CONFIRMED", "shopify/financial_status/paid", 0),
			view("wms", "PARTIALLY_SHIPPED", "shipped", 3*time.Hour),
		},
		"shipments": []any{
			map[string]any{"shipment_id": "shp-000123456-1", "tracking_number": "1Z999AA10123456784", "is_return": false,
				"status": "IN_TRANSIT", "authority": "carrier", "since": at.Add(5 * time.Hour), "estimated_delivery": at.Add(50 * time.Hour)},
			map[string]any{"shipment_id": "shp-000123456-2", "tracking_number": nil, "is_return": false,
				"status": "PACKED", "authority": "wms", "since": at.Add(2 * time.Hour), "estimated_delivery": nil},
		},
		"promised_ship_by":    at.Add(24 * time.Hour),
		"promised_deliver_by": at.Add(96 * time.Hour),
		"transitions":         7,
		"closed":              false,
		"updated_at":          at.Add(5 * time.Hour),
	}
}

var benchValues = []struct {
	schema string
	value  func() map[string]any
}{
	{"canonical_event", benchCanonical},
	{"order_state", benchOrderState},
}

// BenchmarkFromJSONThenGoavro is the old encoding path: convert to goavro's
// native form, then goavro's BinaryFromNative.
func BenchmarkFromJSONThenGoavro(b *testing.B) {
	for _, bv := range benchValues {
		s, v := schemas.MustLoad(bv.schema), bv.value()
		b.Run(bv.schema, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				native, err := s.FromJSON(v)
				if err != nil {
					b.Fatal(err)
				}
				if buf, err = s.Codec.BinaryFromNative(buf[:0], native); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendBinary is the direct path: plain value to Avro binary in
// one walk, into a reused buffer.
func BenchmarkAppendBinary(b *testing.B) {
	for _, bv := range benchValues {
		s, v := schemas.MustLoad(bv.schema), bv.value()
		b.Run(bv.schema, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				var err error
				if buf, err = s.AppendBinary(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
