package simulator

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// Event is one source event as its system delivers it to Kafka.
type Event struct {
	System schemas.System
	// Value is in the JSON form (*schemas.Schema).FromJSON accepts for the
	// system's schema: every field of the .avsc present, strings, time.Time
	// (UTC, millisecond precision) for timestamps, int for ints, []any for
	// arrays, nil for null. The emit callback may keep or modify it: each
	// Event gets a fresh map.
	Value map[string]any
	// Arrival is when the event reaches Kafka: recorded_at plus transport
	// delay (plus the redelivery or reordering delay of a delivery quirk).
	// Generate emits events in non-decreasing Arrival order; a producer can
	// use it as the record timestamp.
	Arrival time.Time
}

// Stats counts what a run emitted.
type Stats struct {
	Orders int
	// Events counts every emitted event, duplicates included.
	Events   int
	BySystem map[schemas.System]int
	// Duplicates counts re-deliveries (an event emitted a second time).
	Duplicates int
	// OutOfOrder counts events that arrived after an event of the same
	// system and record key that was recorded later.
	OutOfOrder int
	// MaxBuffered is the most events waiting at once for their arrival
	// time: the generator's memory high-water mark, independent of Orders
	// for a given OrderInterval.
	MaxBuffered int
	Cases       Cases
	// GroundTruth is what the pipeline's viewer checks must report for the
	// run, in the ground-truth profile (Config.ViewerFaults set); nil
	// otherwise.
	GroundTruth *GroundTruth
}

// Cases counts the hard cases the run's orders met.
type Cases struct {
	SplitOrders        int // orders shipped as more than one parcel
	HeldOrders         int // orders the OMS put on hold (incl. pending payment)
	CancelledOrders    int
	CancelledAfterShip int // of CancelledOrders: cancelled after a parcel left
	ReturnedOrders     int // orders with a customer return
	FailedAttempts     int // parcels with at least one failed delivery attempt
	Exceptions         int // parcels with a carrier exception (delay, damage, loss)
	Lost               int // of Exceptions
	Damaged            int // of Exceptions
	ReturnedToSender   int // parcels sent back by the carrier (damaged or unclaimed)
	Tickets            int // help-desk tickets
	WismoTickets       int // of Tickets: "where is my order"
}

func (c *Cases) add(x cases, tickets, wismo int) {
	c.SplitOrders += b2i(x.split)
	c.HeldOrders += b2i(x.held)
	c.CancelledOrders += b2i(x.cancelled)
	c.CancelledAfterShip += b2i(x.cancelledAfterShip)
	c.ReturnedOrders += b2i(x.returned)
	c.FailedAttempts += x.failedAttempts
	c.Exceptions += x.exceptions
	c.Lost += x.lost
	c.Damaged += x.damaged
	c.ReturnedToSender += x.returnedToSender
	c.Tickets += tickets
	c.WismoTickets += wismo
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Generate simulates cfg.Orders orders and calls emit for each of their
// events in arrival order (the order the systems would deliver them to
// Kafka), stopping at emit's first error. The same Config always gives the
// same sequence.
//
// Memory stays bounded whatever cfg.Orders: an order's events are generated
// when it is placed and wait in a min-heap by arrival time; every event
// arriving before the next order's placement is emitted first, which is
// safe because no event arrives before its order is placed. The heap thus
// holds only the events of orders still in flight (see Stats.MaxBuffered).
func Generate(cfg Config, emit func(Event) error) (Stats, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return Stats{}, err
	}
	g := newGenerator(cfg, emit)
	placed := cfg.Start
	for i := range cfg.Orders {
		if i > 0 {
			placed = placed.Add(time.Duration(g.gaps.ExpFloat64() * float64(cfg.OrderInterval)).Truncate(time.Millisecond))
		}
		if err := g.emitBefore(placed); err != nil {
			return g.stats, err
		}
		if g.gt == nil {
			g.addOrder(i, placed)
		} else if err := g.addOrderGT(i, placed); err != nil {
			return g.stats, err
		}
	}
	if g.gt != nil {
		g.addSentinels()
		if err := g.emitBefore(time.UnixMilli(math.MaxInt64)); err != nil {
			return g.stats, err
		}
		g.stats.GroundTruth = g.gt.result(&g.cfg, g.stats.Orders)
		return g.stats, nil
	}
	return g.stats, g.emitBefore(time.UnixMilli(math.MaxInt64))
}

