package schemas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Kind is an Avro type's kind.
type Kind string

// The Avro kinds baton's schemas use. Timestamps are long with the
// timestamp-millis logical type.
const (
	KindNull      Kind = "null"
	KindBoolean   Kind = "boolean"
	KindInt       Kind = "int"
	KindLong      Kind = "long"
	KindFloat     Kind = "float"
	KindDouble    Kind = "double"
	KindBytes     Kind = "bytes"
	KindString    Kind = "string"
	KindTimestamp Kind = "long.timestamp-millis"
	KindRecord    Kind = "record"
	KindEnum      Kind = "enum"
	KindArray     Kind = "array"
	KindMap       Kind = "map"
	KindUnion     Kind = "union"
)

// Type is a parsed Avro type, just enough of it to convert between the JSON
// form users write and goavro's native form.
type Type struct {
	Kind     Kind
	Name     string  // full name, for records and enums
	Fields   []Field // records
	Symbols  []string
	Items    *Type   // arrays
	Values   *Type   // maps
	Branches []*Type // unions
}

// Field is one record field.
type Field struct {
	Name       string
	Type       *Type
	HasDefault bool
	Default    any // the default in JSON form
}

// unionKey is goavro's name for a union branch.
func (t *Type) unionKey() string {
	switch t.Kind {
	case KindRecord, KindEnum:
		return t.Name
	default:
		return string(t.Kind)
	}
}

// Nullable reports whether the type is a union with null.
func (t *Type) Nullable() bool {
	if t.Kind != KindUnion {
		return false
	}
	for _, b := range t.Branches {
		if b.Kind == KindNull {
			return true
		}
	}
	return false
}

func parseType(text string) (*Type, error) {
	var raw any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	return buildType(raw, "", map[string]*Type{})
}

func buildType(raw any, namespace string, named map[string]*Type) (*Type, error) {
	switch v := raw.(type) {
	case string:
		switch Kind(v) {
		case KindNull, KindBoolean, KindInt, KindLong, KindFloat, KindDouble, KindBytes, KindString:
			return &Type{Kind: Kind(v)}, nil
		}
		if t, ok := named[v]; ok {
			return t, nil
		}
		if t, ok := named[namespace+"."+v]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("unknown type %q", v)
	case []any:
		t := &Type{Kind: KindUnion}
		for _, b := range v {
			bt, err := buildType(b, namespace, named)
			if err != nil {
				return nil, err
			}
			t.Branches = append(t.Branches, bt)
		}
		return t, nil
	case map[string]any:
		typ, _ := v["type"].(string)
		if lt, _ := v["logicalType"].(string); lt == "timestamp-millis" && typ == "long" {
			return &Type{Kind: KindTimestamp}, nil
		}
		switch typ {
		case "record", "enum":
			name, _ := v["name"].(string)
			if ns, ok := v["namespace"].(string); ok {
				namespace = ns
			}
			full := name
			if namespace != "" {
				full = namespace + "." + name
			}
			t := &Type{Kind: Kind(typ), Name: full}
			named[full] = t
			if typ == "enum" {
				for _, s := range v["symbols"].([]any) {
					t.Symbols = append(t.Symbols, s.(string))
				}
				return t, nil
			}
			fields, _ := v["fields"].([]any)
			for _, rf := range fields {
				fm := rf.(map[string]any)
				ft, err := buildType(fm["type"], namespace, named)
				if err != nil {
					return nil, fmt.Errorf("field %v: %w", fm["name"], err)
				}
				def, hasDef := fm["default"]
				t.Fields = append(t.Fields, Field{Name: fm["name"].(string), Type: ft, HasDefault: hasDef, Default: def})
			}
			return t, nil
		case "array":
			items, err := buildType(v["items"], namespace, named)
			return &Type{Kind: KindArray, Items: items}, err
		case "map":
			values, err := buildType(v["values"], namespace, named)
			return &Type{Kind: KindMap, Values: values}, err
		default:
			return buildType(typ, namespace, named)
		}
	}
	return nil, fmt.Errorf("unsupported schema element %v", raw)
}

