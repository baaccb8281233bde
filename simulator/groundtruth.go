package simulator

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// Bounds of the ground-truth profile (see the package doc, "Ground
// truth").
const (
	// gtRecordLagCap bounds how long an authority takes to record a fact.
	gtRecordLagCap = 30 * time.Second
	// gtViewerLagCap bounds how long a viewer takes to show a change.
	gtViewerLagCap = 150 * time.Second
	// gtTransportCap bounds how long an event takes to reach Kafka.
	gtTransportCap = 20 * time.Second
	// GroundTruthSkew is the processing-order tolerance every order's
	// expected checks are proven against: the same outcomes whether any one
	// source stream of the order (a system's events for one record key,
	// or the carrier scans held for a link) is processed this much later or
	// earlier than its arrival time says, and whether the watermark passes
	// a deadline with other orders' traffic or only with the order's own.
	GroundTruthSkew = 30 * time.Second
	// GroundTruthLatencyTolerance bounds how far a check's latency may
	// move under that skew (which of a viewer's reports closes it).
	GroundTruthLatencyTolerance = time.Minute
	// gtMaxAttempts bounds the redraws of an order whose outcomes are not
	// certain within GroundTruthSkew.
	gtMaxAttempts = 64
	// gtMaxCandidates bounds the places tried for one fault in one order.
	gtMaxCandidates = 8
	// gtSentinelPartitions: the sentinel orders hit every partition of a
	// topic with up to this many partitions (Kafka's key hashing).
	gtSentinelPartitions = 32
)

// GroundTruthFormat names the ground truth's JSON format (2: the wismo
// section and orders_seen_on_wismo_tickets).
const GroundTruthFormat = "baton-ground-truth/2"

// gtState is the ground-truth profile's state over a run.
type gtState struct {
	rules     Rules
	r         *gtRules
	rates     []FaultRates // by viewer index (gtRules.viewers)
	fpcg      *rand.PCG
	fr        rng     // faults' own stream: their draws never shift an order's lifecycle
	acc       []gtAcc // by viewer index
	byCarrier map[string][]int64
	// wpcg and wr are the WISMO tickets' own stream, seeded per order.
	wpcg      *rand.PCG
	wr        rng
	wismo     gtWismo
	wismoAims [nWismoAims]WismoInjectTruth
	// notifySLA is delay detection's: the notifications viewer's SLA.
	notifySLA   int64
	redrawn     int
	lastArrival time.Time
	sentinels   int
	sentinelsAt time.Time
	err         error
}

// gtAcc accumulates one viewer's ground truth.
type gtAcc struct {
	ordersSeen          int
	seenOnTickets       int
	outcomes, natural   [nOutcomes]int
	reasons, natReasons [nReasons]int
	latCarrier, latAll  []int64
	faults              [3]FaultKindTruth // by fDelay, fDrop, fConflict
}

func newGTState(cfg Config) *gtState {
	if cfg.ViewerFaults == nil {
		return nil
	}
	r := compileRules(cfg.ViewerFaults.Rules)
	st := &gtState{rules: cfg.ViewerFaults.Rules, r: r, acc: make([]gtAcc, len(r.viewers)),
		rates: make([]FaultRates, len(r.viewers)), byCarrier: map[string][]int64{}}
	for i, v := range r.viewers {
		st.rates[i] = cfg.ViewerFaults.Rates[v.sys]
	}
	st.fpcg = rand.NewPCG(0, 0)
	st.fr = rng{rand.New(st.fpcg)}
	st.wpcg = rand.NewPCG(0, 0)
	st.wr = rng{rand.New(st.wpcg)}
	st.notifySLA = (5 * time.Minute).Milliseconds()
	if vi := r.viewer(schemas.Notifications); vi >= 0 {
		st.notifySLA = r.viewers[vi].sla
	}
	return st
}

