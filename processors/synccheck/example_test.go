package synccheck_test

import (
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// The unify stage's calls for one order: the help desk is seen, the
// carrier's scan moves the truth, the help desk shows it six minutes later
// — after its five-minute SLA.
func Example() {
	c := synccheck.New(nil) // the embedded viewers.map
	var o synccheck.Order
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	minute := time.Minute.Milliseconds()

	c.View(&o, "order-1", synccheck.Report{Viewer: schemas.Helpdesk, Status: "SHIPPED", At: t0}, synccheck.Truth{}, t0)
	truth := synccheck.Truth{Status: "IN_TRANSIT", At: t0 + minute, Authority: schemas.Carrier, Carrier: "ups", TransitionID: "tr-2"}
	out := c.Truth(&o, "order-1", truth, t0+minute)
	fmt.Println("next due:", time.UnixMilli(out.NextDue).UTC().Format(time.TimeOnly))

	out = c.Due(&o, "order-1", t0+7*minute) // the watermark passed the deadline
	for _, r := range out.Failed {
		fmt.Println("failed:", r.Value["viewer"], r.Value["expected_status"], r.Value["reason"])
	}
	out = c.View(&o, "order-1", synccheck.Report{Viewer: schemas.Helpdesk, Status: "IN_TRANSIT", At: t0 + 7*minute}, truth, t0+8*minute)
	for _, r := range out.Checks {
		fmt.Println("check:", r.Value["viewer"], r.Value["expected_status"], r.Value["outcome"], r.Value["latency_ms"])
	}
	fmt.Println("state bytes:", len(o.AppendBinary(nil)), "next due:", out.NextDue)

	// What a WISMO ticket asked at 10:06:30 learns: the help desk was out
	// of sync then (past its deadline, not caught up until 10:07).
	hm := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04") }
	for _, l := range o.Lags() {
		fmt.Println("lag:", l.Viewer, l.Expected, "shown", l.Shown, "since", hm(l.Since), "deadline", hm(l.Deadline), "until", hm(l.Until))
	}
	// Output:
	// next due: 10:06:00
	// failed: helpdesk IN_TRANSIT sla_breached
	// check: helpdesk IN_TRANSIT LATE 360000
	// state bytes: 101 next due: 0
	// lag: helpdesk IN_TRANSIT shown SHIPPED since 10:01 deadline 10:06 until 10:07
}