type generator struct {
	cfg   Config
	width []int // fields per system's schema, indexed like schemas.Systems
	emit  func(Event) error
	gaps  rng       // placement gaps
	pcg   *rand.PCG // re-seeded for each order
	r     rng       // draws from pcg
	base  uint64    // the run's scrambled seed
	queue queue
	seq   uint64
	stats Stats
	gt    *gtState // the ground-truth profile; nil: the realistic one
}

func newGenerator(cfg Config, emit func(Event) error) *generator {
	base := splitmix64(uint64(cfg.Seed))
	pcg := rand.NewPCG(0, 0)
	width := make([]int, len(schemas.Systems))
	for i, sys := range schemas.Systems {
		width[i] = len(schemas.MustLoad(sys.SchemaName()).Root().Fields)
	}
	return &generator{
		width: width,
		cfg:   cfg,
		emit:  emit,
		gaps:  rng{rand.New(rand.NewPCG(base, splitmix64(base^0x6761707300000000)))},
		pcg:   pcg,
		r:     rng{rand.New(pcg)},
		base:  base,
		stats: Stats{BySystem: make(map[schemas.System]int, len(schemas.Systems))},
		gt:    newGTState(cfg),
	}
}

// projectors turn an order's facts into each system's events, in a fixed
// order so that draws from the order's random stream are reproducible.
var projectors = []func(rc *recorder, facts []fact){
	projectStorefront, projectOMS, projectWMS, projectCarrier, projectHelpdesk, projectNotifications, projectReturns,
}

// addOrder plans order idx, projects it onto every system and queues its
// events.
func (g *generator) addOrder(idx int, placed time.Time) {
	g.pcg.Seed(g.base, splitmix64(g.base^uint64(idx)))
	o := newOrder(idx, placed, &g.cfg, g.r)
	facts, c := planOrder(o, &g.cfg, g.r)
	rc := &recorder{o: o, r: g.r, cfg: &g.cfg}
	for _, project := range projectors {
		project(rc, facts)
	}
	wismo := 0
	for _, t := range o.tickets {
		if t.wismo {
			wismo++
		}
	}
	g.stats.Orders++
	g.stats.Cases.add(c, len(o.tickets), wismo)
	g.schedule(rc.recs)
	g.stats.MaxBuffered = max(g.stats.MaxBuffered, len(g.queue))
}

// schedule gives an order's records their arrival times and queues them.
// Within a record key (per system), transport keeps the recorded order
// (arrival never goes backwards), except where OutOfOrderShare delays an
// event past the next one; DuplicateShare re-delivers an event later.
func (g *generator) schedule(recs []*record) {
	for _, group := range groupByKey(recs) {
		arrive(group, g.r, g.cfg.OutOfOrderShare, false)
		g.stats.OutOfOrder += lateArrivals(group)
	}
	g.push(recs)
}

// groupByKey sorts records by system, record key and recorded time and
// returns each key's records.
func groupByKey(recs []*record) [][]*record {
	slices.SortStableFunc(recs, func(a, b *record) int {
		return cmp.Or(cmp.Compare(a.system, b.system), cmp.Compare(a.key, b.key), a.recorded.Compare(b.recorded))
	})
	var groups [][]*record
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && recs[end].system == recs[start].system && recs[end].key == recs[start].key {
			end++
		}
		groups = append(groups, recs[start:end])
		start = end
	}
	return groups
}