// recInfo is what the judge needs of a record beyond its times.
type recInfo struct {
	reaches bool // reaches the unify stage (a ticket without the order does not)
	status  cst
	ship    int
	carrier string
	viewer  int // index into gtRules.viewers; -1: not a checked viewer
	link    int // the parcel whose tracking number this event links to the order; -1
	held    int // a scan held until its parcel is linked; -1
	stream  int
	ticket  int    // a help-desk event's ticket (index into order.tickets); -1
	dev     dEvent // what delay detection reads of it
}

// gtOrder is one order being judged.
type gtOrder struct {
	g       *generator
	st      *gtState
	rc      *recorder
	info    map[*record]*recInfo
	streams map[string]int
	// wismoOff: judge leaves the WISMO tickets' attribution out of the
	// comparison (the order without its faults: only its checks count).
	wismoOff bool
	// window is the span the latest delay or drop fault tried made its
	// check late (see faultDone.window).
	window [2]int64
}

// gtResult is one judged processing order.
type gtResult struct {
	unsure bool // the order took a path the judge does not model
	out    []jOut
	failed []jFail
	seen   []bool
	first  []int64
	moves  []truthMove
	// pmoves are the outbound parcels' moves, in processing order.
	pmoves []parcelMove
	// tickets are the WISMO tickets attributed, in processing order.
	tickets []wTicket
	// notices are the order's delay notices at the end.
	notices []dNotice
}

// parcelMove is an outbound parcel's move to status at t.
type parcelMove struct {
	ship   int
	status cst
	t      int64
}

type truthMove struct {
	status cst
	t, p   int64
}

func (x *gtOrder) infoOf(rec *record) *recInfo {
	if in, ok := x.info[rec]; ok {
		return in
	}
	v := rec.value(x.g.width[rec.sysIdx])
	in := &recInfo{reaches: true, ship: -1, viewer: -1, link: -1, held: -1, ticket: -1}
	status, ok, err := x.st.rules.Status(rec.system, v)
	if err != nil && x.st.err == nil {
		x.st.err = fmt.Errorf("simulator: ground truth: %s event %v: %w", rec.system, v["event_id"], err)
	}
	if ok {
		in.status = cs(status)
	}
	switch b := rec.body.(type) {
	case *storefrontEvent:
		in.ship = b.ship
		in.link = b.ship
	case *wmsEvent:
		in.ship = b.ship
		if b.link {
			in.link = b.ship
		}
	case *carrierEvent:
		in.ship = b.ship
		in.carrier, _ = v["carrier"].(string)
		if v["order_id"] != nil {
			in.link = b.ship
		} else {
			in.held = b.ship
		}
	case *notificationEvent:
		in.ship = b.ship
	case *helpdeskEvent:
		in.reaches = v["order_id"] != nil
		in.ticket = b.ticket
	}
	in.dev = x.delayEvent(rec, v, in.status)
	if in.reaches {
		in.viewer = x.st.r.viewer(rec.system)
	}
	key := string(rec.system) + "\x00" + rec.key
	s, ok := x.streams[key]
	if !ok {
		s = len(x.streams)
		x.streams[key] = s
	}
	in.stream = s
	x.info[rec] = in
	return in
}

// variant is one processing order the ground truth must hold for.
type variant struct {
	// delay[s] delays stream s's events (the last entry: the carrier scans
	// held for their link).
	delay []int64
	// sparse: the watermark passes deadlines only with the order's own
	// events, not (as with other orders' traffic) as soon as they pass.
	sparse bool
	// dropHeld: scans held longer than gtLongHold for their link are
	// dead-lettered (normalize's hold timeout) instead of released.
	dropHeld bool
}

// GroundTruthHoldTimeout is normalize's default hold timeout (a test
// checks they agree): a carrier scan whose tracking number is first linked
// more than this after the scan, in event time, is dead-lettered unlinked.
const GroundTruthHoldTimeout = 24 * time.Hour

// gtLongHold: a scan held longer may be dead-lettered by normalize's hold
// timeout (24h by default) instead of released.
const gtLongHold = time.Hour

// run judges the order's records processed in the order v says.
func (x *gtOrder) run(v variant) *gtResult { return x.runTraced(v, nil) }

