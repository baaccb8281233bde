package schemas_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// goavroBytes is the reference encoding: FromJSON, then goavro.
func goavroBytes(s *schemas.Schema, v any) ([]byte, error) {
	native, err := s.FromJSON(v)
	if err != nil {
		return nil, err
	}
	b, err := s.Codec.BinaryFromNative(nil, native)
	if err != nil {
		return nil, fmt.Errorf("goavro refused what FromJSON accepted: %w", err)
	}
	return b, nil
}

// checkSame asserts that AppendBinary and FromJSON+goavro agree on v: both
// fail with the same message, or both succeed with the same bytes (exact
// is false only for schemas with maps, whose goavro bytes follow Go's map
// order: then the two encodings must decode to the same native value).
// It returns the encoding, or nil if v was rejected.
func checkSame(t *testing.T, s *schemas.Schema, v any, exact bool) []byte {
	t.Helper()
	want, wantErr := goavroBytes(s, v)
	prefix := []byte("prefix")
	got, err := s.AppendBinary(slices.Clip(prefix), v)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%s: AppendBinary error %v, FromJSON+goavro error %v\nvalue: %#v", s.Name, err, wantErr, v)
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%s: AppendBinary did not keep the buffer's contents: % x", s.Name, got)
	}
	if err != nil {
		if len(got) != len(prefix) {
			t.Fatalf("%s: AppendBinary returned %d bytes with an error, want the buffer unchanged", s.Name, len(got))
		}
		return nil
	}
	got = got[len(prefix):]
	if bytes.Equal(got, want) {
		return got
	}
	if exact {
		t.Fatalf("%s: bytes differ\n got % x\nwant % x\nvalue: %#v", s.Name, got, want, v)
	}
	gotNative, rest, err := s.Codec.NativeFromBinary(got)
	if err != nil || len(rest) != 0 {
		t.Fatalf("%s: AppendBinary's bytes do not decode (%v, %d left): % x", s.Name, err, len(rest), got)
	}
	wantNative, _, _ := s.Codec.NativeFromBinary(want)
	if !reflect.DeepEqual(gotNative, wantNative) {
		t.Fatalf("%s: encodings decode differently\n got %#v\nwant %#v", s.Name, gotNative, wantNative)
	}
	return got
}

// checkRoundTrip asserts that bin decodes, with nothing left over, to the
// plain value FromJSON makes of v.
func checkRoundTrip(t *testing.T, s *schemas.Schema, v any, bin []byte) {
	t.Helper()
	native, err := s.FromJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	back, rest, err := s.Codec.NativeFromBinary(bin)
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v (%d bytes left)", err, len(rest))
	}
	if got, want := s.Plain(back.(map[string]any)), s.Plain(native); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
	}
}

func TestAppendBinaryMatchesGoavroOnFixtures(t *testing.T) {
	for _, name := range schemas.Names() {
		t.Run(name, func(t *testing.T) {
			fs := validFixtures[name]
			if len(fs) == 0 {
				t.Fatalf("no valid fixtures for schema %s: add some to validFixtures", name)
			}
			s := schemas.MustLoad(name)
			for _, f := range fs {
				t.Run(f.name, func(t *testing.T) {
					bin := checkSame(t, s, f.value, true)
					if bin == nil {
						t.Fatal("fixture rejected")
					}
					checkRoundTrip(t, s, f.value, bin)
				})
			}
		})
	}
	t.Run("all_kinds", func(t *testing.T) {
		for _, f := range allKindsFixtures {
			t.Run(f.name, func(t *testing.T) {
				bin := checkSame(t, allKinds, f.value, true)
				if bin == nil {
					t.Fatal("fixture rejected")
				}
				checkRoundTrip(t, allKinds, f.value, bin)
			})
		}
	})
}

