package synccheck

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"unsafe"

	"github.com/baton-pipeline/baton/schemas"
)

// busyOrder has every kind of state: three viewers, one without a shown
// status; truth and first_sight checks, failed and not; a pending
// conflict; a carrier.
func busyOrder(t testing.TB) Order {
	h := newHarness(t, nil)
	h.run(shows(sf, "CONFIRMED", 0), shows(notif, "", m), truthAt("SHIPPED", 2*m), due(8*m),
		truthAt("IN_TRANSIT", 9*m), shows(hd, "CONFIRMED", 10*m), shows(sf, "DELIVERED", 11*m))
	o := h.o
	var conflicts, failed, firstSight int
	for _, k := range o.checks {
		switch {
		case k.by == byReport:
			conflicts++
		case k.by == byFirstSight:
			firstSight++
		}
		if k.failed {
			failed++
		}
	}
	if len(o.views) != 3 || conflicts != 1 || failed == 0 || firstSight != 1 {
		t.Fatalf("busy order is not busy: %+v", o)
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
		// And the decoded order decides like the original.
		c := New(nil)
		a, z := o, got
		a.checks, a.views = append([]check(nil), o.checks...), append([]view(nil), o.views...)
		tr := Truth{Status: "DELIVERED", At: at(20 * m), Authority: schemas.Carrier, Carrier: "ups", TransitionID: "t9"}
		if x, y := c.Truth(&a, "o", tr, at(20*m)), c.Truth(&z, "o", tr, at(20*m)); !reflect.DeepEqual(x, y) {
			t.Errorf("decoded order decides differently:\n%v\n%v", x, y)
		}
	}
	t.Logf("busy order: %d bytes", len(func() []byte { o := busyOrder(t); return o.AppendBinary(nil) }()))
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
		"format":         {0x02}, // format 1
		"no views":       {headerFull, 0, 0},
		"too many views": {headerFull, 4},
		"unknown viewer": corrupt(func(b []byte) []byte { return bytes.Replace(b, []byte("storefront"), []byte("storefrong"), 1) }),
		"not a viewer":   append([]byte{headerFull, 1, 3}, "oms\x02\x00\x02\x00"...),
		"unknown status": corrupt(func(b []byte) []byte { return bytes.Replace(b, []byte("SHIPPED"), []byte("SHIPPEX"), 1) }),
		"huge count":     append([]byte{headerFull, 1, 7}, "helpdesk\x02\x00\x02\xff\xff\xff\xff\x0f"...),
	}
	for name, b := range tests {
		if _, _, err := DecodeOrder(b); err == nil {
			t.Errorf("%s: decodes", name)
		}
	}
}

// FuzzDecodeOrder: no input panics; what decodes re-encodes to a form
// that decodes to the same order and re-encodes identically.
func FuzzDecodeOrder(f *testing.F) {
	o := busyOrder(f)
	f.Add(o.AppendBinary(nil))
	f.Add([]byte{headerEmpty})
	f.Add([]byte{headerFull, 1, 7, 'h', 'e', 'l', 'p', 'd', 'e', 's', 'k', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, rest, err := DecodeOrder(b)
		if err != nil {
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
		// A decoded order is safe to work on.
		c := New(nil)
		c.Truth(&got, "o", Truth{Status: "DELIVERED", At: 1, Authority: schemas.Carrier}, 2)
		c.View(&got, "o", Report{Viewer: sf, Status: "CANCELLED", At: 3}, Truth{Status: "DELIVERED", At: 1}, 4)
		c.Due(&got, "o", 1<<62)
		c.Evict(&got, "o", 1<<62)
	})
}

func TestInMemorySizes(t *testing.T) {
	if s := unsafe.Sizeof(Order{}); s != 48 {
		t.Errorf("Order is %d bytes", s)
	}
	if s := unsafe.Sizeof(view{}); s != 48 {
		t.Errorf("view is %d bytes", s)
	}
	if s := unsafe.Sizeof(check{}); s != 48 {
		t.Errorf("check is %d bytes", s)
	}
}
