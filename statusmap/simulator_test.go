package statusmap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
)

// TestEverySimulatedEventResolves runs the simulator and resolves every
// event it emits: each code of its vocabulary (simulator/doc.go) must be
// mapped. Events without a status are allowed only where the maps say so
// on purpose: tickets without the order-status field, delay notices,
// partial refunds.
func TestEverySimulatedEventResolves(t *testing.T) {
	s := mustDefault(t)
	codes := map[schemas.System]map[string]int{}
	noStatus := map[string]int{}
	stats, err := simulator.Generate(simulator.DefaultConfig(2000, 1), func(ev simulator.Event) error {
		res, err := s.Resolve(ev.System, ev.Value)
		if err != nil {
			t.Errorf("%s event %v: %v", ev.System, ev.Value["event_id"], err)
			return nil
		}
		if codes[ev.System] == nil {
			codes[ev.System] = map[string]int{}
		}
		codes[ev.System][res.Code]++
		if !res.HasStatus {
			noStatus[string(ev.System)+" "+res.Code]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sys := range schemas.Systems {
		if stats.BySystem[sys] == 0 || len(codes[sys]) == 0 {
			t.Errorf("the simulator emitted no %s events", sys)
		}
	}
	allowed := map[string]bool{
		"helpdesk ":                  true,
		"notifications delay_notice": true,
		"storefront financial_status/partially_refunded": true,
		"oms PARTIALLY_REFUNDED":                         true,
		"helpdesk partially refunded":                    true,
		"returns label_issued":                           true,
	}
	for k, n := range noStatus {
		if !allowed[k] {
			t.Errorf("%d simulated events %q carry no status", n, k)
		}
	}
	distinct := make([]string, len(schemas.Systems))
	for i, sys := range schemas.Systems {
		distinct[i] = fmt.Sprintf("%s %d", sys, len(codes[sys]))
	}
	t.Logf("%d events; distinct codes: %s", stats.Events, strings.Join(distinct, ", "))
}
