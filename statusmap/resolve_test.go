package statusmap

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// mapCase is one event and the canonical status it must get: a status name
// or "-" for "carries no order status".
type mapCase struct {
	sys   schemas.System
	event map[string]any
	want  string
}

func sf(statusType, status, want string) mapCase {
	return mapCase{schemas.Storefront, map[string]any{"status_type": statusType, "status": status}, want}
}

func oms(op, status, want string) mapCase {
	return mapCase{schemas.OMS, map[string]any{"op": op, "status": status}, want}
}

func wms(status, want string) mapCase {
	return mapCase{schemas.WMS, map[string]any{"status": status}, want}
}

// car builds a carrier scan; sub nil is a scan without sub_status.
func car(provider, status string, sub any, want string) mapCase {
	return mapCase{schemas.Carrier, map[string]any{"provider": provider, "status": status, "sub_status": sub}, want}
}

func hd(shown any, want string) mapCase {
	return mapCase{schemas.Helpdesk, map[string]any{"ticket_status": "open", "order_status_shown": shown}, want}
}

func rtn(status, want string) mapCase {
	return mapCase{schemas.System("returns"), map[string]any{"status": status, "reason": nil}, want}
}

func nt(status, want string) mapCase {
	return mapCase{schemas.Notifications, map[string]any{"status": status, "delivery_status": "delivered"}, want}
}

