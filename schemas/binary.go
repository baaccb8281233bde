package schemas

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"
)

// AppendBinary appends the Avro binary encoding of plain, a value of s in
// baton's JSON form, to b and returns the extended buffer.
//
// It is FromJSON followed by goavro's BinaryFromNative in one pass, without
// the native form in between: that conversion allocated a map per record
// and per set union and was most of the cost of every output record. The
// contract is theirs, exactly:
//
//   - It accepts exactly the values FromJSON accepts and rejects the ones it
//     rejects, with the same error messages and field paths ("items[0].sku",
//     "record" for the top level): the checks are the helpers FromJSON uses.
//   - For an accepted value the bytes are those goavro writes for
//     FromJSON's result (records as their fields in order; a union as its
//     branch index, the first non-null branch that accepts the value, then
//     the value; arrays and maps as one block and the 0 terminator;
//     timestamps as milliseconds), so records it writes decode with the
//     goavro codec and any Avro reader.
//   - Maps, which no embedded schema has, are written in sorted key order,
//     so equal values always encode to equal bytes (goavro's order is Go's
//     random map order).
//
// On error it returns b unchanged (its original length) and the error: the
// caller can reuse the buffer, and never sees a partial encoding.
func (s *Schema) AppendBinary(b []byte, plain any) ([]byte, error) {
	out, err := appendBinary(b, s.root, plain)
	if err != nil {
		return b, err
	}
	return out, nil
}

// appendBinary appends t's encoding of v to b. On error the returned
// buffer holds whatever was appended before the failure; callers that go
// on (a union trying its next branch) truncate it themselves.
func appendBinary(b []byte, t *Type, v any) ([]byte, *valueError) {
	switch t.Kind {
	case KindNull:
		if v != nil {
			return b, mismatch(t, v)
		}
		return b, nil
	case KindBoolean:
		x, ok := v.(bool)
		if !ok {
			return b, mismatch(t, v)
		}
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case KindInt, KindLong:
		i, err := plainLong(t, v)
		if err != nil {
			return b, err
		}
		return appendLong(b, i), nil
	case KindFloat:
		f, err := plainFloat(t, v)
		if err != nil {
			return b, err
		}
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f))), nil
	case KindDouble:
		f, err := plainFloat(t, v)
		if err != nil {
			return b, err
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return b, mismatch(t, v)
		}
		return append(appendLong(b, int64(len(s))), s...), nil
	case KindBytes:
		x, err := plainBytes(t, v)
		if err != nil {
			return b, err
		}
		return append(appendLong(b, int64(len(x))), x...), nil
	case KindTimestamp:
		ms, err := plainMillis(v)
		if err != nil {
			return b, err
		}
		return appendLong(b, ms), nil
	case KindEnum:
		_, i, err := plainEnum(t, v)
		if err != nil {
			return b, err
		}
		return appendLong(b, int64(i)), nil
	case KindArray:
		arr, ok := v.([]any)
		if !ok {
			return b, mismatch(t, v)
		}
		if len(arr) > 0 {
			b = appendLong(b, int64(len(arr)))
			for i, e := range arr {
				var err *valueError
				if b, err = appendBinary(b, t.Items, e); err != nil {
					return b, err.at(indexSeg(i))
				}
			}
		}
		return append(b, 0), nil
	case KindMap:
		m, ok := v.(map[string]any)
		if !ok {
			return b, mismatch(t, v)
		}
		if len(m) > 0 {
			b = appendLong(b, int64(len(m)))
			for _, k := range slices.Sorted(maps.Keys(m)) {
				b = append(appendLong(b, int64(len(k))), k...)
				var err *valueError
				if b, err = appendBinary(b, t.Values, m[k]); err != nil {
					return b, err.at(keySeg(k))
				}
			}
		}
		return append(b, 0), nil
	case KindRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return b, mismatch(t, v)
		}
		present := 0
		for i := range t.Fields {
			f := &t.Fields[i]
			fv, ok := m[f.Name]
			if ok {
				present++
			} else if fv, ok = f.plainDefault(); !ok {
				return b, (&valueError{kind: errMissing}).at(fieldSeg(f.Name))
			}
			var err *valueError
			if b, err = appendBinary(b, f.Type, fv); err != nil {
				return b, err.at(fieldSeg(f.Name))
			}
		}
		// Field names are unique (goavro refuses a schema otherwise), so
		// if every key was a field the counts match.
		if present != len(m) {
			return b, unknownField(t, m)
		}
		return b, nil
	case KindUnion:
		if v == nil {
			if i := t.nullIndex(); i >= 0 {
				return appendLong(b, int64(i)), nil
			}
			return b, mismatch(t, v)
		}
		mark := len(b)
		var firstErr *valueError
		for i, br := range t.Branches {
			if br.Kind == KindNull {
				continue
			}
			out, err := appendBinary(appendLong(b[:mark], int64(i)), br, v)
			if err == nil {
				return out, nil
			}
			if firstErr == nil {
				firstErr = err
			}
			b = out[:mark]
		}
		if firstErr != nil {
			return b, firstErr
		}
		// No non-null branch: FromJSON takes any value as null here, and
		// goavro writes the null branch. (goavro refuses an empty union.)
		if i := t.nullIndex(); i >= 0 {
			return appendLong(b, int64(i)), nil
		}
		return b, mismatch(t, v)
	}
	return b, &valueError{kind: errUnsupported, t: t}
}

// appendLong appends an Avro int or long: zigzag-encoded, then as a
// variable-length integer, 7 bits a byte, least significant first.
func appendLong(b []byte, n int64) []byte {
	u := uint64(n<<1) ^ uint64(n>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}
