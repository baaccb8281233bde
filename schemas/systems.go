package schemas

import (
	"fmt"
	"strings"
)

// System is one of the source systems that touch an order. Each has its own
// source topic and value schema.
type System string

// The six source systems (see DESIGN.md's domain table).
const (
	Storefront    System = "storefront"
	OMS           System = "oms"
	WMS           System = "wms"
	Carrier       System = "carrier"
	Helpdesk      System = "helpdesk"
	Notifications System = "notifications"
)

// Systems lists every source system in a stable order.
var Systems = []System{Storefront, OMS, WMS, Carrier, Helpdesk, Notifications}

// ParseSystem turns a name into a System, rejecting unknown names with the
// list of valid ones.
func ParseSystem(name string) (System, error) {
	for _, s := range Systems {
		if string(s) == name {
			return s, nil
		}
	}
	names := make([]string, len(Systems))
	for i, s := range Systems {
		names[i] = string(s)
	}
	return "", fmt.Errorf("unknown system %q (want one of %s)", name, strings.Join(names, ", "))
}

// SchemaName is the embedded schema of the system's source topic value.
func (s System) SchemaName() string {
	switch s {
	case Notifications:
		return "notification_event"
	default:
		return string(s) + "_event"
	}
}

// KeyFields are the value fields whose first non-empty one is the record
// key: the order ID everywhere, except that carrier scans are keyed by
// tracking number (their order ID is usually unknown until resolved) and
// help-desk tickets without an order reference fall back to the ticket ID.
func (s System) KeyFields() []string {
	switch s {
	case Carrier:
		return []string{"tracking_number"}
	case Helpdesk:
		return []string{"order_id", "ticket_id"}
	default:
		return []string{"order_id"}
	}
}

// Key returns the record key of a plain (JSON-form) value of this system.
func (s System) Key(plain map[string]any) (string, error) {
	for _, f := range s.KeyFields() {
		if v, ok := plain[f].(string); ok && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s record has no key: none of %s is set", s, strings.Join(s.KeyFields(), ", "))
}
