package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// Helpers adapters share to read vendor JSON. Vendor payloads are loosely
// typed (IDs as numbers in one version and strings in the next, nulls for
// absent values), so reading is lenient where leniency loses nothing and
// strict where a wrong guess would corrupt an event: times must parse, and
// the fields an event cannot exist without must be there.

// DecodeJSON decodes a body into generic JSON values, keeping numbers as
// json.Number so 64-bit IDs (Shopify's exceed 2^53) survive exactly.
// Trailing data after the value is an error: a body is one JSON document.
func DecodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("body is not JSON: data after the top-level value")
	}
	return v, nil
}

// DecodeObject decodes a body that must be one JSON object.
func DecodeObject(body []byte) (Object, error) {
	v, err := DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("body is %s, want a JSON object", describe(v))
	}
	return m, nil
}

// Object is a decoded JSON object with lenient accessors.
type Object map[string]any

// String returns a string field, or a number field as its exact decimal
// text (IDs); "" when absent, null or of another type.
func (o Object) String(key string) string {
	switch v := o[key].(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	}
	return ""
}

// Object returns a nested object, or nil when absent or not an object.
func (o Object) Object(key string) Object {
	m, _ := o[key].(map[string]any)
	return m
}

// Array returns a nested array, or nil when absent or not an array.
func (o Object) Array(key string) []any {
	a, _ := o[key].([]any)
	return a
}

// Objects returns the object elements of an array field, skipping
// anything else.
func (o Object) Objects(key string) []Object {
	var out []Object
	for _, e := range o.Array(key) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Strings returns the string (or number) elements of an array field,
// skipping anything else.
func (o Object) Strings(key string) []string {
	out := []string{}
	for _, e := range o.Array(key) {
		switch v := e.(type) {
		case string:
			out = append(out, v)
		case json.Number:
			out = append(out, string(v))
		}
	}
	return out
}

// Require returns a field as String does, or an error naming it (with
// where, e.g. "fulfillment") when it is empty.
func (o Object) Require(where, key string) (string, error) {
	if s := o.String(key); s != "" {
		return s, nil
	}
	if v, ok := o[key]; ok && v != nil {
		return "", fmt.Errorf("%s.%s: want a string or number, got %s", where, key, describe(v))
	}
	return "", fmt.Errorf("%s.%s: missing", where, key)
}

// Time returns the first of keys that is present and not null as a
// normalized time (see FormatTime), with the key it came from. It is an
// error if that value is not an RFC 3339 time; ok is false when none of the
// keys is set.
func (o Object) Time(where string, keys ...string) (ts string, key string, ok bool, err error) {
	for _, k := range keys {
		v, present := o[k]
		if !present || v == nil {
			continue
		}
		s, isString := v.(string)
		if !isString || s == "" {
			return "", k, false, fmt.Errorf("%s.%s: want an RFC 3339 time, got %s", where, k, describe(v))
		}
		t, err := ParseTime(s)
		if err != nil {
			return "", k, false, fmt.Errorf("%s.%s: %w", where, k, err)
		}
		return FormatTime(t), k, true, nil
	}
	return "", "", false, nil
}

// ParseTime parses an RFC 3339 time (any offset, optional fraction), or
// the same without seconds (2013-12-12T05:35Z), which is how Zendesk's
// *_with_timestamp placeholders render times in trigger-built bodies.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04Z07:00", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time, got %q", s)
}

// FormatTime writes a time the way source events carry it: UTC, RFC 3339,
// truncated to the millisecond the Avro timestamp-millis keeps. Normalizing
// here makes an adapter's output identical to what a consumer decodes.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

// DerivedID is a deterministic event ID for a delivery that carries none:
// the same inputs give the same ID, so a redelivered webhook is still
// de-duplicated downstream. It is prefixed so it is never mistaken for a
// vendor's own ID.
func DerivedID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Nullable returns nil for "" so optional schema fields are written as
// null rather than as an empty string.
func Nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("string %q", x)
	case json.Number:
		return "number " + string(x)
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*")
}

// CheckEvents checks adapter output against the system's schema the way
// the gateway will: what every adapter's fuzz target asserts.
func CheckEvents(sys schemas.System, events []map[string]any) error {
	sch, err := schemas.Load(sys.SchemaName())
	if err != nil {
		return err
	}
	for i, ev := range events {
		if err := CheckEvent(sch, sys, ev); err != nil {
			return fmt.Errorf("event %d of %d: %w", i+1, len(events), err)
		}
	}
	return nil
}

// CheckEvent checks one event in JSON form: it fits sch, has the record
// key sys needs, and a non-empty event_id (the de-duplication key: empty
// IDs would all collapse into one event downstream).
func CheckEvent(sch *schemas.Schema, sys schemas.System, ev map[string]any) error {
	native, err := sch.FromJSON(ev)
	if err != nil {
		return err
	}
	plain := sch.Plain(native)
	if _, err := sys.Key(plain); err != nil {
		return err
	}
	if id, _ := plain["event_id"].(string); id == "" {
		return errors.New("event_id: empty")
	}
	return nil
}

// MarshalEvents writes events as indented JSON with sorted keys: the
// canonical form adapters' golden files hold.
func MarshalEvents(events []map[string]any) []byte {
	if events == nil {
		events = []map[string]any{}
	}
	b, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		// Events hold only JSON-decoded values and strings.
		panic(fmt.Sprintf("ingest: events are not JSON: %v", err))
	}
	return append(b, '\n')
}
