package synccheck

import (
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/canonical"
)

// TestReflects covers every pair of canonical statuses: for each shown
// status, the complete list of truths it reflects; every other pair is
// false.
func TestReflects(t *testing.T) {
	const (
		upToPacked  = "PLACED CONFIRMED RELEASED PICKED PACKED"
		upToShipped = upToPacked + " PARTIALLY_SHIPPED SHIPPED"
		upToOFD     = upToShipped + " IN_TRANSIT OUT_FOR_DELIVERY"
		upToDeliv   = upToOFD + " PARTIALLY_DELIVERED DELIVERED"
	)
	reflects := map[canonical.Status]string{
		canonical.Placed:                "PLACED",
		canonical.OnHold:                "ON_HOLD", // a problem: no stage of lower rank than PLACED
		canonical.Confirmed:             "PLACED CONFIRMED",
		canonical.Released:              "PLACED CONFIRMED RELEASED",
		canonical.Picked:                "PLACED CONFIRMED RELEASED PICKED",
		canonical.Packed:                upToPacked,
		canonical.PartiallyShipped:      upToPacked + " PARTIALLY_SHIPPED", // not SHIPPED: only some parcels left
		canonical.Shipped:               upToShipped,
		canonical.InTransit:             upToShipped + " IN_TRANSIT",
		canonical.Exception:             upToShipped + " EXCEPTION",        // not the IN_TRANSIT beside it
		canonical.ReturnToSender:        upToShipped + " RETURN_TO_SENDER", // nor any other problem
		canonical.OutForDelivery:        upToShipped + " IN_TRANSIT OUT_FOR_DELIVERY",
		canonical.DeliveryAttemptFailed: upToShipped + " IN_TRANSIT DELIVERY_ATTEMPT_FAILED",
		canonical.AvailableForPickup:    upToOFD + " AVAILABLE_FOR_PICKUP",
		canonical.PartiallyDelivered:    upToOFD + " PARTIALLY_DELIVERED",
		canonical.Delivered:             upToDeliv,
		canonical.ReturnRequested:       upToDeliv + " RETURN_REQUESTED",
		canonical.ReturnInTransit:       upToDeliv + " RETURN_REQUESTED RETURN_IN_TRANSIT",
		canonical.Returned:              upToDeliv + " RETURN_REQUESTED RETURN_IN_TRANSIT RETURNED",
		canonical.Refunded:              upToDeliv + " RETURN_REQUESTED RETURN_IN_TRANSIT RETURNED REFUNDED",
		canonical.Cancelled:             "CANCELLED",
	}
	all := canonical.All()
	if len(reflects) != len(all) {
		t.Fatalf("the table covers %d statuses, canonical has %d", len(reflects), len(all))
	}
	for _, shown := range all {
		want := map[canonical.Status]bool{}
		for _, x := range strings.Fields(reflects[shown.Status]) {
			want[canonical.Status(x)] = true
		}
		for _, truth := range all {
			if got := Reflects(shown.Status, truth.Status); got != want[truth.Status] {
				t.Errorf("Reflects(shown %s, truth %s) = %v, want %v", shown.Status, truth.Status, got, !got)
			}
		}
		for _, odd := range []canonical.Status{"", "SHIPPED_ISH"} {
			if Reflects(shown.Status, odd) || Reflects(odd, shown.Status) {
				t.Errorf("%q reflects or is reflected by %s", odd, shown.Status)
			}
		}
	}
}
