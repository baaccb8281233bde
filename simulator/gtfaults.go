package simulator

import (
	"slices"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/ingest/shopify/view"
	"github.com/baton-pipeline/baton/schemas"
)

// The fault kinds, as indexes.
const (
	fDelay = iota
	fDrop
	fConflict
)

// faultDone is one injected fault: viewer, kind and how many checks it
// made LATE, MISSING or CONFLICT.
type faultDone struct {
	viewer, kind, checks int
	// window is, for a delay, the span [deadline, release] of the check
	// it held back, and for a drop [deadline, deadline + missing_after]
	// of the check it turned MISSING: the viewer was out of sync all
	// along, the check open.
	window [2]int64
}

// inject draws, per viewer the order shows, whether to inject a fault and
// tries it at the candidates' places until one has exactly the effect the
// fault stands for. It returns the final result and what it injected.
func (x *gtOrder) inject(natural *gtResult) (*gtResult, []faultDone) {
	st, fr := x.st, x.st.fr
	cur := natural
	var done []faultDone
	for vi := range st.r.viewers {
		u := fr.Float64() // drawn for every viewer, so one's rates never shift another's draws
		if !natural.seen[vi] {
			continue
		}
		rt := st.rates[vi]
		kind := -1
		switch {
		case u < rt.Delay:
			kind = fDelay
		case u < rt.Delay+rt.Drop:
			kind = fDrop
		case u < rt.sum():
			kind = fConflict
		}
		if kind < 0 {
			continue
		}
		st.acc[vi].faults[kind].Drawn++
		res, n := x.tryFault(cur, vi, kind)
		if res == nil {
			st.acc[vi].faults[kind].Skipped++
			continue
		}
		cur = res
		fd := faultDone{viewer: vi, kind: kind, checks: n}
		if kind == fDelay || kind == fDrop {
			fd.window = x.window
		}
		done = append(done, fd)
	}
	return cur, done
}

// tryFault injects a fault of kind into viewer vi's events at up to
// gtMaxCandidates places; it returns the new result and the number of
// checks the fault turned, or nil when no place gave exactly that effect
// in every processing order.
func (x *gtOrder) tryFault(cur *gtResult, vi, kind int) (*gtResult, int) {
	fr := x.st.fr
	var cands []int // indexes into cur.out (delay, drop) or of conflict windows
	var windows [][2]int64
	if kind == fConflict {
		windows = x.conflictWindows(cur, vi)
		for i := range windows {
			cands = append(cands, i)
		}
	} else {
		for i, c := range cur.out {
			if c.viewer == vi && c.outcome == oInSync && c.closer >= 0 {
				cands = append(cands, i)
			}
		}
	}
	for i := len(cands) - 1; i > 0; i-- {
		k := fr.IntN(i + 1)
		cands[i], cands[k] = cands[k], cands[i]
	}
	if len(cands) > gtMaxCandidates {
		cands = cands[:gtMaxCandidates]
	}
	o0, f0 := cur.counts(vi)
	for _, ci := range cands {
		snap := x.save()
		var ok bool
		switch kind {
		case fDelay:
			ok = x.delay(cur.out[ci], vi)
		case fDrop:
			ok = x.drop(cur.out[ci], vi)
		default:
			ok = x.contradict(windows[ci], vi)
		}
		var res *gtResult
		if ok {
			res = x.judge()
		}
		if res != nil {
			if n := faultEffect(kind, res, cur, vi, o0, f0); n > 0 {
				return res, n
			}
		}
		x.restore(snap)
	}
	return nil, 0
}

// faultEffect checks that res differs from cur only by what a fault of
// kind in viewer vi stands for, and returns how many checks it turned (0:
// not exactly that).
func faultEffect(kind int, res, cur *gtResult, vi int, o0 [nOutcomes]int, f0 [nReasons]int) int {
	for w := range res.seen {
		if w == vi {
			continue
		}
		a1, b1 := res.counts(w)
		a0, b0 := cur.counts(w)
		if a1 != a0 || b1 != b0 {
			return 0
		}
	}
	o, f := res.counts(vi)
	var d [nOutcomes]int
	for i := range d {
		d[i] = o[i] - o0[i]
	}
	ds, dc := f[rSLABreached]-f0[rSLABreached], f[rConflict]-f0[rConflict]
	switch kind {
	case fDelay: // k checks IN_SYNC → LATE
		k := d[oLate]
		if k >= 1 && d[oInSync] == -k && d[oMissing] == 0 && d[oConflict] == 0 && d[oSuperseded] == 0 && ds == k && dc == 0 {
			return k
		}
	case fDrop: // a IN_SYNC and b LATE checks → MISSING
		a, b := -d[oInSync], -d[oLate]
		if a >= 1 && b >= 0 && d[oMissing] == a+b && d[oConflict] == 0 && d[oSuperseded] == 0 && ds == a && dc == 0 {
			return a + b
		}
	case fConflict: // one CONFLICT
		if d == [nOutcomes]int{oConflict: 1} && ds == 0 && dc == 1 {
			return 1
		}
	}
	return 0
}

