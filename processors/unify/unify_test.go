package unify

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Steps shared by the scenarios. Parcel S1 ships with tracking number 1Z at
// 3h; the carrier then scans it by tracking number only.
var (
	placed    = ev("storefront", "PLACED", 0)
	confirmed = ev("oms", "CONFIRMED", h)
	shipOne   = []step{placed, confirmed,
		ev("wms", "RELEASED", 2*h).parcel("S1", ""),
		ev("wms", "SHIPPED", 3*h).parcel("S1", "1Z"),
	}
	orderShipped = []string{"order advance ->PLACED", "order advance PLACED>CONFIRMED",
		"S1 advance ->RELEASED", "order advance CONFIRMED>RELEASED",
		"S1 advance RELEASED>SHIPPED [PICKED PACKED]", "order advance RELEASED>SHIPPED [PICKED PACKED]"}
)

func scan(status string, at time.Duration) step { return ev("carrier", status, at).parcel("", "1Z") }

func scanOf(tn, status string, at time.Duration) step {
	return ev("carrier", status, at).parcel("", tn)
}

func then(prefix []step, more ...step) []step { return append(append([]step(nil), prefix...), more...) }

func after(prefix []string, more ...string) []string {
	return append(append([]string(nil), prefix...), more...)
}

var delivered = then(shipOne, scan("IN_TRANSIT", 5*h), scan("OUT_FOR_DELIVERY", 28*h), scan("DELIVERED", 30*h))
var orderDelivered = after(orderShipped,
	"1Z advance SHIPPED>IN_TRANSIT", "order advance SHIPPED>IN_TRANSIT",
	"1Z advance IN_TRANSIT>OUT_FOR_DELIVERY", "order advance IN_TRANSIT>OUT_FOR_DELIVERY",
	"1Z advance OUT_FOR_DELIVERY>DELIVERED", "order advance OUT_FOR_DELIVERY>DELIVERED")

// fix renames the carrier's view of S1: once the WMS names a parcel, its
// transitions carry the shipment ID.
func fix(ts []string) []string {
	out := make([]string, len(ts))
	for i, s := range ts {
		out[i] = strings.Replace(s, "1Z ", "S1 ", 1)
	}
	return out
}

type scenario struct {
	name        string
	steps       []step
	want        []string // transitions, described
	truth       string
	closed      bool
	regressions int
}

