package simulator

import (
	"slices"
	"time"
)

// factKind is something that really happened to an order or a parcel, in
// the simulator's own neutral words. Facts are the truth; each system's
// events are projections of them in that system's vocabulary, at that
// system's own times.
type factKind uint8

const (
	kPlaced          factKind = iota // storefront: checkout
	kPaymentCaptured                 // storefront: an authorized or pending payment is captured
	kImported                        // OMS: the order row is created
	kOnHold                          // OMS
	kConfirmed                       // OMS
	kAllocated                       // OMS: sent to the warehouse
	kReleased                        // WMS, per parcel
	kPicked
	kPacked
	kShipped      // WMS: handed to the carrier
	kLabelCreated // carrier: label bought at the pack station (pre-transit)
	kInTransit    // carrier: a checkpoint scan; see scanKind
	kDelayed      // carrier: a delay exception with a revised ETA
	kOutForDelivery
	kAttemptFailed
	kAvailableForPickup
	kDelivered
	kLost
	kDamaged
	kReturnToSender   // carrier: the parcel starts back to the warehouse
	kReturnedToSender // carrier: back at the warehouse
	kReturnReceived   // WMS: a returned parcel checked in
	kCancelled        // OMS
	kReturnRequested  // OMS: return authorised (RMA)
	kRefunded         // OMS (and storefront): money back
)

// scanKind says which checkpoint a kInTransit fact is.
type scanKind uint8

const (
	scanAccepted    scanKind = iota // origin scan: the carrier has the parcel
	scanDeparted                    // departed a facility
	scanArrived                     // arrived at a hub
	scanDestination                 // arrived at the destination facility
)

// Delivery variants (fact.variant of kDelivered).
const (
	deliveredAtDoor = iota
	deliveredPickedUp
	deliveredSigned
)

// fact is one true event. ship indexes order.ships (-1: the order as a
// whole).
type fact struct {
	at time.Time
	// known is when the fact's authority recorded it, so that the rest of
	// the world could learn of it: viewers lag from here, not from at.
	known   time.Time
	kind    factKind
	ship    int
	scan    scanKind
	variant int       // a vendor-detail choice made once, e.g. which failed-attempt reason
	reason  string    // hold reason, return-to-sender reason, cancel reason
	loc     string    // carrier scan location
	eta     time.Time // carrier ETA as of this scan; zero when the scan has none
	partial bool      // kRefunded: part of the order only
}

// cases counts which hard cases an order met, for Stats.
type cases struct {
	split, held, cancelled, cancelledAfterShip, returned        bool
	failedAttempts, exceptions, returnedToSender, lost, damaged int
}

// planner draws one order's true lifecycle.
type planner struct {
	o     *order
	cfg   *Config
	r     rng
	facts []fact
	cases cases

	allocated time.Time
	shipped   []time.Time // per parcel; zero if it never ships
	delivered []time.Time // per parcel; zero if never delivered
	lost      []time.Time
	rtsBack   []time.Time // when a returned-to-sender parcel was checked in
}

// lateCancelShare of cancellations come after the first parcel left: the
// customer cancels, the parcel is delivered anyway.
const lateCancelShare = 0.15

// planOrder returns the order's facts sorted by time, and the hard cases it
// met.
func planOrder(o *order, cfg *Config, r rng) ([]fact, cases) {
	n := len(o.ships)
	p := &planner{o: o, cfg: cfg, r: r, facts: make([]fact, 0, 48),
		shipped: make([]time.Time, n), delivered: make([]time.Time, n),
		lost: make([]time.Time, n), rtsBack: make([]time.Time, n)}
	p.cases.split = n > 1
	p.checkout()
	cancel := r.chance(cfg.CancelShare)
	late := cancel && r.chance(lateCancelShare)
	for k := range n {
		p.fulfil(k)
	}
	p.capture()
	if cancel {
		p.cancel(late)
	} else {
		p.settle()
		p.maybeReturn()
	}
	slices.SortStableFunc(p.facts, func(a, b fact) int { return a.at.Compare(b.at) })
	for i := range p.facts {
		f := &p.facts[i]
		f.known = f.at.Add(drawRecordLag(cfg, f.kind, r))
	}
	return p.facts, p.cases
}