// runTraced is run, appending the checker's inputs to trace when not nil.
func (x *gtOrder) runTraced(v variant, trace *[]CheckCall) *gtResult {
	delay, sparse := v.delay, v.sparse
	recs := x.rc.recs
	nships := len(x.rc.o.ships)
	linkP := make([]int64, nships)
	for i := range linkP {
		linkP[i] = math.MaxInt64
	}
	d := func(in *recInfo) int64 {
		if in.stream < len(delay)-1 {
			return delay[in.stream]
		}
		return 0
	}
	for _, rec := range recs {
		in := x.infoOf(rec)
		if in.reaches && in.link >= 0 {
			linkP[in.link] = min(linkP[in.link], rec.recorded.UnixMilli()+d(in))
		}
	}
	type item struct {
		p, arr int64
		tie, i int
	}
	items := make([]item, 0, len(recs))
	for i, rec := range recs {
		in := x.infoOf(rec)
		if !in.reaches {
			continue
		}
		// Event time: unify applies an order's events by recorded_at (then
		// system and event ID), whenever they reach it; a variant's delay
		// shifts a stream to test that the faults do not hang on a tie.
		arr := rec.recorded.UnixMilli()
		it := item{p: arr + d(in), arr: arr, tie: rec.sysIdx, i: i}
		if in.held >= 0 {
			lp := linkP[in.held]
			if lp == math.MaxInt64 {
				continue // never linked: dead-lettered
			}
			lp += delay[len(delay)-1]
			if v.dropHeld && lp-it.p > gtLongHold.Milliseconds() || lp-arr > GroundTruthHoldTimeout.Milliseconds() {
				continue // (normalize: linked only by a link recorded within its hold timeout after the scan)
			}
			// Released when linked, the scan takes its own place in
			// event time.
		}
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.tie, b.tie), cmp.Compare(a.i, b.i))
	})
	u := &uOrder{r: x.st.r, ships: make([]uShip, nships)}
	j := newJudge(x.st.r)
	dd := &dOrder{sla: x.st.notifySLA}
	res := &gtResult{}
	var asked []bool              // by ticket: its first event was processed
	named := make([]bool, nships) // an event naming the parcel's ID and tracking number was processed
	for _, it := range items {
		rec, in := recs[it.i], x.infoOf(recs[it.i])
		j.step++
		if !sparse {
			j.due(it.p)
			dd.dueIfPassed(it.p)
		}
		if in.ship >= 0 && in.status != 0 && cRole[in.status] == crShipment {
			switch {
			case rec.system == schemas.WMS && in.link >= 0, rec.system == schemas.Storefront:
				named[in.ship] = true
			case rec.system == schemas.Carrier && in.held < 0 && u.ships[in.ship].seen && !named[in.ship] &&
				x.st.r.auth[in.status] == schemas.Carrier:
				// A scan that carries the order, of a parcel unify knows by
				// its ID only: unify would take it for another parcel until
				// an event names both. Not modelled: the order is redrawn.
				res.unsure = true
			}
		}
		var before cst
		if in.ship >= 0 && in.ship < nships {
			before = u.ships[in.ship].status
		}
		if u.apply(in.status, rec.system, rec.occurred.UnixMilli(), in.ship) {
			carrier := ""
			if rec.system == schemas.Carrier {
				carrier = in.carrier
			}
			res.moves = append(res.moves, truthMove{status: u.truth, t: u.truthAt, p: it.p})
			j.truth(u.truth, u.truthAt, u.truthAuth, carrier)
			if trace != nil {
				*trace = append(*trace, CheckCall{Watermark: time.UnixMilli(it.p).UTC(), Status: u.truth.Status(),
					At: time.UnixMilli(u.truthAt).UTC(), Authority: u.truthAuth, Carrier: carrier})
			}
		}
		if in.ship >= 0 && in.ship < nships {
			if sh := &u.ships[in.ship]; sh.status != before && sh.seen && !sh.ret {
				res.pmoves = append(res.pmoves, parcelMove{ship: in.ship, status: sh.status, t: sh.since})
			}
		}
		if tk := in.ticket; tk >= 0 && x.rc.o.tickets[tk].wismo {
			// unify attributes a ticket at its first event, before the
			// event reaches the viewer checks, after running the delay
			// timers the watermark passed.
			if asked == nil {
				asked = make([]bool, len(x.rc.o.tickets))
			}
			if !asked[tk] {
				asked[tk] = true
				dd.dueIfPassed(it.p)
				f := x.facts(j, u, dd)
				at := rec.occurred.UnixMilli()
				a, sure := f.attribution(at, GroundTruthWismoMargin.Milliseconds())
				res.tickets = append(res.tickets, wTicket{ticket: tk, at: at, attr: a, sure: sure})
			}
		}
		if in.viewer >= 0 {
			parcel := in.ship >= 0 && (u.outbound() > 1 || u.expectMore())
			j.view(in.viewer, in.status, rec.recorded.UnixMilli(), it.i, u.truth, u.truthAt, u.truthAuth, parcel)
			if trace != nil {
				*trace = append(*trace, CheckCall{Watermark: time.UnixMilli(it.p).UTC(), Viewer: rec.system,
					Status: in.status.Status(), At: rec.recorded.UTC(), ParcelOfMany: parcel})
			}
		}
		ev := in.dev
		ev.occurred, ev.recorded = rec.occurred.UnixMilli(), rec.recorded.UnixMilli()
		dd.observe(&ev, u.truth, u.truthAt)
		if trace != nil {
			*trace = append(*trace, CheckCall{Watermark: time.UnixMilli(it.p).UTC()}) // the event is done: due checks
		}
		j.due(it.p)
		dd.dueIfPassed(it.p)
	}
	j.due(math.MaxInt64)
	res.out, res.failed = j.out, j.failed
	res.notices = dd.notices
	res.seen = make([]bool, len(j.views))
	res.first = make([]int64, len(j.views))
	for i, v := range j.views {
		res.seen[i], res.first[i] = v.seen, v.first
	}
	return res
}

