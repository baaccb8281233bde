package schemas_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// checkJSONSame asserts that AppendPlainJSON writes json.Marshal's bytes
// for v, or fails with its error and leaves the buffer as it was.
func checkJSONSame(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	prefix := []byte("prefix")
	got, err := schemas.AppendPlainJSON(bytes.Clone(prefix), v)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("error %v, json.Marshal's %v\nvalue %#v", err, wantErr, v)
	}
	if !bytes.HasPrefix(got, prefix) || err != nil && len(got) != len(prefix) {
		t.Fatalf("the buffer's contents changed: %q", got)
	}
	if err == nil && !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("bytes differ\n got %s\nwant %s\nvalue %#v", got[len(prefix):], want, v)
	}
}

// TestAppendPlainJSONMatchesMarshal: random plain values (nested maps and
// slices; strings with quotes, controls, HTML characters, invalid UTF-8 and
// line separators; numbers of every size at both precisions) and the
// decoded fixtures encode as json.Marshal encodes them.
func TestAppendPlainJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		checkJSONSame(t, genPlainJSON(r, 0))
	}
	for name, fixtures := range validFixtures {
		s := schemas.MustLoad(name)
		for _, fx := range fixtures {
			body, err := s.AppendBinary(nil, fx.value)
			if err != nil {
				t.Fatal(err)
			}
			plain, _, err := s.DecodePlain(body)
			if err != nil {
				t.Fatal(err)
			}
			checkJSONSame(t, plain)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(-1), float32(math.Inf(1)), map[string]any{"a": []any{math.NaN()}},
		time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC), json.Number("1.50"), []byte("raw"), map[string]any(nil), []any(nil), []any{},
		float32(1e-7), float32(1e21), 1e-7, 1e21, 123456789.0, -0.0, float32(0.1), 5e-324, math.MaxFloat64} {
		checkJSONSame(t, v)
	}
}

// genPlainJSON is a random plain value.
func genPlainJSON(r *rand.Rand, depth int) any {
	k := r.IntN(10)
	if depth > 3 {
		k = r.IntN(6)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 1
	case 2:
		return genString(r)
	case 3:
		return int32(r.Uint32())
	case 4:
		return int64(r.Uint64())
	case 5:
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) || r.IntN(2) == 0 {
			f = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(50)-25))
		}
		if r.IntN(3) == 0 {
			return float32(f)
		}
		return f
	case 6, 7:
		out := make([]any, r.IntN(4))
		for i := range out {
			out[i] = genPlainJSON(r, depth+1)
		}
		return out
	default:
		out := map[string]any{}
		for range r.IntN(5) {
			out[genString(r)] = genPlainJSON(r, depth+1)
		}
		return out
	}
}

// genString is a short string of characters JSON escaping treats apart.
func genString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f",
		"é", "€", "😀", "\u2028", "\u2029", "\xff", "\xe2\x82", "\xed\xa0\x80", "'"}
	var b []byte
	for range r.IntN(8) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return string(b)
}

// FuzzAppendPlainJSONMatchesMarshal encodes a string (as a value and as a
// key) and a number at both precisions.
func FuzzAppendPlainJSONMatchesMarshal(f *testing.F) {
	f.Add("plain", 1.5)
	f.Add("<a href=\"x\">\u2028\xff</a>", 1e-7)
	f.Add("", 1e21)
	f.Fuzz(func(t *testing.T, s string, x float64) {
		checkJSONSame(t, map[string]any{"s": s, s: []any{x, float32(x), int64(x)}})
	})
}

// BenchmarkMarshalJSON and BenchmarkAppendPlainJSON encode a decoded
// order_state, as the sink does for its views and shipments.
func BenchmarkMarshalJSON(b *testing.B) {
	plain := decodedOrderState(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPlainJSON(b *testing.B) {
	plain := decodedOrderState(b)
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		var err error
		if buf, err = schemas.AppendPlainJSON(buf[:0], plain); err != nil {
			b.Fatal(err)
		}
	}
}

func decodedOrderState(b *testing.B) map[string]any {
	s := schemas.MustLoad("order_state")
	body, err := s.AppendBinary(nil, benchOrderState())
	if err != nil {
		b.Fatal(err)
	}
	plain, _, err := s.DecodePlain(body)
	if err != nil {
		b.Fatal(err)
	}
	return plain
}
