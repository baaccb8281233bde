// Package canonical is baton's shared status language: the one vocabulary
// every source system's own status codes are mapped into (see statusmap),
// and the order and shipment lifecycles those statuses belong to.
//
// The lifecycle is ordered, so "has the order reached at least SHIPPED?" is
// a question the code can answer with AtLeast:
//
//	PLACED → CONFIRMED → RELEASED → PICKED → PACKED → SHIPPED → IN_TRANSIT → OUT_FOR_DELIVERY → DELIVERED
//
// Side states sit beside that line at the point they imply: ON_HOLD
// (before confirmation); DELIVERY_ATTEMPT_FAILED and AVAILABLE_FOR_PICKUP
// (the parcel reached the last mile but not the customer); EXCEPTION (lost,
// damaged, customs: the parcel had shipped); RETURN_TO_SENDER (the carrier
// sends it back); CANCELLED (a branch of its own: it implies no progress);
// and the return branch after delivery, itself ordered: RETURN_REQUESTED →
// RETURN_IN_TRANSIT → RETURNED → REFUNDED. For split shipments the order
// level has two aggregates, PARTIALLY_SHIPPED and PARTIALLY_DELIVERED.
//
// Statuses are order-level, shipment-level or both (Level): a shipment runs
// its own lifecycle from PACKED to DELIVERED (and its return), the order's
// is derived from its shipments once it has any.
package canonical

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Status is a canonical status name, e.g. "IN_TRANSIT".
type Status string

// The canonical statuses.
const (
	Placed                Status = "PLACED"
	OnHold                Status = "ON_HOLD"
	Confirmed             Status = "CONFIRMED"
	Released              Status = "RELEASED"
	Picked                Status = "PICKED"
	Packed                Status = "PACKED"
	PartiallyShipped      Status = "PARTIALLY_SHIPPED"
	Shipped               Status = "SHIPPED"
	InTransit             Status = "IN_TRANSIT"
	Exception             Status = "EXCEPTION"
	ReturnToSender        Status = "RETURN_TO_SENDER"
	OutForDelivery        Status = "OUT_FOR_DELIVERY"
	DeliveryAttemptFailed Status = "DELIVERY_ATTEMPT_FAILED"
	AvailableForPickup    Status = "AVAILABLE_FOR_PICKUP"
	PartiallyDelivered    Status = "PARTIALLY_DELIVERED"
	Delivered             Status = "DELIVERED"
	ReturnRequested       Status = "RETURN_REQUESTED"
	ReturnInTransit       Status = "RETURN_IN_TRANSIT"
	Returned              Status = "RETURNED"
	Refunded              Status = "REFUNDED"
	Cancelled             Status = "CANCELLED"
)

// Kind says where a status sits relative to the main lifecycle line.
type Kind string

// The kinds of status.
const (
	Stage     Kind = "stage"     // on the main line, ordered
	Side      Kind = "side"      // beside the line, implying the stage at its rank
	Aggregate Kind = "aggregate" // order level only: some shipments are further than others
	Branch    Kind = "branch"    // CANCELLED: leaves the line, implies no progress
)

// Level says whether a status describes an order, a shipment, or either.
type Level string

// The levels.
const (
	OrderLevel    Level = "order"
	ShipmentLevel Level = "shipment"
	EitherLevel   Level = "order+shipment"
)

// Info describes one status.
type Info struct {
	Status Status
	Kind   Kind
	Level  Level
	// Rank orders progress: a status with a higher rank implies every
	// stage of lower or equal rank has been reached. CANCELLED has rank 0.
	Rank int
	Doc  string
}

var infos = []Info{
	{Placed, Stage, OrderLevel, 10, "the customer placed the order"},
	{OnHold, Side, OrderLevel, 10, "held before confirmation (payment, fraud review, address check)"},
	{Confirmed, Stage, OrderLevel, 20, "accepted by the OMS for fulfilment"},
	{Released, Stage, OrderLevel, 30, "released to the warehouse"},
	{Picked, Stage, OrderLevel, 40, "items picked"},
	{Packed, Stage, EitherLevel, 50, "packed into a parcel"},
	{PartiallyShipped, Aggregate, OrderLevel, 55, "some, not all, shipments have left the warehouse"},
	{Shipped, Stage, EitherLevel, 60, "handed to the carrier"},
	{InTransit, Stage, EitherLevel, 70, "moving through the carrier network"},
	{Exception, Side, EitherLevel, 70, "carrier exception: lost, damaged, customs, delay"},
	{ReturnToSender, Side, EitherLevel, 70, "the carrier is sending the parcel back"},
	{OutForDelivery, Stage, EitherLevel, 80, "on the vehicle for delivery"},
	{DeliveryAttemptFailed, Side, EitherLevel, 80, "a delivery attempt failed; the carrier will retry or hold it"},
	{AvailableForPickup, Side, EitherLevel, 85, "waiting at a pickup point"},
	{PartiallyDelivered, Aggregate, OrderLevel, 88, "some, not all, shipments are delivered"},
	{Delivered, Stage, EitherLevel, 90, "delivered to the customer"},
	{ReturnRequested, Side, OrderLevel, 100, "the customer asked to return (return authorised)"},
	{ReturnInTransit, Side, EitherLevel, 110, "the return parcel is on its way back"},
	{Returned, Side, EitherLevel, 120, "the return was received at the warehouse"},
	{Refunded, Side, OrderLevel, 130, "the customer was refunded"},
	{Cancelled, Branch, OrderLevel, 0, "the order was cancelled"},
}