// recordLag is how long a fact's authority takes to record it: the
// storefront and the OMS database commit within a second, warehouse scanners
// sync within seconds, carriers publish scans (through the aggregators)
// within minutes.
func recordLag(k factKind) lagProfile {
	switch k {
	case kReleased, kPicked, kPacked, kShipped, kReturnReceived:
		return wmsRecordLag
	case kLabelCreated, kInTransit, kDelayed, kOutForDelivery, kAttemptFailed, kAvailableForPickup,
		kDelivered, kLost, kDamaged, kReturnToSender, kReturnedToSender:
		return carrierPublishLag
	default:
		return commitLag
	}
}

// drawRecordLag draws the recording lag of a fact of kind k: in the
// ground-truth profile bounded by gtRecordLagCap, so that a viewer's lag
// counted from the fact stays inside its SLA.
func drawRecordLag(cfg *Config, k factKind, r rng) time.Duration {
	if cfg.ViewerFaults != nil {
		return recordLag(k).capped(r, gtRecordLagCap)
	}
	return recordLag(k).must(r)
}

func (p *planner) add(f fact) { p.facts = append(p.facts, f) }

func (p *planner) orderFact(at time.Time, k factKind) {
	p.add(fact{at: at, kind: k, ship: -1})
}

func (p *planner) shipFact(at time.Time, k factKind, ship int) {
	p.add(fact{at: at, kind: k, ship: ship})
}

// checkout: placed → imported by the OMS → (on hold →) confirmed →
// allocated to the warehouse.
func (p *planner) checkout() {
	r, o := p.r, p.o
	p.orderFact(o.placed, kPlaced)
	imported := o.placed.Add(omsImportLag.must(r))
	p.orderFact(imported, kImported)
	var confirmed time.Time
	switch {
	case o.payment == "pending":
		// Bank transfers and the like: held until the money arrives.
		hold := imported.Add(r.between(time.Second, 20*time.Second))
		p.add(fact{at: hold, kind: kOnHold, ship: -1, reason: "payment_pending"})
		paid := o.placed.Add(r.between(time.Hour, 30*time.Hour))
		p.orderFact(paid, kPaymentCaptured)
		confirmed = later(paid, hold).Add(r.between(30*time.Second, 10*time.Minute))
		p.cases.held = true
	case r.chance(p.cfg.HoldShare):
		hold := imported.Add(r.between(5*time.Second, 5*time.Minute))
		p.add(fact{at: hold, kind: kOnHold, ship: -1, reason: r.pick([]string{"fraud_review", "address_verification"})})
		confirmed = hold.Add(r.around(6*time.Hour, 1, 30*time.Minute, 48*time.Hour))
		p.cases.held = true
	default:
		confirmed = imported.Add(r.around(90*time.Second, 1, 5*time.Second, 20*time.Minute))
	}
	p.orderFact(confirmed, kConfirmed)
	p.allocated = confirmed.Add(r.between(time.Minute, 30*time.Minute))
	p.orderFact(p.allocated, kAllocated)
}

// fulfil plans parcel k through the warehouse and the carrier.
func (p *planner) fulfil(k int) {
	r, s := p.r, p.o.ships[k]
	var released time.Time
	switch {
	case k == 0:
		released = p.allocated.Add(r.around(40*time.Minute, 1, 5*time.Minute, 4*time.Hour))
	case s.backordered:
		released = p.allocated.Add(r.between(24*time.Hour, 7*24*time.Hour))
	default: // same wave as the first parcel, from another warehouse
		released = p.allocated.Add(r.around(40*time.Minute, 1, 5*time.Minute, 4*time.Hour))
	}
	picked := released.Add(r.around(25*time.Minute, 0.8, 3*time.Minute, 3*time.Hour))
	packed := picked.Add(r.around(8*time.Minute, 0.7, time.Minute, time.Hour))
	label := packed.Add(r.between(5*time.Second, 3*time.Minute))
	shipped := p.pickup(packed)
	p.shipFact(released, kReleased, k)
	p.shipFact(picked, kPicked, k)
	p.shipFact(packed, kPacked, k)
	p.shipFact(shipped, kShipped, k)
	p.shipped[k] = shipped
	p.transit(k, label, shipped)
}

// pickup is when the carrier collects a parcel packed at packed: the
// late-afternoon truck, the next day's if the parcel missed this one.
func (p *planner) pickup(packed time.Time) time.Time {
	at := dayStart(packed).Add(17*time.Hour + p.r.between(-45*time.Minute, 75*time.Minute))
	if packed.Add(20 * time.Minute).After(at) {
		at = nextDayAt(packed, 17*time.Hour+p.r.between(-45*time.Minute, 75*time.Minute))
	}
	return at
}