// TestAppendBinaryWritesTheAvroSpec pins a few encodings byte for byte
// against the Avro specification rather than against goavro.
func TestAppendBinaryWritesTheAvroSpec(t *testing.T) {
	s := schemas.MustLoad("wms_event")
	v := plainJSON(`{"event_id":"w","order_id":"` + long64 + `","warehouse_id":"","status":"s","shipment_id":null,"tracking_number":"1Z",
		"items":[{"sku":"a","quantity":-2},{"sku":"b","quantity":64}],"occurred_at":"1970-01-01T00:00:00.001Z","recorded_at":"1969-12-31T23:59:59.999Z"}`)
	got, err := s.AppendBinary(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{2, 'w', 0x80, 0x01} // "w"; 64-byte string: zigzag 128 takes two bytes
	want = append(want, long64...)
	want = append(want, 0, 2, 's') // "", "s"
	want = append(want,
		0,              // shipment_id: null branch
		2, 4, '1', 'Z', // tracking_number: branch 1, "1Z"
		0,                             // carrier: defaulted to null
		4,                             // items: one block of 2
		2, 'a', 3, 2, 'b', 0x80, 0x01, // {"a",-2}, {"b",64}
		0,    // end of items
		2, 1) // 1 ms, -1 ms
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}

	f, err := allKinds.AppendBinary(nil, plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1.5,"d":-2,"by":"AAE=","s":"","ts":"1970-01-01T00:00:00Z",
		"color":"BLUE","big":"ST","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null}`))
	if err != nil {
		t.Fatal(err)
	}
	want = []byte{1, 0, 0, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0, 4, 0, 1, 0, 0, 4, 38, 0, 0, 0, 0, 0, 2, 0}
	if !bytes.HasPrefix(f, want) {
		t.Errorf("all_kinds prefix\ngot  % x\nwant % x", f[:min(len(f), len(want))], want)
	}
}

// invalidCases are values both paths must reject, with the message each
// must give word for word (FromJSON's messages, unchanged).
var invalidCases = []struct {
	name, schema string
	value        any
	err          string
}{
	{"top level not an object", "wms_event", plainJSON(`[1]`), "record: expected an object, got an array"},
	{"top level nil", "wms_event", nil, "record: expected an object, got null"},
	{"missing required", "wms_event", plainJSON(`{"event_id":"w","warehouse_id":"DC1","status":"s","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		"order_id: required field missing"},
	{"wrong type", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","status":"s","items":[{"sku":"a","quantity":"2"}],"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		`items[0].quantity: expected int, got string "2"`},
	{"unknown field", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","colour":"red","status":"s","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		`record: unknown field "colour"`},
	{"unknown fields, smallest named", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","zz":1,"colour":"red","size":2,"status":"s","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		`record: unknown field "colour"`},
	{"unknown field in an array's record", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","status":"s","items":[{"sku":"a","quantity":1},{"sku":"b","quantity":1,"qty":1}],"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		`items[1]: unknown field "qty"`},
	{"bad field before unknown field", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":5,"colour":"red","status":"s","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		`warehouse_id: expected string, got number 5`},
	{"null for required", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","status":null,"occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"}`),
		"status: expected string, got null"},
	{"bad time", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","status":"s","occurred_at":"yesterday","recorded_at":"2026-11-01T10:00:00Z"}`),
		`occurred_at: expected an RFC 3339 time, got "yesterday"`},
	{"time without zone", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","status":"s","occurred_at":"2026-11-01T10:00:00","recorded_at":"2026-11-01T10:00:00Z"}`),
		`occurred_at: expected an RFC 3339 time, got "2026-11-01T10:00:00"`},
	{"time as number", "wms_event", plainJSON(`{"event_id":"w","order_id":"o","warehouse_id":"DC1","status":"s","occurred_at":1730455200000,"recorded_at":"2026-11-01T10:00:00Z"}`),
		`occurred_at: expected an RFC 3339 time, got number 1730455200000`},
	{"time in a union as number", "canonical_event", plainJSON(`{"order_id":"o","source_system":"s","source_event_id":"e","source_status":"s","linked_by":"event","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z","ingested_at":"2026-11-01T10:00:00Z","revised_date":5}`),
		`revised_date: expected an RFC 3339 time, got number 5`},
	{"time in an array's record", "order_state", plainJSON(`{"order_id":"o","views":[{"system":"a","status":"b","source_status":"c","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z"},{"system":"a","status":"b","source_status":"c","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-13-01T10:00:00Z"}],"transitions":1,"updated_at":"2026-11-01T10:00:00Z"}`),
		`views[1].recorded_at: expected an RFC 3339 time, got "2026-13-01T10:00:00Z"`},
	{"union given an object", "canonical_event", plainJSON(`{"order_id":"o","shipment_id":{"string":"s"},"source_system":"s","source_event_id":"e","source_status":"s","linked_by":"event","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z","ingested_at":"2026-11-01T10:00:00Z"}`),
		`shipment_id: expected string, got an object`},
	{"null array", "canonical_event", plainJSON(`{"order_id":"o","source_system":"s","source_event_id":"e","source_status":"s","linked_by":"event","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z","ingested_at":"2026-11-01T10:00:00Z","tags":null}`),
		`tags: expected an array, got null`},
	{"typed slice", "canonical_event", map[string]any{"order_id": "o", "source_system": "s", "source_event_id": "e", "source_status": "s", "linked_by": "event", "occurred_at": at, "recorded_at": at, "ingested_at": at, "tags": []string{"a"}},
		`tags: expected an array, got []string`},
	{"bad array item", "canonical_event", plainJSON(`{"order_id":"o","source_system":"s","source_event_id":"e","source_status":"s","linked_by":"event","occurred_at":"2026-11-01T10:00:00Z","recorded_at":"2026-11-01T10:00:00Z","ingested_at":"2026-11-01T10:00:00Z","tags":["a",true]}`),
		`tags[1]: expected string, got boolean`},
	{"int out of range", "dead_letter", plainJSON(`{"reason":"r","error":"e","stage":"s","source_topic":"t","source_partition":2147483648,"source_offset":0,"failed_at":"2026-11-01T10:00:00Z"}`),
		"source_partition: 2147483648 out of int range"},
	{"go int out of range", "dead_letter", map[string]any{"reason": "r", "error": "e", "stage": "s", "source_topic": "t", "source_partition": int64(-2147483649), "source_offset": 0, "failed_at": at},
		"source_partition: -2147483649 out of int range"},
	{"fraction for int", "dead_letter", plainJSON(`{"reason":"r","error":"e","stage":"s","source_topic":"t","source_partition":1.5,"source_offset":0,"failed_at":"2026-11-01T10:00:00Z"}`),
		"source_partition: expected int, got 1.5"},
	{"long overflow", "dead_letter", plainJSON(`{"reason":"r","error":"e","stage":"s","source_topic":"t","source_partition":1,"source_offset":9223372036854775808,"failed_at":"2026-11-01T10:00:00Z"}`),
		"source_offset: expected long, got 9223372036854775808"},
	{"float64 for long", "dead_letter", map[string]any{"reason": "r", "error": "e", "stage": "s", "source_topic": "t", "source_partition": 1, "source_offset": 1.0, "failed_at": at},
		"source_offset: expected long, got float64"},
	{"bad base64", "dead_letter", plainJSON(`{"reason":"r","error":"e","stage":"s","source_topic":"t","source_partition":1,"source_offset":0,"value":"not base64!","failed_at":"2026-11-01T10:00:00Z"}`),
		"value: bytes must be base64: illegal base64 data at input byte 3"},
	{"raw bytes", "dead_letter", map[string]any{"reason": "r", "error": "e", "stage": "s", "source_topic": "t", "source_partition": 1, "source_offset": 0, "key": []byte("k"), "failed_at": at},
		"key: expected bytes, got []uint8"},
	{"string for boolean", "order_state", plainJSON(`{"order_id":"o","transitions":1,"closed":"true","updated_at":"2026-11-01T10:00:00Z"}`),
		`closed: expected boolean, got string "true"`},
	{"missing in an array's record", "order_state", plainJSON(`{"order_id":"o","shipments":[{"shipment_id":"s","status":"a","since":"2026-11-01T10:00:00Z"}],"transitions":1,"updated_at":"2026-11-01T10:00:00Z"}`),
		"shipments[0].authority: required field missing"},
	{"bad enum", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"PINK","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null}`),
		`color: "PINK" is not one of [RED GREEN BLUE]`},
	{"bad enum, mapped symbols", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SZ","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null}`),
		`big: "SZ" is not one of [SA SB SC SD SE SF SG SH SI SJ SK SL SM SN SO SP SQ SR SS ST]`},
	{"go float for double", "all_kinds", map[string]any{"n": nil, "b": true, "i": 0, "l": 0, "f": json.Number("1"), "d": 1.0, "by": "", "s": "", "ts": at, "color": "RED", "big": "SA", "inner": map[string]any{"x": 0}, "m": map[string]any{}, "ma": map[string]any{}, "u": nil, "un": nil},
		`d: expected double, got float64`},
	{"string for float", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":"1","d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null}`),
		`f: expected float, got string "1"`},
	{"set null", "all_kinds", plainJSON(`{"n":1,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null}`),
		`n: expected null, got number 1`},
	{"bad map value", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{"b":{"x":1},"c":{"x":"2"},"a":{"x":"3"}},"ma":{},"u":null,"un":null}`),
		`m.a.x: expected int, got string "3"`},
	{"bad item in a map's array", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{"k":[1,null,"x"]},"u":null,"un":null}`),
		`ma.k[2]: expected long, got string "x"`},
	{"no union branch fits", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":[1],"un":null}`),
		`u: expected long, got an array`},
	{"union record branch fails on its fields", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":{"y":1},"un":null}`),
		`u: expected long, got an object`},
	{"union branch with a default", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null,"ud":"PINK"}`),
		`ud: expected double, got string "PINK"`},
	{"bad field of a defaulted record", "all_kinds", plainJSON(`{"n":null,"b":true,"i":0,"l":0,"f":1,"d":1,"by":"","s":"","ts":"2026-11-01T10:00:00Z","color":"RED","big":"SA","inner":{"x":0},"m":{},"ma":{},"u":null,"un":null,"def_rec":{"x":1,"tags":[null]}}`),
		`def_rec.tags[0]: expected string, got null`},
}

func TestAppendBinaryRejectsWhatFromJSONRejects(t *testing.T) {
	for _, c := range invalidCases {
		t.Run(c.name, func(t *testing.T) {
			s := allKinds
			if c.schema != "all_kinds" {
				s = schemas.MustLoad(c.schema)
			}
			_, fromErr := s.FromJSON(c.value)
			if fromErr == nil || fromErr.Error() != c.err {
				t.Fatalf("FromJSON error %v, want %q", fromErr, c.err)
			}
			checkSame(t, s, c.value, true)
			buf := []byte("keep")
			if got, err := s.AppendBinary(buf, c.value); err == nil || string(got) != "keep" {
				t.Errorf("AppendBinary = %q, %v; want the buffer unchanged and an error", got, err)
			}
		})
	}
}

func TestBytesErrorsWrapTheBase64Error(t *testing.T) {
	s := schemas.MustLoad("dead_letter")
	v := plainJSON(`{"reason":"r","error":"e","stage":"s","source_topic":"t","source_partition":1,"source_offset":0,"key":"a","failed_at":"2026-11-01T10:00:00Z"}`)
	_, err1 := s.FromJSON(v)
	_, err2 := s.AppendBinary(nil, v)
	for _, err := range []error{err1, err2} {
		var ce base64.CorruptInputError
		if !errors.As(err, &ce) {
			t.Errorf("%v does not wrap a base64.CorruptInputError", err)
		}
	}
}

// TestAppendBinaryDoesNotAllocate guards the point of AppendBinary: on the
// success path, with times as time.Time or UTC strings, it allocates
// nothing (no native maps, no path strings).
func TestAppendBinaryDoesNotAllocate(t *testing.T) {
	for _, bv := range benchValues {
		s, v := schemas.MustLoad(bv.schema), bv.value()
		buf := make([]byte, 0, 1024)
		if n := testing.AllocsPerRun(100, func() {
			var err error
			if buf, err = s.AppendBinary(buf[:0], v); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per AppendBinary, want 0", bv.schema, n)
		}
	}
}

func TestEncoderAppendPlain(t *testing.T) {
	s := schemas.MustLoad("wms_event")
	enc := &schemas.Encoder{ID: 0x01020304, Schema: s}
	v := decodeJSON(t, wmsLine)
	native, err := s.FromJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	want, err := enc.Encode(native)
	if err != nil {
		t.Fatal(err)
	}
	got, err := enc.EncodePlain(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || !bytes.Equal(got[:5], []byte{0, 1, 2, 3, 4}) {
		t.Errorf("EncodePlain\n got % x\nwant % x", got, want)
	}
	got, err = enc.AppendPlain([]byte("x"), v)
	if err != nil || !bytes.Equal(got, append([]byte("x"), want...)) {
		t.Errorf("AppendPlain = % x, %v", got, err)
	}

	delete(v, "order_id")
	got, err = enc.AppendPlain([]byte("x"), v)
	if err == nil || err.Error() != "encode wms_event: order_id: required field missing" || string(got) != "x" {
		t.Errorf("AppendPlain of a bad value = %q, %v", got, err)
	}
}

// TestAppendBinaryMatchesGoavroOnGeneratedValues checks many random values
// of every schema, valid and then broken in one random place, against
// FromJSON+goavro: the structured counterpart of the fuzz test, which
// rarely gets a mutated JSON text past the first field.
func TestAppendBinaryMatchesGoavroOnGeneratedValues(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	all := []*schemas.Schema{allKinds}
	for _, name := range schemas.Names() {
		all = append(all, schemas.MustLoad(name))
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(s.Name))))
			exact := s != allKinds
			rejected := 0
			for range n {
				v := genValue(r, s.Root(), 0)
				if bin := checkSame(t, s, v, exact); bin == nil {
					t.Fatalf("generated value rejected: %#v", v)
				} else {
					checkRoundTrip(t, s, v, bin)
				}
				mutate(r, &v)
				if checkSame(t, s, v, exact) == nil {
					rejected++
				}
			}
			if rejected == 0 {
				t.Error("no mutation made a value invalid")
			}
		})
	}
}

// genValue makes a random valid plain value of t, mixing the forms a plain
// value may take (json.Number or Go ints, RFC 3339 strings in any zone or
// time.Time, nulls and set unions, defaulted fields left out).
func genValue(r *rand.Rand, t *schemas.Type, depth int) any {
	switch t.Kind {
	case schemas.KindNull:
		return nil
	case schemas.KindBoolean:
		return r.IntN(2) == 0
	case schemas.KindInt:
		i := []int64{0, -1, 1, 63, 64, -65, math.MaxInt32, math.MinInt32, int64(r.Int32()), -int64(r.Int32())}[r.IntN(10)]
		return []any{json.Number(strconv.FormatInt(i, 10)), int(i), int32(i), i}[r.IntN(4)]
	case schemas.KindLong:
		i := []int64{0, -1, math.MaxInt64, math.MinInt64, r.Int64(), -r.Int64(), r.Int64N(1 << 20)}[r.IntN(7)]
		return []any{json.Number(strconv.FormatInt(i, 10)), int(i), i}[r.IntN(3)]
	case schemas.KindFloat, schemas.KindDouble:
		f := []float64{0, -1.5, math.MaxFloat64, math.SmallestNonzeroFloat64, r.NormFloat64() * 1e6, r.Float64()}[r.IntN(6)]
		return json.Number(strconv.FormatFloat(f, "eg"[r.IntN(2)], -1, 64))
	case schemas.KindString, schemas.KindBytes:
		b := make([]byte, []int{0, 1, 63, 64, 200, r.IntN(20)}[r.IntN(6)])
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if t.Kind == schemas.KindBytes {
			return base64.StdEncoding.EncodeToString(b)
		}
		return string(b)
	case schemas.KindTimestamp:
		ts := time.Unix(r.Int64N(400_000_000_000)-200_000_000_000, r.Int64N(1e9)).In(time.FixedZone("", (r.IntN(48)-24)*1800))
		if ts.Year() < 0 || ts.Year() > 9999 || r.IntN(2) == 0 {
			return ts
		}
		return ts.Format(time.RFC3339Nano)
	case schemas.KindEnum:
		return t.Symbols[r.IntN(len(t.Symbols))]
	case schemas.KindArray:
		n := r.IntN(4)
		if depth > 3 {
			n = 0
		}
		out := make([]any, n)
		for i := range out {
			out[i] = genValue(r, t.Items, depth+1)
		}
		return out
	case schemas.KindMap:
		n := r.IntN(3)
		if depth > 3 {
			n = 0
		}
		out := map[string]any{}
		for range n {
			out[strconv.Itoa(r.IntN(100))] = genValue(r, t.Values, depth+1)
		}
		return out
	case schemas.KindRecord:
		out := map[string]any{}
		for _, f := range t.Fields {
			if f.HasDefault && r.IntN(3) == 0 {
				continue
			}
			out[f.Name] = genValue(r, f.Type, depth+1)
		}
		return out
	case schemas.KindUnion:
		b := t.Branches[r.IntN(len(t.Branches))]
		return genValue(r, b, depth)
	}
	panic("unknown kind " + t.Kind)
}

// wrongValue is what mutate puts in a random place: each is wrong for
// some kinds and right for others. Containers are new each time, as mutate
// may change them later.
func wrongValue(r *rand.Rand) any {
	switch i := r.IntN(20); i {
	case 0:
		return []any{}
	case 1:
		return []any{"a", nil}
	case 2:
		return map[string]any{}
	case 3:
		return map[string]any{"x": 1}
	default:
		return []any{nil, "text", "2026-11-01T10:00:00Z", "AAAA", "RED", json.Number("1.5"), json.Number("2147483648"),
			json.Number("1e400"), json.Number("-7"), true, 3, 3.0, int64(math.MaxInt64), time.Unix(0, 1), []byte("x"), "not base64!"}[i-4]
	}
}

// mutate changes *v in one random place: replaces a value (or the whole
// value), deletes a record key or adds one.
func mutate(r *rand.Rand, v *any) {
	type slot struct {
		m   map[string]any
		k   string
		arr []any
		i   int
	}
	var slots []slot
	var walk func(x any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				slots = append(slots, slot{m: x, k: k})
				walk(x[k])
			}
			slots = append(slots, slot{m: x, k: "extra"})
		case []any:
			for i := range x {
				slots = append(slots, slot{arr: x, i: i})
				walk(x[i])
			}
		}
	}
	walk(*v)
	if len(slots) == 0 || r.IntN(20) == 0 {
		*v = wrongValue(r)
		return
	}
	s := slots[r.IntN(len(slots))]
	w := wrongValue(r)
	switch {
	case s.arr != nil:
		s.arr[s.i] = w
	case r.IntN(4) == 0:
		delete(s.m, s.k)
	default:
		s.m[s.k] = w
	}
}

// FuzzAppendBinaryMatchesGoavro feeds JSON text, decoded as baton decodes
// plain values (UseNumber), to AppendBinary and to FromJSON+goavro under
// one of the embedded schemas: both must accept or both reject it, with the
// same message, and accepted values must encode to the same bytes.
func FuzzAppendBinaryMatchesGoavro(f *testing.F) {
	names := schemas.Names()
	all := make([]*schemas.Schema, len(names))
	for i, name := range names {
		all[i] = schemas.MustLoad(name)
		for _, fx := range validFixtures[name] {
			text, err := json.Marshal(fx.value)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), string(text))
		}
	}
	for _, c := range invalidCases {
		if i := slices.Index(names, c.schema); i >= 0 {
			if text, err := json.Marshal(c.value); err == nil {
				f.Add(uint8(i), string(text))
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return
		}
		checkSame(t, all[int(which)%len(all)], v, true)
	})
}

// TestTimestampEdgesMatchGoavro covers the times where millisecond
// truncation and goavro's seconds-plus-milliseconds formula could part
// ways: before 1970, before year 1, at the last nanosecond of a second, in
// odd zones.
func TestTimestampEdgesMatchGoavro(t *testing.T) {
	s := schemas.MustLoad("tracking_link")
	for _, ts := range []time.Time{
		time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-1, 1), time.Unix(-1, 999_999_999), time.Unix(0, 999_999),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(-4000, 3, 1, 12, 0, 0, 1_500_000, time.FixedZone("", -34200)),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("", 50400)),
		time.Date(100000, 1, 1, 0, 0, 0, 123_456_789, time.UTC),
		time.Now(), // with a monotonic reading
	} {
		for _, v := range []any{ts, ts.Format(time.RFC3339Nano)} {
			checkSame(t, s, map[string]any{"source_system": "wms", "source_partition": 0, "watermark": v, "occurred_at": v}, true)
		}
	}
}
