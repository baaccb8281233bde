package delay

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"unsafe"
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
		"format":         {0x04}, // format 2
		"unknown status": corrupt(func(b []byte) []byte { return mustReplace(t, b, "RETURN_TO_SENDER", "RETURN_TO_SENDEX") }),
		"unknown system": corrupt(func(b []byte) []byte { return mustReplace(t, b, "\x07carrier", "\x07carrieX") }),
		"huge count":     append([]byte{headerFull, 0}, bytes.Repeat([]byte{0}, 14)...),
	}
	// A parcel count over the bound: the byte after the promises.
	body := o.AppendBinary(nil)
	tests["too many parcels"] = append(append([]byte(nil), body[:bytes.Index(body, []byte("1Z1"))-2]...), 17)
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
		d.Observe(&got, "o", Event{System: "carrier", TrackingNumber: "1Z1", EstimatedDelivery: 1 << 40, OccurredAt: 3, RecordedAt: 3},
			Truth{Status: "RETURN_TO_SENDER", At: 3}, 4)
		d.Observe(&got, "o", Event{System: "notifications", MessageType: MessageDelayNotice, DeliveryStatus: "sent", RecordedAt: 5, RevisedDate: 1 << 41},
			Truth{Status: "CANCELLED", At: 5}, 6)
		d.Due(&got, "o", 1<<62)
		d.Evict(&got, "o", 1<<62)
	})
}

func TestInMemorySizes(t *testing.T) {
	if s := unsafe.Sizeof(Order{}); s != 208 {
		t.Errorf("Order is %d bytes", s)
	}
	if s := unsafe.Sizeof(notice{}); s > 232 {
		t.Errorf("notice is %d bytes", s)
	}
}
