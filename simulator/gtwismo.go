package simulator

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// WISMO tickets in the ground-truth profile (see the package doc, "Ground
// truth"): the simulator injects "where is my order" tickets where their
// cause is certain, and says how the pipeline's WISMO attribution
// (processors/wismo, in the unify stage) must attribute each. The
// attribution is the ground truth's own reading of the rules, over the
// same processing orders as the checks: the facts unify has when the
// ticket's first event arrives (the truth, the outbound parcels, the
// attributable viewers' lags from the judge's checks, the delay notices
// not told in time from its own delay detection), then the cause by
// precedence.

// Injection: an order gets at most one WISMO ticket, aimed by the first of
// these the order offers and draws (a share of such orders), tried at up
// to gtWismoCandidates random times in the spans that aim at its cause,
// and kept at the first where the attribution is the same in every
// processing order and GroundTruthWismoMargin earlier and later.
const (
	// gtWismoLagShare: orders with an injected storefront or
	// notifications delay or drop get a ticket while the viewer is late
	// (the held-back check past its deadline, or the dropped one before it
	// closes MISSING).
	gtWismoLagShare = 0.25
	// gtWismoUntoldShare: orders with a delay notice not told in time get
	// a ticket after its notify_by, while it is untold.
	gtWismoUntoldShare = 0.8
	// gtWismoProblemShare: orders with a carrier problem get a ticket
	// while it lasts, from 10 minutes after it (the customer has been
	// told by then, unless the notice went untold).
	gtWismoProblemShare = 0.15
	// gtWismoQuestionShare: other orders get a ticket with nothing wrong:
	// waiting for the order, or a day after delivery.
	gtWismoQuestionShare = 0.025
	// gtWismoCandidates bounds the times tried for one ticket.
	gtWismoCandidates = 4
	// gtWismoTicketBase numbers the injected tickets (ticket_id) apart
	// from the order's own.
	gtWismoTicketBase = 900_000_000
)

// GroundTruthWismoMargin: an injected WISMO ticket's attribution is the
// same this much earlier and later (every time boundary of the rules is
// at least this far from the ticket's time).
const GroundTruthWismoMargin = 3 * time.Minute

// The injection aims, as indexes.
const (
	wiLag = iota
	wiUntold
	wiProblem
	wiQuestion
	nWismoAims
)

var (
	wismoAimNames  = [nWismoAims]string{"viewer_lag", "untold_delay", "carrier_problem", "question"}
	wismoAimShares = [nWismoAims]float64{gtWismoLagShare, gtWismoUntoldShare, gtWismoProblemShare, gtWismoQuestionShare}
)

// wCause is a WISMO cause, in precedence order.
type wCause uint8

const (
	wcNone wCause = iota
	wcViewer
	wcDelay
	wcCarrier
	wcNoProblem
	nCauses
)

// The causes' names (wismo_ticket.cause) and the link of a delay not
// notified.
var wCauseNames = [nCauses]string{"", "viewer_out_of_sync", "delay_not_notified", "carrier_exception", "no_sync_problem"}

const wLinkDelayNotice = "delay_notice->notifications"

// WismoCauses lists the WISMO causes in precedence order, as the ground
// truth names them.
func WismoCauses() []string { return slices.Clone(wCauseNames[1:]) }

// wAttr is an attribution: the cause and the integration link.
type wAttr struct {
	cause wCause
	link  string
}

// wTicket is one WISMO ticket attributed by the judge.
type wTicket struct {
	ticket int   // index into order.tickets
	at     int64 // ticket_at: its first event's occurred_at
	attr   wAttr
	sure   bool
}

// wLag is one lag of an attributable viewer (wismo.ViewerLag).
type wLag struct {
	rank                   int // the viewer's place in attribute_viewers
	viewer, auth           schemas.System
	since, deadline, until int64
	// uncertain: a check closed MISSING or CONFLICT (synccheck counts it
	// until the viewer shows the truth again, which the judge does not
	// follow), or a failure that may or may not be among those synccheck
	// remembers: an attribution that depends on it is not certain.
	uncertain bool
}