// expected is the shipped maps written out independently, one case per
// row: a row without a case, or a case that disagrees with the maps, fails
// TestEveryShippedRowHasACase. Wildcard rows get a sub_status no specific
// row has (or none).
var expected = []mapCase{
	sf("order", "open", "PLACED"),
	sf("order", "cancelled", "CANCELLED"),
	sf("order", "closed", "-"),
	sf("financial_status", "pending", "PLACED"),
	sf("financial_status", "authorized", "PLACED"),
	sf("financial_status", "partially_paid", "PLACED"),
	sf("financial_status", "paid", "PLACED"),
	sf("financial_status", "partially_refunded", "-"),
	sf("financial_status", "refunded", "REFUNDED"),
	sf("financial_status", "voided", "-"),
	sf("financial_status", "expired", "-"),
	sf("fulfillment_status", "unfulfilled", "PLACED"),
	sf("fulfillment_status", "partial", "PARTIALLY_SHIPPED"),
	sf("fulfillment_status", "fulfilled", "SHIPPED"),
	sf("fulfillment_status", "restocked", "-"),
	sf("fulfillment", "pending", "-"),
	sf("fulfillment", "open", "-"),
	sf("fulfillment", "success", "SHIPPED"),
	sf("fulfillment", "cancelled", "-"),
	sf("fulfillment", "error", "-"),
	sf("fulfillment", "failure", "-"),
	sf("refund", "success", "-"),
	sf("refund", "pending", "-"),
	sf("refund", "failure", "-"),
	sf("refund", "error", "-"),
	sf("refund", "created", "-"),
	sf("fulfillment_event", "label_printed", "PACKED"),
	sf("fulfillment_event", "label_purchased", "PACKED"),
	sf("fulfillment_event", "confirmed", "PACKED"),
	sf("fulfillment_event", "carrier_picked_up", "IN_TRANSIT"),
	sf("fulfillment_event", "in_transit", "IN_TRANSIT"),
	sf("fulfillment_event", "delayed", "EXCEPTION"),
	sf("fulfillment_event", "out_for_delivery", "OUT_FOR_DELIVERY"),
	sf("fulfillment_event", "attempted_delivery", "DELIVERY_ATTEMPT_FAILED"),
	sf("fulfillment_event", "ready_for_pickup", "AVAILABLE_FOR_PICKUP"),
	sf("fulfillment_event", "picked_up", "DELIVERED"),
	sf("fulfillment_event", "delivered", "DELIVERED"),
	sf("fulfillment_event", "failure", "EXCEPTION"),

	oms("c", "NEW", "PLACED"),
	oms("u", "ON_HOLD", "ON_HOLD"),
	oms("u", "CONFIRMED", "CONFIRMED"),
	oms("u", "ALLOCATED", "CONFIRMED"),
	oms("u", "PARTIALLY_SHIPPED", "PARTIALLY_SHIPPED"),
	oms("u", "SHIPPED", "SHIPPED"),
	oms("r", "CANCELLED", "CANCELLED"),
	oms("u", "RETURN_AUTHORIZED", "RETURN_REQUESTED"),
	oms("u", "PARTIALLY_REFUNDED", "-"),
	oms("u", "REFUNDED", "REFUNDED"),
	oms("d", "CANCELLED", "-"), // the row is gone: its last status is not looked up

	wms("released", "RELEASED"),
	wms("picked", "PICKED"),
	wms("packed", "PACKED"),
	wms("shipped", "SHIPPED"),
	wms("return_received", "RETURNED"),

	rtn("rma_created", "RETURN_REQUESTED"),
	rtn("label_issued", "-"),
	rtn("in_transit", "RETURN_IN_TRANSIT"),
	rtn("received", "RETURNED"),
	rtn("refunded", "REFUNDED"),
	rtn("rma_cancelled", "-"),

	car("direct", "label_created", nil, "PACKED"),
	car("direct", "picked_up", "ORIGIN", "IN_TRANSIT"),
	car("direct", "in_transit", nil, "IN_TRANSIT"),
	car("direct", "delayed", "weather", "EXCEPTION"),
	car("direct", "out_for_delivery", nil, "OUT_FOR_DELIVERY"),
	car("direct", "attempt_failed", "no_access", "DELIVERY_ATTEMPT_FAILED"),
	car("direct", "available_for_pickup", nil, "AVAILABLE_FOR_PICKUP"),
	car("direct", "delivered", nil, "DELIVERED"),
	car("direct", "exception", "customs", "EXCEPTION"),
	car("direct", "lost", nil, "EXCEPTION"),
	car("direct", "damaged", nil, "EXCEPTION"),
	car("direct", "return_to_sender", nil, "RETURN_TO_SENDER"),
	car("direct", "returned_to_sender", nil, "RETURN_TO_SENDER"),

	car("easypost", "unknown", nil, "-"),
	car("easypost", "pre_transit", "label_created", "PACKED"),
	car("easypost", "in_transit", nil, "IN_TRANSIT"),
	car("easypost", "in_transit", "received_at_origin_facility", "IN_TRANSIT"),
	car("easypost", "in_transit", "departed_origin_facility", "IN_TRANSIT"),
	car("easypost", "in_transit", "departed_facility", "IN_TRANSIT"),
	car("easypost", "in_transit", "arrived_at_facility", "IN_TRANSIT"),
	car("easypost", "in_transit", "received_at_destination_facility", "IN_TRANSIT"),
	car("easypost", "in_transit", "transferred_to_destination_carrier", "IN_TRANSIT"),
	car("easypost", "in_transit", "address_correction", "IN_TRANSIT"),
	car("easypost", "in_transit", "status_update", "IN_TRANSIT"),
	car("easypost", "in_transit", "delivery_exception", "DELIVERY_ATTEMPT_FAILED"),
	car("easypost", "in_transit", "weather_delay", "EXCEPTION"),
	car("easypost", "in_transit", "delayed", "EXCEPTION"),
	car("easypost", "in_transit", "missorted", "EXCEPTION"),
	car("easypost", "in_transit", "held", "EXCEPTION"),
	car("easypost", "in_transit", "awaiting_information", "EXCEPTION"),
	car("easypost", "in_transit", "transit_exception", "EXCEPTION"),
	car("easypost", "in_transit", "damaged", "EXCEPTION"),
	car("easypost", "in_transit", "lost", "EXCEPTION"),
	car("easypost", "in_transit", "refused", "EXCEPTION"),
	car("easypost", "in_transit", "return", "RETURN_TO_SENDER"),
	car("easypost", "out_for_delivery", "out_for_delivery", "OUT_FOR_DELIVERY"),
	car("easypost", "out_for_delivery", "delivery_exception", "DELIVERY_ATTEMPT_FAILED"),
	car("easypost", "delivered", "arrived_at_destination", "DELIVERED"),
	car("easypost", "available_for_pickup", "arrived_at_pickup_location", "AVAILABLE_FOR_PICKUP"),
	car("easypost", "return_to_sender", "return", "RETURN_TO_SENDER"),
	car("easypost", "failure", "lost", "EXCEPTION"),
	car("easypost", "cancelled", nil, "-"),

	car("aftership", "Pending", nil, "-"),
	car("aftership", "Pending", "Pending_001", "-"),
	car("aftership", "Pending", "Pending_002", "-"),
	car("aftership", "Pending", "Pending_003", "-"),
	car("aftership", "Pending", "Pending_004", "-"),
	car("aftership", "Pending", "Pending_005", "-"),
	car("aftership", "Pending", "Pending_006", "-"),
	car("aftership", "InfoReceived", nil, "PACKED"),
	car("aftership", "InfoReceived", "InfoReceived_001", "PACKED"),
	car("aftership", "InTransit", "InTransit_010", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_001", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_002", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_003", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_004", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_005", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_006", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_007", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_008", "IN_TRANSIT"),
	car("aftership", "InTransit", "InTransit_009", "IN_TRANSIT"),
	car("aftership", "OutForDelivery", "OutForDelivery_002", "OUT_FOR_DELIVERY"),
	car("aftership", "OutForDelivery", "OutForDelivery_001", "OUT_FOR_DELIVERY"),
	car("aftership", "OutForDelivery", "OutForDelivery_003", "OUT_FOR_DELIVERY"),
	car("aftership", "OutForDelivery", "OutForDelivery_004", "OUT_FOR_DELIVERY"),
	car("aftership", "AttemptFail", nil, "DELIVERY_ATTEMPT_FAILED"),
	car("aftership", "AttemptFail", "AttemptFail_001", "DELIVERY_ATTEMPT_FAILED"),
	car("aftership", "AttemptFail", "AttemptFail_002", "DELIVERY_ATTEMPT_FAILED"),
	car("aftership", "AttemptFail", "AttemptFail_003", "DELIVERY_ATTEMPT_FAILED"),
	car("aftership", "Delivered", nil, "DELIVERED"),
	car("aftership", "Delivered", "Delivered_001", "DELIVERED"),
	car("aftership", "Delivered", "Delivered_002", "DELIVERED"),
	car("aftership", "Delivered", "Delivered_003", "DELIVERED"),
	car("aftership", "Delivered", "Delivered_004", "DELIVERED"),
	car("aftership", "Delivered", "Delivered_005", "DELIVERED"),
	car("aftership", "AvailableForPickup", nil, "AVAILABLE_FOR_PICKUP"),
	car("aftership", "AvailableForPickup", "AvailableForPickup_001", "AVAILABLE_FOR_PICKUP"),
	car("aftership", "Exception", "Exception_014", "EXCEPTION"),
	car("aftership", "Exception", "Exception_001", "EXCEPTION"),
	car("aftership", "Exception", "Exception_002", "EXCEPTION"),
	car("aftership", "Exception", "Exception_003", "EXCEPTION"),
	car("aftership", "Exception", "Exception_004", "EXCEPTION"),
	car("aftership", "Exception", "Exception_005", "EXCEPTION"),
	car("aftership", "Exception", "Exception_006", "EXCEPTION"),
	car("aftership", "Exception", "Exception_007", "EXCEPTION"),
	car("aftership", "Exception", "Exception_008", "EXCEPTION"),
	car("aftership", "Exception", "Exception_009", "EXCEPTION"),
	car("aftership", "Exception", "Exception_010", "RETURN_TO_SENDER"),
	car("aftership", "Exception", "Exception_011", "RETURN_TO_SENDER"),
	car("aftership", "Exception", "Exception_012", "EXCEPTION"),
	car("aftership", "Exception", "Exception_013", "EXCEPTION"),
	car("aftership", "Exception", "Exception_016", "EXCEPTION"),
	car("aftership", "Exception", "Exception_017", "EXCEPTION"),
	car("aftership", "Exception", "Exception_018", "EXCEPTION"),
	car("aftership", "Expired", nil, "-"),
	car("aftership", "Expired", "Expired_001", "-"),

	hd("Pending", "PLACED"),
	hd("Payment pending", "ON_HOLD"),
	hd("On hold", "ON_HOLD"),
	hd("Confirmed", "CONFIRMED"),
	hd("Processing", "RELEASED"),
	hd("Shipped", "SHIPPED"),
	hd("Partially shipped", "PARTIALLY_SHIPPED"),
	hd("In transit", "IN_TRANSIT"),
	hd("Delayed", "EXCEPTION"),
	hd("Out for delivery", "OUT_FOR_DELIVERY"),
	hd("Delivery attempted", "DELIVERY_ATTEMPT_FAILED"),
	hd("Ready for pickup", "AVAILABLE_FOR_PICKUP"),
	hd("Partially delivered", "PARTIALLY_DELIVERED"),
	hd("Delivered", "DELIVERED"),
	hd("Exception", "EXCEPTION"),
	hd("Returning to sender", "RETURN_TO_SENDER"),
	hd("Cancelled", "CANCELLED"),
	hd("Return requested", "RETURN_REQUESTED"),
	hd("Return in transit", "RETURN_IN_TRANSIT"),
	hd("Returned", "RETURNED"),
	hd("Partially refunded", "-"),
	hd("Refunded", "REFUNDED"),
	hd("Placed", "PLACED"),
	hd("Order placed", "PLACED"),
	hd("Unfulfilled", "PLACED"),
	hd("Awaiting payment", "ON_HOLD"),
	hd("Released", "RELEASED"),
	hd("Picked", "PICKED"),
	hd("Packed", "PACKED"),
	hd("Label created", "PACKED"),
	hd("Fulfilled", "SHIPPED"),
	hd("Partially fulfilled", "PARTIALLY_SHIPPED"),
	hd("Attempted delivery", "DELIVERY_ATTEMPT_FAILED"),
	hd("Failed attempt", "DELIVERY_ATTEMPT_FAILED"),
	hd("Available for pickup", "AVAILABLE_FOR_PICKUP"),
	hd("Return to sender", "RETURN_TO_SENDER"),
	hd("Canceled", "CANCELLED"),

	nt("order_confirmation", "PLACED"),
	nt("shipping_confirmation", "SHIPPED"),
	nt("out_for_delivery", "OUT_FOR_DELIVERY"),
	nt("delivered", "DELIVERED"),
	nt("delivery_failed", "DELIVERY_ATTEMPT_FAILED"),
	nt("ready_for_pickup", "AVAILABLE_FOR_PICKUP"),
	nt("cancellation", "CANCELLED"),
	nt("refund", "REFUNDED"),
	nt("delay_notice", "-"),
}