// viewerRecords lists viewer vi's records that reach the pipeline, by
// recorded time.
func (x *gtOrder) viewerRecords(vi int) []*record {
	var out []*record
	for _, rec := range x.rc.recs {
		if in := x.infoOf(rec); in.viewer == vi {
			out = append(out, rec)
		}
	}
	slices.SortStableFunc(out, func(a, b *record) int { return a.recorded.Compare(b.recorded) })
	return out
}

// showsFrom is when viewer vi first showed what closed check c: the
// report that closed it or, if earlier, the first report since the truth
// moved that reflects the check's status (a viewer may show it twice, by
// email and SMS).
func (x *gtOrder) showsFrom(c jOut, vi int) time.Time {
	from := x.rc.recs[c.closer].recorded
	for _, rec := range x.viewerRecords(vi) {
		if rec.recorded.UnixMilli() >= c.t && rec.recorded.Before(from) && x.st.r.reflects[x.infoOf(rec).status][c.status] {
			return rec.recorded
		}
	}
	return from
}

// delay holds back the reports that showed check c's status, and every
// report of the viewer after them, until c's deadline + 1–60 minutes; they
// are then delivered at once, in order.
func (x *gtOrder) delay(c jOut, vi int) bool {
	from := x.showsFrom(c, vi)
	sys := x.st.r.viewers[vi].sys
	at := time.UnixMilli(c.dl).UTC().Add(x.st.fr.between(time.Minute, time.Hour))
	x.window = [2]int64{c.dl, at.UnixMilli()}
	i := 0
	for _, rec := range x.viewerRecords(vi) {
		if rec.recorded.Before(from) || !rec.recorded.Before(at) {
			continue
		}
		to := at.Add(time.Duration(i) * time.Millisecond)
		shift := to.Sub(rec.recorded)
		rec.recorded = to
		if sys == schemas.Helpdesk {
			rec.occurred = rec.occurred.Add(shift) // the ticket event itself happened later
		}
		i++
	}
	x.rearrive(sys)
	return i > 0
}

// drop: the viewer goes dark for the order from the report that showed
// check c's status: it and every later report of the viewer are never
// sent.
func (x *gtOrder) drop(c jOut, vi int) bool {
	from := x.showsFrom(c, vi)
	x.window = [2]int64{c.dl, satAdd(c.dl, x.st.r.missingAfter)}
	kept := x.rc.recs[:0:0]
	n := 0
	for _, rec := range x.rc.recs {
		if in := x.infoOf(rec); in.viewer == vi && !rec.recorded.Before(from) {
			n++
			continue
		}
		kept = append(kept, rec)
	}
	x.rc.recs = kept
	return n > 0
}

// inFlight are the truths a contradiction is injected into: the order is
// on its way.
func inFlight(s cst) bool {
	switch s.Status() {
	case canonical.Shipped, canonical.PartiallyShipped, canonical.InTransit, canonical.OutForDelivery, canonical.PartiallyDelivered:
		return true
	}
	return false
}

// conflictWindows lists the spans of time at which viewer vi could show
// CANCELLED (and, its SLA and two skews later, its true status again) with
// the truth in flight, the viewer seen since before, and no report of the
// viewer's own within two skews of either.
func (x *gtOrder) conflictWindows(cur *gtResult, vi int) [][2]int64 {
	sla := x.st.r.viewers[vi].sla
	margin := 2 * GroundTruthSkew.Milliseconds()
	before, after := margin, sla+2*margin
	var busy []int64
	for _, rec := range x.viewerRecords(vi) {
		busy = append(busy, rec.recorded.UnixMilli())
	}
	var end int64 // the order's last event
	for _, rec := range x.rc.recs {
		end = max(end, rec.recorded.UnixMilli())
	}
	var out [][2]int64
	for i, m := range cur.moves {
		if !inFlight(m.status) {
			continue
		}
		lo, hi := max(m.p, cur.first[vi])+before, end-after
		if i+1 < len(cur.moves) {
			hi = cur.moves[i+1].t - after
		}
		for _, b := range busy {
			fa, fb := b-after, b+before
			if fb < lo {
				continue
			}
			if fa > hi {
				break
			}
			if fa > lo {
				out = append(out, [2]int64{lo, fa - 1})
			}
			lo = max(lo, fb+1)
		}
		if lo <= hi {
			out = append(out, [2]int64{lo, hi})
		}
	}
	if x.st.r.viewers[vi].sys != schemas.Helpdesk {
		return out
	}
	// The help desk shows the order only on a ticket, and refreshes it only
	// while the ticket is unsolved: both reports must fall in one ticket's
	// open time.
	var cut [][2]int64
	for _, open := range x.openTickets() {
		for _, w := range out {
			lo, hi := max(w[0], open[0].UnixMilli()+1), min(w[1], open[1].UnixMilli()-sla-margin-1)
			if lo <= hi {
				cut = append(cut, [2]int64{lo, hi})
			}
		}
	}
	return cut
}

