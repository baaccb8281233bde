package delay

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/baton-pipeline/baton/processors/internal/binfmt"
)

// busyOrder has every kind of state: both promises with originals and
// revisions, two parcels' estimates, remembered messages of both kinds,
// open and closed notices of both promise kinds, renewals, failed and
// told ones, a refund flag.
func busyOrder(t testing.TB) Order {
	hs := newHarness(t, Config{})
	hs.run(placed(day, 5*day), promised(h, 2*day, 5*day), truth("PARTIALLY_SHIPPED", 20*h),
		scan("", 21*h, 4*day).of("1Z1"), scan("", 22*h, 3*day).of("1Z2"),
		delayMsg(30*h, 3*day), due(2*day+ms), due(2*day+10*m),
		truth("SHIPPED", 3*day), scan("IN_TRANSIT", 3*day+h, 4*day).of("1Z1"), scan("", 3*day+2*h, 6*day).of("1Z1"),
		problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 3*day+3*h), scan("EXCEPTION", 3*day+4*h, 0),
		scan("RETURN_TO_SENDER", 3*day+5*h, 0), due(3*day+6*h))
	o := hs.o
	var open, told, failed, renewals, refunds int
	for _, n := range o.notices {
		if n.outcome == 0 {
			open++
		}
		if n.flags&fTold != 0 {
			told++
		}
		if n.failed() {
			failed++
		}
		if n.renews != 0 {
			renewals++
		}
		if n.flags&fRefundDue != 0 {
			refunds++
		}
	}
	if len(o.parcels) != 2 || len(o.messages) != 2 || open == 0 || told == 0 || failed == 0 || renewals == 0 || refunds == 0 ||
		!o.ship.covered || !o.deliver.covered || o.ship.revised == 0 || o.deliver.revised == 0 {
		t.Fatalf("busy order is not busy: %v\n%+v", hs.notices(), o)
	}
	return o
}

func TestOrderRoundTrip(t *testing.T) {
	var empty Order
	if b := empty.AppendBinary(nil); !bytes.Equal(b, []byte{headerEmpty}) {
		t.Errorf("empty order encodes as %x", b)
	}
	for _, o := range []Order{{}, busyOrder(t)} {
		b := o.AppendBinary([]byte("prefix"))
		if string(b[:6]) != "prefix" {
			t.Fatal("AppendBinary does not append")
		}
		b = append(b, "rest"...)
		got, rest, err := DecodeOrder(b[6:])
		if err != nil {
			t.Fatal(err)
		}
		if string(rest) != "rest" {
			t.Errorf("rest %q", rest)
		}
		if !reflect.DeepEqual(got, o) {
			t.Errorf("round trip:\ngot  %+v\nwant %+v", got, o)
		}
	}
	o := busyOrder(t)
	t.Logf("busy order: %d bytes, %d notices", len(o.AppendBinary(nil)), o.Notices())
	// With untold notices dropped from the notices.
	full := crowdedOrder(t).o
	got, rest, err := DecodeOrder(full.AppendBinary(nil))
	if err != nil || len(rest) != 0 || !reflect.DeepEqual(got, full) {
		t.Errorf("round trip of a crowded order: %v\ngot  %+v\nwant %+v", err, got, full)
	}
}

// busyOrderV1 is busyOrder as format 1 wrote it, before the dropped
// untold notices were remembered.
const busyOrderV1 = "031052455455524e5f544f5f53454e44455280e4e9e8b26880b482e0b46880c4cf8db468809ea1ecb26880d49cbbb36880e4e9e8b26880b482e0b46880c4cf8db468018094e884b668809ea1ecb2688094e884b66880e4e9e8b26880849bd7b66880849bd7b668010203315a3180849bd7b66880a8f1e6b46803315a3280b482e0b46880e0adb4b3680280b0e9cfb36880b482e0b4680080e2a8eab468001744454c49564552595f415454454d50545f4641494c454403da49b9a5b3a32ded000000000000000001000601000100000000000080c4cf8db4680080c4cf8db468c093f48db46880c4cf8db46880d49cbbb36880a4b5b2b56880b0e9cfb36882c4cf8db46882c4cf8db46882c4cf8db468941a2c39ad6bc34200000000000000000201010000010003315a31035550530b636172726965722f652d3907636172726965720080a8f1e6b4680080a8f1e6b468c0f795e7b4688094e884b6688094e884b66880849bd7b66800d0b7f1e6b46800d0b7f1e6b46827299eba4778dc6e941a2c39ad6bc3420301090002020003315a31035550530574722d31310763617272696572c0f795e7b468809ce0edb468809ce0edb468809ce0edb468c0eb84eeb46880849bd7b6688094e884b6680000d0abe0edb46800d0e597f1b468"