func mustDefault(t testing.TB) *Set {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatalf("the shipped maps are broken:\n%v", err)
	}
	return s
}

func (c mapCase) name() string {
	return fmt.Sprintf("%s/%v", c.sys, c.event)
}

func got(r Result) string {
	if !r.HasStatus {
		return noStatus
	}
	return string(r.Status)
}

// TestEveryShippedRowHasACase checks each case against the maps and that
// the cases, together, reach every row of every shipped map.
func TestEveryShippedRowHasACase(t *testing.T) {
	s := mustDefault(t)
	covered := map[string]bool{}
	for _, c := range expected {
		t.Run(c.name(), func(t *testing.T) {
			res, row, err := s.match(c.sys, c.event)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if row == nil {
				t.Fatalf("no row matched (got %+v)", res)
			}
			if g := got(res); g != c.want {
				t.Errorf("got %s, want %s (row %s:%d)", g, c.want, row.File, row.Line)
			}
			key := fmt.Sprintf("%s:%d", row.File, row.Line)
			if covered[key] {
				t.Errorf("%s is already covered by another case: each case should test its own row", key)
			}
			covered[key] = true
		})
	}
	for _, sys := range schemas.Systems {
		rows := s.Rows(sys)
		if len(rows) == 0 {
			t.Errorf("%s: no rows", sys)
		}
		for _, r := range rows {
			if !covered[fmt.Sprintf("%s:%d", r.File, r.Line)] {
				t.Errorf("%s:%d %s %v → %s has no test case: add one to expected", r.File, r.Line, sys, r.Key, r.Canonical())
			}
		}
	}
}