// openTickets lists, per linked ticket with events, the time from its
// first event to its solved (or last) one.
func (x *gtOrder) openTickets() [][2]time.Time {
	var out [][2]time.Time
	for tk, t := range x.rc.o.tickets {
		if !t.linked {
			continue
		}
		var open [2]time.Time
		for _, rec := range x.rc.recs {
			e, ok := rec.body.(*helpdeskEvent)
			if !ok || e.ticket != tk {
				continue
			}
			if open[0].IsZero() || rec.recorded.Before(open[0]) {
				open[0] = rec.recorded
			}
			if e.status == "solved" || e.status == "closed" {
				if open[1].IsZero() || rec.recorded.Before(open[1]) {
					open[1] = rec.recorded
				}
			}
		}
		if !open[0].IsZero() && !open[1].IsZero() {
			out = append(out, open)
		}
	}
	return out
}

// ticketOpen reports whether ticket tk is unsolved from a to b.
func (x *gtOrder) ticketOpen(tk int, a, b time.Time) bool {
	first, solved := time.Time{}, time.Time{}
	for _, rec := range x.rc.recs {
		e, ok := rec.body.(*helpdeskEvent)
		if !ok || e.ticket != tk {
			continue
		}
		if first.IsZero() || rec.recorded.Before(first) {
			first = rec.recorded
		}
		if (e.status == "solved" || e.status == "closed") && (solved.IsZero() || rec.recorded.Before(solved)) {
			solved = rec.recorded
		}
	}
	return !first.After(a) && !solved.IsZero() && solved.After(b)
}

// contradict makes viewer vi show CANCELLED, in its own words, at a time
// in window w, and show the status it showed before again sla + 2 skews
// later.
func (x *gtOrder) contradict(w [2]int64, vi int) bool {
	fr, rc := x.st.fr, x.rc
	at := time.UnixMilli(w[0] + fr.Int64N(w[1]-w[0]+1)).UTC()
	back := at.Add(time.Duration(x.st.r.viewers[vi].sla)*time.Millisecond + 2*GroundTruthSkew)
	var last *record // the viewer's latest report with a status before at
	for _, rec := range x.viewerRecords(vi) {
		if rec.recorded.Before(at) && x.infoOf(rec).status != 0 {
			if e, ok := rec.body.(*helpdeskEvent); ok && !x.ticketOpen(e.ticket, at, back) {
				continue // another ticket's
			}
			last = rec
		}
	}
	if last == nil {
		return false
	}
	var wrong, again body
	switch b := last.body.(type) {
	case *storefrontEvent:
		financial, fulfillment := rc.o.payment, "unfulfilled"
		for _, rec := range x.viewerRecords(vi) {
			if e, ok := rec.body.(*storefrontEvent); ok && e.financial != "" && rec.recorded.Before(at) {
				financial, fulfillment = e.financial, e.fulfillment
			}
		}
		if fulfillment == "unfulfilled" {
			fulfillment = "" // Shopify's null
		}
		e := &storefrontEvent{eventType: "orders/cancelled", ship: -1, orderFields: true}
		e.shows(view.Order{Cancelled: true, Financial: financial, Fulfillment: fulfillment})
		wrong = e
		again = b
	case *helpdeskEvent:
		if b.status == "solved" || b.status == "closed" {
			return false // a solved ticket is not refreshed
		}
		e := *b
		e.eventType, e.shown = "field_changed", "Cancelled"
		wrong = &e
		e2 := *b
		e2.eventType = "field_changed"
		again = &e2
	case *notificationEvent:
		wrong = &notificationEvent{ship: -1, channel: "email", status: "cancellation", delivery: "delivered"}
		again = b // sent again
	default:
		return false
	}
	sys := x.st.r.viewers[vi].sys
	againAt := back
	if _, ok := again.(*storefrontEvent); ok {
		againAt = last.occurred // a re-posted fulfillment event keeps the scan time it copies
	}
	for _, add := range []struct {
		b                  body
		occurred, recorded time.Time
	}{{wrong, at, at}, {again, againAt, back}} {
		rc.add(add.b, add.occurred, add.recorded)
		rc.recs[len(rc.recs)-1].transport = transportLag(sys).capped(fr, gtTransportCap)
	}
	x.rearrive(sys)
	return true
}
