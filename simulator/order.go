package simulator

import (
	"fmt"
	"strconv"
	"time"
)

// order is what every system knows about one order: the identifiers shared
// across systems and the static facts its events render. It stays in
// memory until its last event has been emitted, so it holds no timeline.
type order struct {
	idx       int
	id        string // shared by every system
	number    string // the customer-facing order name, e.g. #1001
	customer  string
	placed    time.Time
	shipBy    time.Time // promised at checkout; zero when nothing was promised
	deliverBy time.Time
	payment   string // Shopify financial_status at checkout: paid, authorized, pending
	smsOptIn  bool
	dest      string // the delivery city
	lines     []item
	ships     []*shipment // the outbound parcels, then the return label if any
	returnID  string      // the RMA, once a return is authorised
	tickets   []*ticket
}

type item struct {
	sku string
	qty int
}

// shipment is one parcel: an outbound one from a warehouse, or a customer's
// return label back to it.
type shipment struct {
	id          string
	tracking    string
	carrier     string // UPS, FedEx, USPS, DHL
	provider    string // how its scans reach baton: easypost, aftership
	warehouse   string
	origin      string // the warehouse's city
	items       []item
	isReturn    bool
	backordered bool // ships days after the order's first parcel
	// scansCarryOrder: AfterShip trackings created with the order ID carry it
	// on every scan; all others carry only the tracking number.
	scansCarryOrder bool
}

// ticket is a help-desk ticket about the order.
type ticket struct {
	id      string
	subject string
	channel string // email, web, chat, phone
	// linked: the customer gave the order number, so the ticket carries the
	// order ID and shows its status; otherwise it is keyed by ticket ID.
	linked bool
	wismo  bool // a "where is my order" ticket (tagged wismo)
}

var (
	warehouses = []struct{ id, city string }{
		{"WH-RNO-1", "Reno, NV"}, {"WH-MEM-1", "Memphis, TN"}, {"WH-EWR-2", "Edison, NJ"},
	}
	hubs = []string{
		"Louisville, KY", "Indianapolis, IN", "Chicago, IL", "Dallas, TX", "Atlanta, GA",
		"Columbus, OH", "Ontario, CA", "Salt Lake City, UT", "Kansas City, MO", "Harrisburg, PA",
	}
	destinations = []string{
		"Seattle, WA", "Portland, OR", "Denver, CO", "Austin, TX", "Phoenix, AZ", "Minneapolis, MN",
		"Boston, MA", "Brooklyn, NY", "Miami, FL", "Nashville, TN", "San Diego, CA", "Raleigh, NC",
	}
	carriers = []string{"USPS", "UPS", "FedEx", "DHL"}
)

// newOrder draws an order's static facts: lines, promises, payment, and its
// parcels (how many, from where, with which carrier and tracking number).
func newOrder(idx int, placed time.Time, cfg *Config, r rng) *order {
	o := &order{
		idx:      idx,
		id:       fmt.Sprintf("ORD-%08d", idx+1),
		number:   "#" + strconv.Itoa(1001+idx),
		customer: fmt.Sprintf("CUS-%06d", 1+r.IntN(400000)),
		placed:   placed,
		smsOptIn: r.chance(0.4),
		dest:     r.pick(destinations),
		payment:  []string{"paid", "authorized", "pending"}[r.weighted(80, 15, 5)],
	}
	if r.chance(0.85) {
		// Ship by the end of the next day; deliver within 3–6 days of that.
		o.shipBy = dayStart(placed).Add(48*time.Hour - time.Second)
		o.deliverBy = dayStart(o.shipBy).Add(time.Duration(3+r.IntN(4))*24*time.Hour + 24*time.Hour - time.Second)
	}
	parcels := 1
	if r.chance(cfg.SplitShipmentShare) {
		parcels = 2 + r.IntN(2)
	}
	for range max(parcels, 1+r.weighted(45, 30, 15, 10)) {
		o.lines = append(o.lines, item{sku: fmt.Sprintf("SKU-%05d", 1+r.IntN(5000)), qty: 1 + r.weighted(75, 20, 5)})
	}
	provider := []string{"easypost", "aftership"}[r.IntN(2)]
	home := r.IntN(len(warehouses))
	for k := range parcels {
		wh := home
		s := &shipment{provider: provider}
		if k > 0 {
			if r.chance(0.5) {
				s.backordered = true
			} else {
				wh = (home + k) % len(warehouses) // same wave, from another warehouse
			}
		}
		o.addShipment(s, k, warehouses[wh].id, warehouses[wh].city, carriers[r.weighted(35, 30, 25, 10)], r)
	}
	// Deal the lines to the parcels: each parcel gets at least one.
	for i, l := range o.lines {
		k := i % parcels
		if i >= parcels {
			k = r.IntN(parcels)
		}
		o.ships[k].items = append(o.ships[k].items, l)
	}
	return o
}

// addShipment names parcel k and gives it a tracking number in its
// carrier's format. Tracking numbers embed the order index and parcel
// number so they are unique across a run; a tracking number must resolve
// to exactly one order.
func (o *order) addShipment(s *shipment, k int, warehouse, origin, carrier string, r rng) {
	s.warehouse, s.origin, s.carrier = warehouse, origin, carrier
	s.scansCarryOrder = s.provider == "aftership" && r.chance(0.6)
	serial := fmt.Sprintf("%010d", o.idx*10+k)
	switch carrier {
	case "UPS":
		s.tracking = fmt.Sprintf("1Z%06X%s", r.IntN(1<<24), serial)
	case "FedEx":
		s.tracking = fmt.Sprintf("%02d%s", r.IntN(100), serial)
	case "USPS":
		s.tracking = fmt.Sprintf("94001%07d%s", r.IntN(10_000_000), serial)
	default: // DHL
		s.tracking = serial
	}
	if s.isReturn {
		s.id = fmt.Sprintf("RET-%08d-%d", o.idx+1, k+1)
	} else {
		s.id = fmt.Sprintf("SHP-%08d-%d", o.idx+1, k+1)
	}
	o.ships = append(o.ships, s)
}

// outbound is the number of outbound parcels (the return label, if any,
// comes after them).
func (o *order) outbound() int {
	n := 0
	for _, s := range o.ships {
		if !s.isReturn {
			n++
		}
	}
	return n
}