// wDelay is one delay notice not told in time (wismo.Delay).
type wDelay struct{ knownAt, notifyBy, toldAt int64 }

// wParcel is an outbound parcel's status.
type wParcel struct {
	status cst
	since  int64
}

// wFacts is what unify knows of an order when a ticket's first event
// arrives (wismo.Facts).
type wFacts struct {
	truth      cst
	truthSince int64
	parcels    []wParcel
	lags       []wLag
	delays     []wDelay
}

// facts reads the judge's, the truth's and delay detection's state.
func (x *gtOrder) facts(j *judge, u *uOrder, d *dOrder) wFacts {
	r := x.st.r
	f := wFacts{truth: u.truth, truthSince: u.truthAt, delays: d.untold()}
	for i := range u.ships {
		if sh := &u.ships[i]; sh.seen && !sh.ret && sh.status != 0 {
			f.parcels = append(f.parcels, wParcel{status: sh.status, since: sh.since})
		}
	}
	lag := func(vi int, auth schemas.System, since, deadline, until int64, uncertain bool) {
		if rank := r.attrRank[vi]; rank >= 0 {
			f.lags = append(f.lags, wLag{rank: rank, viewer: r.viewers[vi].sys, auth: auth, since: since,
				deadline: deadline, until: until, uncertain: uncertain})
		}
	}
	for i := range j.checks {
		k := &j.checks[i]
		lag(k.viewer, k.auth, k.t, k.deadline, 0, false) // open, or a pending conflict
	}
	// The failures remembered since they closed: the latest
	// wMaxFailures of the order's, every viewer's, in closing order.
	var fails []*jOut
	for i := range j.out {
		switch j.out[i].outcome {
		case oLate, oMissing, oConflict:
			fails = append(fails, &j.out[i])
		}
	}
	cut := len(fails) - wMaxFailures
	for i, c := range fails {
		uncertain := c.outcome != oLate
		if cut > 0 {
			// Failures closed in one step close in an order the judge
			// does not follow: at the cut, which are kept is uncertain.
			if a := fails[cut-1].step; a == fails[cut].step && c.step == a {
				uncertain = true
			} else if i < cut {
				continue // forgotten
			}
		}
		if c.outcome == oLate {
			lag(c.viewer, c.auth, c.t, c.dl, c.at, uncertain)
		} else {
			lag(c.viewer, c.auth, c.t, c.dl, 0, uncertain)
		}
	}
	return f
}

// wMaxFailures is how many closed failures synccheck remembers per order
// for the lags (maxFailures).
const wMaxFailures = 4

func carrierProblem(s cst) bool {
	switch s.Status() {
	case canonical.Exception, canonical.DeliveryAttemptFailed, canonical.ReturnToSender:
		return true
	}
	return false
}

// attribute is wismo.Rules.Attribute: the cause of a ticket asked at at.
// withUncertain counts the uncertain lags as failing. tie reports a tie
// between two lags the rules break by check ID, with different links.
func (f *wFacts) attribute(at int64, withUncertain bool) (a wAttr, tie bool) {
	var best *wLag
	for i := range f.lags {
		l := &f.lags[i]
		if l.since > at || l.deadline >= at || (l.until != 0 && l.until <= at) || (l.uncertain && !withUncertain) {
			continue
		}
		if best == nil {
			best = l
			continue
		}
		switch c := cmpLag(l, best); {
		case c < 0:
			best, tie = l, false
		case c == 0 && l.auth != best.auth:
			tie = true
		}
	}
	if best != nil {
		link := string(best.viewer)
		if best.auth != "" {
			link = string(best.auth) + "->" + link
		}
		return wAttr{cause: wcViewer, link: link}, tie
	}
	for _, d := range f.delays {
		if d.notifyBy < at && (d.toldAt == 0 || d.toldAt > at) {
			return wAttr{cause: wcDelay, link: wLinkDelayNotice}, false
		}
	}
	if carrierProblem(f.truth) && f.truthSince <= at {
		return wAttr{cause: wcCarrier}, false
	}
	for _, p := range f.parcels {
		if carrierProblem(p.status) && p.since <= at {
			return wAttr{cause: wcCarrier}, false
		}
	}
	return wAttr{cause: wcNoProblem}, false
}