// checkpoint is a planned carrier scan.
type checkpoint struct {
	at   time.Time
	scan scanKind
	loc  string
}

// route plans a parcel's checkpoints from acceptance to the destination
// facility over days transit days: departed origin, then arrived/departed
// per hub, then the destination facility in the early morning of the
// delivery day.
func (p *planner) route(s *shipment, accepted, deliveryDay time.Time, days int, dest string) []checkpoint {
	r := p.r
	cps := []checkpoint{{accepted, scanAccepted, s.origin}}
	last := deliveryDay.Add(r.between(2*time.Hour, 5*time.Hour+30*time.Minute))
	steps := []checkpoint{{scan: scanDeparted, loc: s.origin}}
	for range days - 1 {
		hub := r.pick(hubs)
		steps = append(steps, checkpoint{scan: scanArrived, loc: hub}, checkpoint{scan: scanDeparted, loc: hub})
	}
	gap := last.Sub(accepted) / time.Duration(len(steps)+1)
	for i, st := range steps {
		st.at = accepted.Add(gap*time.Duration(i+1) + r.between(-gap/3, gap/3))
		cps = append(cps, st)
	}
	return append(cps, checkpoint{last, scanDestination, dest})
}

// transit plans the carrier's side of outbound parcel k: label, scans, and
// then delivery or the parcel's trouble (delay, damage, loss, failed
// attempts).
func (p *planner) transit(k int, label, shipped time.Time) {
	r, o, s := p.r, p.o, p.o.ships[k]
	days := 1 + r.weighted(10, 30, 30, 20, 10)
	deliveryDay := dayStart(shipped).AddDate(0, 0, days)
	eta := deliveryDay.Add(20 * time.Hour)
	p.add(fact{at: label, kind: kLabelCreated, ship: k, loc: s.origin, eta: eta})
	accepted := shipped.Add(r.between(20*time.Minute, 3*time.Hour))
	cps := p.route(s, accepted, deliveryDay, days, o.dest)

	u := r.Float64()
	switch {
	case u < p.cfg.ExceptionShare:
		p.cases.exceptions++
		p.exception(k, cps, eta, deliveryDay)
	case u < p.cfg.ExceptionShare+p.cfg.FailedAttemptShare:
		p.cases.failedAttempts++
		p.scans(k, cps, eta)
		p.deliver(k, deliveryDay, true)
	default:
		p.scans(k, cps, eta)
		p.deliver(k, deliveryDay, false)
	}
}

// scans adds checkpoints as kInTransit facts; the acceptance scan carries
// the ETA, as carriers' first scans do.
func (p *planner) scans(k int, cps []checkpoint, eta time.Time) {
	for i, c := range cps {
		f := fact{at: c.at, kind: kInTransit, ship: k, scan: c.scan, loc: c.loc}
		if i == 0 {
			f.eta = eta
		}
		p.add(f)
	}
}

// exception: a delay (then delivery, later), damage (then back to the
// warehouse) or loss, striking after checkpoint j.
func (p *planner) exception(k int, cps []checkpoint, eta, deliveryDay time.Time) {
	r := p.r
	j := r.IntN(len(cps) - 1)
	at := cps[j].at.Add(r.between(time.Hour, 8*time.Hour))
	switch r.weighted(50, 25, 25) {
	case 0:
		slip := time.Duration(1+r.IntN(3)) * 24 * time.Hour
		for i := j + 1; i < len(cps); i++ {
			cps[i].at = cps[i].at.Add(slip)
		}
		p.scans(k, cps, eta)
		p.add(fact{at: at, kind: kDelayed, ship: k, loc: cps[j].loc, eta: eta.Add(slip), variant: r.IntN(2)})
		p.deliver(k, deliveryDay.Add(slip), false)
	case 1:
		p.cases.damaged++
		p.scans(k, cps[:j+1], eta)
		p.add(fact{at: at, kind: kDamaged, ship: k, loc: cps[j].loc})
		p.returnToSender(k, at.Add(r.between(6*time.Hour, 30*time.Hour)), "damaged", cps[j].loc)
	default:
		p.cases.lost++
		p.scans(k, cps[:j+1], eta)
		lost := cps[j].at.Add(r.between(2*24*time.Hour, 5*24*time.Hour))
		p.add(fact{at: lost, kind: kLost, ship: k, loc: cps[j].loc})
		p.lost[k] = lost
	}
}

