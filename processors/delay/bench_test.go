package delay

import (
	"testing"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// benchOrder is an order in mid-life: promised, shipped, a parcel's
// estimate within the promise, a shipping confirmation sent, no notice.
func benchOrder(b *testing.B) (*Detector, Order, Truth) {
	hs := newHarness(b, Config{})
	hs.run(placed(day, 5*day), truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day),
		problemMsg("shipping_confirmation", "SHIPPED", 20*h+m))
	if hs.o.Notices() != 0 {
		b.Fatal("bench order has a notice")
	}
	return hs.d, hs.o, hs.truth
}

// restore resets o to tmpl, reusing o's slices.
func restore(o *Order, tmpl *Order) {
	parcels, messages, notices := o.parcels[:0], o.messages[:0], o.notices[:0]
	*o = *tmpl
	o.parcels = append(parcels, tmpl.parcels...)
	o.messages = append(messages, tmpl.messages...)
	o.notices = append(notices, tmpl.notices...)
}

// BenchmarkObserve measures one event: one that changes nothing the
// detector reads (most events: a viewer's report, a scan without an
// estimate), an estimate moving past the promise (a notice and its
// record), a truth move into an exception (a notice), and a delay message
// telling an open notice.
func BenchmarkObserve(b *testing.B) {
	d, tmpl, tr := benchOrder(b)
	exc := Truth{Status: canonical.Exception, At: at(2 * day), TransitionID: "tr-x"}
	cases := []struct {
		name string
		ev   Event
		t    Truth
	}{
		{"no-change", Event{System: schemas.Helpdesk, Status: canonical.InTransit, OccurredAt: at(2 * day), RecordedAt: at(2 * day)}, tr},
		{"eta-past-promise", Event{System: schemas.Carrier, EventID: "c-9", TrackingNumber: "1Z1", Carrier: "UPS",
			OccurredAt: at(2 * day), RecordedAt: at(2 * day), EstimatedDelivery: at(6 * day)}, tr},
		{"exception", Event{System: schemas.Carrier, EventID: "c-9", TrackingNumber: "1Z1", Status: canonical.Exception,
			OccurredAt: at(2 * day), RecordedAt: at(2 * day)}, exc},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var o Order
			restore(&o, &tmpl)
			b.ReportAllocs()
			for b.Loop() {
				restore(&o, &tmpl)
				d.Observe(&o, "order-1", tc.ev, tc.t, at(2*day))
			}
		})
	}
	b.Run("message-tells", func(b *testing.B) {
		var open Order
		restore(&open, &tmpl)
		d.Observe(&open, "order-1", cases[2].ev, exc, at(2*day))
		msg := Event{System: schemas.Notifications, MessageType: MessageDelayNotice, DeliveryStatus: "sent",
			OccurredAt: at(2*day + m), RecordedAt: at(2*day + m)}
		var o Order
		b.ReportAllocs()
		for b.Loop() {
			restore(&o, &open)
			d.Observe(&o, "order-1", msg, exc, at(2*day+m))
		}
	})
}

// BenchmarkDue measures a watermark pass: nothing due, and a ship-by
// passing (a notice and its record).
func BenchmarkDue(b *testing.B) {
	d, _ := New(Config{})
	hs := newHarness(b, Config{})
	hs.run(placed(day, 5*day), truth("CONFIRMED", m))
	tmpl := hs.o
	for _, tc := range []struct {
		name string
		w    int64
	}{{"nothing-due", at(day)}, {"ship-by-missed", at(day + m)}} {
		b.Run(tc.name, func(b *testing.B) {
			var o Order
			b.ReportAllocs()
			for b.Loop() {
				restore(&o, &tmpl)
				d.Due(&o, "order-1", tc.w)
			}
		})
	}
}

// BenchmarkEncode measures the changelog form of a typical order (the bench
// order: promises, a truth, one estimate, no notice) and of a busy one
// (three notices, messages, two parcels).
func BenchmarkEncode(b *testing.B) {
	_, typical, _ := benchOrder(b)
	for _, tc := range []struct {
		name string
		o    Order
	}{{"typical", typical}, {"busy", busyOrder(b)}} {
		buf := tc.o.AppendBinary(nil)
		b.Run(tc.name+"/AppendBinary", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = tc.o.AppendBinary(buf[:0])
			}
		})
		b.Run(tc.name+"/DecodeOrder", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, _, err := DecodeOrder(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