func cmpLag(a, b *wLag) int {
	switch {
	case a.since != b.since:
		return cmpInt(a.since, b.since)
	case a.rank != b.rank:
		return cmpInt(int64(a.rank), int64(b.rank))
	}
	return cmpInt(a.deadline, b.deadline)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// attribution is the ticket's attribution at at, and whether it is
// certain: the same margin earlier and later, whether or not the
// uncertain lags count, and without a tie broken by check IDs.
func (f *wFacts) attribution(at, margin int64) (wAttr, bool) {
	a, tie := f.attribute(at, true)
	if tie {
		return a, false
	}
	for _, t := range [...]int64{at - margin, at, at + margin} {
		for _, u := range [...]bool{true, false} {
			if b, tie := f.attribute(t, u); b != a || tie {
				return a, false
			}
		}
	}
	return a, true
}

func (r *gtResult) ticketsSure() bool {
	for _, t := range r.tickets {
		if !t.sure {
			return false
		}
	}
	return true
}

// delayEvent reads what delay detection needs of a record (its times are
// read when it is processed: faults move them).
func (x *gtOrder) delayEvent(rec *record, v map[string]any, status cst) dEvent {
	ms := func(f string) int64 {
		if t, ok := v[f].(time.Time); ok {
			return t.UnixMilli()
		}
		return 0
	}
	str := func(f string) string { s, _ := v[f].(string); return s }
	ev := dEvent{sys: rec.system, status: status}
	switch rec.system {
	case schemas.Storefront, schemas.OMS:
		ev.shipBy, ev.deliverBy = ms("promised_ship_by"), ms("promised_deliver_by")
	case schemas.Carrier:
		ev.parcel = str("tracking_number")
		if b, ok := rec.body.(*carrierEvent); ok && !x.rc.o.ships[b.ship].isReturn {
			ev.eta = ms("estimated_delivery")
		}
	case schemas.Notifications:
		ev.msgType, ev.delivery, ev.revised = str("status"), str("delivery_status"), ms("revised_date")
	}
	return ev
}

// wismoWindows lists, per aim, the spans of ticket times that aim at its
// cause in the order as judged (final, with its faults).
func (x *gtOrder) wismoWindows(final *gtResult, faults []faultDone) [nWismoAims][][2]int64 {
	var w [nWismoAims][][2]int64
	m := GroundTruthWismoMargin.Milliseconds()
	const minute, hour = int64(60_000), int64(3_600_000)
	add := func(aim int, lo, hi int64) {
		if lo <= hi {
			w[aim] = append(w[aim], [2]int64{lo, hi})
		}
	}
	for _, fd := range faults {
		if x.st.r.attrRank[fd.viewer] < 0 {
			continue
		}
		switch fd.kind {
		case fDelay:
			add(wiLag, fd.window[0]+m, fd.window[1]-m)
		case fDrop:
			add(wiLag, fd.window[0]+m, min(fd.window[1], fd.window[0]+12*hour)-m)
		}
	}
	for _, n := range final.notices {
		hi := n.notifyBy + 12*hour
		switch n.outcome {
		case doOpen, doNotNotified:
		case doLate:
			hi = min(hi, n.toldAt)
		default:
			continue
		}
		add(wiUntold, n.notifyBy+m, hi-m)
	}
	span := func(aim int, status cst, t, next int64) {
		switch {
		case aim == wiProblem && carrierProblem(status):
			add(wiProblem, t+10*minute, min(next, t+24*hour)-m)
		case aim == wiQuestion && status.Status() == canonical.Delivered:
			add(wiQuestion, t+hour, min(next, t+36*hour)-m)
		case aim == wiQuestion && (inFlight(status) || status.Status() == canonical.Confirmed):
			add(wiQuestion, t+10*minute, min(next, t+36*hour)-m)
		}
	}
	for _, aim := range []int{wiProblem, wiQuestion} {
		for i, mv := range final.moves {
			next := int64(1) << 62
			if i+1 < len(final.moves) {
				next = final.moves[i+1].t
			}
			span(aim, mv.status, mv.t, next)
		}
	}
	for i, mv := range final.pmoves {
		next := int64(1) << 62
		for _, nx := range final.pmoves[i+1:] {
			if nx.ship == mv.ship {
				next = nx.t
				break
			}
		}
		span(wiProblem, mv.status, mv.t, next)
	}
	return w
}

// addWismo injects at most one WISMO ticket into the order (see the
// constants above). natural and final are the order's results without and
// with its faults, pre its records before the faults. It returns the
// results with the ticket (the same when none was injected).
func (x *gtOrder) addWismo(natural, final *gtResult, faults []faultDone, pre snapshot) (*gtResult, *gtResult) {
	st := x.st
	wr := st.wr
	windows := x.wismoWindows(final, faults)
	aim := -1
	for i := range nWismoAims {
		u := wr.Float64() // drawn for every aim, so that one's share never shifts another's draws
		if len(windows[i]) > 0 {
			st.wismoAims[i].Eligible++
			if aim < 0 && u < wismoAimShares[i] {
				aim = i
			}
		}
	}
	if aim < 0 {
		return natural, final
	}
	st.wismoAims[aim].Drawn++
	o := x.rc.o
	tk := len(o.tickets)
	o.tickets = append(o.tickets, &ticket{id: strconv.Itoa(gtWismoTicketBase + o.idx), subject: "Where is my order " + o.number + "?",
		channel: wr.pick(ticketChannels), linked: true, wismo: true})
	post := x.save()
	for range gtWismoCandidates {
		win := windows[aim][wr.IntN(len(windows[aim]))]
		at := time.UnixMilli(win[0] + wr.Int64N(win[1]-win[0]+1)).UTC()
		// The customer asks: the ticket's one event, before the agent
		// loaded the order (no order status shown).
		x.rc.add(&helpdeskEvent{ticket: tk, eventType: "created", status: "new", tags: wismoTags}, at, at.Add(wr.between(0, 2*time.Second)))
		rec := x.rc.recs[len(x.rc.recs)-1]
		rec.transport = transportLag(schemas.Helpdesk).capped(wr, gtTransportCap)
		rec.arrival = rec.recorded.Add(rec.transport)
		if n, f := x.withTicket(rec, natural, final, pre, post); f != nil {
			st.wismoAims[aim].Injected++
			return n, f
		}
		x.restore(post)
	}
	o.tickets = o.tickets[:tk]
	st.wismoAims[aim].Skipped++
	return natural, final
}

// withTicket judges the order with the ticket record rec added, without
// and with its faults; it returns both results, or nils when the ticket's
// attribution is not certain or the ticket changes what the faults did.
func (x *gtOrder) withTicket(rec *record, natural, final *gtResult, pre, post snapshot) (*gtResult, *gtResult) {
	x.restore(pre)
	x.rc.recs = append(x.rc.recs, rec)
	x.wismoOff = true
	n := x.judge()
	x.wismoOff = false
	if n == nil {
		return nil, nil
	}
	x.restore(post)
	x.rc.recs = append(x.rc.recs, rec)
	f := x.judge()
	if f == nil || len(f.tickets) != 1 {
		return nil, nil
	}
	for w := range f.seen {
		a1, b1 := f.counts(w)
		a0, b0 := n.counts(w)
		c1, d1 := final.counts(w)
		c0, d0 := natural.counts(w)
		for i := range a1 {
			if a1[i]-a0[i] != c1[i]-c0[i] {
				return nil, nil
			}
		}
		for i := range b1 {
			if b1[i]-b0[i] != d1[i]-d0[i] {
				return nil, nil
			}
		}
	}
	return n, f
}

// checkTickets makes sure the WISMO rules classify exactly the order's
// WISMO tickets (the injected ones) as WISMO.
func (x *gtOrder) checkTickets() error {
	w := x.st.r.wismo
	if w == nil {
		return nil
	}
	o := x.rc.o
	for _, rec := range x.rc.recs {
		e, ok := rec.body.(*helpdeskEvent)
		if !ok {
			continue
		}
		t := o.tickets[e.ticket]
		if got := w.IsWismo(e.tags, t.subject); got != t.wismo {
			return fmt.Errorf("simulator: ground truth: ticket %s of %s (tags %v, subject %q): the WISMO rules classify it %v, the simulator meant %v",
				t.id, o.id, e.tags, t.subject, got, t.wismo)
		}
	}
	return nil
}

// gtWismo accumulates the WISMO ground truth over a run.
type gtWismo struct {
	months map[string]*wMonth
	causes [nCauses]int
}

type wMonth struct {
	orders int
	rows   map[wAttr]int
}

func (w *gtWismo) month(ms int64) *wMonth {
	if w.months == nil {
		w.months = map[string]*wMonth{}
	}
	name := time.UnixMilli(ms).UTC().Format("2006-01")
	m := w.months[name]
	if m == nil {
		m = &wMonth{rows: map[wAttr]int{}}
		w.months[name] = m
	}
	return m
}

// addOrder counts an order in the month it was placed, as the report
// counts orders: the earliest occurred_at of an event reporting it PLACED
// (none: not counted); and its WISMO tickets in the months of their
// ticket_at.
func (x *gtOrder) addWismoTruth(final *gtResult) []TicketTruth {
	st := x.st
	placed := int64(-1)
	for _, rec := range x.rc.recs {
		if in := x.infoOf(rec); in.reaches && in.status.Status() == canonical.Placed {
			if t := rec.occurred.UnixMilli(); placed < 0 || t < placed {
				placed = t
			}
		}
	}
	if placed >= 0 {
		st.wismo.month(placed).orders++
	}
	var out []TicketTruth
	for _, t := range final.tickets {
		st.wismo.month(t.at).rows[t.attr]++
		st.wismo.causes[t.attr.cause]++
		tk := x.rc.o.tickets[t.ticket]
		out = append(out, TicketTruth{TicketID: tk.id, At: time.UnixMilli(t.at).UTC(), Cause: wCauseNames[t.attr.cause], Link: t.attr.link})
	}
	return out
}

// TicketTruth is one WISMO ticket's expected attribution (in OrderTrace).
type TicketTruth struct {
	TicketID string
	At       time.Time // ticket_at
	Cause    string
	Link     string // "" for carrier_exception and no_sync_problem
}

// WismoTruth is what the pipeline's WISMO attribution must report for the
// run (`baton report wismo --month YYYY-MM`): per month, the orders placed
// and the WISMO tickets by cause and link.
type WismoTruth struct {
	// AttributeViewers are the viewers tickets are attributed to, in tie
	// order (the WISMO rules' attribute_viewers).
	AttributeViewers []string `json:"attribute_viewers"`
	// MarginMillis: every injected ticket has the same attribution this
	// much earlier and later.
	MarginMillis int64 `json:"margin_ms"`
	// Tickets counts the WISMO tickets; ByCause by cause, the four causes
	// in precedence order.
	Tickets int                `json:"tickets"`
	ByCause []WismoCauseTruth  `json:"by_cause"`
	Months  []WismoMonthTruth  `json:"months"`
	Aims    []WismoInjectTruth `json:"injected"`
}

// WismoCauseTruth counts one cause's tickets.
type WismoCauseTruth struct {
	Cause   string `json:"cause"`
	Tickets int    `json:"tickets"`
}

// WismoMonthTruth is one UTC calendar month, every month from the first
// order's to the last with orders or tickets (sentinels included).
type WismoMonthTruth struct {
	Month string `json:"month"` // YYYY-MM
	// Orders counts the orders placed in the month as the report counts
	// them: the earliest time any event reported the order PLACED. The
	// sentinel orders count too (each is a storefront orders/create);
	// SentinelOrders says how many of Orders they are.
	Orders         int `json:"orders"`
	SentinelOrders int `json:"sentinel_orders"`
	// Tickets counts the month's WISMO tickets (by ticket_at: the
	// occurred_at of the ticket's first event); Rows group them by cause
	// and link, sorted by cause (precedence order) then link.
	Tickets int             `json:"tickets"`
	Rows    []WismoRowTruth `json:"rows"`
	// ByCause sums the rows by cause: the four causes in precedence
	// order, zeros included (the review's by_cause tickets).
	ByCause []WismoCauseTruth `json:"by_cause"`
}

// WismoRowTruth is one cause and link's tickets in a month, as the report
// groups them (wismoreview.Row).
type WismoRowTruth struct {
	Cause   string `json:"cause"`
	Link    string `json:"link"`
	Tickets int    `json:"tickets"`
}

// WismoInjectTruth counts one injection aim: Eligible orders offered a
// place for it, Drawn got it (at its share), of which Injected got a
// ticket and Skipped did not (no certain place).
type WismoInjectTruth struct {
	Aim      string `json:"aim"`
	Eligible int    `json:"eligible"`
	Drawn    int    `json:"drawn"`
	Injected int    `json:"injected"`
	Skipped  int    `json:"skipped"`
}

// wismoResult builds the WISMO section.
func (st *gtState) wismoResult(start time.Time) WismoTruth {
	w := &st.wismo
	out := WismoTruth{MarginMillis: GroundTruthWismoMargin.Milliseconds(), ByCause: []WismoCauseTruth{}, Months: []WismoMonthTruth{}}
	ranked := make([]string, 0, len(st.r.viewers))
	for rank := 0; ; rank++ {
		found := false
		for i, v := range st.r.viewers {
			if st.r.attrRank[i] == rank {
				ranked = append(ranked, string(v.sys))
				found = true
			}
		}
		if !found {
			break
		}
	}
	out.AttributeViewers = ranked
	for c := wcViewer; c < nCauses; c++ {
		out.ByCause = append(out.ByCause, WismoCauseTruth{Cause: wCauseNames[c], Tickets: w.causes[c]})
		out.Tickets += w.causes[c]
	}
	for i := range nWismoAims {
		a := st.wismoAims[i]
		a.Aim = wismoAimNames[i]
		out.Aims = append(out.Aims, a)
	}
	var names []string
	for n := range w.months {
		names = append(names, n)
	}
	sentinelMonth := ""
	if st.sentinels > 0 {
		sentinelMonth = st.sentinelsAt.UTC().Format("2006-01")
		if w.months[sentinelMonth] == nil {
			names = append(names, sentinelMonth)
		}
	}
	if len(names) == 0 {
		return out
	}
	slices.Sort(names)
	first, err := time.Parse("2006-01", min(names[0], start.UTC().Format("2006-01")))
	if err != nil {
		return out
	}
	for t := first; t.Format("2006-01") <= names[len(names)-1]; t = t.AddDate(0, 1, 0) {
		name := t.Format("2006-01")
		mt := WismoMonthTruth{Month: name, Rows: []WismoRowTruth{}}
		if name == sentinelMonth {
			mt.Orders, mt.SentinelOrders = st.sentinels, st.sentinels
		}
		if m := w.months[name]; m != nil {
			mt.Orders += m.orders
			keys := make([]wAttr, 0, len(m.rows))
			for k := range m.rows {
				keys = append(keys, k)
			}
			slices.SortFunc(keys, func(a, b wAttr) int {
				if a.cause != b.cause {
					return int(a.cause) - int(b.cause)
				}
				switch {
				case a.link < b.link:
					return -1
				case a.link > b.link:
					return 1
				}
				return 0
			})
			for _, k := range keys {
				mt.Rows = append(mt.Rows, WismoRowTruth{Cause: wCauseNames[k.cause], Link: k.link, Tickets: m.rows[k]})
				mt.Tickets += m.rows[k]
			}
		}
		for c := wcViewer; c < nCauses; c++ {
			n := 0
			for _, r := range mt.Rows {
				if r.Cause == wCauseNames[c] {
					n += r.Tickets
				}
			}
			mt.ByCause = append(mt.ByCause, WismoCauseTruth{Cause: wCauseNames[c], Tickets: n})
		}
		out.Months = append(out.Months, mt)
	}
	return out
}
