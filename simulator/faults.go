package simulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// ViewerFaults switches Generate to the ground-truth profile (see the
// package doc, "Ground truth") and says which faults to inject into each
// viewer's events.
type ViewerFaults struct {
	// Rates per viewer system (storefront, helpdesk, notifications); a
	// viewer missing from the map gets no faults. All zero is the profile
	// without injected faults: every check's outcome is still recorded.
	Rates map[schemas.System]FaultRates
	// Rules are the pipeline's rules the ground truth applies: status maps,
	// authorities and viewer checks. Required; package simulator/simrules
	// provides the pipeline's defaults (simrules.Default).
	Rules Rules
	// Trace, when set, receives each order's viewer-check inputs as the
	// ground truth judged them (in arrival order, after the faults): for
	// tests that replay them through the pipeline's own checker.
	Trace func(OrderTrace)
}

// OrderTrace is one order's viewer-check inputs, in the order they were
// judged.
type OrderTrace struct {
	OrderID string
	Calls   []CheckCall
	// Tickets are the order's WISMO tickets with their expected
	// attribution.
	Tickets []TicketTruth
}

// CheckCall is one input of the viewer checks: the order's truth moved
// (Viewer "", Status set), a viewer showed the order (Viewer set), or the
// event of the order that made the calls before it, if any, is done (only
// Watermark set; every event that reaches the unify stage ends with one):
// unify runs the checks its arrival made due there, after the event's own
// calls, so a replay in which only the order's own events move the clock
// calls Due there and nowhere else.
type CheckCall struct {
	// Watermark is when the input was processed: its event's arrival (a
	// carrier scan held for its link: the link's).
	Watermark time.Time
	Viewer    schemas.System
	// Status is the truth's new status, or what the viewer shows ("": an
	// event without a status).
	Status canonical.Status
	// At is the authoritative event's occurred_at, or the viewer's
	// recorded_at.
	At time.Time
	// Authority and Carrier name what moved the truth (Carrier: the scan's
	// carrier field, for a carrier's move).
	Authority schemas.System
	Carrier   string
	// ParcelOfMany: the viewer's event names one parcel of an order with
	// several outbound parcels (or more announced).
	ParcelOfMany bool
}

// FaultRates are the shares of the orders a viewer shows (has at least
// one event for) into which each fault is injected; at most one fault per
// order and viewer, so their sum is at most 1.
type FaultRates struct {
	// Delay: the viewer shows a status it would have shown in time only
	// after the truth's time + SLA + 1–60 minutes (its events meanwhile
	// wait and are delivered at once): LATE checks.
	Delay float64 `json:"delay"`
	// Drop: the viewer goes dark for the order from a status on: that
	// check and every later one are MISSING.
	Drop float64 `json:"drop"`
	// Conflict: the viewer shows CANCELLED (in its own words) for longer
	// than its SLA while the order is shipped or in transit, then shows the
	// true status again: one CONFLICT check.
	Conflict float64 `json:"conflict"`
}

func (f FaultRates) sum() float64 { return f.Delay + f.Drop + f.Conflict }

// Fault kinds, as they are named in --viewer-faults and the ground truth.
const (
	FaultDelay    = "delay"
	FaultDrop     = "drop"
	FaultConflict = "conflict"
)

// viewerSystems are the systems that can be viewers, in the order the
// ground truth lists them.
var viewerSystems = []schemas.System{schemas.Storefront, schemas.Helpdesk, schemas.Notifications}

// ParseViewerFaults reads the --viewer-faults syntax: viewer specs
// separated by ";", each "viewer=kind:rate,kind:rate" with viewer one of
// storefront, helpdesk, notifications or all (every viewer), kind one of
// delay, drop, conflict and rate a share in [0, 1]; e.g.
// "storefront=delay:0.02,drop:0.01,conflict:0.01;helpdesk=drop:0.05". A
// later spec for the same viewer and kind overrides an earlier one. "none"
// (or "") sets no faults: the ground-truth profile without faults.
func ParseViewerFaults(spec string) (map[schemas.System]FaultRates, error) {
	out := map[schemas.System]FaultRates{}
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return out, nil
	}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want viewer=kind:rate[,kind:rate…]", part)
		}
		name = strings.TrimSpace(name)
		var viewers []schemas.System
		switch {
		case name == "all":
			viewers = viewerSystems
		case slices.Contains(viewerSystems, schemas.System(name)):
			viewers = []schemas.System{schemas.System(name)}
		default:
			return nil, fmt.Errorf("%q: unknown viewer %q (valid: storefront, helpdesk, notifications, all)", part, name)
		}
		for _, item := range strings.Split(list, ",") {
			kind, value, ok := strings.Cut(strings.TrimSpace(item), ":")
			if !ok {
				return nil, fmt.Errorf("%q: %q: want kind:rate (e.g. delay:0.02)", part, item)
			}
			rate, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil || !(rate >= 0 && rate <= 1) {
				return nil, fmt.Errorf("%q: %s rate %q: want a share in [0, 1]", part, kind, value)
			}
			for _, v := range viewers {
				r := out[v]
				switch strings.TrimSpace(kind) {
				case FaultDelay:
					r.Delay = rate
				case FaultDrop:
					r.Drop = rate
				case FaultConflict, "contradict":
					r.Conflict = rate
				default:
					return nil, fmt.Errorf("%q: unknown fault %q (valid: delay, drop, conflict)", part, kind)
				}
				out[v] = r
			}
		}
	}
	for _, v := range viewerSystems {
		if r, ok := out[v]; ok && r.sum() > 1 {
			return nil, fmt.Errorf("%s rates sum to %v, want <= 1 (at most one fault per order and viewer)", v, r.sum())
		}
	}
	return out, nil
}

