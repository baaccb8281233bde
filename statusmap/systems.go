package statusmap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/baton-pipeline/baton/schemas"
)

// key is a lookup key: the values of a system's key columns, in header
// order; unused trailing columns are "". Rows and events both become keys,
// through the same table.lookupKey, so they compare exactly.
type key [3]string

// wildcard in a row's key column matches any value, including none. Only
// the carrier's sub_status column allows it (system.wildcard).
const wildcard = "*"

// noStatus in the canonical column marks a row whose events carry no order
// status (Result.HasStatus false).
const noStatus = "-"

// system describes one source system's map: its key columns, how an event
// becomes a lookup key, and which keys can never occur (so a row for one is
// unreachable). It is the only place that knows a system's fields.
type system struct {
	sys     schemas.System
	columns []string // key column names, as in the file header
	// wildcard is the index of the one column that may hold "*", or -1.
	wildcard int
	// norm turns a key value, from a file or an event, into the form keys
	// compare in; nil is the identity. The help desk folds case and
	// blanks, so its rows and events meet however the text was typed.
	norm func(string) string
	// fixedCase says why the vendor fixes the case of this system's codes,
	// so its map may not declare "@case insensitive" (format.go); "" when
	// the case is the integrator's (an OMS table, a WMS), where it may.
	fixedCase string
	// eventKey reads the lookup key from an event. has is false when the
	// event carries no status field at all (not an error); err wraps
	// ErrInvalid when a field the key needs is missing or not a string.
	eventKey func(plain map[string]any) (k key, has bool, err error)
	// unreachable says why a row's (normalized) key can never be an
	// event's key, or "" when it can.
	unreachable func(k key) string
}

// systems, in schemas.Systems order: a system with a lookup of its own
// (ownLookup), or one whose map has one key column, its Spec's status
// field (genericLookup).
var systems = func() []*system {
	out := make([]*system, len(schemas.Systems))
	for i, sys := range schemas.Systems {
		if s := ownLookup(sys); s != nil {
			out[i] = s
		} else {
			out[i] = genericLookup(sys)
		}
	}
	return out
}()

// genericLookup is the map of a system that has no lookup of its own: one
// key column, the Spec's status field, compared as written.
func genericLookup(sys schemas.System) *system {
	col := sys.Spec().StatusField
	return &system{
		sys: sys, columns: []string{col}, wildcard: -1,
		eventKey: func(p map[string]any) (key, bool, error) {
			s, err := field(p, sys, col)
			return key{s}, true, err
		},
		unreachable: func(key) string { return "" },
	}
}

// ownLookup returns the map of a system whose events are looked up their
// own way, nil for the others.
func ownLookup(sys schemas.System) *system {
	for _, s := range ownLookups {
		if s.sys == sys {
			return s
		}
	}
	return nil
}

// ownLookups are the systems whose maps are not the generic one.
var ownLookups = []*system{
	{
		sys: schemas.Storefront, columns: []string{"status_type", "status"}, wildcard: -1,
		fixedCase: "Shopify sends its status values in lower case",
		eventKey: func(p map[string]any) (key, bool, error) {
			t, err := field(p, schemas.Storefront, "status_type")
			if err != nil {
				return key{}, false, err
			}
			s, err := field(p, schemas.Storefront, "status")
			return key{t, s}, true, err
		},
		unreachable: func(k key) string {
			return oneOf("status_type", k[0], storefrontStatusTypes)
		},
	},
	{
		sys: schemas.OMS, columns: []string{"status"}, wildcard: -1,
		eventKey: func(p map[string]any) (key, bool, error) {
			op, err := field(p, schemas.OMS, "op")
			if err != nil {
				return key{}, false, err
			}
			if !slices.Contains(debeziumRowOps, op) {
				return key{opKeyPrefix + op}, true, nil
			}
			s, err := field(p, schemas.OMS, "status")
			return key{s}, true, err
		},
		unreachable: func(k key) string {
			op, ok := strings.CutPrefix(k[0], opKeyPrefix)
			if !ok || !slices.Contains(debeziumRowOps, op) {
				return ""
			}
			return fmt.Sprintf("Debezium op %q carries the row after the change and is looked up by its status column, never as %s%s", op, opKeyPrefix, op)
		},
	},
	{
		sys: schemas.Carrier, columns: []string{"provider", "status", "sub_status"}, wildcard: 2,
		fixedCase: "the providers are baton's names, and the direct vocabulary, EasyPost's statuses and AfterShip's tags are each spelt one way",
		eventKey: func(p map[string]any) (key, bool, error) {
			prov, err := field(p, schemas.Carrier, "provider")
			if err != nil {
				return key{}, false, err
			}
			s, err := field(p, schemas.Carrier, "status")
			if err != nil {
				return key{}, false, err
			}
			sub, err := optionalField(p, schemas.Carrier, "sub_status")
			return key{prov, s, sub}, true, err
		},
		unreachable: carrierUnreachable,
	},
	{
		sys: schemas.Helpdesk, columns: []string{"order_status_shown"}, wildcard: -1,
		norm: foldText,
		eventKey: func(p map[string]any) (key, bool, error) {
			s, err := optionalField(p, schemas.Helpdesk, "order_status_shown")
			s = foldText(s)
			// The ticket's own status (new, open, solved…) is not an order
			// status: a ticket without the order-status field shows none.
			return key{s}, s != "", err
		},
		unreachable: func(k key) string {
			if k[0] == "" {
				return "an empty order_status_shown is an event without an order status, never looked up"
			}
			return ""
		},
	},
}

