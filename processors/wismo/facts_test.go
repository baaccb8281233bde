package wismo

import (
	"fmt"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// liveOrder drives the real viewer checker and delay detector with one
// order's events, as the unify stage does, and builds the Facts a ticket
// gets from their state: Viewers from synccheck.Order.AppendLags, Delays
// from delay.Order.AppendUntold. Times are minutes from t0; an event's
// watermark is its time plus a second.
type liveOrder struct {
	t      *testing.T
	c      *synccheck.Checker
	d      *delay.Detector
	checks synccheck.Order
	delays delay.Order
	truth  synccheck.Truth
	n      int
	failed map[string]string // check_id → failed_sync reason, of both
}

const day = 24 * 60 // minutes

func newLiveOrder(t *testing.T) *liveOrder {
	d, err := delay.New(delay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &liveOrder{t: t, c: synccheck.New(nil), d: d, failed: map[string]string{}}
}

func wm(minute int) int64 { return at(minute) + time.Second.Milliseconds() }

func (o *liveOrder) collect(failed ...[]synccheck.Record) {
	for _, rs := range failed {
		for _, r := range rs {
			o.failed[r.Value["check_id"].(string)] = r.Value["reason"].(string)
		}
	}
}

// event applies one canonical event of system y showing status at the
// minute: a truth move when y is its authority (status set), a viewer
// report when y is a viewer; the detector sees every event.
func (o *liveOrder) event(ev delay.Event, minute int) {
	o.n++
	ev.EventID = fmt.Sprintf("e-%d", o.n)
	ev.OccurredAt, ev.RecordedAt = at(minute), at(minute)
	w := wm(minute)
	if authority(ev.System) && ev.Status != "" && ev.Status != o.truth.Status {
		o.truth = synccheck.Truth{Status: ev.Status, At: at(minute), Authority: ev.System, TransitionID: fmt.Sprintf("tr-%d", o.n)}
		out := o.c.Truth(&o.checks, "order-1", o.truth, w)
		o.collect(out.Failed)
	}
	if ev.System == sf || ev.System == hd || ev.System == notif {
		out := o.c.View(&o.checks, "order-1", synccheck.Report{Viewer: ev.System, Status: ev.Status, At: at(minute)}, o.truth, w)
		o.collect(out.Failed)
	}
	out := o.d.Observe(&o.delays, "order-1", ev,
		delay.Truth{Status: o.truth.Status, At: o.truth.At, TransitionID: o.truth.TransitionID}, w)
	o.collect(out.Failed)
}

func authority(y schemas.System) bool {
	return y == schemas.OMS || y == schemas.WMS || y == schemas.Carrier
}

// place: the storefront's order with a ship-by and deliver-by (minutes),
// confirmed by the OMS, seen by the storefront and the help desk.
func (o *liveOrder) place(shipBy, deliverBy int) {
	o.event(delay.Event{System: sf, Status: canonical.Placed, PromisedShipBy: at(shipBy), PromisedDeliverBy: at(deliverBy)}, 0)
	o.event(delay.Event{System: schemas.OMS, Status: canonical.Confirmed}, 1)
	o.event(delay.Event{System: sf, Status: canonical.Confirmed}, 2)
	o.event(delay.Event{System: hd, Status: canonical.Confirmed}, 2)
}

func (o *liveOrder) move(y schemas.System, s canonical.Status, minute int) {
	o.event(delay.Event{System: y, Status: s, TrackingNumber: "1Z1", Carrier: "ups"}, minute)
}

func (o *liveOrder) show(v schemas.System, s canonical.Status, minute int) {
	ev := delay.Event{System: v, Status: s}
	if v == notif {
		ev.DeliveryStatus = "sent"
	}
	o.event(ev, minute)
}

func (o *liveOrder) due(minute int) {
	w := wm(minute)
	c := o.c.Due(&o.checks, "order-1", w)
	d := o.d.Due(&o.delays, "order-1", w)
	o.collect(c.Failed, d.Failed)
}

func (o *liveOrder) facts() Facts {
	f := Facts{Truth: o.truth.Status, TruthSince: o.truth.At}
	f.Viewers = o.checks.AppendLags(nil)
	f.Delays = o.delays.AppendUntold(nil)
	return f
}

// TestAttributeFromLiveState: one scenario per cause, the facts taken from
// the checker's and the detector's state after the events (often after
// the ticket's own time: a ticket reaches baton late), attributed at the
// ticket's time. A failed sync the ticket is attributed to is one the
// checker or the detector emitted, with the same check_id and reason.
func TestAttributeFromLiveState(t *testing.T) {
	r := defaults(t)
	const shipBy, deliverBy = 2 * day, 5 * day
	shipped := func(o *liveOrder) {
		o.place(shipBy, deliverBy)
		o.move(schemas.WMS, canonical.Shipped, 60)
		o.show(sf, canonical.Shipped, 61)
		o.show(hd, canonical.Shipped, 61)
		o.show(notif, canonical.Shipped, 62)
	}
	tests := []struct {
		name   string
		events func(o *liveOrder)
		ticket int // minute
		want   string
	}{
		{
			name: "viewer_out_of_sync: an open check past its deadline",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(hd, canonical.InTransit, 121)
				o.due(130) // the storefront's IN_TRANSIT check failed at 125
			},
			ticket: 128,
			want:   "viewer_out_of_sync carrier->storefront sla_breached expected=IN_TRANSIT shown=SHIPPED since=120",
		},
		{
			name: "no_sync_problem: the open check is still within its SLA",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(hd, canonical.InTransit, 121)
			},
			ticket: 124,
			want:   "no_sync_problem",
		},
		{
			name: "viewer_out_of_sync: a check closed LATE after the ticket",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(hd, canonical.InTransit, 121)
				o.due(130)
				o.show(sf, canonical.InTransit, 140) // caught up after the customer asked
			},
			ticket: 128,
			want:   "viewer_out_of_sync carrier->storefront sla_breached expected=IN_TRANSIT shown=SHIPPED since=120",
		},
		{
			name: "no_sync_problem: asked after the LATE check caught up",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(hd, canonical.InTransit, 121)
				o.due(130)
				o.show(sf, canonical.InTransit, 140)
			},
			ticket: 150,
			want:   "no_sync_problem",
		},
		{
			name: "viewer_out_of_sync: a check closed MISSING, not corrected",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(hd, canonical.InTransit, 121)
				o.due(130)
				o.due(day + 130) // missing_after passed: MISSING
			},
			ticket: day + 200,
			want:   "viewer_out_of_sync carrier->storefront sla_breached expected=IN_TRANSIT shown=SHIPPED since=120",
		},
		{
			name: "no_sync_problem: a MISSING check the storefront corrected before the ticket",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(hd, canonical.InTransit, 121)
				o.due(130)
				o.due(day + 130)
				o.show(sf, canonical.InTransit, day+150)
			},
			ticket: day + 200,
			want:   "no_sync_problem",
		},
		{
			name: "viewer_out_of_sync: a confirmed conflict",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(sf, canonical.InTransit, 121)
				o.show(hd, canonical.InTransit, 121)
				o.show(sf, canonical.Delivered, 130) // ahead of the truth
				o.due(140)
			},
			ticket: 138,
			want:   "viewer_out_of_sync carrier->storefront conflict expected=IN_TRANSIT shown=DELIVERED since=130",
		},
		{
			name: "delay_not_notified: the ship-by passed, no message",
			events: func(o *liveOrder) {
				o.place(shipBy, deliverBy)
				o.due(shipBy + 10) // the notice failed at notify_by, shipBy+5
			},
			ticket: shipBy + 8,
			want:   "delay_not_notified delay_notice->notifications delay_not_notified expected=delay_notice shown= since=2880",
		},
		{
			name: "delay_not_notified: told late, after the ticket",
			events: func(o *liveOrder) {
				o.place(shipBy, deliverBy)
				o.due(shipBy + 10)
				o.event(delay.Event{System: notif, MessageType: delay.MessageDelayNotice, DeliveryStatus: "sent"}, shipBy+30)
			},
			ticket: shipBy + 20,
			want:   "delay_not_notified delay_notice->notifications delay_not_notified expected=delay_notice shown= since=2880",
		},
		{
			name: "carrier_exception: every viewer in sync, the customer told",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(sf, canonical.InTransit, 121)
				o.show(hd, canonical.InTransit, 121)
				o.move(schemas.Carrier, canonical.Exception, 200)
				o.show(sf, canonical.Exception, 201)
				o.show(hd, canonical.Exception, 201)
				o.show(notif, canonical.Exception, 202) // tells the exception notice
				o.due(300)
			},
			ticket: 250,
			want:   "carrier_exception",
		},
		{
			name: "no_sync_problem: all in sync, nothing owed",
			events: func(o *liveOrder) {
				shipped(o)
				o.move(schemas.Carrier, canonical.InTransit, 120)
				o.show(sf, canonical.InTransit, 121)
				o.show(hd, canonical.InTransit, 122)
				o.due(300)
			},
			ticket: 250,
			want:   "no_sync_problem",
		},
	}
	for _, tc := range tests {
		for _, roundTrip := range []bool{false, true} {
			name := tc.name
			if roundTrip {
				name += " (state encoded)"
			}
			t.Run(name, func(t *testing.T) {
				o := newLiveOrder(t)
				tc.events(o)
				if roundTrip {
					c, _, err := synccheck.DecodeOrder(o.checks.AppendBinary(nil))
					if err != nil {
						t.Fatal(err)
					}
					d, _, err := delay.DecodeOrder(o.delays.AppendBinary(nil))
					if err != nil {
						t.Fatal(err)
					}
					o.checks, o.delays = c, d
				}
				a := r.Attribute(o.facts(), at(tc.ticket))
				got := a.Cause
				if a.Reason != "" {
					got = fmt.Sprintf("%s %s %s expected=%s shown=%s since=%d", a.Cause, a.Link(), a.Reason, a.Expected, a.Shown,
						(a.Since-t0)/time.Minute.Milliseconds())
					if reason, ok := o.failed[a.CheckID]; !ok || reason != a.Reason {
						t.Errorf("attributed to %s (%s), which no failed sync names (%v)", a.CheckID, a.Reason, o.failed)
					}
				}
				if got != tc.want {
					t.Errorf("attribution:\ngot  %s\nwant %s\nfacts %+v", got, tc.want, o.facts())
				}
			})
		}
	}
}