// FromJSON converts a value in baton's JSON form (as decoded by
// encoding/json with UseNumber; Go code may also pass int/int32/int64 for
// integers, a []any of values for arrays and time.Time for timestamps) to
// goavro's native form, checking it against
// the type. The JSON form is plain: unions are written as their value or
// null, timestamps as RFC 3339 strings, bytes as base64. Unknown record
// fields are rejected so a misspelt field name is an error, not silently
// dropped; a missing field takes its schema default, or is an error.
// Errors name the field path.
func (s *Schema) FromJSON(v any) (map[string]any, error) {
	out, err := fromJSON(s.root, v, "")
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func fromJSON(t *Type, v any, path string) (any, error) {
	where := path
	if where == "" {
		where = "record"
	}
	mismatch := func() error {
		return fmt.Errorf("%s: expected %s, got %s", where, t.describe(), describeJSON(v))
	}
	switch t.Kind {
	case KindNull:
		if v != nil {
			return nil, mismatch()
		}
		return nil, nil
	case KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		return b, nil
	case KindInt, KindLong:
		var i int64
		switch n := v.(type) {
		case json.Number:
			var err error
			if i, err = strconv.ParseInt(string(n), 10, 64); err != nil {
				return nil, fmt.Errorf("%s: expected %s, got %s", where, t.describe(), n)
			}
		case int:
			i = int64(n)
		case int32:
			i = int64(n)
		case int64:
			i = n
		default:
			return nil, mismatch()
		}
		if t.Kind == KindInt {
			if i < math.MinInt32 || i > math.MaxInt32 {
				return nil, fmt.Errorf("%s: %d out of int range", where, i)
			}
			return int32(i), nil
		}
		return i, nil
	case KindFloat, KindDouble:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch()
		}
		f, err := n.Float64()
		if err != nil {
			return nil, mismatch()
		}
		if t.Kind == KindFloat {
			return float32(f), nil
		}
		return f, nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		return s, nil
	case KindBytes:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s: bytes must be base64: %w", where, err)
		}
		return b, nil
	case KindTimestamp:
		if ts, ok := v.(time.Time); ok {
			return ts.UTC().Truncate(time.Millisecond), nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: expected an RFC 3339 time, got %s", where, describeJSON(v))
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%s: expected an RFC 3339 time, got %q", where, s)
		}
		return ts.UTC().Truncate(time.Millisecond), nil
	case KindEnum:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		for _, sym := range t.Symbols {
			if sym == s {
				return s, nil
			}
		}
		return nil, fmt.Errorf("%s: %q is not one of %v", where, s, t.Symbols)
	case KindArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, mismatch()
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			n, err := fromJSON(t.Items, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case KindMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch()
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			n, err := fromJSON(t.Values, e, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case KindRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch()
		}
		out := make(map[string]any, len(t.Fields))
		known := make(map[string]bool, len(t.Fields))
		for _, f := range t.Fields {
			known[f.Name] = true
			fpath := f.Name
			if path != "" {
				fpath = path + "." + f.Name
			}
			fv, present := m[f.Name]
			if !present {
				if !f.HasDefault {
					return nil, fmt.Errorf("%s: required field missing", fpath)
				}
				fv = jsonDefault(f.Default)
			}
			n, err := fromJSON(f.Type, fv, fpath)
			if err != nil {
				return nil, err
			}
			out[f.Name] = n
		}
		for k := range m {
			if !known[k] {
				return nil, fmt.Errorf("%s: unknown field %q", where, k)
			}
		}
		return out, nil
	case KindUnion:
		if v == nil {
			if t.Nullable() {
				return nil, nil
			}
			return nil, mismatch()
		}
		var firstErr error
		for _, b := range t.Branches {
			if b.Kind == KindNull {
				continue
			}
			n, err := fromJSON(b, v, path)
			if err == nil {
				return goavroUnion(b, n), nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, firstErr
	}
	return nil, fmt.Errorf("%s: unsupported type %s", where, t.Kind)
}

func goavroUnion(branch *Type, native any) any {
	return map[string]any{branch.unionKey(): native}
}

// jsonDefault turns a schema default (decoded without UseNumber) into the
// JSON form fromJSON expects.
func jsonDefault(d any) any {
	switch v := d.(type) {
	case float64:
		return json.Number(strconv.FormatFloat(v, 'f', -1, 64))
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonDefault(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonDefault(e)
		}
		return out
	}
	return d
}

func (t *Type) describe() string {
	switch t.Kind {
	case KindTimestamp:
		return "an RFC 3339 time"
	case KindRecord:
		return "an object"
	case KindArray:
		return "an array"
	case KindUnion:
		return "a nullable value"
	}
	return string(t.Kind)
}

func describeJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case json.Number:
		return "number " + string(x)
	case bool:
		return "boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Plain converts a goavro native value of this schema to baton's JSON form:
// unions unwrapped, timestamps as RFC 3339 UTC strings, bytes as base64. It
// is the inverse of FromJSON, so a record read from a topic can be written
// back out as a JSON line that `baton produce` accepts.
func (s *Schema) Plain(native map[string]any) map[string]any {
	out, _ := toPlain(s.root, native).(map[string]any)
	return out
}

func toPlain(t *Type, v any) any {
	switch t.Kind {
	case KindUnion:
		m, ok := v.(map[string]any)
		if !ok {
			return v // nil: the null branch
		}
		for _, b := range t.Branches {
			if inner, ok := m[b.unionKey()]; ok {
				return toPlain(b, inner)
			}
		}
		return nil
	case KindRecord:
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			if fv, ok := m[f.Name]; ok {
				out[f.Name] = toPlain(f.Type, fv)
			}
		}
		return out
	case KindArray:
		arr, _ := v.([]any)
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = toPlain(t.Items, e)
		}
		return out
	case KindMap:
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = toPlain(t.Values, e)
		}
		return out
	case KindTimestamp:
		if ts, ok := v.(time.Time); ok {
			return ts.UTC().Format(time.RFC3339Nano)
		}
	case KindBytes:
		if b, ok := v.([]byte); ok {
			return base64.StdEncoding.EncodeToString(b)
		}
	}
	return v
}
