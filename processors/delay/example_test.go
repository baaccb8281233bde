package delay_test

import (
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/schemas"
)

// The unify stage's calls for one order: placed with a ship-by promise, not
// shipped when the watermark passes it (a ship_by_missed notice), then the
// notifications viewer's delay notice tells the customer within the SLA.
func Example() {
	d, _ := delay.New(delay.Config{}) // notify within 5m
	var o delay.Order
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	hour := time.Hour.Milliseconds()
	clock := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("Jan 2 15:04") }

	placed := delay.Event{System: schemas.Storefront, EventID: "sf-1", OccurredAt: t0, RecordedAt: t0, PromisedShipBy: t0 + 24*hour}
	out := d.Observe(&o, "order-1", placed, delay.Truth{Status: "PLACED", At: t0, TransitionID: "tr-1"}, t0)
	fmt.Println("next due:", clock(out.NextDue))

	out = d.Due(&o, "order-1", t0+24*hour+1) // the watermark passed the ship-by
	for _, r := range out.Notices {
		v := r.Value
		fmt.Println("notice:", v["reason"], v["state"], "may_cancel:", v["may_cancel"], "notify_by:", clock(v["notify_by"].(time.Time).UnixMilli()))
	}

	told := delay.Event{System: schemas.Notifications, EventID: "msg-9", MessageType: delay.MessageDelayNotice,
		DeliveryStatus: "delivered", OccurredAt: t0 + 24*hour + 60000, RecordedAt: t0 + 24*hour + 120000, RevisedDate: t0 + 72*hour}
	out = d.Observe(&o, "order-1", told, delay.Truth{Status: "PLACED", At: t0}, t0+24*hour+180000)
	for _, r := range out.Notices {
		v := r.Value
		fmt.Println("notice:", v["reason"], v["outcome"], "version", v["version"])
	}
	fmt.Println("next due:", clock(out.NextDue), "(the revised date: a renewed notice if missed)")
	// Output:
	// next due: Nov 2 10:00
	// notice: ship_by_missed open may_cancel: true notify_by: Nov 2 10:05
	// notice: ship_by_missed NOTIFIED version 2
	// next due: Nov 4 10:00 (the revised date: a renewed notice if missed)
}