func TestUnmappedCodesAreErrorsNamingSystemAndCode(t *testing.T) {
	s := mustDefault(t)
	for _, tc := range []struct {
		c    mapCase
		code string
	}{
		{car("easypost", "error", nil, ""), "easypost/error"}, // deliberately unmapped
		{car("easypost", "in-transit", "x", ""), "easypost/in-transit/x"},
		{car("fedex", "in_transit", nil, ""), "fedex/in_transit"},
		{car("direct", "teleported", "beam", ""), "direct/teleported/beam"},
		{sf("fulfillment_event", "lost_in_space", ""), "fulfillment_event/lost_in_space"},
		{sf("fulfilment_event", "in_transit", ""), "fulfilment_event/in_transit"},
		{oms("t", "", ""), "op=t"},              // truncate: deliberately unmapped
		{sf("order", "OPEN", ""), "order/OPEN"}, // Shopify fixes the case: exact
		{car("easypost", "Delivered", nil, ""), "easypost/Delivered"},
		{wms("SHIPPED", ""), "SHIPPED"},        // exact unless the map declares @case insensitive
		{oms("u", "confirmd", ""), "confirmd"}, // any case is not any spelling
		{wms("short_picked", ""), "short_picked"},
		{wms("", ""), ""},
		{hd("Teleported", ""), "teleported"},
		{nt("survey", ""), "survey"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			res, err := s.Resolve(tc.c.sys, tc.c.event)
			if !errors.Is(err, ErrUnmapped) {
				t.Fatalf("err = %v, want ErrUnmapped", err)
			}
			var ue *UnmappedError
			if !errors.As(err, &ue) || ue.System != tc.c.sys || ue.Code != tc.code {
				t.Fatalf("err = %#v, want system %s code %q", err, tc.c.sys, tc.code)
			}
			if msg := err.Error(); !strings.Contains(msg, string(tc.c.sys)) || !strings.Contains(msg, fmt.Sprintf("%q", tc.code)) {
				t.Errorf("message %q does not name system and code", msg)
			}
			if res.Code != tc.code || res.HasStatus || res.Status != "" {
				t.Errorf("result = %+v, want only Code %q", res, tc.code)
			}
		})
	}
}