var scenarios = []scenario{
	{
		name:  "a carrier DELIVERED with no scan before it is accepted, its skipped stages listed",
		steps: then(shipOne, scan("DELIVERED", 30*h)),
		want: after(orderShipped, "S1 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]",
			"order advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]"),
		truth: "DELIVERED", closed: true,
	},
	{
		name: "split shipment in one wave: partial until every parcel agrees",
		steps: []step{placed, confirmed,
			ev("wms", "RELEASED", 2*h).parcel("S1", ""), ev("wms", "RELEASED", 2*h+time.Minute).parcel("S2", ""),
			ev("wms", "SHIPPED", 3*h).parcel("S1", "1Z"), ev("wms", "SHIPPED", 4*h).parcel("S2", "2Z"),
			scanOf("1Z", "DELIVERED", 30*h), scanOf("2Z", "IN_TRANSIT", 31*h), scanOf("2Z", "DELIVERED", 50*h)},
		want: []string{"order advance ->PLACED", "order advance PLACED>CONFIRMED",
			"S1 advance ->RELEASED", "order advance CONFIRMED>RELEASED", "S2 advance ->RELEASED",
			"S1 advance RELEASED>SHIPPED [PICKED PACKED]", "order advance RELEASED>PARTIALLY_SHIPPED",
			"S2 advance RELEASED>SHIPPED [PICKED PACKED]", "order advance PARTIALLY_SHIPPED>SHIPPED",
			"S1 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]", "order advance SHIPPED>PARTIALLY_DELIVERED",
			"S2 advance SHIPPED>IN_TRANSIT",
			"S2 advance IN_TRANSIT>DELIVERED [OUT_FOR_DELIVERY]", "order advance PARTIALLY_DELIVERED>DELIVERED"},
		truth: "DELIVERED", closed: true,
	},
	{
		name:  "a parcel appearing while another is further along moves the order back as reopened",
		steps: []step{placed, confirmed, ev("wms", "PACKED", 2*h).parcel("S1", ""), ev("wms", "RELEASED", 2*h+time.Minute).parcel("S2", "")},
		want: []string{"order advance ->PLACED", "order advance PLACED>CONFIRMED",
			"S1 advance ->PACKED", "order advance CONFIRMED>PACKED [RELEASED PICKED]",
			"S2 advance ->RELEASED", "order reopened PACKED>RELEASED"},
		truth: "RELEASED",
	},
	{
		name: "backorder after delivery, unannounced: DELIVERED reopens to PARTIALLY_DELIVERED",
		steps: then(shipOne, scan("DELIVERED", 30*h), ev("wms", "RELEASED", 60*h).parcel("S2", ""),
			ev("wms", "SHIPPED", 70*h).parcel("S2", "2Z"), scanOf("2Z", "DELIVERED", 90*h)),
		want: after(orderShipped, "S1 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]",
			"order advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]",
			"S2 advance ->RELEASED", "order reopened DELIVERED>PARTIALLY_DELIVERED",
			"S2 advance RELEASED>SHIPPED [PICKED PACKED]",
			"S2 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]", "order advance PARTIALLY_DELIVERED>DELIVERED"),
		truth: "DELIVERED", closed: true,
	},
	{
		name: "backorder announced by the OMS: partial until the OMS says SHIPPED and the last parcel arrives",
		steps: then(shipOne, ev("oms", "PARTIALLY_SHIPPED", 3*h+time.Minute), scan("DELIVERED", 30*h),
			ev("wms", "RELEASED", 60*h).parcel("S2", ""), ev("wms", "SHIPPED", 70*h).parcel("S2", "2Z"),
			ev("oms", "SHIPPED", 70*h+time.Minute), scanOf("2Z", "DELIVERED", 90*h)),
		want: after(orderShipped, "order reopened SHIPPED>PARTIALLY_SHIPPED",
			"S1 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]", "order advance PARTIALLY_SHIPPED>PARTIALLY_DELIVERED",
			"S2 advance ->RELEASED", "S2 advance RELEASED>SHIPPED [PICKED PACKED]",
			"S2 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]", "order advance PARTIALLY_DELIVERED>DELIVERED"),
		truth: "DELIVERED", closed: true,
	},
	{
		name: "return after delivery: RMA, return label scans, arrival back, check-in, refund",
		steps: then(delivered, ev("oms", "RETURN_REQUESTED", 100*h),
			scanOf("RT", "PACKED", 101*h), scanOf("RT", "IN_TRANSIT", 110*h), scanOf("RT", "OUT_FOR_DELIVERY", 120*h),
			scanOf("RT", "DELIVERED", 130*h), ev("wms", "RETURNED", 140*h).parcel("R1", "RT"), ev("oms", "REFUNDED", 150*h)),
		want: after(fix(orderDelivered), "order advance DELIVERED>RETURN_REQUESTED",
			"RT advance ->RETURN_IN_TRANSIT", "order advance RETURN_REQUESTED>RETURN_IN_TRANSIT",
			"RT advance RETURN_IN_TRANSIT>DELIVERED", "R1 advance DELIVERED>RETURNED",
			"order advance RETURN_IN_TRANSIT>RETURNED", "order advance RETURNED>REFUNDED"),
		truth: "REFUNDED", closed: true,
	},
	{
		name: "return scans held until the WMS check-in links them take their place in event time",
		steps: then(delivered, ev("oms", "RETURN_REQUESTED", 100*h), ev("wms", "RETURNED", 140*h).parcel("R1", "RT"),
			scanOf("RT", "IN_TRANSIT", 110*h).parcel("R1", "RT"), scanOf("RT", "DELIVERED", 130*h).parcel("R1", "RT")),
		want: after(fix(orderDelivered), "order advance DELIVERED>RETURN_REQUESTED",
			"R1 advance ->RETURN_IN_TRANSIT", "order advance RETURN_REQUESTED>RETURN_IN_TRANSIT",
			"R1 advance RETURN_IN_TRANSIT>DELIVERED", "R1 advance DELIVERED>RETURNED", "order advance RETURN_IN_TRANSIT>RETURNED"),
		truth: "RETURNED", closed: true,
	},
	{
		name:  "a return label scanned before the OMS records its RMA: a new tracking number on a delivered order is a return",
		steps: then(delivered, scanOf("RT", "IN_TRANSIT", 110*h), ev("oms", "RETURN_REQUESTED", 100*h).arrives(120*h)),
		want:  after(fix(orderDelivered), "RT advance ->RETURN_IN_TRANSIT", "order advance DELIVERED>RETURN_IN_TRANSIT"),
		truth: "RETURN_IN_TRANSIT",
	},
	{
		name: "failed attempt, re-attempt, delivered",
		steps: then(shipOne, scan("OUT_FOR_DELIVERY", 28*h), scan("DELIVERY_ATTEMPT_FAILED", 30*h),
			scan("OUT_FOR_DELIVERY", 52*h), scan("DELIVERED", 54*h)),
		want: after(orderShipped, "S1 advance SHIPPED>OUT_FOR_DELIVERY [IN_TRANSIT]", "order advance SHIPPED>OUT_FOR_DELIVERY [IN_TRANSIT]",
			"S1 advance OUT_FOR_DELIVERY>DELIVERY_ATTEMPT_FAILED", "order advance OUT_FOR_DELIVERY>DELIVERY_ATTEMPT_FAILED",
			"S1 recovery DELIVERY_ATTEMPT_FAILED>OUT_FOR_DELIVERY", "order recovery DELIVERY_ATTEMPT_FAILED>OUT_FOR_DELIVERY",
			"S1 advance OUT_FOR_DELIVERY>DELIVERED", "order advance OUT_FOR_DELIVERY>DELIVERED"),
		truth: "DELIVERED", closed: true,
	},
	{
		name:  "failed attempt, pickup point, collected",
		steps: then(shipOne, scan("DELIVERY_ATTEMPT_FAILED", 30*h), scan("AVAILABLE_FOR_PICKUP", 40*h), scan("DELIVERED", 60*h)),
		want: after(orderShipped, "S1 advance SHIPPED>DELIVERY_ATTEMPT_FAILED", "order advance SHIPPED>DELIVERY_ATTEMPT_FAILED",
			"S1 advance DELIVERY_ATTEMPT_FAILED>AVAILABLE_FOR_PICKUP", "order advance DELIVERY_ATTEMPT_FAILED>AVAILABLE_FOR_PICKUP",
			"S1 recovery AVAILABLE_FOR_PICKUP>DELIVERED", "order recovery AVAILABLE_FOR_PICKUP>DELIVERED"),
		truth: "DELIVERED", closed: true,
	},
	{
		name: "unclaimed at the pickup point: returned to sender, checked in, refunded",
		steps: then(shipOne, scan("AVAILABLE_FOR_PICKUP", 40*h), scan("RETURN_TO_SENDER", 200*h), scan("RETURN_TO_SENDER", 250*h),
			ev("wms", "RETURNED", 260*h).parcel("S1", "1Z"), ev("oms", "REFUNDED", 270*h)),
		want: after(orderShipped, "S1 advance SHIPPED>AVAILABLE_FOR_PICKUP", "order advance SHIPPED>AVAILABLE_FOR_PICKUP",
			"S1 advance AVAILABLE_FOR_PICKUP>RETURN_TO_SENDER", "order advance AVAILABLE_FOR_PICKUP>RETURN_TO_SENDER",
			"S1 advance RETURN_TO_SENDER>RETURNED", "order advance RETURN_TO_SENDER>RETURNED", "order advance RETURNED>REFUNDED"),
		truth: "REFUNDED", closed: true,
	},
	{
		name:  "carrier exception (delay) and recovery",
		steps: then(shipOne, scan("IN_TRANSIT", 5*h), scan("EXCEPTION", 10*h), scan("IN_TRANSIT", 30*h), scan("DELIVERED", 50*h)),
		want: after(orderShipped, "S1 advance SHIPPED>IN_TRANSIT", "order advance SHIPPED>IN_TRANSIT",
			"S1 advance IN_TRANSIT>EXCEPTION", "order advance IN_TRANSIT>EXCEPTION",
			"S1 recovery EXCEPTION>IN_TRANSIT", "order recovery EXCEPTION>IN_TRANSIT",
			"S1 advance IN_TRANSIT>DELIVERED [OUT_FOR_DELIVERY]", "order advance IN_TRANSIT>DELIVERED [OUT_FOR_DELIVERY]"),
		truth: "DELIVERED", closed: true,
	},
	{
		name:  "lost parcel, then refunded",
		steps: then(shipOne, scan("IN_TRANSIT", 5*h), scan("EXCEPTION", 80*h), ev("oms", "REFUNDED", 120*h)),
		want: after(orderShipped, "S1 advance SHIPPED>IN_TRANSIT", "order advance SHIPPED>IN_TRANSIT",
			"S1 advance IN_TRANSIT>EXCEPTION", "order advance IN_TRANSIT>EXCEPTION", "order advance EXCEPTION>REFUNDED"),
		truth: "REFUNDED", closed: true,
	},
	{
		name:  "cancelled before shipping: closed at once",
		steps: []step{placed, confirmed, ev("wms", "RELEASED", 2*h).parcel("S1", ""), ev("oms", "CANCELLED", 2*h+30*time.Minute)},
		want: []string{"order advance ->PLACED", "order advance PLACED>CONFIRMED", "S1 advance ->RELEASED",
			"order advance CONFIRMED>RELEASED", "order advance RELEASED>CANCELLED"},
		truth: "CANCELLED", closed: true,
	},
	{
		name: "cancelled after shipping: the parcel's own lifecycle goes on, the truth stays CANCELLED",
		steps: then(shipOne, ev("oms", "CANCELLED", 4*h), scan("IN_TRANSIT", 5*h), scan("DELIVERED", 30*h),
			ev("storefront", "CANCELLED", 4*h+time.Minute)),
		want: after(orderShipped, "order advance SHIPPED>CANCELLED", "S1 advance SHIPPED>IN_TRANSIT",
			"S1 advance IN_TRANSIT>DELIVERED [OUT_FOR_DELIVERY]"),
		truth: "CANCELLED", closed: true,
	},
	{
		name: "a late event is recorded at its event time and never moves the truth back",
		steps: then(shipOne, scan("IN_TRANSIT", 5*h), scan("DELIVERED", 30*h),
			scan("OUT_FOR_DELIVERY", 28*h).arrives(31*h), ev("oms", "ON_HOLD", 30*time.Minute).arrives(32*h)),
		want: after(orderShipped, "S1 advance SHIPPED>IN_TRANSIT", "order advance SHIPPED>IN_TRANSIT",
			"S1 advance IN_TRANSIT>DELIVERED [OUT_FOR_DELIVERY]", "order advance IN_TRANSIT>DELIVERED [OUT_FOR_DELIVERY]",
			"S1 late DELIVERED>OUT_FOR_DELIVERY", "order late DELIVERED>ON_HOLD"),
		truth: "DELIVERED", closed: true,
	},
	{
		name:  "regression: the carrier's IN_TRANSIT after its DELIVERED is refused and counted",
		steps: then(shipOne, scan("DELIVERED", 30*h), scan("IN_TRANSIT", 31*h), scan("EXCEPTION", 32*h)),
		want: after(orderShipped, "S1 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]",
			"order advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]"),
		truth: "DELIVERED", closed: true, regressions: 2,
	},
	{
		name: "an earlier stage's authority repeating itself is absorbed, not a regression (clock skew, payment capture)",
		steps: then(shipOne, scan("IN_TRANSIT", 4*h), ev("wms", "SHIPPED", 5*h).parcel("S1", "1Z").withID("wms-again"),
			ev("storefront", "PLACED", 6*h).withID("paid")),
		want:  after(orderShipped, "S1 advance SHIPPED>IN_TRANSIT", "order advance SHIPPED>IN_TRANSIT"),
		truth: "IN_TRANSIT",
	},
	{
		name:  "an older report of further progress advances (the carrier's clock behind the warehouse's)",
		steps: then(shipOne, scan("IN_TRANSIT", 2*h+50*time.Minute).arrives(4*h)),
		want:  after(orderShipped, "S1 advance SHIPPED>IN_TRANSIT", "order advance SHIPPED>IN_TRANSIT"),
		truth: "IN_TRANSIT",
	},
	{
		name: "viewers and the storefront's copy of carrier scans never move the truth",
		steps: then(shipOne, ev("storefront", "DELIVERED", 30*h).parcel("S1", "1Z"), ev("helpdesk", "DELIVERED", 31*h),
			ev("notifications", "DELIVERED", 31*h), ev("storefront", "CANCELLED", 32*h), ev("carrier", "PACKED", 2*h+30*time.Minute).parcel("", "1Z")),
		want:  orderShipped,
		truth: "SHIPPED",
	},
	{
		name: "OMS hold and release; the storefront's payment (PLACED) does not lift the hold",
		steps: []step{placed, ev("oms", "ON_HOLD", time.Minute), ev("storefront", "PLACED", 2*h).withID("paid"),
			ev("oms", "CONFIRMED", 3*h)},
		want:  []string{"order advance ->PLACED", "order advance PLACED>ON_HOLD", "order recovery ON_HOLD>CONFIRMED"},
		truth: "CONFIRMED",
	},
	{
		name: "a carrier scan before the WMS names the parcel is merged into it when the WMS ships it",
		steps: []step{placed, confirmed, ev("wms", "RELEASED", 2*h).parcel("S1", ""), scan("IN_TRANSIT", 3*h+30*time.Minute),
			ev("wms", "SHIPPED", 3*h).parcel("S1", "1Z").arrives(4 * h)},
		want: []string{"order advance ->PLACED", "order advance PLACED>CONFIRMED", "S1 advance ->RELEASED",
			"order advance CONFIRMED>RELEASED", "1Z advance ->IN_TRANSIT", "order advance RELEASED>PARTIALLY_SHIPPED",
			"S1 late IN_TRANSIT>SHIPPED", "order advance PARTIALLY_SHIPPED>IN_TRANSIT"},
		truth: "IN_TRANSIT",
	},
	{
		name:  "a system that names no parcels gets one shipment named by the order",
		steps: []step{placed, ev("wms", "SHIPPED", 3*h), ev("carrier", "DELIVERED", 30*h)},
		want: []string{"order advance ->PLACED", "o-1 advance ->SHIPPED", "order advance PLACED>SHIPPED [CONFIRMED RELEASED PICKED PACKED]",
			"o-1 advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]", "order advance SHIPPED>DELIVERED [IN_TRANSIT OUT_FOR_DELIVERY]"},
		truth: "DELIVERED", closed: true,
	},
}

func TestHardCases(t *testing.T) {
	p := newProcessor(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := runSteps(t, p, sc.steps)
			if !reflect.DeepEqual(r.transitions, sc.want) {
				t.Errorf("transitions:\n  %s\nwant:\n  %s", strings.Join(r.transitions, "\n  "), strings.Join(sc.want, "\n  "))
			}
			state := r.lastState()
			if state["truth"] != sc.truth || state["closed"] != sc.closed {
				t.Errorf("truth %v closed %v, want %s %v", state["truth"], state["closed"], sc.truth, sc.closed)
			}
			if r.regressions != sc.regressions {
				t.Errorf("regressions %d, want %d", r.regressions, sc.regressions)
			}
			if n := state["transitions"].(int32); int(n) != len(r.transitions) {
				t.Errorf("order_state counts %d transitions, %d emitted", n, len(r.transitions))
			}
		})
	}
}
