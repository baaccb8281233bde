package schemas_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/baton-pipeline/baton/schemas"
)

func TestEverySystemHasASchemaWithTheSharedFields(t *testing.T) {
	for _, sys := range schemas.Systems {
		t.Run(string(sys), func(t *testing.T) {
			s, err := schemas.Load(sys.SchemaName())
			if err != nil {
				t.Fatal(err)
			}
			fields := map[string]bool{}
			for _, f := range s.Root().Fields {
				fields[f.Name] = true
			}
			for _, want := range []string{"event_id", "occurred_at", "recorded_at"} {
				if !fields[want] {
					t.Errorf("schema %s lacks %s", s.Name, want)
				}
			}
			// Every field the system's Spec names is in its schema: a name
			// the schema lacks would read as empty everywhere.
			spec := sys.Spec()
			named := map[string][]string{"key": spec.KeyFields, "required ID": spec.RequiredIDs, "status": {spec.StatusField}}
			if spec.DetailField != "" {
				named["detail"] = []string{spec.DetailField}
			}
			for what, names := range named {
				if len(names) == 0 || names[0] == "" {
					t.Errorf("%s: the Spec names no %s field", sys, what)
				}
				for _, f := range names {
					if !fields[f] {
						t.Errorf("schema %s lacks %s field %s", s.Name, what, f)
					}
				}
			}
		})
	}
	for _, name := range schemas.Names() {
		if _, err := schemas.Load(name); err != nil {
			t.Errorf("embedded schema %s: %v", name, err)
		}
	}
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

const wmsLine = `{"event_id":"w-1","order_id":"o-1","warehouse_id":"DC1","status":"shipped","shipment_id":"s-1",
 "tracking_number":"1Z999","carrier":"UPS","items":[{"sku":"SKU-1","quantity":2}],
 "occurred_at":"2026-11-01T10:00:00.123Z","recorded_at":"2026-11-01T10:00:05+01:00"}`

func TestFromJSONRoundTripsThroughAvroBinary(t *testing.T) {
	s := schemas.MustLoad("wms_event")
	native, err := s.FromJSON(decodeJSON(t, wmsLine))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := s.Codec.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := s.Codec.NativeFromBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	plain := s.Plain(back.(map[string]any))
	want := map[string]any{
		"event_id": "w-1", "order_id": "o-1", "warehouse_id": "DC1", "status": "shipped",
		"shipment_id": "s-1", "tracking_number": "1Z999", "carrier": "UPS",
		"items":       []any{map[string]any{"sku": "SKU-1", "quantity": int32(2)}},
		"occurred_at": "2026-11-01T10:00:00.123Z",
		"recorded_at": "2026-11-01T09:00:05Z", // normalised to UTC
	}
	if !reflect.DeepEqual(plain, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", plain, want)
	}
}

func TestFromJSONRejectsBadInputNamingTheField(t *testing.T) {
	s := schemas.MustLoad("wms_event")
	cases := map[string]struct{ edit, wantErr string }{
		"missing required":  {`"order_id":"o-1",`, "order_id: required field missing"},
		"bad time":          {`"occurred_at":"2026-11-01T10:00:00.123Z"`, `occurred_at: expected an RFC 3339 time, got "yesterday"`},
		"wrong type":        {`"quantity":2`, "items[0].quantity: expected int, got string"},
		"unknown field":     {`"warehouse_id":"DC1"`, `unknown field "colour"`},
		"null for required": {`"status":"shipped"`, "status: expected string, got null"},
	}
	replacement := map[string]string{
		"missing required":  ``,
		"bad time":          `"occurred_at":"yesterday"`,
		"wrong type":        `"quantity":"2"`,
		"unknown field":     `"warehouse_id":"DC1","colour":"red"`,
		"null for required": `"status":null`,
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			line := strings.Replace(wmsLine, c.edit, replacement[name], 1)
			if line == wmsLine {
				t.Fatalf("edit %q did not apply", c.edit)
			}
			_, err := s.FromJSON(decodeJSON(t, line))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, c.wantErr)
			}
		})
	}
}