// busyOrderV2 is busyOrder as format 2 wrote it, before the first sight
// was kept.
const busyOrderV2 = "051052455455524e5f544f5f53454e44455280e4e9e8b26880b482e0b46880c4cf8db468809ea1ecb26880d49cbbb36880e4e9e8b26880b482e0b46880c4cf8db468018094e884b668809ea1ecb2688094e884b66880e4e9e8b26880849bd7b66880849bd7b668010203315a3180849bd7b66880a8f1e6b46803315a3280b482e0b46880e0adb4b3680280b0e9cfb36880b482e0b4680080e2a8eab468001744454c49564552595f415454454d50545f4641494c454403da49b9a5b3a32ded000000000000000001000601000100000000000080c4cf8db4680080c4cf8db468c093f48db46880c4cf8db46880d49cbbb36880a4b5b2b56880b0e9cfb36882c4cf8db46882c4cf8db46882c4cf8db468941a2c39ad6bc34200000000000000000201010000010003315a31035550530b636172726965722f652d3907636172726965720080a8f1e6b4680080a8f1e6b468c0f795e7b4688094e884b6688094e884b66880849bd7b66800d0b7f1e6b46800d0b7f1e6b46827299eba4778dc6e941a2c39ad6bc3420301090002020003315a31035550530574722d31310763617272696572c0f795e7b468809ce0edb468809ce0edb468809ce0edb468c0eb84eeb46880849bd7b6688094e884b6680000d0abe0edb46800d0e597f1b46800"

// unseen is o as read from a format without the first sight.
func unseen(o Order) Order { o.seen = 0; return o }

// TestDecodeFormat1 and TestDecodeFormat2: state written by an earlier
// format still decodes, to the same order without what that format did
// not keep, and re-encodes in the current format.
func TestDecodeFormat1(t *testing.T) {
	b, err := hex.DecodeString(busyOrderV1)
	if err != nil {
		t.Fatal(err)
	}
	got, rest, err := DecodeOrder(append(b, "rest"...))
	if err != nil || string(rest) != "rest" {
		t.Fatalf("format 1: %v (rest %q)", err, rest)
	}
	want := unseen(busyOrder(t))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("format 1:\ngot  %+v\nwant %+v", got, want)
	}
	if o, rest, err := DecodeOrder([]byte{headerEmptyV1, 'x'}); err != nil || !o.Empty() || string(rest) != "x" {
		t.Errorf("format 1's empty order: %+v, %q, %v", o, rest, err)
	}
	if enc := got.AppendBinary(nil); enc[0] != headerFull || !bytes.Equal(enc, want.AppendBinary(nil)) {
		t.Errorf("re-encoded, not format %d: %x", formatVersion, enc)
	}
}

func TestDecodeFormat2(t *testing.T) {
	b, err := hex.DecodeString(busyOrderV2)
	if err != nil {
		t.Fatal(err)
	}
	got, rest, err := DecodeOrder(append(b, "rest"...))
	if err != nil || string(rest) != "rest" {
		t.Fatalf("format 2: %v (rest %q)", err, rest)
	}
	want := unseen(busyOrder(t))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("format 2:\ngot  %+v\nwant %+v", got, want)
	}
	if o, rest, err := DecodeOrder([]byte{headerEmptyV2, 'x'}); err != nil || !o.Empty() || string(rest) != "x" {
		t.Errorf("format 2's empty order: %+v, %q, %v", o, rest, err)
	}
	// Format 3 is format 2 with the first sight after the placement.
	enc := got.AppendBinary(nil)
	if enc[0] != headerFull || !bytes.Equal(enc[1:], slices.Insert(bytes.Clone(b[1:]), len(binary.AppendVarint(binfmt.AppendString(nil, want.truth.String()), want.placed)), 0)) {
		t.Errorf("re-encoded, not format 2's body with first seen 0: %x", enc)
	}
}