func systemOf(sys schemas.System) (*system, error) {
	for _, s := range systems {
		if s.sys == sys {
			return s, nil
		}
	}
	return nil, fmt.Errorf("statusmap: unknown system %q", sys)
}

// fileName is the system's map file in a map directory.
func (s *system) fileName() string { return string(s.sys) + ".map" }

// header is the line a map file must start with.
func (s *system) header() []string { return append(slices.Clone(s.columns), "canonical") }

// normalize applies norm to every column of k.
func (s *system) normalize(k key) key {
	if s.norm != nil {
		for i := range s.columns {
			k[i] = s.norm(k[i])
		}
	}
	return k
}

// code is the source code as looked up, for metrics and dead letters:
// the key columns joined by "/", an absent trailing sub_status left out
// (e.g. "fulfillment_event/in_transit", "aftership/Exception/Exception_013",
// "easypost/in_transit").
func (s *system) code(k key) string {
	parts := k[:len(s.columns)]
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "/")
}

// The known-keys tables: the closed vocabularies a key column can take. A
// row outside them is unreachable. Only columns whose values the schema,
// the adapters or the vendor fix are listed; open vocabularies (WMS and
// notification codes, EasyPost status_detail, help-desk text) are not.
var (
	// storefrontStatusTypes: StorefrontEvent.status_type, the Shopify
	// vocabularies ingest/shopify emits (the Type* constants of
	// ingest/shopify/view).
	storefrontStatusTypes = []string{"order", "financial_status", "fulfillment_status", "fulfillment", "fulfillment_event", "refund"}
	// carrierProviders: CarrierEvent.provider (the ingest adapters and
	// the generic carrier webhook).
	carrierProviders = []string{"direct", "easypost", "aftership"}
	// easyPostStatuses: the EasyPost Tracker status enum.
	easyPostStatuses = []string{"unknown", "pre_transit", "in_transit", "out_for_delivery", "delivered",
		"available_for_pickup", "return_to_sender", "failure", "cancelled", "error"}
	// afterShipTags: the AfterShip delivery status (tag) enum. Every
	// AfterShip subtag is its tag followed by "_" and a number.
	afterShipTags = []string{"Pending", "InfoReceived", "InTransit", "OutForDelivery", "AttemptFail",
		"Delivered", "AvailableForPickup", "Exception", "Expired"}
	// debeziumRowOps carry the row after the change (create, update,
	// snapshot read): they are looked up by the status column. Every
	// other op (d delete, t truncate) has no row after it and is looked
	// up as "op=<op>".
	debeziumRowOps = []string{"c", "u", "r"}
)

// opKeyPrefix starts the OMS key of a Debezium event without a row after
// the change.
const opKeyPrefix = "op="

func carrierUnreachable(k key) string {
	provider, status, sub := k[0], k[1], k[2]
	if why := oneOf("provider", provider, carrierProviders); why != "" {
		return why
	}
	switch provider {
	case "easypost":
		return oneOf("EasyPost status", status, easyPostStatuses)
	case "aftership":
		if why := oneOf("AfterShip tag", status, afterShipTags); why != "" {
			return why
		}
		if sub != wildcard && !strings.HasPrefix(sub, status+"_") {
			return fmt.Sprintf("AfterShip subtags start with their tag: %q never arrives with tag %q (want %s_NNN)", sub, status, status)
		}
	}
	return ""
}

// oneOf returns why v is unreachable when it is not in known, else "".
func oneOf(what, v string, known []string) string {
	if slices.Contains(known, v) {
		return ""
	}
	return fmt.Sprintf("%s %q is never emitted (known: %s)", what, v, strings.Join(known, ", "))
}

// foldText is the help desk's key form: trimmed, lower case, inner runs
// of blanks as one space. Agents and integrations type "Out for delivery",
// "OUT FOR DELIVERY " or "out for  delivery" for the same status.
func foldText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// field returns a required string field of an event.
func field(p map[string]any, sys schemas.System, name string) (string, error) {
	v, ok := p[name].(string)
	if !ok {
		return "", fmt.Errorf("%w: %s event field %q is %s, want a string", ErrInvalid, sys, name, describe(p[name]))
	}
	return v, nil
}

// optionalField returns a nullable string field of an event; "" when null
// or absent.
func optionalField(p map[string]any, sys schemas.System, name string) (string, error) {
	switch v := p[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("%w: %s event field %q is %s, want a string or null", ErrInvalid, sys, name, describe(v))
	}
}

func describe(v any) string {
	if v == nil {
		return "missing or null"
	}
	return fmt.Sprintf("a %T (%v)", v, v)
}