// deliver plans the delivery round on day: out for delivery in the
// morning, delivered during the day; or, when it fails, a re-attempt, a
// pickup point, or a pickup point that is never visited.
func (p *planner) deliver(k int, day time.Time, fails bool) {
	r, o := p.r, p.o
	ofd := day.Add(r.between(6*time.Hour+45*time.Minute, 9*time.Hour+30*time.Minute))
	p.add(fact{at: ofd, kind: kOutForDelivery, ship: k, loc: o.dest, eta: day.Add(20 * time.Hour)})
	done := ofd.Add(r.between(time.Hour, 9*time.Hour))
	if !fails {
		variant := []int{deliveredAtDoor, deliveredSigned}[r.weighted(80, 20)]
		p.add(fact{at: done, kind: kDelivered, ship: k, loc: o.dest, variant: variant})
		p.delivered[k] = done
		return
	}
	p.add(fact{at: done, kind: kAttemptFailed, ship: k, loc: o.dest, variant: r.IntN(3)})
	switch r.weighted(55, 30, 15) {
	case 0: // re-attempted the next day
		if r.chance(0.2) {
			next := nextDayAt(done, 0)
			ofd2 := next.Add(r.between(6*time.Hour+45*time.Minute, 9*time.Hour+30*time.Minute))
			p.add(fact{at: ofd2, kind: kOutForDelivery, ship: k, loc: o.dest})
			failed2 := ofd2.Add(r.between(time.Hour, 9*time.Hour))
			p.add(fact{at: failed2, kind: kAttemptFailed, ship: k, loc: o.dest, variant: r.IntN(3)})
			p.pickupPoint(k, failed2, true)
			return
		}
		p.deliver(k, nextDayAt(done, 0), false)
	case 1:
		p.pickupPoint(k, done, true)
	default:
		p.pickupPoint(k, done, false)
	}
}

// pickupPoint: the parcel waits at a pickup point from the morning after
// the failed attempt; it is collected, or after a week goes back.
func (p *planner) pickupPoint(k int, failed time.Time, collected bool) {
	r, o, s := p.r, p.o, p.o.ships[k]
	point := s.carrier + " Access Point, " + o.dest
	ready := nextDayAt(failed, r.between(8*time.Hour, 12*time.Hour))
	p.add(fact{at: ready, kind: kAvailableForPickup, ship: k, loc: point})
	if collected {
		at := ready.Add(r.around(30*time.Hour, 0.8, 2*time.Hour, 6*24*time.Hour))
		p.add(fact{at: at, kind: kDelivered, ship: k, loc: point, variant: deliveredPickedUp})
		p.delivered[k] = at
		return
	}
	p.returnToSender(k, ready.Add(r.between(5*24*time.Hour, 7*24*time.Hour)), "unclaimed", point)
}

// returnToSender sends parcel k back: carrier return scans, then the WMS
// checks it in.
func (p *planner) returnToSender(k int, at time.Time, reason, loc string) {
	r, s := p.r, p.o.ships[k]
	p.cases.returnedToSender++
	p.add(fact{at: at, kind: kReturnToSender, ship: k, reason: reason, loc: loc})
	back := at.Add(r.between(2*24*time.Hour, 5*24*time.Hour))
	p.add(fact{at: back, kind: kReturnedToSender, ship: k, loc: s.origin})
	checkedIn := back.Add(r.between(3*time.Hour, 2*24*time.Hour))
	p.shipFact(checkedIn, kReturnReceived, k)
	p.rtsBack[k] = checkedIn
}

// capture: an authorized payment is captured when the first parcel ships.
func (p *planner) capture() {
	if p.o.payment != "authorized" {
		return
	}
	first := p.shipped[0]
	for _, t := range p.shipped {
		first = earlier(first, t)
	}
	p.orderFact(first.Add(p.r.between(0, 10*time.Minute)), kPaymentCaptured)
}

