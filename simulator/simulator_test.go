package simulator_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
)

// run generates cfg's events, failing the test on error.
func run(t testing.TB, cfg simulator.Config) ([]simulator.Event, simulator.Stats) {
	t.Helper()
	var evs []simulator.Event
	st, err := simulator.Generate(cfg, func(e simulator.Event) error {
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, st
}

var (
	defaultOnce   sync.Once
	defaultEvents []simulator.Event
	defaultStats  simulator.Stats
)

// defaultRun is 2,000 orders with the default shares, shared by the tests
// that only read it.
func defaultRun(t *testing.T) ([]simulator.Event, simulator.Stats) {
	defaultOnce.Do(func() { defaultEvents, defaultStats = run(t, simulator.DefaultConfig(2000, 42)) })
	return defaultEvents, defaultStats
}

func str(v map[string]any, field string) string {
	s, _ := v[field].(string)
	return s
}

func at(v map[string]any, field string) time.Time {
	t, _ := v[field].(time.Time)
	return t
}

func hasTag(v map[string]any, tag string) bool {
	tags, _ := v["tags"].([]any)
	return slices.Contains(tags, any(tag))
}

func TestEveryEventMatchesItsSchemaAndHasAKey(t *testing.T) {
	evs, _ := defaultRun(t)
	for _, sys := range schemas.Systems {
		s := schemas.MustLoad(sys.SchemaName())
		var fields []string
		for _, f := range s.Root().Fields {
			fields = append(fields, f.Name)
		}
		sort.Strings(fields)
		n := 0
		for _, ev := range evs {
			if ev.System != sys {
				continue
			}
			n++
			native, err := s.FromJSON(ev.Value)
			if err != nil {
				t.Fatalf("%s event %v: %v", sys, ev.Value, err)
			}
			if _, err := s.Codec.BinaryFromNative(nil, native); err != nil {
				t.Fatalf("%s event %v does not encode: %v", sys, ev.Value, err)
			}
			if key, err := sys.Key(ev.Value); err != nil || key == "" {
				t.Fatalf("%s event %v: no key: %v", sys, ev.Value, err)
			}
			var got []string
			for k := range ev.Value {
				got = append(got, k)
			}
			sort.Strings(got)
			if !slices.Equal(got, fields) {
				t.Fatalf("%s event has fields %v, want every schema field %v", sys, got, fields)
			}
			occurred, recorded := at(ev.Value, "occurred_at"), at(ev.Value, "recorded_at")
			if recorded.Before(occurred) || ev.Arrival.Before(recorded) {
				t.Fatalf("%s event %v: want occurred_at <= recorded_at <= arrival %v", sys, ev.Value, ev.Arrival)
			}
		}
		if n == 0 {
			t.Errorf("no %s events", sys)
		}
	}
}

func TestArrivalOrderIsNonDecreasing(t *testing.T) {
	evs, _ := defaultRun(t)
	for i := 1; i < len(evs); i++ {
		if evs[i].Arrival.Before(evs[i-1].Arrival) {
			t.Fatalf("event %d arrives at %v, before event %d at %v", i, evs[i].Arrival, i-1, evs[i-1].Arrival)
		}
	}
}

// fingerprint hashes a run's events in order, fields sorted (fmt sorts map
// keys).
func fingerprint(evs []simulator.Event) uint64 {
	h := fnv.New64a()
	for _, e := range evs {
		fmt.Fprintf(h, "%s|%v|%v\n", e.System, e.Arrival.UnixMilli(), e.Value)
	}
	return h.Sum64()
}

func TestSameConfigGivesTheSameEventsAndAnotherSeedOthers(t *testing.T) {
	cfg := simulator.DefaultConfig(300, 7)
	a, sa := run(t, cfg)
	b, sb := run(t, cfg)
	if len(a) != len(b) || fingerprint(a) != fingerprint(b) || !reflect.DeepEqual(sa, sb) {
		t.Fatalf("two runs of the same config differ: %d vs %d events", len(a), len(b))
	}
	cfg.Seed = 8
	c, _ := run(t, cfg)
	if fingerprint(a) == fingerprint(c) {
		t.Fatal("seeds 7 and 8 gave identical events")
	}
}

func TestStatsCountWhatWasEmitted(t *testing.T) {
	evs, st := defaultRun(t)
	bySystem := map[schemas.System]int{}
	for _, e := range evs {
		bySystem[e.System]++
	}
	if st.Orders != 2000 || st.Events != len(evs) || !reflect.DeepEqual(st.BySystem, bySystem) {
		t.Fatalf("stats %+v, want 2000 orders, %d events, by system %v", st, len(evs), bySystem)
	}
	for _, sys := range schemas.Systems {
		if bySystem[sys] == 0 {
			t.Errorf("no %s events", sys)
		}
	}
}

func TestDuplicatesAreTheSameEventDeliveredAgainLater(t *testing.T) {
	evs, st := defaultRun(t)
	first := map[string]simulator.Event{}
	dups := 0
	for _, e := range evs {
		id := string(e.System) + "/" + str(e.Value, "event_id")
		f, seen := first[id]
		if !seen {
			first[id] = e
			continue
		}
		dups++
		if !reflect.DeepEqual(f.Value, e.Value) {
			t.Fatalf("duplicate %s differs:\n%v\n%v", id, f.Value, e.Value)
		}
		if !e.Arrival.After(f.Arrival) {
			t.Fatalf("duplicate %s arrived at %v, not after the original at %v", id, e.Arrival, f.Arrival)
		}
	}
	share := float64(dups) / float64(len(evs))
	if dups != st.Duplicates || share < 0.005 || share > 0.015 {
		t.Fatalf("%d duplicates (%.4f of events, stats say %d), want about 1%%", dups, share, st.Duplicates)
	}
}

// outOfOrder counts first deliveries that arrive after an event of the
// same system and key that was recorded later.
func outOfOrder(evs []simulator.Event) int {
	seen := map[string]bool{}
	latest := map[string]time.Time{}
	n := 0
	for _, e := range evs {
		id := string(e.System) + "/" + str(e.Value, "event_id")
		if seen[id] {
			continue
		}
		seen[id] = true
		key, _ := e.System.Key(e.Value)
		k := string(e.System) + "/" + key
		rec := at(e.Value, "recorded_at")
		if rec.Before(latest[k]) {
			n++
		}
		if rec.After(latest[k]) {
			latest[k] = rec
		}
	}
	return n
}

func TestOutOfOrderArrivalFollowsItsShare(t *testing.T) {
	evs, st := defaultRun(t)
	n := outOfOrder(evs)
	// Events recorded in the same millisecond as a later one cannot be
	// seen out of order, hence "at most" the generator's count.
	if n == 0 || n > st.OutOfOrder || float64(n) < 0.9*float64(st.OutOfOrder) {
		t.Fatalf("%d events arrived out of order, stats say %d", n, st.OutOfOrder)
	}
	if share := float64(n) / float64(len(evs)); share < 0.004 || share > 0.012 {
		t.Fatalf("out-of-order share %.4f, want about 1%% of the events that have a later sibling", share)
	}

	cfg := simulator.DefaultConfig(300, 42)
	cfg.OutOfOrderShare = 0
	evs, st = run(t, cfg)
	if n := outOfOrder(evs); n != 0 || st.OutOfOrder != 0 {
		t.Fatalf("OutOfOrderShare 0: %d events out of order (stats %d), want none", n, st.OutOfOrder)
	}
}

// orderFacts indexes a run's events by order for the hard-case checks.
type orderFacts struct {
	shipped      map[string][]string // order → tracking numbers of WMS shipped events
	returned     map[string][]string // order → tracking numbers of WMS return_received events
	omsStatuses  map[string][]string
	wismoTickets map[string]bool // ticket IDs
	scans        map[string][]map[string]any
	trackOrder   map[string]string // tracking number → order, from the WMS
}

func index(evs []simulator.Event) orderFacts {
	x := orderFacts{shipped: map[string][]string{}, returned: map[string][]string{}, omsStatuses: map[string][]string{},
		wismoTickets: map[string]bool{}, scans: map[string][]map[string]any{}, trackOrder: map[string]string{}}
	for _, e := range evs {
		v := e.Value
		switch e.System {
		case schemas.WMS:
			if tn := str(v, "tracking_number"); tn != "" {
				x.trackOrder[tn] = str(v, "order_id")
				if str(v, "status") == "shipped" && !slices.Contains(x.shipped[str(v, "order_id")], tn) {
					x.shipped[str(v, "order_id")] = append(x.shipped[str(v, "order_id")], tn)
				}
				if str(v, "status") == "return_received" {
					x.returned[str(v, "order_id")] = append(x.returned[str(v, "order_id")], tn)
				}
			}
		case schemas.OMS:
			x.omsStatuses[str(v, "order_id")] = append(x.omsStatuses[str(v, "order_id")], str(v, "status"))
		case schemas.Helpdesk:
			if hasTag(v, "wismo") {
				x.wismoTickets[str(v, "ticket_id")] = true
			}
		case schemas.Carrier:
			x.scans[str(v, "tracking_number")] = append(x.scans[str(v, "tracking_number")], v)
		}
	}
	return x
}

func ordersWith(m map[string][]string, pred func([]string) bool) int {
	n := 0
	for _, xs := range m {
		if pred(xs) {
			n++
		}
	}
	return n
}

func parcelsWith(x orderFacts, pred func(scan map[string]any) bool) (hit, outbound int) {
	for tn, scans := range x.scans {
		if !slices.Contains(x.shipped[x.trackOrder[tn]], tn) {
			continue // a return label
		}
		outbound++
		if slices.ContainsFunc(scans, pred) {
			hit++
		}
	}
	return hit, outbound
}

// within fails unless got is within [lo, hi] × want.
func within(t *testing.T, what string, got, want, lo, hi float64) {
	t.Helper()
	if got < lo*want || got > hi*want {
		t.Errorf("%s: share %.4f, want about %.4f", what, got, want)
	} else {
		t.Logf("%s: share %.4f (configured %.4f)", what, got, want)
	}
}

func TestHardCasesFollowTheirShares(t *testing.T) {
	evs, _ := defaultRun(t)
	cfg := simulator.DefaultConfig(2000, 42)
	x := index(evs)
	orders := 2000.0

	split := ordersWith(x.shipped, func(tns []string) bool { return len(tns) >= 2 })
	within(t, "split shipments", float64(split)/orders, cfg.SplitShipmentShare, 0.7, 1.2)

	cancelled := ordersWith(x.omsStatuses, func(s []string) bool { return slices.Contains(s, "CANCELLED") })
	within(t, "cancellations", float64(cancelled)/orders, cfg.CancelShare, 0.6, 1.4)

	// Only delivered orders can be returned (about 90% of them).
	returned := ordersWith(x.omsStatuses, func(s []string) bool { return slices.Contains(s, "RETURN_AUTHORIZED") })
	within(t, "returns", float64(returned)/orders, cfg.ReturnShare, 0.6, 1.2)

	failed, outbound := parcelsWith(x, func(v map[string]any) bool {
		return str(v, "status") == "AttemptFail" || str(v, "sub_status") == "delivery_exception"
	})
	within(t, "failed attempts", float64(failed)/float64(outbound), cfg.FailedAttemptShare, 0.7, 1.3)

	exceptions, _ := parcelsWith(x, func(v map[string]any) bool {
		return str(v, "status") == "Exception" || str(v, "status") == "failure" ||
			str(v, "sub_status") == "weather_delay" || str(v, "sub_status") == "delayed"
	})
	within(t, "carrier exceptions", float64(exceptions)/float64(outbound), cfg.ExceptionShare, 0.6, 1.4)

	within(t, "WISMO tickets", float64(len(x.wismoTickets))/orders, cfg.WismoTicketShare, 0.7, 1.3)
}

func TestSplitShipmentsAreSeparateParcels(t *testing.T) {
	evs, _ := defaultRun(t)
	x := index(evs)
	deliveredAt := func(tn string) time.Time {
		for _, v := range x.scans[tn] {
			if s := str(v, "status"); s == "delivered" || s == "Delivered" {
				return at(v, "occurred_at")
			}
		}
		return time.Time{}
	}
	shippedAt := map[string]time.Time{}
	for _, e := range evs {
		if e.System == schemas.WMS && str(e.Value, "status") == "shipped" {
			shippedAt[str(e.Value, "tracking_number")] = at(e.Value, "occurred_at")
		}
	}
	shipsAfterDelivery := 0
	for _, tns := range x.shipped {
		for _, a := range tns {
			for _, b := range tns {
				if d := deliveredAt(a); a != b && !d.IsZero() && shippedAt[b].After(d) {
					shipsAfterDelivery++
				}
			}
		}
	}
	if shipsAfterDelivery == 0 {
		t.Error("no split order ships a parcel after another parcel of it was delivered")
	}
}

func TestEveryTrackingNumberResolvesToItsOrderThroughTheWMS(t *testing.T) {
	evs, _ := defaultRun(t)
	x := index(evs)
	returnLabels := 0
	for tn, scans := range x.scans {
		o, ok := x.trackOrder[tn]
		if !ok {
			t.Fatalf("carrier tracking number %s is in no WMS event", tn)
		}
		if !slices.Contains(x.shipped[o], tn) {
			// A customer's return label: linked by the WMS when the
			// return is checked in, after an RMA.
			returnLabels++
			if !slices.Contains(x.returned[o], tn) || !slices.Contains(x.omsStatuses[o], "RETURN_AUTHORIZED") {
				t.Fatalf("tracking number %s of %s is neither shipped nor a received return", tn, o)
			}
		}
		for _, v := range scans {
			if id := str(v, "order_id"); id != "" && id != o {
				t.Fatalf("scan of %s carries order %s, the WMS says %s", tn, id, o)
			}
		}
	}
	if returnLabels == 0 {
		t.Error("no return label scans")
	}
}

func TestOMSChangeEventsChainTheirPreviousStatus(t *testing.T) {
	evs, _ := defaultRun(t)
	var changes []map[string]any
	seen := map[string]bool{}
	for _, e := range evs {
		if e.System == schemas.OMS && !seen[str(e.Value, "event_id")] {
			seen[str(e.Value, "event_id")] = true
			changes = append(changes, e.Value)
		}
	}
	sort.SliceStable(changes, func(i, j int) bool {
		return at(changes[i], "recorded_at").Before(at(changes[j], "recorded_at"))
	})
	last := map[string]string{}
	for _, v := range changes {
		id := str(v, "order_id")
		if want := last[id]; str(v, "previous_status") != want || (want == "") != (str(v, "op") == "c") {
			t.Fatalf("order %s: op %s %s with previous_status %q, want %q", id, str(v, "op"), str(v, "status"), str(v, "previous_status"), want)
		}
		last[id] = str(v, "status")
	}
}

func TestViewersLagBehindTheCarrier(t *testing.T) {
	evs, _ := defaultRun(t)
	x := index(evs)
	var lags []time.Duration
	delivered, shown := 0, 0
	shownDelivered := map[string]bool{}
	for _, e := range evs {
		v := e.Value
		if e.System != schemas.Storefront || str(v, "event_type") != "fulfillment_events/create" {
			continue
		}
		// Label scans happen at the pack station, hours before the
		// storefront's fulfillment exists; the tracking app backfills them.
		backfilled := str(v, "status") == "label_printed" || str(v, "status") == "confirmed"
		// The storefront copies the scan time and records it later.
		occurred := at(v, "occurred_at")
		if !slices.ContainsFunc(x.scans[str(v, "tracking_number")], func(s map[string]any) bool {
			return at(s, "occurred_at").Equal(occurred)
		}) {
			t.Fatalf("storefront fulfillment event %v copies no carrier scan time", v)
		}
		if !backfilled {
			lags = append(lags, at(v, "recorded_at").Sub(occurred))
		}
		if str(v, "status") == "delivered" {
			shownDelivered[str(v, "tracking_number")] = true
		}
	}
	for tn, scans := range x.scans {
		if !slices.Contains(x.shipped[x.trackOrder[tn]], tn) {
			continue
		}
		if slices.ContainsFunc(scans, func(s map[string]any) bool { return str(s, "status") == "delivered" || str(s, "status") == "Delivered" }) {
			delivered++
			if shownDelivered[tn] {
				shown++
			}
		}
	}
	slices.Sort(lags)
	median, slow := lags[len(lags)/2], 0
	for _, l := range lags {
		if l > 5*time.Minute {
			slow++
		}
	}
	slowShare := float64(slow) / float64(len(lags))
	t.Logf("storefront tracking lag: median %v, %.1f%% beyond 5 min; %d of %d deliveries shown", median, 100*slowShare, shown, delivered)
	if median < 5*time.Second || median > 5*time.Minute || slowShare < 0.01 || slowShare > 0.25 {
		t.Errorf("storefront tracking lag: median %v, %.3f beyond 5 minutes; want seconds to minutes with a slow tail", median, slowShare)
	}
	if shown == delivered || shown < delivered*9/10 {
		t.Errorf("storefront shows %d of %d deliveries; want most, not all", shown, delivered)
	}
}

// vocabulary lists every code each system may emit: the contract with the
// normalize stage's status maps.
var vocabulary = map[string][]string{
	"storefront.event_type": {"orders/create", "orders/updated", "orders/cancelled", "fulfillments/create",
		"fulfillment_events/create", "refunds/create"},
	"storefront.order":              {"cancelled"},
	"storefront.financial_status":   {"paid", "authorized", "pending", "refunded", "partially_refunded"},
	"storefront.fulfillment_status": {"partial", "fulfilled"},
	"storefront.fulfillment_event": {"label_printed", "confirmed", "carrier_picked_up", "in_transit", "delayed",
		"out_for_delivery", "attempted_delivery", "ready_for_pickup", "delivered", "failure"},
	"storefront.order_status field":       {"open", "cancelled"},
	"storefront.financial_status field":   {"paid", "authorized", "pending", "refunded", "partially_refunded", "voided"},
	"storefront.fulfillment_status field": {"unfulfilled", "partial", "fulfilled"},
	"storefront.shipment_status field": {"label_printed", "confirmed", "carrier_picked_up", "in_transit", "delayed",
		"out_for_delivery", "attempted_delivery", "ready_for_pickup", "delivered", "failure"},
	"storefront.shipment_fulfillment_status field": {"success"},
	"oms.status": {"NEW", "ON_HOLD", "CONFIRMED", "ALLOCATED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED",
		"RETURN_AUTHORIZED", "PARTIALLY_REFUNDED", "REFUNDED"},
	"oms.hold_reason": {"payment_pending", "fraud_review", "address_verification"},
	"wms.status":      {"released", "picked", "packed", "shipped", "return_received"},
	"carrier.easypost": {"pre_transit/label_created", "in_transit/received_at_origin_facility",
		"in_transit/departed_facility", "in_transit/arrived_at_facility", "in_transit/received_at_destination_facility",
		"in_transit/weather_delay", "in_transit/delayed", "in_transit/delivery_exception",
		"out_for_delivery/out_for_delivery", "available_for_pickup/arrived_at_pickup_location",
		"delivered/arrived_at_destination", "failure/lost", "failure/damaged", "return_to_sender/return"},
	"carrier.aftership": {"InfoReceived/InfoReceived_001", "InTransit/InTransit_002", "InTransit/InTransit_003",
		"InTransit/InTransit_007", "Exception/Exception_005", "OutForDelivery/OutForDelivery_001",
		"AttemptFail/AttemptFail_001", "AttemptFail/AttemptFail_002", "AttemptFail/AttemptFail_003",
		"AvailableForPickup/AvailableForPickup_001", "Delivered/Delivered_001", "Delivered/Delivered_002",
		"Delivered/Delivered_003", "Exception/Exception_010", "Exception/Exception_011", "Exception/Exception_012",
		"Exception/Exception_013"},
	"carrier.carrier":        {"UPS", "FedEx", "USPS", "DHL"},
	"helpdesk.event_type":    {"created", "status_changed", "tags_changed", "field_changed"},
	"helpdesk.ticket_status": {"new", "open", "pending", "solved", "closed"},
	"helpdesk.tags":          {"wismo", "order_status", "return_request"},
	"helpdesk.order_status_shown": {"Pending", "Payment pending", "On hold", "Confirmed", "Processing", "Shipped",
		"Partially shipped", "In transit", "Delayed", "Out for delivery", "Delivery attempted", "Ready for pickup",
		"Partially delivered", "Delivered", "Exception", "Returning to sender", "Cancelled", "Return requested",
		"Return in transit", "Returned", "Partially refunded", "Refunded"},
	"notifications.status": {"order_confirmation", "shipping_confirmation", "out_for_delivery", "delivered",
		"delivery_failed", "ready_for_pickup", "delay_notice", "cancellation", "refund"},
	"notifications.channel":         {"email", "sms"},
	"notifications.delivery_status": {"sent", "delivered", "bounced", "failed"},
}

// codes lists the vocabulary codes an event uses.
func codes(e simulator.Event) map[string][]string {
	v := e.Value
	out := map[string][]string{}
	add := func(k, code string) {
		if code != "" {
			out[k] = append(out[k], code)
		}
	}
	switch e.System {
	case schemas.Storefront:
		add("storefront.event_type", str(v, "event_type"))
		add("storefront."+str(v, "status_type"), str(v, "status"))
		add("storefront.order_status field", str(v, "order_status"))
		add("storefront.financial_status field", str(v, "financial_status"))
		add("storefront.fulfillment_status field", str(v, "fulfillment_status"))
		add("storefront.shipment_status field", str(v, "shipment_status"))
		add("storefront.shipment_fulfillment_status field", str(v, "shipment_fulfillment_status"))
	case schemas.OMS:
		add("oms.status", str(v, "status"))
		add("oms.status", str(v, "previous_status"))
		add("oms.hold_reason", str(v, "hold_reason"))
	case schemas.WMS:
		add("wms.status", str(v, "status"))
	case schemas.Carrier:
		add("carrier."+str(v, "provider"), str(v, "status")+"/"+str(v, "sub_status"))
		add("carrier.carrier", str(v, "carrier"))
	case schemas.Helpdesk:
		add("helpdesk.event_type", str(v, "event_type"))
		add("helpdesk.ticket_status", str(v, "ticket_status"))
		add("helpdesk.order_status_shown", str(v, "order_status_shown"))
		for _, tag := range v["tags"].([]any) {
			add("helpdesk.tags", tag.(string))
		}
	case schemas.Notifications:
		add("notifications.status", str(v, "status"))
		add("notifications.channel", str(v, "channel"))
		add("notifications.delivery_status", str(v, "delivery_status"))
	}
	return out
}

func TestEmittedCodesAreTheDocumentedVocabulary(t *testing.T) {
	evs, _ := run(t, simulator.DefaultConfig(5000, 3))
	used := map[string]map[string]bool{}
	for _, e := range evs {
		for k, cs := range codes(e) {
			for _, c := range cs {
				if !slices.Contains(vocabulary[k], c) {
					t.Fatalf("%s event uses %s %q, not in the documented vocabulary: %v", e.System, k, c, e.Value)
				}
				if used[k] == nil {
					used[k] = map[string]bool{}
				}
				used[k][c] = true
			}
		}
	}
	// Every documented code shows up in a run this size, so the list is
	// not stale; except the help desk showing "Pending", which needs a
	// ticket before the order's confirmation reached the help desk, and
	// the storefront showing a partial refund, which needs one on an
	// order none of whose fulfillments the storefront created.
	rare := map[string]string{"helpdesk.order_status_shown": "Pending", "storefront.financial_status": "partially_refunded"}
	for k, cs := range vocabulary {
		for _, c := range cs {
			if !used[k][c] && rare[k] != c {
				t.Errorf("%s %q is documented but never emitted in 5,000 orders", k, c)
			}
		}
	}
}

func TestZeroSharesGiveOnlyPlainLifecycles(t *testing.T) {
	evs, st := run(t, simulator.Config{Orders: 300, Seed: 1})
	if st.Duplicates != 0 || st.OutOfOrder != 0 || st.Cases.SplitOrders != 0 || st.Cases.CancelledOrders != 0 ||
		st.Cases.ReturnedOrders != 0 || st.Cases.FailedAttempts != 0 || st.Cases.Exceptions != 0 || st.Cases.WismoTickets != 0 {
		t.Fatalf("zero shares: stats %+v, want no hard cases", st)
	}
	for _, e := range evs {
		if e.System == schemas.Carrier && !slices.Contains([]string{"pre_transit", "in_transit", "out_for_delivery",
			"delivered", "InfoReceived", "InTransit", "OutForDelivery", "Delivered"}, str(e.Value, "status")) {
			t.Fatalf("zero shares: carrier scan %v", e.Value)
		}
	}
	if got := at(evs[0].Value, "occurred_at"); !got.Equal(simulator.DefaultStart) {
		t.Errorf("first event occurred at %v, want the default start %v", got, simulator.DefaultStart)
	}
}

func TestGenerateStopsAtTheFirstEmitError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	_, err := simulator.Generate(simulator.DefaultConfig(50, 1), func(simulator.Event) error {
		n++
		if n == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 10 {
		t.Fatalf("err %v after %d events, want boom after 10", err, n)
	}
}

func TestGenerateRejectsBadConfig(t *testing.T) {
	for name, mutate := range map[string]func(*simulator.Config){
		"negative orders":   func(c *simulator.Config) { c.Orders = -1 },
		"negative interval": func(c *simulator.Config) { c.OrderInterval = -time.Second },
		"share above one":   func(c *simulator.Config) { c.ReturnShare = 1.5 },
		"negative share":    func(c *simulator.Config) { c.DuplicateShare = -0.1 },
		"parcel shares":     func(c *simulator.Config) { c.ExceptionShare, c.FailedAttemptShare = 0.6, 0.6 },
	} {
		cfg := simulator.DefaultConfig(10, 1)
		mutate(&cfg)
		if _, err := simulator.Generate(cfg, func(simulator.Event) error { return nil }); err == nil || !strings.Contains(err.Error(), "simulator:") {
			t.Errorf("%s: err %v, want a simulator error", name, err)
		}
	}
}

// TestBufferIsBoundedByOrdersInFlight checks the streaming contract: the
// buffer reaches a plateau set by the order rate, not by the number of
// orders. An hourly rate keeps the test fast: a few hundred orders are in
// flight at once.
func TestBufferIsBoundedByOrdersInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 12,000 orders")
	}
	cfg := simulator.DefaultConfig(3000, 5)
	cfg.OrderInterval = time.Hour
	var emitted int
	count := func(simulator.Event) error { emitted++; return nil }
	small, err := simulator.Generate(cfg, count)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Orders = 12000
	large, err := simulator.Generate(cfg, count)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max buffered: %d events for 3,000 orders, %d for 12,000 (%d events)", small.MaxBuffered, large.MaxBuffered, large.Events)
	if large.MaxBuffered > small.MaxBuffered*5/4 || large.MaxBuffered > large.Events/10 {
		t.Fatalf("max buffered grew from %d to %d events with 4x the orders; want a plateau", small.MaxBuffered, large.MaxBuffered)
	}
}

func TestHelpDeskShowsTheOrderStatusAfterTheTruth(t *testing.T) {
	evs, _ := defaultRun(t)
	delivered := map[string]time.Time{} // order → first outbound delivery scan
	x := index(evs)
	for tn, scans := range x.scans {
		o := x.trackOrder[tn]
		if !slices.Contains(x.shipped[o], tn) {
			continue
		}
		for _, s := range scans {
			if st := str(s, "status"); (st == "delivered" || st == "Delivered") &&
				(delivered[o].IsZero() || at(s, "occurred_at").Before(delivered[o])) {
				delivered[o] = at(s, "occurred_at")
			}
		}
	}
	unlinked, refreshes := 0, 0
	for _, e := range evs {
		v := e.Value
		if e.System != schemas.Helpdesk {
			continue
		}
		if v["order_id"] == nil {
			unlinked++
			if key, _ := e.System.Key(v); key != str(v, "ticket_id") || v["order_status_shown"] != nil {
				t.Fatalf("ticket without order: key %q, shows %v; want the ticket ID and nothing", key, v["order_status_shown"])
			}
			continue
		}
		if str(v, "event_type") == "field_changed" {
			refreshes++
		}
		if str(v, "order_status_shown") == "Delivered" {
			d := delivered[str(v, "order_id")]
			if d.IsZero() || !d.Before(at(v, "occurred_at")) {
				t.Fatalf("ticket shows Delivered at %v, the carrier delivered at %v", at(v, "occurred_at"), d)
			}
		}
	}
	if unlinked == 0 || refreshes == 0 {
		t.Errorf("%d tickets events without an order, %d field_changed refreshes; want some of each", unlinked, refreshes)
	}
}

func TestDelayNoticesReviseAMissedPromise(t *testing.T) {
	evs, _ := defaultRun(t)
	promise := map[string]time.Time{}
	for _, e := range evs {
		if e.System == schemas.OMS {
			promise[str(e.Value, "order_id")] = at(e.Value, "promised_ship_by")
		}
	}
	notices := 0
	for _, e := range evs {
		v := e.Value
		if e.System != schemas.Notifications {
			continue
		}
		revised := at(v, "revised_date")
		if (str(v, "status") == "delay_notice") != !revised.IsZero() {
			t.Fatalf("notification %v: want revised_date exactly on delay notices", v)
		}
		if revised.IsZero() {
			continue
		}
		notices++
		if p := promise[str(v, "order_id")]; p.IsZero() || !revised.After(p) {
			t.Fatalf("delay notice %v revises to %v, promised ship-by %v", v, revised, p)
		}
	}
	if notices == 0 {
		t.Error("no delay notices")
	}
}