// outKey is what the ground truth reports of a check: its viewer and
// outcome and, for IN_SYNC and LATE, the latency, the truth's authority
// and carrier (the latency score's groups).
type outKey struct {
	viewer, outcome int
	auth            schemas.System
	carrier         string
	latency         int64
}

// failKey is what it reports of a failed sync.
type failKey struct{ viewer, reason int }

func (r *gtResult) keys() ([]outKey, []failKey) {
	ks := make([]outKey, len(r.out))
	for i, o := range r.out {
		ks[i] = outKey{viewer: o.viewer, outcome: o.outcome}
		if o.outcome == oInSync || o.outcome == oLate {
			ks[i].auth, ks[i].carrier, ks[i].latency = o.auth, o.carrier, o.latency
		}
	}
	slices.SortFunc(ks, func(a, b outKey) int {
		return cmp.Or(cmp.Compare(a.viewer, b.viewer), cmp.Compare(a.outcome, b.outcome), cmp.Compare(a.auth, b.auth),
			cmp.Compare(a.carrier, b.carrier), cmp.Compare(a.latency, b.latency))
	})
	fs := make([]failKey, len(r.failed))
	for i, f := range r.failed {
		fs[i] = failKey{viewer: f.viewer, reason: f.reason}
	}
	slices.SortFunc(fs, func(a, b failKey) int {
		return cmp.Or(cmp.Compare(a.viewer, b.viewer), cmp.Compare(a.reason, b.reason))
	})
	return ks, fs
}

// sameKeys reports whether two sorted check lists agree, latencies
// within GroundTruthLatencyTolerance.
func sameKeys(a, b []outKey) bool {
	if len(a) != len(b) {
		return false
	}
	tol := GroundTruthLatencyTolerance.Milliseconds()
	for i := range a {
		x, y := a[i], b[i]
		if x.viewer != y.viewer || x.outcome != y.outcome || x.auth != y.auth || x.carrier != y.carrier {
			return false
		}
		if d := x.latency - y.latency; d > tol || d < -tol {
			return false
		}
	}
	return true
}