var byName = func() map[Status]Info {
	m := make(map[Status]Info, len(infos))
	for _, in := range infos {
		m[in.Status] = in
	}
	return m
}()

// All lists every canonical status, in lifecycle order.
func All() []Info {
	out := append([]Info(nil), infos...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rank < out[j].Rank })
	return out
}

// Parse turns a name into a Status, rejecting unknown names.
func Parse(name string) (Status, error) {
	s := Status(name)
	if _, ok := byName[s]; !ok {
		return "", fmt.Errorf("unknown canonical status %q", name)
	}
	return s, nil
}

// Valid reports whether s is a canonical status.
func (s Status) Valid() bool { _, ok := byName[s]; return ok }

// Info describes s; the zero Info for an unknown status.
func (s Status) Info() Info { return byName[s] }

// Rank is s's progress rank (see Info.Rank).
func (s Status) Rank() int { return byName[s].Rank }

// AtLeast reports whether an order (or shipment) in status s has reached
// stage: s's rank is at least stage's. A cancelled order has reached
// nothing; nothing implies CANCELLED but CANCELLED itself.
func (s Status) AtLeast(stage Status) bool {
	if !s.Valid() || !stage.Valid() {
		return false
	}
	if s == Cancelled || stage == Cancelled {
		return s == stage
	}
	return s.Rank() >= stage.Rank()
}

// ForShipment reports whether s can describe a single shipment.
func (s Status) ForShipment() bool {
	l := byName[s].Level
	return l == ShipmentLevel || l == EitherLevel
}

// Names lists the canonical names, for error messages.
func Names() string {
	names := make([]string, len(infos))
	for i, in := range All() {
		names[i] = string(in.Status)
	}
	return strings.Join(names, ", ")
}

// Class refines Kind for the lifecycle rules of the later stages: where a
// status sits and how a track moves through it.
type Class uint8

// The classes.
const (
	ClassNone      Class = iota // not a canonical status
	ClassStage                  // the main line, PLACED … DELIVERED
	ClassProblem                // a side state off the line, left by a recovery: ON_HOLD, EXCEPTION, RETURN_TO_SENDER, DELIVERY_ATTEMPT_FAILED, AVAILABLE_FOR_PICKUP
	ClassReturn                 // the return branch after delivery, ordered like stages: RETURN_REQUESTED … REFUNDED
	ClassAggregate              // order level only: PARTIALLY_SHIPPED, PARTIALLY_DELIVERED
	ClassBranch                 // CANCELLED
)

// Class is in's class: side states from RETURN_REQUESTED's rank on are the
// ordered return branch, the others problems.
func (in Info) Class() Class {
	switch in.Kind {
	case Stage:
		return ClassStage
	case Side:
		if in.Rank >= ReturnRequested.Rank() {
			return ClassReturn
		}
		return ClassProblem
	case Aggregate:
		return ClassAggregate
	case Branch:
		return ClassBranch
	}
	return ClassNone
}

// PlainTime reads a time of an event in Plain form (an RFC 3339 string, as
// schemas.Schema.Plain writes it, or a time.Time) as Unix milliseconds; 0
// for a nil that is not required. The stages that read canonical events
// (unify, its delay detection) share it so they agree on every time.
func PlainTime(v any, required bool) (int64, error) {
	switch t := v.(type) {
	case nil:
		if required {
			return 0, errors.New("missing")
		}
		return 0, nil
	case time.Time:
		return t.UnixMilli(), nil
	case string:
		ts, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return 0, fmt.Errorf("%q is not an RFC 3339 time", t)
		}
		return ts.UnixMilli(), nil
	}
	return 0, fmt.Errorf("%T is not a time", v)
}
