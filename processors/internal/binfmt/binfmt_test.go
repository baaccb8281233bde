package binfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var errTest = errors.New("test: corrupt state")

// record is one of everything the package reads and writes.
type record struct {
	u     uint64
	i     int64
	c     byte
	small byte // at most 3
	ok    bool
	id    uint64
	s     string
	raw   string // read with Bytes
	n     int    // a count of items of 2 bytes, each the item's index
}

const (
	headerEmpty = 0x02
	headerFull  = 0x03
	maxS        = 16
)

func (r record) append(b []byte) []byte {
	b = append(b, headerFull)
	b = binary.AppendUvarint(b, r.u)
	b = binary.AppendVarint(b, r.i)
	b = append(b, r.c, r.small)
	b = AppendBool(b, r.ok)
	b = binary.LittleEndian.AppendUint64(b, r.id)
	b = AppendString(b, r.s)
	b = AppendString(b, r.raw)
	b = binary.AppendUvarint(b, uint64(r.n))
	for i := range r.n {
		b = append(b, byte(i), 0)
	}
	return b
}

// decode reads a record the way a format's decoder does: field after
// field, checking Err once at the end.
func decode(b []byte) (record, []byte, error) {
	d := &Decoder{B: b, Corrupt: errTest}
	switch body := d.Header(headerEmpty, headerFull); {
	case d.Err != nil:
		return record{}, b, d.Err
	case !body:
		return record{}, d.B, nil
	}
	var r record
	r.u = d.Uvarint("u")
	r.i = d.Varint("i")
	r.c = d.Byte("c")
	r.small = d.ByteMax("small", 3)
	r.ok = d.Bool("ok")
	r.id = d.Uint64("id")
	r.s = d.String("s", maxS)
	r.raw = string(d.Bytes("raw", maxS))
	r.n = d.Count("items", 8, 2)
	for i := range r.n {
		if d.Byte("item") != byte(i) || d.ByteMax("item pad", 0) != 0 {
			d.Fail("item %d", i)
		}
	}
	if d.Err != nil {
		return record{}, b, d.Err
	}
	return r, d.B, nil
}

func busy() record {
	return record{u: math.MaxUint64, i: math.MinInt64, c: 0xff, small: 3, ok: true, id: 0x0102030405060708,
		s: "héllo", raw: "raw bytes", n: 3}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []record{{}, busy(), {i: -1, u: 1, s: strings.Repeat("x", maxS)}} {
		b := append(r.append([]byte("prefix")), "rest"...)
		got, rest, err := decode(b[len("prefix"):])
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if got != r || string(rest) != "rest" {
			t.Errorf("got %+v rest %q, want %+v", got, rest, r)
		}
	}
	got, rest, err := decode([]byte{headerEmpty, 'x'})
	if err != nil || got != (record{}) || string(rest) != "x" {
		t.Errorf("empty header: %+v %q %v", got, rest, err)
	}
}

func TestAppendBytes(t *testing.T) {
	if b := AppendString([]byte{9}, "ab"); !bytes.Equal(b, []byte{9, 2, 'a', 'b'}) {
		t.Errorf("AppendString = %x", b)
	}
	if b := AppendString(nil, strings.Repeat("z", 200)); !bytes.Equal(b[:2], []byte{0xc8, 0x01}) || len(b) != 202 {
		t.Errorf("AppendString length prefix = %x", b[:2])
	}
	if b := AppendBool(AppendBool(nil, true), false); !bytes.Equal(b, []byte{1, 0}) {
		t.Errorf("AppendBool = %x", b)
	}
}

