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

// Spec is what the pipeline needs to know of a source system's records,
// stated once here: every stage and the sink read it from Spec instead of
// keeping a list of its own, so a system missing here fails loudly
// (ParseSystem, Spec) instead of reading as empty fields downstream.
type Spec struct {
	// Schema is the embedded Avro schema of the source topic's value.
	Schema string
	// KeyFields are the value fields whose first non-empty one is the
	// record key.
	KeyFields []string
	// RequiredIDs are the ID fields without which an event cannot be
	// placed on an order's timeline (normalize dead-letters it
	// missing_id).
	RequiredIDs []string
	// StatusField holds the source's own status code, DetailField its
	// detail code ("" when it has none): the source_events table's status
	// and sub_status columns.
	StatusField, DetailField string
	// Shows says whom the system shows an order's status to. A system
	// that shows it to anyone is a viewer: checked against the truth
	// (package synccheck) and blamed for the WISMO tickets it causes
	// (package wismo). The others are authorities or feeds.
	Shows Audience
	// Links says what the system's events link to their orders, if
	// anything: tracking numbers (so carrier scans find their order) or
	// tickets (so a help desk's order-less events do). Normalize holds the
	// events that wait for a link until every linking system's partitions
	// have moved past them.
	Links LinkKind
}

// Audience is whom a viewer shows an order's status to.
type Audience int

const (
	// NoOne: the system is an authority or a feed, not a viewer.
	NoOne Audience = iota
	// Customers: a customer-facing viewer (the storefront's order page,
	// the notifications sent). WISMO attribution blames these first, and
	// only these unless its rules say otherwise.
	Customers
	// Agents: an agent-facing viewer (the help desk's order field).
	Agents
)

// LinkKind is what a system's events link to their orders.
type LinkKind int

const (
	// LinksNothing: the system's events link nothing.
	LinksNothing LinkKind = iota
	// LinksTracking: its shipments carry tracking numbers, which carrier
	// scans are linked to their order by.
	LinksTracking
	// LinksTickets: its events carry ticket IDs with their order, which
	// its later order-less events are linked by.
	LinksTickets
)

// specs, one per System.
var specs = map[System]Spec{
	// Storefront (Shopify orders and fulfillments): status_type says which
	// of Shopify's status fields the status came from.
	Storefront: {Schema: "storefront_event", KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
		StatusField: "status", DetailField: "status_type", Shows: Customers, Links: LinksTracking},
	// OMS (Debezium change events): op is the row operation.
	OMS: {Schema: "oms_event", KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
		StatusField: "status", DetailField: "op"},
	WMS: {Schema: "wms_event", KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
		StatusField: "status", Links: LinksTracking},
	// Carrier scans are keyed and linked by tracking number: their order
	// ID is usually unknown until resolved.
	Carrier: {Schema: "carrier_event", KeyFields: []string{"tracking_number"}, RequiredIDs: []string{"event_id", "tracking_number"},
		StatusField: "status", DetailField: "sub_status"},
	// Help-desk tickets without an order reference fall back to the
	// ticket ID (normalize requires one of the two).
	Helpdesk: {Schema: "helpdesk_event", KeyFields: []string{"order_id", "ticket_id"}, RequiredIDs: []string{"event_id"},
		StatusField: "ticket_status", DetailField: "order_status_shown", Shows: Agents, Links: LinksTickets},
	Notifications: {Schema: "notification_event", KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
		StatusField: "status", DetailField: "delivery_status", Shows: Customers},
}

// Spec returns the system's description. It panics on a System not
// declared here: a programming error, since ParseSystem admits only
// declared ones.
func (s System) Spec() Spec {
	spec, ok := SpecOf(s)
	if !ok {
		panic(fmt.Sprintf("schemas: system %q has no Spec", s))
	}
	return spec
}

// SpecOf returns the system's description; false for a System not
// declared here (one map lookup: the stages call it per record).
func SpecOf(s System) (Spec, bool) {
	spec, ok := specs[s]
	return spec, ok
}

// SystemsWhere lists the systems whose Spec satisfies keep, in Systems'
// order: the lists of viewers and link sources the stages use are drawn
// from the Specs instead of being kept by hand.
func SystemsWhere(keep func(Spec) bool) []System {
	var out []System
	for _, s := range Systems {
		if keep(specs[s]) {
			out = append(out, s)
		}
	}
	return out
}

// IsViewer reports whether the system shows an order's status to anyone.
func (s Spec) IsViewer() bool { return s.Shows != NoOne }

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
func (s System) SchemaName() string { return s.Spec().Schema }

// KeyFields are the value fields whose first non-empty one is the record
// key: the order ID everywhere, except that carrier scans are keyed by
// tracking number (their order ID is usually unknown until resolved) and
// help-desk tickets without an order reference fall back to the ticket ID.
func (s System) KeyFields() []string { return s.Spec().KeyFields }

// Key returns the record key of a plain (JSON-form) value of this system.
func (s System) Key(plain map[string]any) (string, error) {
	for _, f := range s.KeyFields() {
		if v, ok := plain[f].(string); ok && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s record has no key: none of %s is set", s, strings.Join(s.KeyFields(), ", "))
}
