package schemas_test

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// plainJSON decodes JSON text the way baton reads plain values: UseNumber,
// so numbers arrive as json.Number.
func plainJSON(text string) any {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

type fixture struct {
	name  string
	value any
}

// long64 and long300 are strings of 64 and 300 bytes, whose lengths take
// two bytes as a varint; long9k takes three.
var (
	long64  = strings.Repeat("0123456789abcdef", 4)
	long300 = strings.Repeat("Wo ist meine Bestellung? ", 12)
	long9k  = strings.Repeat("x", 9000)
	at      = time.Date(2026, 11, 1, 10, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
)

// validFixtures are hand-written valid values of every embedded schema,
// between them covering every kind the schemas use: null and set unions,
// defaulted fields, empty and non-empty arrays, records in arrays,
// booleans, negative and extreme ints and longs, bytes, short and long
// strings, and timestamps as RFC 3339 strings (with offsets, sub-millisecond
// digits, before 1970) and as time.Time. Go-typed values (int, int32, int64,
// time.Time) sit next to decoded JSON ones.
var validFixtures = map[string][]fixture{
	"canonical_event": {
		{"all set", plainJSON(`{"order_id":"o-1","shipment_id":"s-1","tracking_number":"1Z999AA10123456784","source_system":"carrier",
			"source_event_id":"easypost:evt_1","source_status":"aftership/Exception/Exception_013","canonical_status":"EXCEPTION",
			"linked_by":"tracking_link","occurred_at":"2026-11-01T10:00:00.123456Z","recorded_at":"2026-11-01T11:00:05+01:00",
			"ingested_at":"2026-11-01T10:00:06.5-00:30","carrier":"UPS","estimated_delivery":"2026-11-03T18:00:00Z",
			"promised_ship_by":"2026-11-01T23:59:59.999Z","promised_deliver_by":"2026-11-04T00:00:00Z","ticket_id":"t-9",
			"tags":["wismo","order_status"],"message_type":"delay_notice","delivery_status":"sent","revised_date":"2026-11-05T12:00:00Z"}`)},
		{"required only", plainJSON(`{"order_id":"o-1","source_system":"oms","source_event_id":"e-1","source_status":"confirmed",
			"linked_by":"event","occurred_at":"1969-12-31T23:59:59.999Z","recorded_at":"1970-01-01T00:00:00Z","ingested_at":"0001-01-01T00:00:00Z"}`)},
		{"explicit nulls, empty tags", plainJSON(`{"order_id":"","shipment_id":null,"tracking_number":null,"source_system":"wms",
			"source_event_id":"e","source_status":"s","canonical_status":null,"linked_by":"event","occurred_at":"2026-11-01T10:00:00Z",
			"recorded_at":"2026-11-01T10:00:00Z","ingested_at":"9999-12-31T23:59:59.999999999Z","carrier":null,"estimated_delivery":null,
			"promised_ship_by":null,"promised_deliver_by":null,"ticket_id":null,"tags":[],"message_type":null,"delivery_status":null,"revised_date":null}`)},
		{"go types, long strings", map[string]any{"order_id": long64, "shipment_id": long300, "source_system": "helpdesk",
			"source_event_id": long9k, "source_status": "zendesk/ticket/Ünïcödé ✓", "linked_by": "event",
			"occurred_at": at, "recorded_at": at.Add(-time.Hour), "ingested_at": time.Unix(-1, 500_000_000),
			"estimated_delivery": at.Add(48 * time.Hour), "tags": []any{long64, "", long300}}},
	},
	"carrier_event": {
		{"all set", plainJSON(`{"event_id":"c-1","tracking_number":"1Z","carrier":"UPS","provider":"easypost","order_id":"o-1","shipment_id":"s-1",
			"status":"in_transit","sub_status":"arrived_at_facility","description":"` + long300 + `","location":"Memphis, TN",
			"estimated_delivery":"2026-11-03T18:00:00-05:00","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:02:00.001Z"}`)},
		{"required only, time.Time", map[string]any{"event_id": "c-2", "tracking_number": "1Z", "carrier": "DHL", "provider": "direct",
			"status": "delivered", "occurred_at": at, "recorded_at": time.Date(2026, 1, 1, 0, 0, 0, 999_999, time.UTC)}},
	},
	"dead_letter": {
		{"bytes set, negative numbers", plainJSON(`{"reason":"undecodable","error":"` + long64 + `","stage":"raw-sink","source_topic":"baton.wms",
			"source_partition":-1,"source_offset":-9007199254740993,"key":"b3JkZXIta2V5LTE=",
			"value":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==",
			"failed_at":"2026-11-01T10:00:00Z"}`)},
		{"null and empty bytes, extreme ints", plainJSON(`{"reason":"r","error":"","stage":"normalize","source_topic":"t",
			"source_partition":2147483647,"source_offset":9223372036854775807,"key":null,"value":"","failed_at":"2026-11-01T10:00:00Z"}`)},
		{"defaults, go ints", map[string]any{"reason": "r", "error": "e", "stage": "s", "source_topic": "t",
			"source_partition": int32(-2147483648), "source_offset": int64(-9223372036854775808), "failed_at": at}},
		{"go int", map[string]any{"reason": "r", "error": "e", "stage": "s", "source_topic": "t",
			"source_partition": 63, "source_offset": 64, "failed_at": "2026-11-01T10:00:00Z"}},
	},
	"delay_notice": {
		{"all set", plainJSON(`{"notice_id":"9f3a","order_id":"o-1","reason":"eta_past_promise","promise":"deliver_by","renews":"77aa",
			"original_promise":"2026-11-05T00:00:00Z","promise_is_default":false,"missed_promise":"2026-11-06T00:00:00Z",
			"revised_date":"2026-11-08T12:00:00Z","no_revised_date_reason":null,"shipment_id":"SHP-1","carrier":"UPS","cause_id":"ups/e-9",
			"cause_authority":"carrier","cause_at":"2026-11-04T10:00:00Z","known_at":"2026-11-04T10:00:01Z","notify_by":"2026-11-04T10:05:01Z",
			"detected_at":"2026-11-04T10:01:00Z","may_cancel":false,"refund_due":true,"refund_due_reason":"return_to_sender","state":"closed",
			"outcome":"LATE","notified":true,"notified_at":"2026-11-04T11:00:00Z","notified_via":"delay_notice","failed_sync_emitted":true,
			"closed_at":"2026-11-04T11:00:00Z","version":3,"updated_at":"2026-11-04T11:00:00Z"}`)},
		{"required only", map[string]any{"notice_id": "9f3b", "order_id": "o-2", "reason": "ship_by_missed", "promise": "ship_by",
			"cause_authority": "", "cause_at": at, "known_at": at, "notify_by": at.Add(5 * time.Minute), "detected_at": at,
			"may_cancel": true, "state": "open", "version": int64(1), "updated_at": at}},
	},
	"wismo_ticket": {
		{"viewer out of sync", plainJSON(`{"ticket_id":"zd-1","order_id":"o-1","classified_by":"tag","matched":"wismo",
			"ticket_at":"2026-11-04T10:00:00Z","classified_at":"2026-11-04T10:00:00Z","cause":"viewer_out_of_sync","link":"carrier->storefront",
			"viewer":"storefront","out_of_sync_since":"2026-11-04T08:00:00Z","check_id":"c-1","failed_sync_reason":"sla_breached",
			"expected_status":"IN_TRANSIT","shown_status":"SHIPPED","delay_reason":null,"problem_status":null,"problem_since":null,
			"truth_status":"IN_TRANSIT","truth_since":"2026-11-04T08:00:00Z"}`)},
		{"required only", map[string]any{"ticket_id": "zd-2", "order_id": "o-2", "classified_by": "keyword", "matched": "where is my order",
			"ticket_at": at, "classified_at": at.Add(time.Hour), "cause": "no_sync_problem"}},
	},
	"failed_sync": {
		{"all set", plainJSON(`{"check_id":"k-1","order_id":"o-1","viewer":"storefront","reason":"sla_breached","expected_status":"SHIPPED",
			"shown_status":"PACKED","truth_at":"2026-11-01T10:00:00Z","deadline":"2026-11-01T10:15:00Z","detected_at":"2026-11-01T10:15:00.001Z",
			"truth_authority":"wms","carrier":"UPS"}`)},
		{"required only", map[string]any{"check_id": "k-2", "order_id": "o-1", "viewer": "helpdesk", "reason": "conflict",
			"expected_status": "DELIVERED", "truth_at": at, "deadline": at.Add(time.Hour), "detected_at": at.Add(2 * time.Hour), "truth_authority": "carrier"}},
	},
	"helpdesk_event": {
		{"all set", plainJSON(`{"event_id":"h-1","ticket_id":"t-1","order_id":"o-1","event_type":"created","ticket_status":"new",
			"order_status_shown":"Shipped","tags":["wismo","order_status","vip"],"subject":"` + long300 + `","channel":"email",
			"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`)},
		{"no order, defaults", plainJSON(`{"event_id":"h-2","ticket_id":"t-2","event_type":"status_changed","ticket_status":"solved",
			"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`)},
	},
	"notification_event": {
		{"delay notice", plainJSON(`{"event_id":"n-1","order_id":"o-1","shipment_id":"s-1","channel":"sms","status":"delay_notice",
			"delivery_status":"delivered","revised_date":"2026-11-06T00:00:00+09:00","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:30Z"}`)},
		{"plain", map[string]any{"event_id": "n-2", "order_id": "o-1", "channel": "email", "status": "shipping_confirmation",
			"delivery_status": "sent", "revised_date": nil, "occurred_at": at, "recorded_at": at}},
	},
	"oms_event": {
		{"all set", plainJSON(`{"event_id":"m-1","order_id":"o-1","op":"u","status":"on_hold","previous_status":"confirmed","hold_reason":"fraud_review",
			"return_id":"rma-1","customer_id":"c-1","promised_ship_by":"2026-11-02T00:00:00Z","promised_deliver_by":"2026-11-05T00:00:00Z",
			"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00.2Z"}`)},
		{"snapshot", plainJSON(`{"event_id":"m-2","order_id":"o-2","op":"r","status":"confirmed","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`)},
	},
	"order_state": {
		{"three views, two shipments", plainJSON(`{"order_id":"o-1","truth":"PARTIALLY_SHIPPED","truth_authority":"wms","truth_since":"2026-11-01T13:00:00Z",
			"views":[
				{"system":"carrier","status":"IN_TRANSIT","source_status":"easypost/in_transit","occurred_at":"2026-11-01T15:00:00Z","recorded_at":"2026-11-01T15:00:30Z"},
				{"system":"storefront","status":"CONFIRMED","source_status":"shopify/financial_status/paid","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:30Z"},
				{"system":"wms","status":"PARTIALLY_SHIPPED","source_status":"shipped","occurred_at":"2026-11-01T13:00:00Z","recorded_at":"2026-11-01T13:00:30Z"}],
			"shipments":[
				{"shipment_id":"s-1","tracking_number":"1Z","is_return":false,"status":"IN_TRANSIT","authority":"carrier","since":"2026-11-01T15:00:00Z","estimated_delivery":"2026-11-03T18:00:00Z"},
				{"shipment_id":"s-2","tracking_number":null,"is_return":true,"status":"PACKED","authority":"wms","since":"2026-11-01T12:00:00Z","estimated_delivery":null}],
			"promised_ship_by":"2026-11-02T00:00:00Z","promised_deliver_by":"2026-11-05T00:00:00Z","transitions":7,"closed":true,"updated_at":"2026-11-01T15:00:00Z"}`)},
		{"new order, defaults", plainJSON(`{"order_id":"o-2","transitions":0,"updated_at":"2026-11-01T10:00:00Z"}`)},
		{"defaults inside shipments, go types", map[string]any{"order_id": "o-3", "truth": nil, "views": []any{},
			"shipments":   []any{map[string]any{"shipment_id": long64, "status": "SHIPPED", "authority": "wms", "since": at}},
			"transitions": -3, "closed": false, "updated_at": at}},
	},
	"order_transition": {
		{"advance with skipped", plainJSON(`{"transition_id":"o-1|s-1|carrier|e-1|advance","order_id":"o-1","shipment_id":"s-1","kind":"advance",
			"from_status":"SHIPPED","to_status":"DELIVERED","skipped":["IN_TRANSIT","OUT_FOR_DELIVERY"],"authority":"carrier","source_event_id":"e-1",
			"event_time":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:01Z","processed_at":"2026-11-01T10:00:02Z",
			"tracking_number":"1Z","source_status":"aftership/Delivered"}`)},
		{"first status", map[string]any{"transition_id": "t", "order_id": "o-1", "shipment_id": nil, "kind": "advance", "from_status": nil,
			"to_status": "PLACED", "skipped": []any{}, "authority": "storefront", "source_event_id": "e", "event_time": at, "recorded_at": at,
			"processed_at": at, "tracking_number": nil, "source_status": nil}},
	},
	"storefront_event": {
		{"fulfillment event", plainJSON(`{"event_id":"e","event_type":"fulfillment_events/create","order_id":"o-1","order_number":"#1001",
			"status_type":"fulfillment_event","status":"in_transit","financial_status":"paid","fulfillment_status":"partial","shipment_id":"f-1",
			"tracking_number":"1Z","carrier":"UPS","customer_id":"c-1","promised_ship_by":"2026-11-02T00:00:00Z","promised_deliver_by":"2026-11-05T00:00:00Z",
			"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:01:00Z"}`)},
		{"order created", plainJSON(`{"event_id":"e2","event_type":"orders/create","order_id":"o-2","status_type":"order","status":"open",
			"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:01:00Z"}`)},
	},
	"sync_check": {
		{"late", plainJSON(`{"check_id":"k-1","order_id":"o-1","viewer":"storefront","expected_status":"SHIPPED","opened_by":"truth",
			"truth_at":"2026-11-01T10:00:00Z","deadline":"2026-11-01T10:15:00Z","truth_authority":"carrier","carrier":"UPS","outcome":"LATE",
			"shown_status":"SHIPPED","shown_at":"2026-11-01T10:20:00Z","latency_ms":1200000,"closed_at":"2026-11-01T10:20:00Z"}`)},
		{"shown first", plainJSON(`{"check_id":"k-2","order_id":"o-1","viewer":"notifications","expected_status":"DELIVERED","opened_by":"first_sight",
			"truth_at":"2026-11-01T10:00:00Z","deadline":"2026-11-01T10:15:00Z","truth_authority":"carrier","outcome":"IN_SYNC",
			"shown_at":"2026-11-01T09:59:00Z","latency_ms":-60000,"closed_at":"2026-11-01T10:00:00Z"}`)},
		{"missing", map[string]any{"check_id": "k-3", "order_id": "o-1", "viewer": "helpdesk", "expected_status": "CANCELLED", "opened_by": "truth",
			"truth_at": at, "deadline": at, "truth_authority": "oms", "outcome": "MISSING", "latency_ms": nil, "closed_at": at}},
	},
	"tracking_link": {
		{"link", plainJSON(`{"tracking_number":"1Z","order_id":"o-1","shipment_id":"s-1","source_system":"wms","source_partition":11,
			"source_event_id":"w-1","occurred_at":"2026-11-01T10:00:00Z","watermark":"2026-11-01T10:00:05Z"}`)},
		{"watermark", map[string]any{"source_system": "storefront", "source_partition": 0, "watermark": at}},
	},
	"returns_event": {
		{"rma with a reason", plainJSON(`{"event_id":"r-1","order_id":"o-1","rma_id":"RMA-1","status":"rma_created","reason":"wrong_size",
			"occurred_at":"2026-11-10T09:00:00.5Z","recorded_at":"2026-11-10T09:00:01Z"}`)},
		{"label with tracking", plainJSON(`{"event_id":"r-2","order_id":"o-1","rma_id":"RMA-1","status":"label_issued","reason":null,
			"tracking_number":"1ZRET","carrier":"UPS","occurred_at":"2026-11-10T09:05:00Z","recorded_at":"2026-11-10T09:05:00-05:00"}`)},
	},
	"wms_event": {
		{"shipped with items", plainJSON(`{"event_id":"w-1","order_id":"o-1","warehouse_id":"DC1","status":"shipped","shipment_id":"s-1",
			"tracking_number":"1Z999","carrier":"UPS","items":[{"sku":"SKU-1","quantity":2},{"sku":"` + long64 + `","quantity":-64},{"sku":"","quantity":2147483647}],
			"occurred_at":"2026-11-01T10:00:00.123Z","recorded_at":"2026-11-01T10:00:05+01:00"}`)},
		{"released, no items", plainJSON(`{"event_id":"w-2","order_id":"o-1","warehouse_id":"DC1","status":"released",
			"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`)},
		{"empty items, go ints", map[string]any{"event_id": "w-3", "order_id": "o-1", "warehouse_id": "DC2", "status": "picked",
			"items":       []any{map[string]any{"sku": "a", "quantity": int64(1)}, map[string]any{"sku": "b", "quantity": int32(-1)}},
			"occurred_at": at, "recorded_at": at}},
	},
}

// allKinds is a test schema with the kinds and shapes no embedded schema
// has yet: enums (one short enough to be scanned, one long enough for the
// symbol map), float, double, maps, a record type used twice, unions with
// several non-null branches and with null not first, and non-null
// defaults.
var allKinds = func() *schemas.Schema {
	var big []string
	for i := range 20 {
		big = append(big, "S"+string(rune('A'+i)))
	}
	bigJSON, _ := json.Marshal(big)
	s, err := schemas.Parse("all_kinds", `{"type":"record","name":"AllKinds","namespace":"io.baton.test","fields":[
		{"name":"n","type":"null"},
		{"name":"b","type":"boolean"},
		{"name":"i","type":"int"},
		{"name":"l","type":"long"},
		{"name":"f","type":"float"},
		{"name":"d","type":"double"},
		{"name":"by","type":"bytes"},
		{"name":"s","type":"string"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
		{"name":"big","type":{"type":"enum","name":"Big","symbols":`+string(bigJSON)+`}},
		{"name":"inner","type":{"type":"record","name":"Inner","fields":[
			{"name":"x","type":"int"},
			{"name":"tags","type":{"type":"array","items":"string"},"default":[]}]}},
		{"name":"m","type":{"type":"map","values":"Inner"}},
		{"name":"ma","type":{"type":"map","values":{"type":"array","items":["null","long"]}}},
		{"name":"u","type":["null","long","string","Inner"]},
		{"name":"un","type":["string","null"]},
		{"name":"ud","type":["null","double","Color"],"default":null},
		{"name":"def_int","type":"int","default":42},
		{"name":"def_d","type":"double","default":1.5},
		{"name":"def_s","type":"string","default":"dflt"},
		{"name":"def_rec","type":"Inner","default":{"x":7}},
		{"name":"def_arr","type":{"type":"array","items":"int"},"default":[1,2,3]},
		{"name":"def_map","type":{"type":"map","values":"long"},"default":{"a":1}},
		{"name":"def_enum","type":"Big","default":"SC"}]}`)
	if err != nil {
		panic(err)
	}
	return s
}()

// allKindsFixtures are valid allKinds values. Their maps have at most one
// entry, so goavro's bytes (in Go's random map order) are deterministic.
var allKindsFixtures = []fixture{
	{"set, defaults", plainJSON(`{"n":null,"b":true,"i":-2147483648,"l":-1,"f":3.25,"d":-1e-300,"by":"AAEC","s":"` + long64 + `",
		"ts":"2026-11-01T10:00:00.5+14:00","color":"BLUE","big":"ST","inner":{"x":1,"tags":["a","b"]},"m":{"k":{"x":2}},"ma":{"k":[null,5,null]},
		"u":"text","un":"x"}`)},
	{"all fields, empty containers", plainJSON(`{"n":null,"b":false,"i":0,"l":9223372036854775807,"f":1e39,"d":1.7976931348623157e308,"by":"",
		"s":"","ts":"1970-01-01T00:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":{"x":3},"un":null,"ud":"GREEN",
		"def_int":-5,"def_d":0,"def_s":"","def_rec":{"x":-1,"tags":[]},"def_arr":[],"def_map":{},"def_enum":"SA"}`)},
	{"union numbers", plainJSON(`{"n":null,"b":true,"i":1,"l":2,"f":-0.0,"d":5e-324,"by":"/w==","s":"é","ts":"2026-11-01T10:00:00Z",
		"color":"GREEN","big":"SB","inner":{"x":1},"m":{"":{"x":1}},"ma":{"z":[]},"u":12,"un":"","ud":2.5,"def_map":{"b":-2}}`)},
	{"go types", map[string]any{"n": nil, "b": true, "i": int32(7), "l": 7, "f": json.Number("0.1"), "d": json.Number("0.1"),
		"by": "aGVsbG8=", "s": long300, "ts": at, "color": "RED", "big": "SS", "inner": map[string]any{"x": int64(2)},
		"m": map[string]any{}, "ma": map[string]any{"x": []any{int64(-7)}}, "u": int64(-12), "un": "y", "ud": nil}},
}