// TestErrors: each read's message, wrapping the sentinel.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		read func(d *Decoder)
		want string
	}{
		{nil, func(d *Decoder) { d.Header(2, 3) }, "header: truncated"},
		{[]byte{0x04}, func(d *Decoder) { d.Header(2, 3) }, "format byte 0x04, want 0x02 or 0x03"},
		{nil, func(d *Decoder) { d.Uvarint("n") }, "n: bad uvarint"},
		{[]byte{0x80}, func(d *Decoder) { d.Uvarint("n") }, "n: bad uvarint"},
		{bytes.Repeat([]byte{0xff}, 11), func(d *Decoder) { d.Uvarint("n") }, "n: bad uvarint"}, // overflow
		{[]byte{0x80}, func(d *Decoder) { d.Varint("at") }, "at: bad varint"},
		{nil, func(d *Decoder) { d.Byte("flag") }, "flag: truncated"},
		{[]byte{4}, func(d *Decoder) { d.ByteMax("kind", 3) }, "kind: 4 out of range"},
		{[]byte{2}, func(d *Decoder) { d.Bool("covered") }, "covered: 2 out of range"},
		{make([]byte, 7), func(d *Decoder) { d.Uint64("id") }, "id: truncated"},
		{[]byte{3, 'a', 'b'}, func(d *Decoder) { d.String("s", 10) }, "s: length 3 out of range"},
		{[]byte{3, 'a', 'b', 'c'}, func(d *Decoder) { d.Bytes("s", 2) }, "s: length 3 out of range"},
		{[]byte{0x80}, func(d *Decoder) { d.String("s", 2) }, "s: bad uvarint"},
		{[]byte{9, 0, 0}, func(d *Decoder) { d.Count("items", 8, 1) }, "items 9 out of range"},
		{[]byte{2, 0, 0, 0}, func(d *Decoder) { d.Count("items", 8, 2) }, "items 2 out of range"}, // 3 bytes left, 2 items of 2
		{nil, func(d *Decoder) { d.Fail("custom %d", 7) }, "custom 7"},
	} {
		d := &Decoder{B: tc.in, Corrupt: errTest}
		tc.read(d)
		if !errors.Is(d.Err, errTest) || d.Err.Error() != "test: corrupt state: "+tc.want {
			t.Errorf("%x: got %v, want %q", tc.in, d.Err, tc.want)
		}
	}
}

func TestFirstErrorWinsAndReadsStop(t *testing.T) {
	// Seven good bytes: every read below would succeed on them.
	in := []byte{1, 1, 1, 1, 1, 1, 1}
	d := &Decoder{B: in, Corrupt: errTest}
	d.Uint64("first")
	first := d.Err
	if first == nil {
		t.Fatal("no error")
	}
	if d.Uvarint("u") != 0 || d.Varint("i") != 0 || d.Byte("c") != 0 || d.ByteMax("m", 9) != 0 || d.Bool("b") ||
		d.String("s", 9) != "" || d.Bytes("raw", 9) != nil || d.Count("n", 9, 1) != 0 ||
		d.Header(2, 3) {
		t.Error("a read after an error returned a value")
	}
	d.Fail("second")
	if d.Err != first || !strings.HasSuffix(first.Error(), "first: truncated") {
		t.Errorf("error replaced: %v", d.Err)
	}
	if !bytes.Equal(d.B, in) {
		t.Errorf("reads after an error consumed input: %x", d.B)
	}
	d = &Decoder{B: []byte{1, 1, 1, 1, 1, 1, 1, 1}, Err: first}
	if d.Uint64("id") != 0 || len(d.B) != 8 {
		t.Error("Uint64 read after an error")
	}
}

func TestOutOfRangeByteIsConsumed(t *testing.T) {
	d := &Decoder{B: []byte{7, 1}}
	if v := d.ByteMax("k", 3); v != 0 || len(d.B) != 1 {
		t.Errorf("ByteMax = %d, %d left", v, len(d.B))
	}
}

func TestDefaultSentinel(t *testing.T) {
	d := &Decoder{}
	d.Byte("x")
	if !errors.Is(d.Err, ErrCorrupt) || d.Err.Error() != "binfmt: corrupt input: x: truncated" {
		t.Errorf("got %v", d.Err)
	}
}

func TestBytesAliasesAndStringCopies(t *testing.T) {
	in := []byte{2, 'a', 'b', 2, 'c', 'd', 'z'}
	d := &Decoder{B: in}
	raw := d.Bytes("raw", 8)
	s := d.String("s", 8)
	in[1], in[4] = 'A', 'C'
	if string(raw) != "Ab" || s != "cd" || d.Err != nil {
		t.Errorf("raw %q s %q err %v", raw, s, d.Err)
	}
	if cap(raw) != len(raw) {
		t.Errorf("Bytes leaves capacity %d over its length %d: an append would overwrite the input", cap(raw), len(raw))
	}
}