// FormatViewerFaults renders rates in the ParseViewerFaults syntax, viewers
// in a fixed order.
func FormatViewerFaults(rates map[schemas.System]FaultRates) string {
	var parts []string
	for _, v := range viewerSystems {
		r, ok := rates[v]
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=delay:%g,drop:%g,conflict:%g", v, r.Delay, r.Drop, r.Conflict))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ";")
}

// Rules are the pipeline rules the ground truth is computed with. The
// simulator cannot import the packages that define them (their tests
// import the simulator), so they are passed in; package simulator/simrules
// adapts the pipeline's own: statusmap for codes, unify's authority file
// and synccheck's viewer rules.
type Rules interface {
	// Status maps a source event (in Event.Value form) to its canonical
	// status; ok is false when the event carries none.
	Status(system schemas.System, value map[string]any) (status canonical.Status, ok bool, err error)
	// Authority is the system whose events set status; ok is false for
	// statuses no system decides (the aggregates).
	Authority(status canonical.Status) (system schemas.System, ok bool)
	// HintSystem is the system whose PARTIALLY_SHIPPED announces more
	// parcels than the order knows ("" for none).
	HintSystem() schemas.System
	// Viewers lists the checked viewers with their SLA and the statuses
	// each is expected to reflect.
	Viewers() []ViewerRule
	// MissingAfter is how long past its deadline an unreflected check
	// closes MISSING.
	MissingAfter() time.Duration
	// Reflects reports whether a viewer showing shown reflects the truth.
	Reflects(shown, truth canonical.Status) bool
	// Covers reports whether a viewer showing shown while the truth is
	// truth is merely behind it (no conflict).
	Covers(truth, shown canonical.Status) bool
}

// WismoRules are the WISMO rules (package processors/wismo) the ground
// truth's expected attributions follow. A Rules that also implements
// WismoRules supplies them (package simulator/simrules does, with the
// embedded wismo.map); otherwise the defaults apply: tickets are
// attributed to the storefront and notifications viewers, in that tie
// order, and the simulator's own WISMO tickets are those it tags wismo.
type WismoRules interface {
	// AttributeViewers lists the viewers a ticket may be attributed to,
	// in tie order (attribute_viewers).
	AttributeViewers() []schemas.System
	// IsWismo reports whether a help-desk ticket event with these tags
	// and subject is classified WISMO.
	IsWismo(tags []string, subject string) bool
}

// ViewerRule is one checked viewer.
type ViewerRule struct {
	System  schemas.System
	SLA     time.Duration
	Expects []canonical.Status
}

// check rejects faults that cannot be injected.
func (f *ViewerFaults) check() error {
	if f == nil {
		return nil
	}
	if f.Rules == nil {
		return fmt.Errorf("simulator: ViewerFaults.Rules is nil (use simrules.Default())")
	}
	configured := map[schemas.System]bool{}
	for _, v := range f.Rules.Viewers() {
		configured[v.System] = true
	}
	for v, r := range f.Rates {
		if !slices.Contains(viewerSystems, v) {
			return fmt.Errorf("simulator: ViewerFaults: %q is not a viewer (valid: storefront, helpdesk, notifications)", v)
		}
		for _, x := range []float64{r.Delay, r.Drop, r.Conflict} {
			if !(x >= 0 && x <= 1) {
				return fmt.Errorf("simulator: ViewerFaults: %s rate %v, want a share in [0, 1]", v, x)
			}
		}
		if r.sum() > 1 {
			return fmt.Errorf("simulator: ViewerFaults: %s rates sum to %v, want <= 1", v, r.sum())
		}
		if r.sum() > 0 && !configured[v] {
			return fmt.Errorf("simulator: ViewerFaults: %s is not a checked viewer in the rules", v)
		}
	}
	return nil
}
