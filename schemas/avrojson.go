package schemas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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

	// symbolIndex maps an enum's symbols to their indexes, for enums long
	// enough that a map beats a scan; built at parse time.
	symbolIndex map[string]int
}

// Field is one record field.
type Field struct {
	Name       string
	Type       *Type
	HasDefault bool
	Default    any // the default in JSON form

	// plain is Default converted once, at parse time, to the plain form
	// fromJSON and appendBinary take (numbers as json.Number), so a missing
	// field costs no conversion.
	plain any
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
				t.indexSymbols()
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
				t.Fields = append(t.Fields, Field{Name: fm["name"].(string), Type: ft, HasDefault: hasDef, Default: def, plain: jsonDefault(def)})
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
//
// To encode a plain value, AppendBinary is faster: it accepts and rejects
// exactly the same values, with the same errors, without building the
// native form.
func (s *Schema) FromJSON(v any) (map[string]any, error) {
	out, err := fromJSON(s.root, v)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// fromJSON converts v to t's native form. The scalar checks live in the
// plain* helpers shared with appendBinary, so both accept the same values
// and word their errors alike; the error's path is added as it unwinds and
// built only if the message is read.
func fromJSON(t *Type, v any) (any, *valueError) {
	switch t.Kind {
	case KindNull:
		if v != nil {
			return nil, mismatch(t, v)
		}
		return nil, nil
	case KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch(t, v)
		}
		return b, nil
	case KindInt, KindLong:
		i, err := plainLong(t, v)
		if err != nil {
			return nil, err
		}
		if t.Kind == KindInt {
			return int32(i), nil
		}
		return i, nil
	case KindFloat, KindDouble:
		f, err := plainFloat(t, v)
		if err != nil {
			return nil, err
		}
		if t.Kind == KindFloat {
			return float32(f), nil
		}
		return f, nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch(t, v)
		}
		return s, nil
	case KindBytes:
		return plainBytes(t, v)
	case KindTimestamp:
		return plainTime(v)
	case KindEnum:
		s, _, err := plainEnum(t, v)
		if err != nil {
			return nil, err
		}
		return s, nil
	case KindArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, mismatch(t, v)
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			n, err := fromJSON(t.Items, e)
			if err != nil {
				return nil, err.at(indexSeg(i))
			}
			out[i] = n
		}
		return out, nil
	case KindMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch(t, v)
		}
		out := make(map[string]any, len(m))
		var firstErr *valueError
		var firstKey string
		for k, e := range m {
			n, err := fromJSON(t.Values, e)
			if err != nil {
				// Report the smallest failing key, as appendBinary (which
				// writes keys in sorted order) does, not whichever the
				// map's iteration order met first.
				if firstErr == nil || k < firstKey {
					firstErr, firstKey = err, k
				}
				continue
			}
			out[k] = n
		}
		if firstErr != nil {
			return nil, firstErr.at(keySeg(firstKey))
		}
		return out, nil
	case KindRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch(t, v)
		}
		out := make(map[string]any, len(t.Fields))
		present := 0
		for i := range t.Fields {
			f := &t.Fields[i]
			fv, ok := m[f.Name]
			if ok {
				present++
			} else if fv, ok = f.plainDefault(); !ok {
				return nil, (&valueError{kind: errMissing}).at(fieldSeg(f.Name))
			}
			n, err := fromJSON(f.Type, fv)
			if err != nil {
				return nil, err.at(fieldSeg(f.Name))
			}
			out[f.Name] = n
		}
		if present != len(m) {
			return nil, unknownField(t, m)
		}
		return out, nil
	case KindUnion:
		if v == nil {
			if t.nullIndex() >= 0 {
				return nil, nil
			}
			return nil, mismatch(t, v)
		}
		var firstErr *valueError
		for _, b := range t.Branches {
			if b.Kind == KindNull {
				continue
			}
			n, err := fromJSON(b, v)
			if err == nil {
				return goavroUnion(b, n), nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, firstErr
	}
	return nil, &valueError{kind: errUnsupported, t: t}
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