// TestTruncationsFail: every proper prefix of a full record is an error
// wrapping the sentinel, never a panic; so is a table of hand-written
// short inputs.
func TestTruncationsFail(t *testing.T) {
	for _, r := range []record{{}, busy()} {
		good := r.append(nil)
		for n := range len(good) {
			if _, _, err := decode(good[:n]); !errors.Is(err, errTest) {
				t.Errorf("%+v cut to %d of %d bytes: %v", r, n, len(good), err)
			}
		}
	}
	for name, in := range map[string][]byte{
		"nothing":             nil,
		"header only":         {headerFull},
		"uvarint cut":         {headerFull, 0x80},
		"varint cut":          {headerFull, 0, 0xff},
		"no byte":             {headerFull, 0, 0},
		"no bool":             {headerFull, 0, 0, 1, 1},
		"id cut":              {headerFull, 0, 0, 1, 1, 1, 1, 2, 3},
		"string length cut":   append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), 0x80)...),
		"string bytes cut":    append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), 5, 'a')...),
		"string over limit":   append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), maxS+1)...),
		"huge string length":  append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)...),
		"count over input":    append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), 0, 0, 2, 0, 0)...),
		"huge count":          append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f)...),
		"items cut":           append([]byte{headerFull, 0, 0, 1, 1, 1}, append(make([]byte, 8), 0, 0, 1, 0)...),
		"bad header":          {0x7f, 0, 0},
		"bool out of range":   {headerFull, 0, 0, 1, 1, 2},
		"small out of range":  {headerFull, 0, 0, 1, 4, 1},
		"varint overflow":     append([]byte{headerFull, 0}, bytes.Repeat([]byte{0xff}, 10)...),
		"uvarint overflow":    append([]byte{headerFull}, bytes.Repeat([]byte{0x80}, 10)...),
		"only continuations":  bytes.Repeat([]byte{0x80}, 3),
		"header then garbage": {headerFull, 0xff},
	} {
		if _, _, err := decode(in); !errors.Is(err, errTest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRandomInputs: random and randomly mutated inputs decode or fail
// with the sentinel, never panic; what decodes re-encodes to a form that
// decodes to the same record.
func TestRandomInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	good := busy().append(nil)
	for range 20000 {
		var in []byte
		if rng.IntN(2) == 0 {
			in = make([]byte, rng.IntN(48))
			for i := range in {
				in[i] = byte(rng.UintN(256))
			}
		} else {
			in = bytes.Clone(good[:rng.IntN(len(good)+1)])
			for range 1 + rng.IntN(3) {
				if len(in) > 0 {
					in[rng.IntN(len(in))] = byte(rng.UintN(256))
				}
			}
		}
		checkDecode(t, in)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add(busy().append(nil))
	f.Add(record{}.append(nil))
	f.Add([]byte{headerEmpty})
	f.Fuzz(checkDecode)
}

func checkDecode(t *testing.T, in []byte) {
	t.Helper()
	r, rest, err := decode(in)
	if err != nil {
		if !errors.Is(err, errTest) {
			t.Fatalf("%x: error without the sentinel: %v", in, err)
		}
		return
	}
	if len(rest) > len(in) || !bytes.Equal(rest, in[len(in)-len(rest):]) {
		t.Fatalf("%x: rest %x is not a suffix of the input", in, rest)
	}
	if in[0] == headerEmpty {
		return
	}
	// Not the input again: a varint may be written longer than it needs.
	enc := r.append(nil)
	if again, rest, err := decode(enc); err != nil || again != r || len(rest) != 0 {
		t.Fatalf("%x decodes to %+v, which encodes as %x, which decodes to %+v, %x, %v", in, r, enc, again, rest, err)
	}
}

func TestNonMinimalVarintsDecode(t *testing.T) {
	// As encoding/binary reads them: 0x82 0x00 is 2, as a Varint 1.
	d := &Decoder{B: []byte{0x82, 0x00, 0x82, 0x00}}
	if u, i := d.Uvarint("u"), d.Varint("i"); u != 2 || i != 1 || d.Err != nil {
		t.Errorf("got %d %d %v", u, i, d.Err)
	}
}