func TestMalformedEventsAreInvalidNotUnmapped(t *testing.T) {
	s := mustDefault(t)
	for _, tc := range []struct {
		sys   schemas.System
		event map[string]any
		field string
	}{
		{schemas.Storefront, map[string]any{"status": "paid"}, "status_type"},
		{schemas.Storefront, map[string]any{"status_type": "order", "status": nil}, "status"},
		{schemas.OMS, map[string]any{"status": "NEW"}, "op"},
		{schemas.OMS, map[string]any{"op": "u"}, "status"},
		{schemas.WMS, map[string]any{"status": 7}, "status"},
		{schemas.Carrier, map[string]any{"status": "delivered"}, "provider"},
		{schemas.Carrier, map[string]any{"provider": "easypost", "status": "delivered", "sub_status": 3}, "sub_status"},
		{schemas.Helpdesk, map[string]any{"order_status_shown": []any{"Shipped"}}, "order_status_shown"},
		{schemas.Notifications, map[string]any{}, "status"},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.sys, tc.field), func(t *testing.T) {
			_, err := s.Resolve(tc.sys, tc.event)
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnmapped) {
				t.Fatalf("err = %v, want ErrInvalid only", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.field)) {
				t.Errorf("%v does not name field %q", err, tc.field)
			}
		})
	}
	if _, err := s.Resolve("erp", map[string]any{"status": "x"}); err == nil || !strings.Contains(err.Error(), "erp") {
		t.Errorf("unknown system: err = %v", err)
	}
}

func TestHelpdeskMatchesCaseInsensitivelyAfterTrimming(t *testing.T) {
	s := mustDefault(t)
	for _, shown := range []string{"Out for delivery", "out for delivery", "OUT FOR DELIVERY", "  Out For Delivery\t", "out   for\tdelivery"} {
		res, err := s.Resolve(schemas.Helpdesk, map[string]any{"order_status_shown": shown})
		if err != nil || res.Status != canonical.OutForDelivery || !res.HasStatus || res.Code != "out for delivery" {
			t.Errorf("%q: got %+v, %v", shown, res, err)
		}
	}
}

