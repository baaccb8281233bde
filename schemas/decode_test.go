package schemas_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/baton-pipeline/baton/schemas"
)

// goavroPlain is the reference decoding: goavro's NativeFromBinary, then
// Plain.
func goavroPlain(s *schemas.Schema, body []byte) (map[string]any, []byte, error) {
	native, rest, err := s.Codec.NativeFromBinary(body)
	if err != nil {
		return nil, nil, err
	}
	return s.Plain(native.(map[string]any)), rest, nil
}

// checkDecodeSame asserts that DecodePlain agrees with goavro+Plain on
// body: the same value and rest, or goavro's error; and that its own
// reader, where it succeeds, succeeds only where goavro does, with the
// same result. It reports whether the body decoded.
func checkDecodeSame(t *testing.T, s *schemas.Schema, body []byte) bool {
	t.Helper()
	want, wantRest, wantErr := goavroPlain(s, body)
	if v, rest, ok := schemas.DecodePlainFast(s, body); ok {
		if wantErr != nil {
			t.Fatalf("%s: DecodePlain read what goavro refuses (%v):\n% x\ngot %#v", s.Name, wantErr, body, v)
		}
		if !reflect.DeepEqual(v, want) || len(rest) != len(wantRest) {
			t.Fatalf("%s: decodings differ (rest %d, goavro's %d)\n got %#v\nwant %#v\nbody % x", s.Name, len(rest), len(wantRest), v, want, body)
		}
	}
	got, rest, err := s.DecodePlain(body)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%s: DecodePlain error %v, goavro's %v", s.Name, err, wantErr)
	}
	if err == nil && (!reflect.DeepEqual(got, want) || !bytes.Equal(rest, wantRest)) {
		t.Fatalf("%s: DecodePlain differs from goavro+Plain\n got %#v\nwant %#v", s.Name, got, want)
	}
	return err == nil
}

// TestDecodePlainMatchesGoavro decodes many random values of every schema,
// encoded, with DecodePlain's own reader (which must read every one of
// them: a body it hands to goavro costs the speed it is there for) and
// against goavro; then the same bodies cut short, with a byte changed and
// with bytes added.
func TestDecodePlainMatchesGoavro(t *testing.T) {
	all := []*schemas.Schema{allKinds}
	for _, name := range schemas.Names() {
		all = append(all, schemas.MustLoad(name))
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(2, uint64(len(s.Name))))
			refused := 0
			for range 300 {
				body, err := s.AppendBinary(nil, genValue(r, s.Root(), 0))
				if err != nil {
					t.Fatal(err)
				}
				if _, _, ok := schemas.DecodePlainFast(s, body); !ok {
					t.Fatalf("DecodePlain's reader refused a valid body, left to goavro: % x", body)
				}
				checkDecodeSame(t, s, body)
				for _, broken := range [][]byte{
					body[:r.IntN(len(body))],
					flipByte(r, body),
					append(bytes.Clone(body), byte(r.IntN(256)), byte(r.IntN(256))),
				} {
					if !checkDecodeSame(t, s, broken) {
						refused++
					}
				}
			}
			if refused == 0 {
				t.Error("no broken body was refused")
			}
		})
	}
}

// flipByte returns body with one random byte changed.
func flipByte(r *rand.Rand, body []byte) []byte {
	out := bytes.Clone(body)
	out[r.IntN(len(out))] ^= byte(1 + r.IntN(255))
	return out
}

// FuzzDecodePlainMatchesGoavro feeds bytes to DecodePlain and goavro under
// one of the embedded schemas, seeded with the fixtures' encodings.
func FuzzDecodePlainMatchesGoavro(f *testing.F) {
	names := schemas.Names()
	all := make([]*schemas.Schema, len(names))
	for i, name := range names {
		all[i] = schemas.MustLoad(name)
		for _, fx := range validFixtures[name] {
			body, err := all[i].AppendBinary(nil, fx.value)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), body)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		checkDecodeSame(t, all[int(which)%len(all)], body)
	})
}

// BenchmarkGoavroThenPlain is the old decoding path: goavro's native form,
// then Plain.
func BenchmarkGoavroThenPlain(b *testing.B) {
	benchDecode(b, func(s *schemas.Schema, body []byte) error {
		_, _, err := goavroPlain(s, body)
		return err
	})
}

// BenchmarkDecodePlain is the direct path: Avro binary to the plain form in
// one walk.
func BenchmarkDecodePlain(b *testing.B) {
	benchDecode(b, func(s *schemas.Schema, body []byte) error {
		_, _, err := s.DecodePlain(body)
		return err
	})
}

func benchDecode(b *testing.B, decode func(*schemas.Schema, []byte) error) {
	for _, bv := range benchValues {
		s := schemas.MustLoad(bv.schema)
		body, err := s.AppendBinary(nil, bv.value())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bv.schema, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := decode(s, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodePlainEdgeCases: bodies random changes rarely make, each
// decoded as goavro decodes it or refused where goavro refuses it.
func TestDecodePlainEdgeCases(t *testing.T) {
	s, err := schemas.Parse("edges", `{"type":"record","name":"E","fields":[
		{"name":"m","type":{"type":"map","values":"int"}},
		{"name":"a","type":{"type":"array","items":["null","long"]}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	long := func(n int64) []byte { return zigzag(n) }
	str := func(s string) []byte { return append(long(int64(len(s))), s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name string
		body []byte
		ok   bool
	}{
		{"empty map and array", cat(long(0), long(0)), true},
		{"two blocks, one with a negative count and its size", cat(long(1), str("a"), long(1), long(-1), long(3), str("b"), long(2), long(0),
			long(-2), long(3), long(1), long(5), long(0), long(0)), true},
		{"an int past 32 bits (goavro keeps the low 32)", cat(long(2), str("a"), long(1<<32+5), str("b"), long(-1<<40-3), long(0), long(0)), true},
		{"a key twice", cat(long(2), str("a"), long(1), str("a"), long(2), long(0), long(0)), false},
		{"the least block count", cat(long(-1<<63), long(0)), false},
		{"a block count past MaxInt32", cat(long(1<<31), long(0)), false},
		{"a union branch past the last", cat(long(0), long(1), long(2), long(0)), false},
		{"a negative union branch", cat(long(0), long(1), long(-1), long(0)), false},
		{"a negative string length", cat(long(1), long(-1), long(0), long(0)), false},
		{"an overlong varint (goavro drops the high bits)", cat([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, long(0)), true},
		{"a varint cut short", []byte{0x80}, false},
	} {
		if got := checkDecodeSame(t, s, c.body); got != c.ok {
			t.Errorf("%s: decoded %v, want %v", c.name, got, c.ok)
		}
		if _, _, fast := schemas.DecodePlainFast(s, c.body); fast != c.ok {
			t.Errorf("%s: DecodePlain's own reader read it: %v, want %v", c.name, fast, c.ok)
		}
	}
}

// zigzag is Avro's encoding of a long.
func zigzag(n int64) []byte {
	u := uint64(n<<1) ^ uint64(n>>63)
	var out []byte
	for u >= 0x80 {
		out = append(out, byte(u)|0x80)
		u >>= 7
	}
	return append(out, byte(u))
}
