package schemas

import (
	"fmt"
	"strings"

	"github.com/baton-pipeline/baton/systems"
	"github.com/baton-pipeline/baton/systems/system"
)

// System is one of the source systems that touch an order. Each has its own
// source topic and value schema, and a folder of its own (package systems).
type System string

// The six systems the stages give a meaning of their own beyond their
// Spec: the store and the OMS promise dates, carrier scans set the
// estimates and are linked by tracking number, the help desk's tickets are
// WISMO's, the notifications are how a delay is told (see DESIGN.md's
// domain table). Every other system is known to the stages only through
// its Spec.
const (
	Storefront    System = "storefront"
	OMS           System = "oms"
	WMS           System = "wms"
	Carrier       System = "carrier"
	Helpdesk      System = "helpdesk"
	Notifications System = "notifications"
)

// Spec is what the pipeline needs to know of a source system's records,
// stated once in the system's folder (systems/<name>/, registered in
// package systems): every stage and the sink read it from Spec instead of
// keeping a list of its own, so a system missing there fails loudly
// (ParseSystem, Spec) instead of reading as empty fields downstream.
type Spec = system.Definition

// Audience and LinkKind are a Spec's roles (see system.Definition).
type (
	Audience = system.Audience
	LinkKind = system.LinkKind
)

// The roles' values.
const (
	NoOne         = system.NoOne
	Customers     = system.Customers
	Agents        = system.Agents
	LinksNothing  = system.LinksNothing
	LinksTracking = system.LinksTracking
	LinksTickets  = system.LinksTickets
)

// Systems lists every registered source system, in the registry's order.
var Systems, specs = registered()

// registered reads the registry. It panics on a registry that lacks one
// of the systems named above or names one twice: a programming error the
// package tests rule out.
func registered() ([]System, map[System]Spec) {
	list, byName := make([]System, len(systems.All)), map[System]Spec{}
	for i, def := range systems.All {
		sys := System(def.Name)
		if _, dup := byName[sys]; dup {
			panic(fmt.Sprintf("schemas: system %q registered twice", sys))
		}
		list[i], byName[sys] = sys, def
	}
	for _, sys := range []System{Storefront, OMS, WMS, Carrier, Helpdesk, Notifications} {
		if _, ok := byName[sys]; !ok {
			panic(fmt.Sprintf("schemas: system %q is not registered", sys))
		}
	}
	return list, byName
}

// Spec returns the system's description. It panics on a System not
// registered: a programming error, since ParseSystem admits only
// registered ones.
func (s System) Spec() Spec {
	spec, ok := SpecOf(s)
	if !ok {
		panic(fmt.Sprintf("schemas: system %q has no Spec", s))
	}
	return spec
}

// SpecOf returns the system's description; false for a System not
// registered (one map lookup: the stages call it per record).
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

// ParseSystem turns a name into a System, rejecting unknown names with the
// list of valid ones.
func ParseSystem(name string) (System, error) {
	for _, s := range Systems {
		if string(s) == name {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown system %q (want one of %s)", name, SystemNames())
}

// SystemNames lists the systems' names, comma-separated: for flag help
// and errors.
func SystemNames() string {
	names := make([]string, len(Systems))
	for i, s := range Systems {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// SchemaName is the embedded schema of the system's source topic value.
func (s System) SchemaName() string { return s.Spec().SchemaName }

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
