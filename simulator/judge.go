package simulator

import (
	"cmp"
	"math"
	"slices"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// The ground truth's own reading of the pipeline's rules, written from
// their documentation (processors/unify, processors/synccheck) over the
// simulator's records: deriving the order's truth from the authoritative
// events, and checking each viewer against it. The statuses, authorities
// and viewer rules themselves come from Rules.

// cst is a canonical status as its canonical.Index: the order unify and
// synccheck use to break ties.
type cst = canonical.Index

// crole is what a status means to the truth's derivation.
type crole uint8

const (
	crShipment crole = iota
	crBase
	crFlag
	crHint
)

// cRole is each status's role, by cst.
var cRole = func() []crole {
	out := make([]crole, canonical.Indexes())
	for i := 1; i < len(out); i++ {
		switch s := cst(i); s.Status() {
		case canonical.Placed, canonical.OnHold, canonical.Confirmed:
			out[i] = crBase
		case canonical.Cancelled, canonical.ReturnRequested, canonical.Refunded:
			out[i] = crFlag
		default:
			if s.Aggregate() {
				out[i] = crHint
			}
		}
	}
	return out
}()

func cs(s canonical.Status) cst { x, _ := canonical.IndexOf(s); return x }

// gtRules is Rules compiled for the judge.
type gtRules struct {
	auth         []schemas.System // by cst; "" none
	hint         schemas.System
	floor        []cst // per problem status, the lowest stage a recovery may return to
	viewers      []gtViewer
	missingAfter int64
	reflects     [][]bool // [shown][truth]
	covers       [][]bool // [truth][shown]: the viewer is behind, not contradicting
	// attrRank is, by viewer index, the viewer's place in the WISMO rules'
	// attribute_viewers (-1: tickets are not attributed to it).
	attrRank []int
	// wismo classifies tickets, when the Rules supply WISMO rules.
	wismo WismoRules
}

type gtViewer struct {
	sys     schemas.System
	sla     int64
	expects []bool // by cst
}

func compileRules(r Rules) *gtRules {
	n := canonical.Indexes()
	g := &gtRules{auth: make([]schemas.System, n), floor: make([]cst, n), hint: r.HintSystem(),
		missingAfter: r.MissingAfter().Milliseconds(), reflects: make([][]bool, n)}
	for s := cst(1); int(s) < n; s++ {
		if y, ok := r.Authority(s.Status()); ok {
			g.auth[s] = y
		}
		g.reflects[s] = make([]bool, n)
		for x := cst(1); int(x) < n; x++ {
			g.reflects[s][x] = r.Reflects(s.Status(), x.Status())
		}
	}
	g.reflects[0] = make([]bool, n)
	g.covers = make([][]bool, n)
	for x := range cst(n) {
		g.covers[x] = make([]bool, n)
		for s := range cst(n) {
			g.covers[x][s] = x != 0 && s != 0 && r.Covers(x.Status(), s.Status())
		}
	}
	for c := cst(1); int(c) < n; c++ {
		if !c.Problem() {
			continue
		}
		var f cst
		for s := cst(1); int(s) < n; s++ {
			if s.Stage() && g.auth[s] == g.auth[c] && g.auth[c] != "" && (f == 0 || s.Rank() < f.Rank()) {
				f = s
			}
		}
		if f == 0 {
			for s := cst(1); int(s) < n; s++ {
				if s.Stage() && s.Rank() <= c.Rank() && (f == 0 || s.Rank() > f.Rank()) {
					f = s
				}
			}
		}
		g.floor[c] = f
	}
	for _, v := range r.Viewers() {
		gv := gtViewer{sys: v.System, sla: v.SLA.Milliseconds(), expects: make([]bool, n)}
		for _, s := range v.Expects {
			gv.expects[cs(s)] = true
		}
		g.viewers = append(g.viewers, gv)
	}
	attr := []schemas.System{schemas.Storefront, schemas.Notifications}
	if w, ok := r.(WismoRules); ok {
		g.wismo = w
		attr = w.AttributeViewers()
	}
	g.attrRank = make([]int, len(g.viewers))
	for i, v := range g.viewers {
		g.attrRank[i] = slices.Index(attr, v.sys)
	}
	return g
}

func (g *gtRules) viewer(sys schemas.System) int {
	for i, v := range g.viewers {
		if v.sys == sys {
			return i
		}
	}
	return -1
}

// ---- The truth (unify's rules, over one order) ----

type uTrack struct {
	status       cst
	auth         schemas.System
	since, clock int64
}

type uShip struct {
	uTrack
	seen, ret bool
}

// uOrder is one order's truth as unify derives it, fed the order's events
// in the order unify would process them.
type uOrder struct {
	r                              *gtRules
	base                           uTrack
	ships                          []uShip // by parcel index
	cancelled, returnReq, refunded int64   // 0: not stated
	hint                           cst     // the hint system's latest status
	hintAt                         int64
	hintSet                        bool
	truth                          cst
	truthAt                        int64
	truthAuth                      schemas.System
}

type decision uint8

const (
	dSame decision = iota
	dAbsorbed
	dAdvance
	dRecovery
	dLate
	dRegression
)

func trackRank(s cst, ret bool) int {
	if ret && s == cs(canonical.Delivered) {
		return (cs(canonical.ReturnInTransit).Rank() + cs(canonical.Returned).Rank()) / 2
	}
	return s.Rank()
}

func terminal(s cst) bool { return s == cs(canonical.Delivered) || s.ReturnBranch() }

func forReturn(s cst) cst {
	switch s.Status() {
	case canonical.Shipped, canonical.InTransit, canonical.OutForDelivery, canonical.DeliveryAttemptFailed,
		canonical.AvailableForPickup, canonical.Exception, canonical.ReturnToSender:
		return cs(canonical.ReturnInTransit)
	}
	return s
}

// trackMove is what the track rules read of an authoritative event for
// status s on a track in status c.
type trackMove struct {
	c, s     cst
	rs, rc   int  // their ranks on the track (trackRank)
	older    bool // the event is older than the track's clock
	sameAuth bool // from the system that set c
	floor    cst  // c's recovery floor
}

// trackRules are unify's track rules as its package doc lists them
// ("Tracks"), in order: the first that applies decides. A table of the
// documented cases rather than unify's switch, so that the two can
// disagree.
var trackRules = []struct {
	applies func(m trackMove) bool
	then    decision
}{
	{func(m trackMove) bool { return m.c == 0 }, dAdvance},
	{func(m trackMove) bool { return m.s == m.c }, dSame},
	{func(m trackMove) bool { return m.older && m.s.OnLine() && m.c.OnLine() && m.rs > m.rc }, dAdvance}, // progress does not un-happen
	{func(m trackMove) bool { return m.older }, dLate},
	{func(m trackMove) bool { return m.rs > m.rc && m.c.Problem() && m.s.Stage() }, dRecovery},
	{func(m trackMove) bool { return m.rs > m.rc }, dAdvance},
	{func(m trackMove) bool { return m.s.Problem() && !terminal(m.c) }, dAdvance},
	{func(m trackMove) bool { return m.c.Problem() && m.s.Stage() && m.rs >= m.floor.Rank() }, dRecovery},
	{func(m trackMove) bool { return m.sameAuth }, dRegression},
	{func(trackMove) bool { return true }, dAbsorbed},
}

// decide: the first of trackRules that applies to s from y at t on tr.
func (u *uOrder) decide(tr *uTrack, s cst, y schemas.System, t int64, ret bool) decision {
	m := trackMove{c: tr.status, s: s, rs: trackRank(s, ret), rc: trackRank(tr.status, ret),
		older: t < tr.clock, sameAuth: y == tr.auth}
	if tr.status != 0 {
		m.floor = u.r.floor[tr.status]
	}
	for _, rule := range trackRules {
		if rule.applies(m) {
			return rule.then
		}
	}
	panic("unreachable: the last track rule always applies")
}

func (u *uOrder) track(tr *uTrack, s cst, y schemas.System, t int64, ret bool) {
	switch u.decide(tr, s, y, t, ret) {
	case dSame:
		tr.clock = max(tr.clock, t)
	case dAdvance, dRecovery:
		tr.status, tr.auth, tr.since = s, y, t
		tr.clock = max(tr.clock, t)
	}
}

// apply feeds one event (status s from system y at event time t, about
// parcel ship or -1) and reports whether the order's truth moved.
func (u *uOrder) apply(s cst, y schemas.System, t int64, ship int) bool {
	if s == 0 {
		return false
	}
	if y == u.r.hint && (!u.hintSet || t >= u.hintAt) {
		u.hint, u.hintAt, u.hintSet = s, t, true
	}
	switch cRole[s] {
	case crShipment:
		if ship < 0 || ship >= len(u.ships) {
			break // names no parcel: only an authority naming one may move a parcel
		}
		sh := &u.ships[ship]
		ret := sh.ret
		if !sh.seen {
			ret = s == cs(canonical.Returned) || (s.Rank() > cs(canonical.Shipped).Rank() && (u.returnReq != 0 || u.allDelivered()))
		}
		if ret {
			s = forReturn(s)
		}
		if u.r.auth[s] != y {
			break
		}
		if !sh.seen {
			sh.seen, sh.ret = true, ret
		}
		u.track(&sh.uTrack, s, y, t, ret)
	case crBase:
		if u.r.auth[s] == y {
			u.track(&u.base, s, y, t, false)
		}
	case crFlag:
		if u.r.auth[s] != y {
			break
		}
		f := &u.cancelled
		switch s.Status() {
		case canonical.ReturnRequested:
			f = &u.returnReq
		case canonical.Refunded:
			f = &u.refunded
		}
		if *f == 0 || t < *f {
			*f = t
		}
	}
	to := u.derive()
	if to == u.truth {
		return false
	}
	u.truth, u.truthAt, u.truthAuth = to, t, y
	return true
}

// outbound counts the outbound parcels the order knows.
func (u *uOrder) outbound() int {
	n := 0
	for i := range u.ships {
		if u.ships[i].seen && !u.ships[i].ret {
			n++
		}
	}
	return n
}

func (u *uOrder) expectMore() bool {
	return u.r.hint != "" && u.hintSet && u.hint == cs(canonical.PartiallyShipped)
}

func (u *uOrder) allDelivered() bool {
	delivered := false
	for i := range u.ships {
		sh := &u.ships[i]
		switch {
		case !sh.seen || sh.ret:
		case sh.status == cs(canonical.Delivered):
			delivered = true
		case sh.status != cs(canonical.Returned):
			return false
		}
	}
	return delivered && !u.expectMore()
}

func (u *uOrder) derive() cst {
	if u.refunded != 0 {
		return cs(canonical.Refunded)
	}
	var nret, back, moving int
	for i := range u.ships {
		sh := &u.ships[i]
		if !sh.seen || !sh.ret {
			continue
		}
		nret++
		switch sh.status {
		case cs(canonical.Returned):
			back++
		case cs(canonical.ReturnInTransit), cs(canonical.Delivered):
			moving++
		}
	}
	if u.returnReq != 0 || nret > 0 {
		switch {
		case nret > 0 && back == nret:
			return cs(canonical.Returned)
		case moving > 0:
			return cs(canonical.ReturnInTransit)
		case u.returnReq != 0:
			return cs(canonical.ReturnRequested)
		}
	}
	if u.cancelled != 0 {
		return cs(canonical.Cancelled)
	}
	if s := u.aggregate(); s != 0 {
		return s
	}
	return u.base.status
}

// aggregate is the order's status read off its outbound parcels, as
// DESIGN.md states it for split shipments; 0 while it knows none:
//   - every parcel came back: returned;
//   - every parcel delivered and no more announced: delivered;
//   - any parcel delivered: partially_delivered;
//   - any parcel on its way while another waits in the warehouse or more
//     are announced: partially_shipped;
//   - otherwise the least advanced of the parcels still out (byAdvance).
//
// It reads the rule as predicates over the set of parcels, not as unify's
// counting loop, so that the two can disagree.
func (u *uOrder) aggregate() cst {
	var parcels []cst
	for _, sh := range u.ships {
		if sh.seen && !sh.ret && sh.status != 0 {
			parcels = append(parcels, sh.status)
		}
	}
	if len(parcels) == 0 {
		return 0
	}
	some := func(p func(cst) bool) bool { return slices.ContainsFunc(parcels, p) }
	every := func(p func(cst) bool) bool { return !some(func(s cst) bool { return !p(s) }) }
	is := func(want canonical.Status) func(cst) bool { return func(s cst) bool { return s.Status() == want } }
	waiting := func(s cst) bool { return s.PreShip() }
	underway := func(s cst) bool { return !s.PreShip() && !is(canonical.Delivered)(s) && !is(canonical.Returned)(s) }
	switch {
	case every(is(canonical.Returned)):
		return cs(canonical.Returned)
	case every(is(canonical.Delivered)) && !u.expectMore():
		return cs(canonical.Delivered)
	case some(is(canonical.Delivered)):
		return cs(canonical.PartiallyDelivered)
	case some(underway) && (some(waiting) || u.expectMore()):
		return cs(canonical.PartiallyShipped)
	}
	out := slices.DeleteFunc(parcels, is(canonical.Returned))
	return slices.MinFunc(out, byAdvance)
}

// byAdvance orders parcels from the least advanced: by rank, a problem
// state before a plain one of the same rank (the order shows the problem),
// then by the status index so that the order is total.
func byAdvance(a, b cst) int {
	plainLast := func(s cst) int {
		if s.Problem() {
			return 0
		}
		return 1
	}
	return cmp.Or(cmp.Compare(a.Rank(), b.Rank()), cmp.Compare(plainLast(a), plainLast(b)), cmp.Compare(a, b))
}

// ---- The viewer checks (synccheck's rules, over one order) ----

// Outcomes and reasons, as indexes (outcomes in canonical.CheckOutcomes
// order).
const (
	oInSync = iota
	oLate
	oMissing
	oConflict
	oSuperseded
	nOutcomes
)

const (
	rSLABreached = iota
	rConflict
	nReasons
)

var outcomeNames = [nOutcomes]string(canonical.CheckOutcomes())

type opener uint8

const (
	byTruth opener = iota + 1
	byFirstSight
	byReport // a pending conflict
)

type jView struct {
	seen           bool
	first, shownAt int64
	shown          cst
	shownRec       int // the event that showed shown
	// earlier are the reports before the latest, by the viewer's time,
	// the most recent jMaxEarlier.
	earlier []jReport
}

type jReport struct {
	at     int64
	status cst
	rec    int
}

// jMaxEarlier is how many earlier reports the checker remembers per viewer.
const jMaxEarlier = 12

// remember records a report with a status: the latest by the viewer's time
// is what it shows; the earlier ones are kept, in time order, for a truth
// that reaches baton after the viewer's copy of it.
func (v *jView) remember(s cst, at int64, rec int) {
	if v.shown == 0 || at >= v.shownAt {
		if v.shown != 0 {
			v.earlier = append(v.earlier, jReport{at: v.shownAt, status: v.shown, rec: v.shownRec})
		}
		v.shown, v.shownAt, v.shownRec = s, at, rec
	} else {
		i := len(v.earlier)
		for i > 0 && v.earlier[i-1].at > at {
			i--
		}
		v.earlier = slices.Insert(v.earlier, i, jReport{at: at, status: s, rec: rec})
	}
	if len(v.earlier) > jMaxEarlier {
		v.earlier = slices.Delete(v.earlier, 0, len(v.earlier)-jMaxEarlier)
	}
}

// reflecting finds the report that shows x for a check from t: the one
// showing at t if it reflects x (latency 0), else the earliest later one
// that does.
func (v *jView) reflecting(ref [][]bool, x cst, t int64) (jReport, bool) {
	all := append(v.earlier[:len(v.earlier):len(v.earlier)], jReport{at: v.shownAt, status: v.shown, rec: v.shownRec})
	asOf := -1
	for i, r := range all {
		if r.status != 0 && r.at <= t {
			asOf = i
		}
	}
	if asOf >= 0 && ref[all[asOf].status][x] {
		return all[asOf], true
	}
	for _, r := range all[asOf+1:] {
		if ref[r.status][x] {
			return r, true
		}
	}
	return jReport{}, false
}

type jCheck struct {
	viewer      int
	status      cst
	t, deadline int64
	by          opener
	failed      bool
	auth        schemas.System
	carrier     string
	shown       cst // a pending conflict's contradicting status (by == byReport)
}

// jOut is one closed check.
type jOut struct {
	viewer  int
	status  cst
	outcome int
	latency int64 // IN_SYNC and LATE only
	auth    schemas.System
	carrier string
	closer  int // IN_SYNC and LATE: the event whose report closed it
	t       int64
	dl      int64
	shown   cst   // IN_SYNC, LATE, CONFLICT: the status the viewer showed
	at      int64 // IN_SYNC and LATE: the viewer's time of the report that closed it
	step    int   // the judge's step (judge.step) that closed it
}

type jFail struct {
	viewer int
	status cst
	reason int
}

// judge is one order's checks.
type judge struct {
	r      *gtRules
	views  []jView // by viewer index
	order  []int   // viewers in first-sight order
	checks []jCheck
	out    []jOut
	failed []jFail
	// step counts the events processed: checks closed in one step close
	// in one call of the checker, in an order the judge does not model.
	step int
}

func newJudge(r *gtRules) *judge {
	return &judge{r: r, views: make([]jView, len(r.viewers))}
}

func (j *judge) fail(k *jCheck, reason int) {
	k.failed = true
	j.failed = append(j.failed, jFail{viewer: k.viewer, status: k.status, reason: reason})
}

func (j *judge) close(k *jCheck, outcome int, latency int64, closer int, shown cst) {
	j.out = append(j.out, jOut{viewer: k.viewer, status: k.status, outcome: outcome, latency: latency,
		auth: k.auth, carrier: k.carrier, closer: closer, t: k.t, dl: k.deadline, shown: shown, step: j.step})
}

// closeAt closes k like close, the viewer having shown it at r.
func (j *judge) closeAt(k *jCheck, outcome int, latency int64, closer int, shown cst, r int64) {
	j.close(k, outcome, latency, closer, shown)
	j.out[len(j.out)-1].at = r
}

func (j *judge) conflict(k *jCheck) {
	j.fail(k, rConflict)
	j.close(k, oConflict, 0, -1, k.shown)
}

// reflected closes k: the viewer showed s, which reflects it, at r.
func (j *judge) reflected(k *jCheck, s cst, r int64, closer int) {
	if r <= k.deadline {
		j.closeAt(k, oInSync, max(0, r-k.t), closer, s, r)
		return
	}
	if !k.failed {
		j.fail(k, rSLABreached)
	}
	j.closeAt(k, oLate, max(0, r-k.t), closer, s, r)
}

func (j *judge) filter(keep func(k *jCheck) bool) {
	n := 0
	for i := range j.checks {
		if keep(&j.checks[i]) {
			j.checks[n] = j.checks[i]
			n++
		}
	}
	j.checks = j.checks[:n]
}

func (j *judge) hasOpen(vi int, x cst) bool {
	for i := range j.checks {
		k := &j.checks[i]
		if k.viewer == vi && k.status == x && k.by != byReport {
			return true
		}
	}
	return false
}

// truth: the order's truth moved to x at t (authority auth, carrier).
func (j *judge) truth(x cst, t int64, auth schemas.System, carrier string) {
	if x == 0 || len(j.order) == 0 {
		return
	}
	ref := j.r.reflects
	j.filter(func(k *jCheck) bool {
		if k.by == byReport {
			if !j.r.covers[x][k.shown] {
				return true
			}
			if t > k.deadline {
				j.conflict(k)
			}
			return false
		}
		if !k.failed && t <= k.deadline && !ref[x][k.status] {
			j.close(k, oSuperseded, 0, -1, 0)
			return false
		}
		return true
	})
	for _, vi := range j.order {
		v, conf := &j.views[vi], &j.r.viewers[vi]
		if !conf.expects[x] || j.hasOpen(vi, x) {
			continue
		}
		k := jCheck{viewer: vi, status: x, t: t, by: byTruth, auth: auth, carrier: carrier}
		if t < v.first {
			k.by, k.t = byFirstSight, v.first
		}
		k.deadline = satAdd(k.t, conf.sla)
		if r, ok := v.reflecting(ref, x, k.t); ok {
			j.reflected(&k, r.status, r.at, r.rec)
			continue
		}
		j.checks = append(j.checks, k)
	}
}

// view: viewer vi showed s (0: no status) at its time r, in event rec,
// while the order's truth is x since tAt. parcel says the report is about
// one parcel of an order with several: it closes checks but is not judged
// for conflicts.
func (j *judge) view(vi int, s cst, r int64, rec int, x cst, tAt int64, tAuth schemas.System, parcel bool) {
	if vi < 0 {
		return
	}
	ref, conf, v := j.r.reflects, &j.r.viewers[vi], &j.views[vi]
	if !v.seen {
		*v = jView{seen: true, first: r, shownRec: -1}
		j.order = append(j.order, vi)
		if x != 0 && conf.expects[x] && !ref[s][x] {
			k := jCheck{viewer: vi, status: x, t: r, by: byFirstSight, auth: tAuth}
			if r < tAt {
				k.by, k.t = byTruth, tAt
			}
			k.deadline = satAdd(k.t, conf.sla)
			j.checks = append(j.checks, k)
		}
	}
	latest := s != 0 && (v.shown == 0 || r >= v.shownAt)
	judged := latest && !parcel
	conflicting := judged && x != 0 && !j.r.covers[x][s]
	pending := false
	j.filter(func(k *jCheck) bool {
		if k.viewer != vi {
			return true
		}
		if k.by == byReport {
			if !judged || x == 0 {
				return true
			}
			keep, same := reportOnConflict(k, s, r, conflicting)
			pending = pending || same
			return keep
		}
		if ref[s][k.status] {
			j.reflected(k, s, r, rec)
			return false
		}
		return true
	})
	if conflicting && !pending {
		j.checks = append(j.checks, jCheck{viewer: vi, status: x, t: r, deadline: satAdd(r, conf.sla), by: byReport, auth: tAuth, shown: s})
	}
	if s != 0 {
		v.remember(s, r, rec)
	}
}

// reportOnConflict is what a judged report (s at r, conflicting or not)
// does to a conflict k the viewer already has open by an earlier report.
// keep: k stays open; same: the report is k's conflict, so no new one
// opens.
//
//	report           in time (r <= deadline)      past the deadline
//	conflicting      same conflict, shows s       same conflict
//	agreeing         k withdrawn                  k stays, nothing settled
//
// Past the deadline only the clock (due) or the truth settles k. In
// arrival order the watermark has passed the deadline before such a
// report arrives (due confirmed the conflict, and a conflicting report
// opens a new one); when it moves only with the order's own events
// (variant.sparse: no other traffic on the partition, as near the end of a
// run) it has not, and a conflicting report joins the open conflict. The
// count then depends on other orders' traffic: gtOrder.tick adds an event
// of the order's own just after each conflict's deadline, and an order
// whose report comes before that tick is redrawn (the variants differ).
func reportOnConflict(k *jCheck, s cst, r int64, conflicting bool) (keep, same bool) {
	late := r > k.deadline
	if conflicting && !late {
		k.shown = s
	}
	return late || conflicting, conflicting
}

// due: the watermark passed w.
func (j *judge) due(w int64) {
	j.filter(func(k *jCheck) bool {
		if k.by == byReport {
			if k.deadline < w {
				j.conflict(k)
				return false
			}
			return true
		}
		if !k.failed && k.deadline < w {
			j.fail(k, rSLABreached)
		}
		if satAdd(k.deadline, j.r.missingAfter) < w {
			j.close(k, oMissing, 0, -1, 0)
			return false
		}
		return true
	})
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