func TestDecodeOrderRejectsCorruptInput(t *testing.T) {
	o := busyOrder(t)
	good := o.AppendBinary(nil)
	// Every truncation is an error.
	for n := range len(good) {
		if _, _, err := DecodeOrder(good[:n]); err == nil || !errors.Is(err, errCorrupt) {
			t.Errorf("a truncation to %d bytes decodes (%v)", n, err)
		}
	}
	corrupt := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := map[string][]byte{
		"format":         {0x08}, // format 4
		"unknown status": corrupt(func(b []byte) []byte { return mustReplace(t, b, "RETURN_TO_SENDER", "RETURN_TO_SENDEX") }),
		"unknown system": corrupt(func(b []byte) []byte { return mustReplace(t, b, "\x07carrier", "\x07carrieX") }),
		"huge count":     append([]byte{headerFull, 0}, bytes.Repeat([]byte{0}, 14)...),
	}
	// A parcel count over the bound: the byte after the promises.
	body := o.AppendBinary(nil)
	tests["too many parcels"] = append(append([]byte(nil), body[:bytes.Index(body, []byte("1Z1"))-2]...), 17)
	crowded := crowdedOrder(t).o
	full := crowded.AppendBinary(nil)
	tests["dropped reason"] = func() []byte {
		b := bytes.Clone(full)
		// The last dropped notice: 8 bytes of ID, its reason, three varints.
		i := bytes.LastIndex(b, binary.LittleEndian.AppendUint64(nil, crowded.dropped[len(crowded.dropped)-1].id)) + 8
		if b[i] != byte(reasonShipBy) {
			t.Fatalf("dropped reason at %d is %d", i, b[i])
		}
		b[i] = 9
		return b
	}()
	for name, b := range tests {
		if _, _, err := DecodeOrder(b); err == nil {
			t.Errorf("%s: decodes", name)
		}
	}
}

func mustReplace(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("no %q in the encoding", old)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

// FuzzDecodeOrder: no input panics; what decodes re-encodes to a form that
// decodes to the same order and re-encodes identically; a decoded order is
// safe to work on.
func FuzzDecodeOrder(f *testing.F) {
	o := busyOrder(f)
	f.Add(o.AppendBinary(nil))
	f.Add([]byte{headerEmpty})
	var one Order
	one.placed = 5
	f.Add(one.AppendBinary(nil))
	crowded := crowdedOrder(f).o
	f.Add(crowded.AppendBinary(nil))
	v1, _ := hex.DecodeString(busyOrderV1)
	f.Add(v1)
	v2, _ := hex.DecodeString(busyOrderV2)
	f.Add(v2)
	d, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, rest, err := DecodeOrder(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error does not wrap the sentinel: %v", err)
			}
			return
		}
		if len(rest) > len(b) || !bytes.Equal(rest, b[len(b)-len(rest):]) {
			t.Fatalf("rest is not a suffix of the input")
		}
		enc := got.AppendBinary(nil)
		again, rest2, err := DecodeOrder(enc)
		if err != nil || len(rest2) != 0 {
			t.Fatalf("re-encoded order does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, got) || !bytes.Equal(again.AppendBinary(nil), enc) {
			t.Fatalf("round trip differs")
		}
		d.NextDue(&got)
		got.AppendUntold(nil)
		d.Observe(&got, "o", Event{System: "carrier", TrackingNumber: "1Z1", EstimatedDelivery: 1 << 40, OccurredAt: 3, RecordedAt: 3},
			Truth{Status: "RETURN_TO_SENDER", At: 3}, 4)
		d.Observe(&got, "o", Event{System: "notifications", MessageType: MessageDelayNotice, DeliveryStatus: "sent", RecordedAt: 5, RevisedDate: 1 << 41},
			Truth{Status: "CANCELLED", At: 5}, 6)
		d.Due(&got, "o", 1<<62)
		got.AppendUntold(nil)
		d.Evict(&got, "o", 1<<62)
	})
}

func TestInMemorySizes(t *testing.T) {
	if s := unsafe.Sizeof(Order{}); s != 240 {
		t.Errorf("Order is %d bytes", s)
	}
	if s := unsafe.Sizeof(notice{}); s > 232 {
		t.Errorf("notice is %d bytes", s)
	}
}