// judge runs every processing order the ground truth must hold for and
// returns the arrival-order result, or nil when another order would
// change what the checks report.
func (x *gtOrder) judge() *gtResult {
	if x.streams == nil {
		x.streams = map[string]int{}
	}
	x.tick()
	for _, rec := range x.rc.recs {
		x.infoOf(rec)
	}
	n := len(x.streams) + 1 // + the held scans
	zero := make([]int64, n)
	base := x.run(variant{delay: zero})
	if base.unsure {
		return nil
	}
	bk, bf := base.keys()
	if !x.wismoOff && !base.ticketsSure() {
		return nil
	}
	same := func(r *gtResult) bool {
		k, f := r.keys()
		return !r.unsure && sameKeys(k, bk) && slices.Equal(f, bf) && (x.wismoOff || slices.Equal(r.tickets, base.tickets))
	}
	if !same(x.run(variant{delay: zero, sparse: true})) || !same(x.run(variant{delay: zero, dropHeld: true})) {
		return nil
	}
	skew := GroundTruthSkew.Milliseconds()
	delay := make([]int64, n)
	for s := range n {
		clear(delay)
		delay[s] = skew
		if !same(x.run(variant{delay: delay})) {
			return nil
		}
		for i := range delay {
			delay[i] = skew
		}
		delay[s] = 0
		if !same(x.run(variant{delay: delay})) {
			return nil
		}
	}
	return base
}

// tick makes sure the watermark passes each check's give-up time
// (deadline + missing_after) and each conflict's deadline before the
// order's next event does: where a MISSING check's give-up time or a
// CONFLICT's deadline falls before the order's last event, it adds an OMS
// change event that repeats the OMS's status (a row update that touches no
// status, like a note) a second later. The pipeline passes a deadline only
// when an event moves the watermark past it, and runs the checks due after
// that event; in the partition of an order near the end of a run that may
// otherwise be the order's own next event: a viewer's report that would
// then close the MISSING check LATE, or a help desk repeating its
// contradiction on a later ticket event, which would then join the pending
// conflict (a report after the deadline settles nothing) instead of opening
// a second one. Without the tick such orders differ in the sparse variant
// and are redrawn; with it they keep their natural conflicts.
func (x *gtOrder) tick() {
	kept := x.rc.recs[:0:0]
	for _, rec := range x.rc.recs {
		if !rec.tick {
			kept = append(kept, rec)
		}
	}
	x.rc.recs = kept
	if x.streams == nil {
		x.streams = map[string]int{}
	}
	for _, rec := range x.rc.recs {
		x.infoOf(rec)
	}
	base := x.run(variant{delay: make([]int64, len(x.streams)+1)})
	var last time.Time
	for _, rec := range x.rc.recs {
		last = later(last, rec.arrival)
	}
	var at []int64
	for _, c := range base.out {
		switch c.outcome {
		case oMissing:
			at = append(at, satAdd(c.dl, x.st.r.missingAfter)+1000)
		case oConflict:
			at = append(at, c.dl+1000)
		}
	}
	slices.Sort(at)
	var prev int64
	added := false
	for _, t := range at {
		if t >= last.UnixMilli() || (prev != 0 && t-prev < time.Second.Milliseconds()) {
			continue
		}
		prev = t
		if x.addTick(time.UnixMilli(t).UTC()) {
			added = true
		}
	}
	if added {
		x.rearrive(schemas.OMS)
	}
}

// addTick adds an OMS event at t repeating the status of the OMS's latest
// change before t.
func (x *gtOrder) addTick(t time.Time) bool {
	var cur *omsEvent
	var curAt time.Time
	for _, rec := range x.rc.recs {
		if e, ok := rec.body.(*omsEvent); ok && !rec.occurred.After(t) && !rec.occurred.Before(curAt) {
			cur, curAt = e, rec.occurred
		}
	}
	if cur == nil {
		return false
	}
	x.rc.add(&omsEvent{op: "u", status: cur.status, previous: cur.status, rma: cur.rma}, t, t)
	rec := x.rc.recs[len(x.rc.recs)-1]
	rec.tick = true
	rec.transport = transportLag(schemas.OMS).capped(x.st.fr, gtTransportCap)
	return true
}