// push queues records with their arrival times, and a redelivery of
// DuplicateShare of them.
func (g *generator) push(recs []*record) {
	r := g.r
	for _, rec := range recs {
		if rec.arrival.Before(rec.o.placed) {
			// emitBefore relies on it: events earlier than the next
			// placement are final.
			panic(fmt.Sprintf("simulator: %s event of %s arrives at %v, before the order was placed at %v",
				rec.system, rec.o.id, rec.arrival, rec.o.placed))
		}
		g.enqueue(rec, rec.arrival)
		if r.chance(g.cfg.DuplicateShare) {
			g.enqueue(rec, rec.arrival.Add(r.between(time.Second, 15*time.Minute)))
		}
	}
}

// arrive sets the arrival times of one key's records (sorted by recorded
// time): transport delay, never overtaking the key's previous record, and
// outOfOrder of them held back past the next one. The draws are kept on the
// records (rearrive replays them). capped bounds the transport delay, for
// the ground-truth profile.
func arrive(group []*record, r rng, outOfOrder float64, capped bool) {
	transport := transportLag(group[0].system)
	for _, rec := range group {
		if capped {
			rec.transport = transport.capped(r, gtTransportCap)
		} else {
			rec.transport = transport.must(r)
		}
		rec.late = 0
	}
	for i := len(group) - 2; i >= 0; i-- {
		if r.chance(outOfOrder) {
			group[i].late = r.between(time.Second, 10*time.Minute)
		}
	}
	rearrive(group)
}

// rearrive computes the arrival times of one key's records (sorted by
// recorded time) from their transport and out-of-order draws.
func rearrive(group []*record) {
	var prev time.Time
	for _, rec := range group {
		rec.arrival = later(rec.recorded.Add(rec.transport), prev)
		prev = rec.arrival
	}
	for i := len(group) - 2; i >= 0; i-- {
		if group[i].late > 0 {
			group[i].arrival = group[i+1].arrival.Add(group[i].late)
		}
	}
}

// lateArrivals counts the records of one key (sorted by recorded time)
// that arrive after a later-recorded one.
func lateArrivals(group []*record) int {
	late := 0
	var earliestLater time.Time
	for i := len(group) - 1; i >= 0; i-- {
		if i < len(group)-1 && group[i].arrival.After(earliestLater) {
			late++
		}
		if i == len(group)-1 || group[i].arrival.Before(earliestLater) {
			earliestLater = group[i].arrival
		}
	}
	return late
}

// transportLag is the delay from a system recording an event to the event
// reaching Kafka: webhooks, Debezium, the aggregators' batching.
func transportLag(s schemas.System) lagProfile {
	switch s {
	case schemas.Carrier:
		return lagProfile{median: 3 * time.Second, sigma: 1, lo: 200 * time.Millisecond, hi: time.Minute}
	case schemas.OMS:
		return lagProfile{median: 300 * time.Millisecond, sigma: 0.8, lo: 20 * time.Millisecond, hi: 5 * time.Second}
	case schemas.WMS:
		return lagProfile{median: 800 * time.Millisecond, sigma: 0.8, lo: 50 * time.Millisecond, hi: 10 * time.Second}
	case schemas.Helpdesk:
		return lagProfile{median: time.Second, sigma: 0.8, lo: 100 * time.Millisecond, hi: 20 * time.Second}
	default: // storefront and notification webhooks
		return lagProfile{median: 400 * time.Millisecond, sigma: 0.8, lo: 50 * time.Millisecond, hi: 5 * time.Second}
	}
}

func (g *generator) enqueue(rec *record, arrival time.Time) {
	if g.gt != nil && arrival.After(g.gt.lastArrival) {
		g.gt.lastArrival = arrival
	}
	g.seq++
	g.queue.push(queued{arrival: arrival.UnixMilli(), seq: g.seq, rec: rec})
}

// emitBefore emits every queued event arriving before t.
func (g *generator) emitBefore(t time.Time) error {
	limit := t.UnixMilli()
	for len(g.queue) > 0 && g.queue[0].arrival < limit {
		q := g.queue.pop()
		if q.seq != q.rec.firstSeq {
			g.stats.Duplicates++
		}
		sys := q.rec.system
		g.stats.Events++
		g.stats.BySystem[sys]++
		value := q.rec.value(g.width[q.rec.sysIdx])
		if err := g.emit(Event{System: sys, Value: value, Arrival: time.UnixMilli(q.arrival).UTC()}); err != nil {
			return err
		}
	}
	return nil
}