// cancel cancels the order: before its first parcel ships (the warehouse
// stops where it was and voids any label it bought, so every scanned
// tracking number is one the WMS shipped), or late, after it left (parcels
// already with the carrier are delivered anyway; the others stop). A
// captured payment is refunded, an uncaptured one voided.
func (p *planner) cancel(late bool) {
	r, o := p.r, p.o
	first := slices.MinFunc(p.shipped, func(a, b time.Time) int { return a.Compare(b) })
	var at time.Time
	if late {
		at = first.Add(r.between(10*time.Minute, 6*time.Hour))
	} else {
		lo, hi := o.placed.Add(5*time.Minute), first.Add(-10*time.Minute)
		at = lo.Add(r.between(0, hi.Sub(lo)))
	}
	kept := p.facts[:0]
	for _, f := range p.facts {
		shippedBefore := f.ship >= 0 && !p.shipped[f.ship].After(at)
		voided := f.kind == kLabelCreated && !shippedBefore
		if shippedBefore || (!f.at.After(at) && !voided) {
			kept = append(kept, f)
		}
	}
	p.facts = kept
	captured := o.payment == "paid"
	for _, f := range p.facts {
		captured = captured || f.kind == kPaymentCaptured
	}
	p.add(fact{at: at, kind: kCancelled, ship: -1, reason: r.pick([]string{"customer", "customer", "inventory", "fraud"})})
	if captured {
		p.add(fact{at: at.Add(r.between(time.Minute, 2*time.Hour)), kind: kRefunded, ship: -1})
	}
	p.cases.cancelled, p.cases.cancelledAfterShip = true, late
}

// settle refunds parcels that never reached the customer: lost ones after
// the carrier's investigation, returned-to-sender ones once checked in.
func (p *planner) settle() {
	r, partial := p.r, p.o.outbound() > 1
	for k := range p.o.ships {
		switch {
		case !p.lost[k].IsZero():
			p.add(fact{at: p.lost[k].Add(r.between(24*time.Hour, 4*24*time.Hour)), kind: kRefunded, ship: k, partial: partial})
		case !p.rtsBack[k].IsZero():
			p.add(fact{at: p.rtsBack[k].Add(r.between(time.Hour, 2*24*time.Hour)), kind: kRefunded, ship: k, partial: partial})
		}
	}
}

// maybeReturn: days after delivery the customer returns one or all of the
// delivered parcels on a new return label: RMA → label → carrier scans →
// delivered to the warehouse → checked in → refunded.
func (p *planner) maybeReturn() {
	r, o := p.r, p.o
	var got []int
	for k, t := range p.delivered {
		if !t.IsZero() {
			got = append(got, k)
		}
	}
	if len(got) == 0 || !r.chance(p.cfg.ReturnShare) {
		return
	}
	if len(got) > 1 && r.chance(0.5) {
		got = []int{got[r.IntN(len(got))]}
	}
	p.cases.returned = true
	rs := &shipment{isReturn: true, provider: o.ships[got[0]].provider}
	var last time.Time
	for _, k := range got {
		rs.items = append(rs.items, o.ships[k].items...)
		last = later(last, p.delivered[k])
	}
	from := o.ships[got[0]]
	ret := len(o.ships)
	o.addShipment(rs, ret, from.warehouse, o.dest, []string{"USPS", "UPS"}[r.IntN(2)], r)
	o.returnID = "RMA-" + o.id[4:]

	requested := last.Add(r.around(5*24*time.Hour, 0.6, 24*time.Hour, 28*24*time.Hour))
	p.add(fact{at: requested, kind: kReturnRequested, ship: ret})
	label := requested.Add(r.between(time.Minute, time.Hour))
	p.add(fact{at: label, kind: kLabelCreated, ship: ret, loc: o.dest})
	accepted := label.Add(r.between(6*time.Hour, 4*24*time.Hour))
	days := 1 + r.IntN(4)
	arrival := dayStart(accepted).AddDate(0, 0, days)
	p.scans(ret, p.route(rs, accepted, arrival, days, from.origin), time.Time{})
	delivered := arrival.Add(r.between(9*time.Hour, 16*time.Hour))
	p.add(fact{at: delivered, kind: kDelivered, ship: ret, loc: from.origin, variant: deliveredAtDoor})
	checkedIn := delivered.Add(r.between(4*time.Hour, 2*24*time.Hour))
	p.shipFact(checkedIn, kReturnReceived, ret)
	partial := len(got) < o.outbound() || p.anyRefund()
	p.add(fact{at: checkedIn.Add(r.between(time.Hour, 3*24*time.Hour)), kind: kRefunded, ship: ret, partial: partial})
}

func (p *planner) anyRefund() bool {
	return slices.ContainsFunc(p.facts, func(f fact) bool { return f.kind == kRefunded })
}
