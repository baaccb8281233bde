package synccheck

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"unsafe"

	"github.com/baton-pipeline/baton/schemas"
)

// busyOrder has every kind of state: three viewers, one without a shown
// status; truth and first_sight checks, failed and not; a pending
// conflict; a carrier; a first sight checked; a failure remembered.
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
	if len(o.views) != 3 || conflicts != 1 || failed == 0 || firstSight != 1 || len(o.failures) != 1 || o.views[2].sighted == 0 {
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

// busyOrderV3 is busyOrder as format 3 wrote it, before the remembered
// failures and first-sight statuses.
const busyOrderV3 = "07030a73746f726566726f6e7480e4e9e8b2680944454c495645524544c0acbae9b2680109434f4e4649524d454480e4e9e8b2680d6e6f74696669636174696f6e73c08df1e8b2680000000868656c706465736b8083b3e9b26809434f4e4649524d45448083b3e9b26800030107534849505045448103776d73000080b7f8e8b268e0a71243c7f6ac0a49b091020a494e5f5452414e53495402076361727269657203757073008083b3e9b268e0a7125414792fe09f2be3000a494e5f5452414e534954030763617272696572037570730944454c495645524544c0acbae9b268e0a71266f2aa668563cafb"

// TestDecodeFormat3: state written before format 4 still decodes, to the
// same order without the failures (none was remembered), its first-sight
// statuses taken from the open first_sight checks, and decides alike.
func TestDecodeFormat3(t *testing.T) {
	b, err := hex.DecodeString(busyOrderV3)
	if err != nil {
		t.Fatal(err)
	}
	got, rest, err := DecodeOrder(append(b, "rest"...))
	if err != nil || string(rest) != "rest" {
		t.Fatalf("format 3: %v (rest %q)", err, rest)
	}
	want := busyOrder(t)
	want.failures = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("format 3:\ngot  %+v\nwant %+v", got, want)
	}
	if o, rest, err := DecodeOrder([]byte{headerEmptyV3, 'x'}); err != nil || !o.Empty() || string(rest) != "x" {
		t.Errorf("format 3's empty order: %+v, %q, %v", o, rest, err)
	}
	// Re-encoded, it is format 4.
	if enc := got.AppendBinary(nil); enc[0] != headerFull {
		t.Errorf("re-encoded with header %x", enc[0])
	}
	if got.views[2].sighted != stOf("IN_TRANSIT").Bit() {
		t.Errorf("first-sight statuses %b", got.views[2].sighted)
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
		"format":         {0x02}, // format 1
		"no views":       {headerFull, 0, 0},
		"too many views": {headerFull, 4},
		"unknown viewer": corrupt(func(b []byte) []byte { return bytes.Replace(b, []byte("storefront"), []byte("storefrong"), 1) }),
		"not a viewer":   append([]byte{headerFull, 1, 3}, "oms\x02\x00\x02\x00\x00\x00\x00"...),
		"failure outcome": corrupt(func(b []byte) []byte {
			// The failure is last: view index, then its outcome byte.
			i := len(b) - 8 - 1 - 1 - 1 - 1 - 1 - len("storefront") - 1 - len("CONFIRMED") - 1 - len("SHIPPED") - 1 - 1
			if b[i] != byte(failLate) {
				t.Fatalf("failure outcome at %d is %d", i, b[i])
			}
			b[i] = 9
			return b
		}),
		"too many failures": func() []byte {
			var o Order
			o = busyOrder(t)
			for range 4 {
				o.failures = append(o.failures, o.failures[0])
			}
			return o.AppendBinary(nil)
		}(),
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
	f.Add([]byte{headerFull, 1, 7, 'h', 'e', 'l', 'p', 'd', 'e', 's', 'k', 0, 0, 0, 0, 0, 0, 0})
	v3, _ := hex.DecodeString(busyOrderV3)
	f.Add(v3)
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
		got.AppendLags(nil)
		c.Due(&got, "o", 1<<62)
		got.AppendLags(nil)
		c.Evict(&got, "o", 1<<62)
	})
}

func TestInMemorySizes(t *testing.T) {
	if s := unsafe.Sizeof(Order{}); s != 72 {
		t.Errorf("Order is %d bytes", s)
	}
	if s := unsafe.Sizeof(view{}); s != 48 {
		t.Errorf("view is %d bytes", s)
	}
	if s := unsafe.Sizeof(check{}); s != 48 {
		t.Errorf("check is %d bytes", s)
	}
	if s := unsafe.Sizeof(failure{}); s != 40 {
		t.Errorf("failure is %d bytes", s)
	}
}