// body is the system-specific part of a source event.
type body interface {
	system() schemas.System
	// idPrefix starts the event's event_id (the vendor's ID style).
	idPrefix(o *order) string
	// key is the record key (schemas.System.KeyFields) of the event.
	key(o *order) string
	// fill sets the system's fields other than event_id, occurred_at and
	// recorded_at.
	fill(v map[string]any, o *order)
}

// record is one source event waiting to be emitted. It keeps only what its
// value needs and renders the value when emitted, so that buffered events
// stay small.
type record struct {
	o        *order
	body     body
	system   schemas.System
	sysIdx   int // system's index in schemas.Systems
	key      string
	n        int // the event's number within its order and system
	occurred time.Time
	recorded time.Time
	arrival  time.Time
	firstSeq uint64 // the queue sequence of the first delivery
	// The arrival draws: transport delay, and the delay past the key's
	// next record of an out-of-order arrival (0: in order).
	transport, late time.Duration
	tick            bool // a ground-truth tick (see gtOrder.tick)
}

// value renders the event in the JSON form FromJSON accepts; width is the
// number of fields of the system's schema, so that the map is allocated
// once at the right size.
func (rec *record) value(width int) map[string]any {
	v := make(map[string]any, width)
	v["event_id"] = rec.body.idPrefix(rec.o) + "_" + strconv.Itoa(rec.o.idx+1) + "_" + strconv.Itoa(rec.n)
	v["occurred_at"] = rec.occurred.UTC()
	v["recorded_at"] = rec.recorded.UTC()
	rec.body.fill(v, rec.o)
	return v
}

// recorder collects an order's records from the projectors.
type recorder struct {
	o    *order
	r    rng
	cfg  *Config
	recs []*record
	n    []int // events so far per system, indexed like schemas.Systems
}

// viewerLag draws a viewer's lag from profile p: ok is false when the
// viewer never shows the change. The ground-truth profile never drops a
// change and bounds the lag (gtViewerLagCap).
func (rc *recorder) viewerLag(p lagProfile) (time.Duration, bool) {
	if rc.cfg.ViewerFaults != nil {
		return p.capped(rc.r, gtViewerLagCap), true
	}
	return p.draw(rc.r)
}

// add records an event that happened at occurred and that its system
// recorded at recorded (never before occurred).
func (rc *recorder) add(b body, occurred, recorded time.Time) {
	sys := b.system()
	i := slices.Index(schemas.Systems, sys)
	if rc.n == nil {
		rc.n = make([]int, len(schemas.Systems))
	}
	rc.n[i]++
	rc.recs = append(rc.recs, &record{
		o: rc.o, body: b, system: sys, sysIdx: i, key: b.key(rc.o), n: rc.n[i],
		occurred: occurred.Truncate(time.Millisecond),
		recorded: later(recorded, occurred).Truncate(time.Millisecond),
	})
}

// queued is a heap entry: arrival in Unix milliseconds, ties broken by the
// order events were queued, so emission order is total and reproducible.
type queued struct {
	arrival int64
	seq     uint64
	rec     *record
}

func (a queued) less(b queued) bool {
	return a.arrival < b.arrival || (a.arrival == b.arrival && a.seq < b.seq)
}

// queue is a binary min-heap of queued events.
type queue []queued

func (q *queue) push(x queued) {
	if x.rec.firstSeq == 0 {
		x.rec.firstSeq = x.seq
	}
	h := append(*q, x)
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].less(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	*q = h
}

func (q *queue) pop() queued {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = queued{}
	h = h[:last]
	for i := 0; ; {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].less(h[smallest]) {
			smallest = l
		}
		if r < len(h) && h[r].less(h[smallest]) {
			smallest = r
		}
		if smallest == i {
			break
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
	*q = h
	return top
}
