package wismo_test

import (
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/schemas"
)

// The unify stage's call for a help-desk event: the customer asks where
// the order is two hours after the carrier's exception scan, which the
// storefront still does not show.
func Example() {
	a := wismo.New(nil) // the embedded wismo.map
	var o wismo.Order
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	minute := time.Minute.Milliseconds()

	facts := func() wismo.Facts { // what the order's state says when the ticket arrives
		return wismo.Facts{
			Truth: canonical.Exception, TruthSince: t0,
			Viewers: []wismo.ViewerLag{{Viewer: schemas.Storefront, CheckID: "9f0c6d2a51e3b7c4", Expected: canonical.Exception,
				Shown: canonical.InTransit, Authority: schemas.Carrier, Since: t0, Deadline: t0 + 5*minute}},
		}
	}
	tk := wismo.Ticket{ID: "200014", Tags: []string{"order_status"}, Subject: "Where is my order #1042?", At: t0 + 120*minute}
	out := a.Ticket(&o, "order-1", tk, facts)
	for _, r := range out.Tickets {
		v := r.Value
		fmt.Println(v["ticket_id"], v["classified_by"], v["matched"], v["cause"], v["link"], v["expected_status"], v["shown_status"])
	}
	out = a.Ticket(&o, "order-1", wismo.Ticket{ID: "200014", Tags: []string{"wismo"}, At: t0 + 180*minute}, facts)
	fmt.Println("again:", len(out.Tickets), "state bytes:", len(o.AppendBinary(nil)))

	// Output:
	// 200014 tag order_status viewer_out_of_sync carrier->storefront EXCEPTION IN_TRANSIT
	// again: 0 state bytes: 16
}