func TestEventsWithoutAStatusFieldHaveNoStatus(t *testing.T) {
	s := mustDefault(t)
	for _, ev := range []map[string]any{
		{"ticket_status": "solved", "order_status_shown": nil},
		{"ticket_status": "new"},
		{"ticket_status": "open", "order_status_shown": "   "},
	} {
		res, err := s.Resolve(schemas.Helpdesk, ev)
		if err != nil || res.HasStatus || res.Status != "" || res.Code != "" {
			t.Errorf("%v: got %+v, %v; want no status, no code, no error", ev, res, err)
		}
	}
}

func TestCodes(t *testing.T) {
	s := mustDefault(t)
	for _, c := range []struct {
		c    mapCase
		code string
	}{
		{sf("fulfillment_event", "in_transit", ""), "fulfillment_event/in_transit"},
		{car("aftership", "Exception", "Exception_013", ""), "aftership/Exception/Exception_013"},
		{car("easypost", "in_transit", "delivery_exception", ""), "easypost/in_transit/delivery_exception"},
		{car("easypost", "in_transit", nil, ""), "easypost/in_transit"},
		{car("easypost", "in_transit", "some_new_detail", ""), "easypost/in_transit/some_new_detail"}, // the scan's code, not the row's *
		{oms("d", "SHIPPED", ""), "op=d"},
		{oms("u", "SHIPPED", ""), "SHIPPED"},
		{nt("delay_notice", ""), "delay_notice"},
	} {
		res, err := s.Resolve(c.c.sys, c.c.event)
		if err != nil || res.Code != c.code {
			t.Errorf("%s: code %q, err %v; want %q", c.c.name(), res.Code, err, c.code)
		}
	}
}

func TestSpecificCarrierRowBeatsWildcardWhateverTheLineOrder(t *testing.T) {
	dir := shippedCopy(t)
	edit(t, dir, "carrier.map", func(string) string {
		return "provider status sub_status canonical\n" +
			"easypost in_transit delayed EXCEPTION\n" +
			"easypost in_transit * IN_TRANSIT\n" +
			"easypost delivered * DELIVERED\n"
	})
	s, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for sub, want := range map[string]canonical.Status{"delayed": canonical.Exception, "departed_facility": canonical.InTransit} {
		res, err := s.Resolve(schemas.Carrier, map[string]any{"provider": "easypost", "status": "in_transit", "sub_status": sub})
		if err != nil || res.Status != want {
			t.Errorf("%s: %+v %v, want %s", sub, res, err, want)
		}
	}
	// A status with no * row needs its sub_status listed.
	if _, err := s.Resolve(schemas.Carrier, map[string]any{"provider": "easypost", "status": "failure", "sub_status": "lost"}); !errors.Is(err, ErrUnmapped) {
		t.Errorf("failure/lost without a row: %v", err)
	}
	if s.Source() != dir {
		t.Errorf("Source = %q, want %q", s.Source(), dir)
	}
}

func TestRowsAreACopy(t *testing.T) {
	s := mustDefault(t)
	rows := s.Rows(schemas.WMS)
	rows[0].Key[0] = "mangled"
	rows[0].Status = canonical.Cancelled
	if again := s.Rows(schemas.WMS); again[0].Key[0] != "released" || again[0].Status != canonical.Released {
		t.Errorf("Rows shares state with the Set: %+v", again[0])
	}
	if s.Rows("erp") != nil || Columns("erp") != nil {
		t.Error("unknown system has rows or columns")
	}
	if got := strings.Join(Columns(schemas.Carrier), " "); got != "provider status sub_status" {
		t.Errorf("Columns(carrier) = %q", got)
	}
}

// TestResolveIsSafeForConcurrentUse runs under -race.
func TestResolveIsSafeForConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, err := Default()
			if err != nil {
				t.Error(err)
				return
			}
			for _, c := range expected {
				if _, err := s.Resolve(c.sys, c.event); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkResolve(b *testing.B) {
	s := mustDefault(b)
	ev := map[string]any{"provider": "aftership", "status": "Exception", "sub_status": "Exception_013"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Resolve(schemas.Carrier, ev); err != nil {
			b.Fatal(err)
		}
	}
}
