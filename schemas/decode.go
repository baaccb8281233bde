package schemas

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// DecodePlain reads one value of s from the Avro binary body and returns it
// in baton's JSON form, with the bytes after it.
//
// It is goavro's NativeFromBinary followed by Plain, in one pass and
// without the native form in between: that form wrapped every set union
// branch in a map of its own and every timestamp in a time.Time, which
// Plain then unwrapped and formatted, and the two were a large share of
// every stage's CPU. The contract is theirs, exactly:
//
//   - For a body goavro decodes, the value and the rest are those of
//     Plain(NativeFromBinary(body)): unions unwrapped, timestamps as RFC 3339
//     UTC strings (goavro's seconds-plus-milliseconds arithmetic), bytes as
//     base64, ints as int32 and longs as int64, floats as float32.
//   - A body it cannot read is handed to goavro, so the error (which dead
//     letters store) is goavro's own, and a body goavro reads is never
//     refused.
//
// FuzzDecodePlainMatchesGoavro and TestDecodePlainMatchesGoavro hold it to
// that.
func (s *Schema) DecodePlain(body []byte) (map[string]any, []byte, error) {
	if v, rest, ok := decodePlain(s.root, body); ok {
		if m, ok := v.(map[string]any); ok {
			return m, rest, nil
		}
	}
	native, rest, err := s.Codec.NativeFromBinary(body)
	if err != nil {
		return nil, nil, err
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("a %s is not a record", s.FullName)
	}
	return s.Plain(m), rest, nil
}

// decodePlain reads a value of t from b in the plain form. ok is false
// where goavro would fail, and also wherever this reader is unsure: the
// caller then asks goavro.
func decodePlain(t *Type, b []byte) (v any, rest []byte, ok bool) {
	switch t.Kind {
	case KindNull:
		return nil, b, true
	case KindBoolean:
		if len(b) < 1 || b[0] > 1 {
			return nil, nil, false
		}
		return b[0] == 1, b[1:], true
	case KindInt:
		// goavro accumulates an int as a long and keeps its low 32 bits.
		n, rest, ok := readLong(b)
		return int32(n), rest, ok
	case KindLong:
		n, rest, ok := readLong(b)
		return n, rest, ok
	case KindFloat:
		if len(b) < 4 {
			return nil, nil, false
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), b[4:], true
	case KindDouble:
		if len(b) < 8 {
			return nil, nil, false
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:], true
	case KindString:
		s, rest, ok := readBytes(b)
		if !ok {
			return nil, nil, false
		}
		return string(s), rest, true
	case KindBytes:
		s, rest, ok := readBytes(b)
		if !ok {
			return nil, nil, false
		}
		return base64.StdEncoding.EncodeToString(s), rest, true
	case KindTimestamp:
		ms, rest, ok := readLong(b)
		if !ok {
			return nil, nil, false
		}
		// goavro's conversion, then Plain's format.
		sec := ms / 1e3
		return time.Unix(sec, (ms-sec*1e3)*1e6).UTC().Format(time.RFC3339Nano), rest, true
	case KindEnum:
		i, rest, ok := readLong(b)
		if !ok || i < 0 || i >= int64(len(t.Symbols)) {
			return nil, nil, false
		}
		return t.Symbols[i], rest, true
	case KindUnion:
		i, rest, ok := readLong(b)
		if !ok || i < 0 || i >= int64(len(t.Branches)) {
			return nil, nil, false
		}
		return decodePlain(t.Branches[i], rest)
	case KindRecord:
		out := make(map[string]any, len(t.Fields))
		for i := range t.Fields {
			f := &t.Fields[i]
			if v, b, ok = decodePlain(f.Type, b); !ok {
				return nil, nil, false
			}
			out[f.Name] = v
		}
		return out, b, true
	case KindArray:
		n, b, ok := readBlockCount(b)
		if !ok {
			return nil, nil, false
		}
		out := make([]any, 0, min(n, int64(len(b))))
		for n != 0 {
			for range n {
				if v, b, ok = decodePlain(t.Items, b); !ok {
					return nil, nil, false
				}
				out = append(out, v)
			}
			if n, b, ok = readBlockCount(b); !ok {
				return nil, nil, false
			}
		}
		return out, b, true
	case KindMap:
		n, b, ok := readBlockCount(b)
		if !ok {
			return nil, nil, false
		}
		out := make(map[string]any, min(n, int64(len(b))))
		for n != 0 {
			for range n {
				var k []byte
				if k, b, ok = readBytes(b); !ok {
					return nil, nil, false
				}
				key := string(k)
				if _, dup := out[key]; dup {
					return nil, nil, false
				}
				if v, b, ok = decodePlain(t.Values, b); !ok {
					return nil, nil, false
				}
				out[key] = v
			}
			if n, b, ok = readBlockCount(b); !ok {
				return nil, nil, false
			}
		}
		return out, b, true
	}
	return nil, nil, false
}

// readLong reads a zig-zag varint long as goavro does (bits past the 64th
// are dropped, not refused).
func readLong(b []byte) (int64, []byte, bool) {
	var v uint64
	var shift uint
	for i, c := range b {
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return int64(v>>1) ^ -int64(v&1), b[i+1:], true
		}
		shift += 7
	}
	return 0, nil, false
}

// readBytes reads a length-prefixed byte string; the result aliases b.
func readBytes(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := readLong(b)
	if !ok || n < 0 || n > int64(len(rest)) {
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}

// readBlockCount reads an array's or map's block count: a negative count
// is followed by the block's size in bytes, which is skipped; goavro
// refuses counts past MaxInt32.
func readBlockCount(b []byte) (int64, []byte, bool) {
	n, b, ok := readLong(b)
	if !ok {
		return 0, nil, false
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, nil, false
		}
		n = -n
		if _, b, ok = readLong(b); !ok {
			return 0, nil, false
		}
	}
	if n > math.MaxInt32 {
		return 0, nil, false
	}
	return n, b, true
}
