package synccheck

import (
	"testing"

	"github.com/baton-pipeline/baton/schemas"
)

// benchOrder is an order in mid-life: storefront and help desk seen, both
// showing SHIPPED, the truth just moved to IN_TRANSIT (one open check per
// viewer).
func benchOrder(b *testing.B, c *Checker) (Order, Truth) {
	var o Order
	shipped := Truth{Status: "SHIPPED", At: at(0), Authority: schemas.WMS, TransitionID: "t1"}
	c.View(&o, "order-1", Report{Viewer: sf, Status: "CONFIRMED", At: at(-m)}, Truth{}, at(-m))
	c.View(&o, "order-1", Report{Viewer: hd, Status: "CONFIRMED", At: at(-m)}, Truth{}, at(-m))
	c.Truth(&o, "order-1", shipped, at(0))
	c.View(&o, "order-1", Report{Viewer: sf, Status: "SHIPPED", At: at(m)}, shipped, at(m))
	c.View(&o, "order-1", Report{Viewer: hd, Status: "SHIPPED", At: at(m)}, shipped, at(m))
	tr := Truth{Status: "IN_TRANSIT", At: at(2 * m), Authority: schemas.Carrier, Carrier: "ups", TransitionID: "t2"}
	c.Truth(&o, "order-1", tr, at(2*m))
	if o.OpenChecks() != 2 {
		b.Fatalf("bench order has %d open checks", o.OpenChecks())
	}
	return o, tr
}

// restore resets o to tmpl, reusing o's slices where it still has them
// (a few ns: part of every measurement below that changes the order).
func restore(o *Order, tmpl *Order) {
	o.views = append(o.views[:0], tmpl.views...)
	o.checks = append(o.checks[:0], tmpl.checks...)
	o.failures = append(o.failures[:0], tmpl.failures...)
}

// BenchmarkView measures one viewer report: one that closes a check (and
// builds its sync_check record), one that changes nothing (the viewer
// repeats itself), a first sight, and a report ahead of the truth (it
// closes the IN_TRANSIT check and opens a pending conflict).
func BenchmarkView(b *testing.B) {
	c := New(nil)
	tmpl, tr := benchOrder(b, c)
	cases := []struct {
		name string
		r    Report
		fix  bool // restore the order before every call
	}{
		{"closes-check", Report{Viewer: sf, Status: "IN_TRANSIT", At: at(3 * m)}, true},
		{"no-change", Report{Viewer: sf, Status: "SHIPPED", At: at(m)}, false},
		{"first-sight", Report{Viewer: notif, Status: "", At: at(3 * m)}, true},
		{"ahead-conflict", Report{Viewer: hd, Status: "DELIVERED", At: at(3 * m)}, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var o Order
			restore(&o, &tmpl)
			b.ReportAllocs()
			for b.Loop() {
				if tc.fix {
					restore(&o, &tmpl)
				}
				c.View(&o, "order-1", tc.r, tr, at(3*m))
			}
		})
	}
}

// BenchmarkTruth measures one truth move: opening a check per viewer, and
// closing them at once (the viewers already show it) with their records.
func BenchmarkTruth(b *testing.B) {
	c := New(nil)
	tmpl, _ := benchOrder(b, c)
	ofd := Truth{Status: "OUT_FOR_DELIVERY", At: at(4 * m), Authority: schemas.Carrier, Carrier: "ups", TransitionID: "t3"}
	b.Run("opens-checks", func(b *testing.B) {
		var o Order
		b.ReportAllocs()
		for b.Loop() {
			restore(&o, &tmpl)
			c.Truth(&o, "order-1", ofd, at(4*m))
		}
	})
	b.Run("already-shown", func(b *testing.B) {
		var o Order
		shown := tmpl
		shown.views = append([]view(nil), tmpl.views...)
		shown.views[0].shown, shown.views[1].shown = stOf("OUT_FOR_DELIVERY"), stOf("OUT_FOR_DELIVERY")
		b.ReportAllocs()
		for b.Loop() {
			restore(&o, &shown)
			c.Truth(&o, "order-1", ofd, at(4*m))
		}
	})
	b.Run("no-viewer-seen", func(b *testing.B) {
		var o Order
		b.ReportAllocs()
		for b.Loop() {
			c.Truth(&o, "order-1", ofd, at(4*m))
		}
	})
}

// BenchmarkDue measures a watermark pass over an order with two open
// checks: nothing due, and both breaching.
func BenchmarkDue(b *testing.B) {
	c := New(nil)
	tmpl, _ := benchOrder(b, c)
	for _, tc := range []struct {
		name string
		w    int64
	}{{"nothing-due", at(3 * m)}, {"breach", at(10 * m)}} {
		b.Run(tc.name, func(b *testing.B) {
			var o Order
			b.ReportAllocs()
			for b.Loop() {
				restore(&o, &tmpl)
				c.Due(&o, "order-1", tc.w)
			}
		})
	}
}

// BenchmarkEncode measures the changelog form of the bench order.
func BenchmarkEncode(b *testing.B) {
	c := New(nil)
	o, _ := benchOrder(b, c)
	buf := o.AppendBinary(nil)
	b.Run("AppendBinary", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = o.AppendBinary(buf[:0])
		}
	})
	b.Run("DecodeOrder", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if _, _, err := DecodeOrder(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLags measures what a ticket's attribution asks of the order:
// its two open checks and, after the storefront caught up late, one of
// them remembered as a failure.
func BenchmarkLags(b *testing.B) {
	c := New(nil)
	tmpl, tr := benchOrder(b, c)
	late := tmpl
	late.views, late.checks = append([]view(nil), tmpl.views...), append([]check(nil), tmpl.checks...)
	c.View(&late, "order-1", Report{Viewer: sf, Status: "IN_TRANSIT", At: at(20 * m)}, tr, at(20*m))
	for _, tc := range []struct {
		name string
		o    *Order
	}{{"open-checks", &tmpl}, {"with-failure", &late}} {
		b.Run(tc.name, func(b *testing.B) {
			dst := make([]Lag, 0, 8)
			b.ReportAllocs()
			for b.Loop() {
				dst = tc.o.AppendLags(dst[:0])
			}
		})
	}
}