func (r *gtResult) counts(vi int) (o [nOutcomes]int, f [nReasons]int) {
	for _, c := range r.out {
		if c.viewer == vi {
			o[c.outcome]++
		}
	}
	for _, c := range r.failed {
		if c.viewer == vi {
			f[c.reason]++
		}
	}
	return o, f
}

// snapshot is an order's records and their times, to undo a fault that
// did not work out.
type snapshot struct {
	recs  []*record
	times [][3]time.Time
}

func (x *gtOrder) save() snapshot {
	s := snapshot{recs: slices.Clone(x.rc.recs), times: make([][3]time.Time, len(x.rc.recs))}
	for i, rec := range x.rc.recs {
		s.times[i] = [3]time.Time{rec.occurred, rec.recorded, rec.arrival}
	}
	return s
}

func (x *gtOrder) restore(s snapshot) {
	x.rc.recs = slices.Clone(s.recs)
	for i, rec := range x.rc.recs {
		rec.occurred, rec.recorded, rec.arrival = s.times[i][0], s.times[i][1], s.times[i][2]
	}
}

// rearrive recomputes the arrival times of sys's records after an edit.
func (x *gtOrder) rearrive(sys schemas.System) {
	var recs []*record
	for _, rec := range x.rc.recs {
		if rec.system == sys {
			recs = append(recs, rec)
		}
	}
	for _, group := range groupByKey(recs) {
		rearrive(group)
	}
}

// addOrderGT is addOrder in the ground-truth profile: the order is drawn
// until its checks are certain, faults are injected where each has one
// certain effect, and the outcomes are added to the ground truth.
func (g *generator) addOrderGT(idx int, placed time.Time) error {
	st := g.gt
	for attempt := range gtMaxAttempts {
		seed := splitmix64(g.base ^ uint64(idx))
		if attempt > 0 {
			seed = splitmix64(seed + uint64(attempt))
		}
		g.pcg.Seed(g.base, seed)
		st.fpcg.Seed(g.base^0x6661756c74730000, seed)
		st.wpcg.Seed(g.base^0x7769736d6f000000, seed)
		o := newOrder(idx, placed, &g.cfg, g.r)
		facts, c := planOrder(o, &g.cfg, g.r)
		rc := &recorder{o: o, r: g.r, cfg: &g.cfg}
		for _, project := range projectors {
			project(rc, facts)
		}
		for _, group := range groupByKey(rc.recs) {
			arrive(group, g.r, g.cfg.OutOfOrderShare, true)
		}
		x := &gtOrder{g: g, st: st, rc: rc, info: map[*record]*recInfo{}}
		natural := x.judge()
		if st.err != nil {
			return st.err
		}
		if natural == nil {
			st.redrawn++
			continue
		}
		pre, seen := x.save(), natural.seen
		final, faults := x.inject(natural)
		if st.err != nil {
			return st.err
		}
		natural, final = x.addWismo(natural, final, faults, pre)
		if st.err != nil {
			return st.err
		}
		if err := x.checkTickets(); err != nil {
			return err
		}
		st.add(natural, final, faults, seen)
		tickets := x.addWismoTruth(final)
		if trace := g.cfg.ViewerFaults.Trace; trace != nil {
			var calls []CheckCall
			x.runTraced(variant{delay: make([]int64, len(x.streams)+1)}, &calls)
			trace(OrderTrace{OrderID: o.id, Calls: calls, Tickets: tickets})
		}
		wismo := 0
		for _, t := range o.tickets {
			if t.wismo {
				wismo++
			}
		}
		g.stats.Orders++
		g.stats.Cases.add(c, len(o.tickets), wismo)
		for _, group := range groupByKey(rc.recs) {
			g.stats.OutOfOrder += lateArrivals(group)
		}
		g.push(rc.recs)
		g.stats.MaxBuffered = max(g.stats.MaxBuffered, len(g.queue))
		return nil
	}
	return fmt.Errorf("simulator: ground truth: order %d: no draw in %d whose viewer checks are certain within %v", idx+1, gtMaxAttempts, GroundTruthSkew)
}
