package simulator

import (
	"fmt"
	"time"
)

// DefaultStart is the first order's placement time when Config.Start is
// zero: a fixed date, so that a run is reproducible byte for byte.
var DefaultStart = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// DefaultOrderInterval is the mean gap between order placements when
// Config.OrderInterval is zero: 2,880 orders a day, a mid-size store. The gap
// also sets the generator's memory: events wait in a buffer until every
// earlier-arriving event has been generated, and an order's events span
// days to weeks, so the buffer holds roughly (lifecycle span / interval)
// orders' worth of events whatever the number of orders.
const DefaultOrderInterval = 30 * time.Second

// Config says how many orders to simulate and how often each hard case
// happens. The zero value of a share means "never": start from
// DefaultConfig for realistic shares.
type Config struct {
	// Orders is the number of orders to place.
	Orders int
	// Seed selects the run: the same Config gives the same events, byte for
	// byte; another seed gives other orders.
	Seed int64
	// Start is the first order's placement time (DefaultStart when zero).
	Start time.Time
	// OrderInterval is the mean gap between placements (exponentially
	// distributed; DefaultOrderInterval when zero).
	OrderInterval time.Duration

	// SplitShipmentShare of orders ship as 2–3 parcels, each with its own
	// tracking number; half of the later parcels are backordered and may
	// ship after the first is delivered.
	SplitShipmentShare float64
	// ReturnShare of orders with a delivered parcel are returned: OMS
	// RETURN_AUTHORIZED, a return label's carrier scans, WMS
	// return_received, then a refund.
	ReturnShare float64
	// FailedAttemptShare of parcels meet a failed delivery attempt, then a
	// re-attempt, a pickup point, or (after the pickup is missed) a return
	// to sender.
	FailedAttemptShare float64
	// CancelShare of orders are cancelled, mostly before shipping and a few
	// after the first parcel has left (which is then delivered anyway).
	CancelShare float64
	// ExceptionShare of parcels meet a carrier exception: a delay (with a
	// revised ETA), damage (then return to sender) or loss.
	ExceptionShare float64
	// WismoTicketShare of orders get a "where is my order" help-desk ticket.
	WismoTicketShare float64
	// HoldShare of orders are put ON_HOLD by the OMS (fraud review, address
	// verification) before they are confirmed. Orders whose payment is
	// pending are held as well, whatever this share.
	HoldShare float64
	// DuplicateShare of events are delivered twice: the same event, same
	// event_id and content, arriving again a little later.
	DuplicateShare float64
	// OutOfOrderShare of events arrive after a later event of the same
	// system and record key. Without it, each key's events arrive in the
	// order they were recorded.
	OutOfOrderShare float64

	// ViewerFaults, when set, switches to the ground-truth profile: lags
	// bounded so that every viewer check's outcome is certain, the faults
	// it names injected into the viewers' events, and Stats.GroundTruth
	// filled with what the pipeline's viewer checks must report (see the
	// package doc, "Ground truth"). Nil keeps the realistic profile, whose
	// output does not depend on anything below.
	ViewerFaults *ViewerFaults
}

// DefaultConfig returns realistic shares for a run of orders orders.
func DefaultConfig(orders int, seed int64) Config {
	return Config{
		Orders:             orders,
		Seed:               seed,
		Start:              DefaultStart,
		OrderInterval:      DefaultOrderInterval,
		SplitShipmentShare: 0.12,
		ReturnShare:        0.08,
		FailedAttemptShare: 0.06,
		CancelShare:        0.04,
		ExceptionShare:     0.04,
		WismoTicketShare:   0.06,
		HoldShare:          0.03,
		DuplicateShare:     0.01,
		OutOfOrderShare:    0.01,
	}
}

// normalized fills the zero Start and OrderInterval and rejects values that
// cannot describe a run.
func (c Config) normalized() (Config, error) {
	if c.Orders < 0 {
		return c, fmt.Errorf("simulator: Orders is %d, want >= 0", c.Orders)
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC().Truncate(time.Millisecond)
	if c.OrderInterval == 0 {
		c.OrderInterval = DefaultOrderInterval
	}
	if c.OrderInterval < 0 {
		return c, fmt.Errorf("simulator: OrderInterval is %v, want > 0", c.OrderInterval)
	}
	shares := []struct {
		name string
		v    float64
	}{
		{"SplitShipmentShare", c.SplitShipmentShare},
		{"ReturnShare", c.ReturnShare},
		{"FailedAttemptShare", c.FailedAttemptShare},
		{"CancelShare", c.CancelShare},
		{"ExceptionShare", c.ExceptionShare},
		{"WismoTicketShare", c.WismoTicketShare},
		{"HoldShare", c.HoldShare},
		{"DuplicateShare", c.DuplicateShare},
		{"OutOfOrderShare", c.OutOfOrderShare},
	}
	for _, s := range shares {
		if !(s.v >= 0 && s.v <= 1) { // also rejects NaN
			return c, fmt.Errorf("simulator: %s is %v, want a share in [0, 1]", s.name, s.v)
		}
	}
	if err := c.ViewerFaults.check(); err != nil {
		return c, err
	}
	if c.ExceptionShare+c.FailedAttemptShare > 1 {
		return c, fmt.Errorf("simulator: ExceptionShare + FailedAttemptShare is %v, want <= 1 (a parcel meets at most one)",
			c.ExceptionShare+c.FailedAttemptShare)
	}
	return c, nil
}