func TestFromJSONDefaultsOptionalFields(t *testing.T) {
	s := schemas.MustLoad("carrier_event")
	native, err := s.FromJSON(map[string]any{
		"event_id": "c-1", "tracking_number": "1Z", "carrier": "UPS", "provider": "direct", "status": "in_transit",
		"occurred_at": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "recorded_at": "2026-11-01T00:00:01Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	if native["order_id"] != nil || native["estimated_delivery"] != nil {
		t.Errorf("optional fields should default to null, got order_id=%v estimated_delivery=%v", native["order_id"], native["estimated_delivery"])
	}
	if _, err := s.Codec.BinaryFromNative(nil, native); err != nil {
		t.Errorf("defaulted record does not encode: %v", err)
	}
}

func TestWireFormatThroughRegistry(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := schemas.MustLoad("wms_event")
	enc, err := schemas.NewEncoder(ctx, cl, schemas.Subject("t"), s)
	if err != nil {
		t.Fatal(err)
	}
	native, err := s.FromJSON(decodeJSON(t, wmsLine))
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.Encode(native)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 || int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]) != enc.ID {
		t.Fatalf("header % x does not carry magic 0 and schema ID %d", b[:5], enc.ID)
	}
	dec := schemas.NewDecoder(cl)
	got, err := dec.Decode(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaID != enc.ID || got.Plain["tracking_number"] != "1Z999" {
		t.Errorf("decoded %+v", got)
	}
	// The writer schema fetched from the registry keeps its logical types,
	// so times decode as times, not bare longs.
	if got.Plain["occurred_at"] != "2026-11-01T10:00:00.123Z" {
		t.Errorf("occurred_at decoded through the registry as %#v, want the RFC 3339 time", got.Plain["occurred_at"])
	}

	for name, bad := range map[string][]byte{
		"no magic byte":     append([]byte{1}, b[1:]...),
		"unknown schema id": append([]byte{0, 0, 0, 0x7f, 0}, b[5:]...),
		"truncated body":    b[:len(b)-3],
		"too short":         {0, 1},
	} {
		if _, err := dec.Decode(ctx, bad); !errors.Is(err, schemas.ErrUndecodable) {
			t.Errorf("%s: err = %v, want ErrUndecodable", name, err)
		}
	}
}

func TestKeyIsOrderIDExceptCarrierAndTicketWithoutOrder(t *testing.T) {
	cases := []struct {
		sys   schemas.System
		value map[string]any
		want  string
	}{
		{schemas.WMS, map[string]any{"order_id": "o-1", "tracking_number": "1Z"}, "o-1"},
		{schemas.Carrier, map[string]any{"order_id": "o-1", "tracking_number": "1Z"}, "1Z"},
		{schemas.Helpdesk, map[string]any{"order_id": "o-1", "ticket_id": "t-9"}, "o-1"},
		{schemas.Helpdesk, map[string]any{"order_id": nil, "ticket_id": "t-9"}, "t-9"},
	}
	for _, c := range cases {
		got, err := c.sys.Key(c.value)
		if err != nil || got != c.want {
			t.Errorf("%s key of %v = %q, %v; want %q", c.sys, c.value, got, err, c.want)
		}
	}
	if _, err := schemas.Notifications.Key(map[string]any{}); err == nil {
		t.Error("a record without its key field must be an error")
	}
}

func BenchmarkCodec(b *testing.B) {
	samples := map[schemas.System]string{
		schemas.Storefront:    `{"event_id":"e","event_type":"fulfillment_events/create","order_id":"o-1","status_type":"fulfillment_event","status":"in_transit","shipment_id":"f-1","tracking_number":"1Z","carrier":"UPS","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:01:00Z"}`,
		schemas.OMS:           `{"event_id":"e","order_id":"o-1","op":"u","status":"CONFIRMED","previous_status":"NEW","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00.2Z"}`,
		schemas.WMS:           wmsLine,
		schemas.Carrier:       `{"event_id":"e","tracking_number":"1Z","carrier":"UPS","provider":"easypost","status":"in_transit","sub_status":"arrived_at_facility","location":"Memphis, TN","estimated_delivery":"2026-11-03T18:00:00Z","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:02:00Z"}`,
		schemas.Helpdesk:      `{"event_id":"e","ticket_id":"t-1","order_id":"o-1","event_type":"created","ticket_status":"new","order_status_shown":"Shipped","tags":["wismo","order_status"],"subject":"Where is my order?","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`,
		schemas.Notifications: `{"event_id":"e","order_id":"o-1","channel":"email","status":"shipping_confirmation","delivery_status":"sent","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:30Z"}`,
	}
	for _, sys := range schemas.Systems {
		s := schemas.MustLoad(sys.SchemaName())
		dec := json.NewDecoder(strings.NewReader(samples[sys]))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			b.Fatal(err)
		}
		native, err := s.FromJSON(v)
		if err != nil {
			b.Fatalf("%s: %v", sys, err)
		}
		bin, err := s.Codec.BinaryFromNative(nil, native)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("encode/"+string(sys), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 512)
			for b.Loop() {
				if _, err := s.Codec.BinaryFromNative(buf[:0], native); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/"+string(sys), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Codec.NativeFromBinary(bin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
