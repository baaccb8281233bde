package wismoreview_test

import (
	"fmt"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/reports/wismoreview"
)

// November against October: nine tickets the storefront's lag caused and
// six genuine questions over 3,000 orders, after eight questions over
// 2,000.
func ExampleNewReview() {
	review, err := wismoreview.NewReview(wismoreview.Month{Month: "2026-11", Orders: 3000, Rows: []wismoreview.Row{
		{Cause: canonical.WISMOViewerOutOfSync, Link: "carrier->storefront", Tickets: 9},
		{Cause: canonical.WISMONoSyncProblem, Tickets: 6},
	}}, []wismoreview.Month{{Month: "2026-10", Orders: 2000, Rows: []wismoreview.Row{{Cause: canonical.WISMONoSyncProblem, Tickets: 8}}}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.1f per 1,000 orders (%+.1f); fix first: %s\n", *review.Per1000Orders, *review.VsPrevious, review.FixFirst[0].Link)
	// Output:
	// 5.0 per 1,000 orders (+1.0); fix first: carrier->storefront
}
