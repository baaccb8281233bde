package unify

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// Event time. An order's results are defined by its events alone, never by
// the order in which they reach the stage: they are the results of applying
// the order's events one by one in event-time order — by recorded_at, the
// emitting system's own time, then by system and source event ID — where,
// before each event, every timer of the order (a check's deadline, a delay
// notice's due time) due before the event's time fires at its own time, and
// after the last event the timers due before the order's horizon fire: the
// later of its latest event's time and the partition watermark.
//
// Events usually arrive in that order, and are applied as they come (the
// fast path). One that sorts before what the order has already applied or
// fired (a late event: a scan released by its tracking link hours after it
// was scanned, a webhook retried, a backfill of another system) makes the
// order recompute itself from its history — every canonical event it has
// applied, kept in event-time order in its state — and emit what differs
// from what it had emitted: every changed record again with a higher
// version, and every record that no longer exists as a retraction (the
// same ID, retracted true). So the latest version of every record is the
// same whatever the arrival order, batch sizes, crashes or process count.

// canonicalSchema encodes the order's history: each applied event as the
// Avro binary body of its canonical_event.
var canonicalSchema = schemas.MustLoad("canonical_event")

// histEntry is one applied event of the order's history: its sort key and
// its canonical_event, Avro binary.
type histEntry struct {
	at     int64 // recorded_at, Unix ms
	system sys
	id     string // source event ID
	raw    []byte
}

// compareKey orders events by event time, then system, then event ID.
func compareKey(at int64, y sys, id string, bt int64, by sys, bid string) int {
	if c := cmp.Compare(at, bt); c != 0 {
		return c
	}
	if c := cmp.Compare(y, by); c != 0 {
		return c
	}
	return cmp.Compare(id, bid)
}

// EventTime is a canonical event's place in its order's event time:
// recorded_at, then system, then source event ID.
type EventTime struct {
	at     int64
	system sys
	id     string
}

// EventTimeOf reads a canonical event's (Plain form) place in event time;
// ok is false when it does not parse (the stage dead-letters it).
func EventTimeOf(plain map[string]any) (t EventTime, ok bool) {
	ev, err := parseEvent(Input{Plain: plain, Ingested: time.UnixMilli(1)})
	return EventTime{ev.recorded, ev.system, ev.eventID}, err == nil
}

// Compare orders event times as an order applies its events. A stage that
// sorts a batch by it sends fewer corrections; the results are the same in
// any order.
func (t EventTime) Compare(u EventTime) int {
	return compareKey(t.at, t.system, t.id, u.at, u.system, u.id)
}

func (e *histEntry) compare(ev *event) int {
	return compareKey(e.at, e.system, e.id, ev.recorded, ev.system, ev.eventID)
}

// late reports whether ev sorts before what o has applied or fired: its
// time is at or before a timer that fired, or it sorts before the latest
// event applied.
func (o *order) late(ev *event) bool {
	if ev.recorded <= o.fired {
		return true
	}
	n := len(o.hist)
	return n > 0 && o.hist[n-1].compare(ev) > 0
}

// fireOrder fires o's timers due before upto, each at its own due time
// (the clock 1 ms past it), so that the records they emit do not depend on
// when the watermark or the order's next event got there.
func (p *Processor) fireOrder(st *State, id string, o *order, upto int64, out *Output) {
	for {
		next := p.nextDue(o)
		if next == 0 || next >= upto {
			break
		}
		st.now = next + 1
		if p.checker != nil && passed(p.checker.NextDue(&o.checks), st.now) {
			addChecks(out, p.checker.Due(&o.checks, id, st.now))
		}
		if p.detector != nil && passed(p.detector.NextDue(&o.delays), st.now) {
			addNotices(out, p.detector.Due(&o.delays, id, st.now))
		}
		o.fired = max(o.fired, next)
		if p.nextDue(o) == next {
			break // a timer that does not move on would loop; the checkers' contract rules it out
		}
	}
	o.horizon = max(o.horizon, upto)
}

// step applies a new event to o in event-time order: the order's timers
// due before it fire first, then the event, at its own time, then the
// timers it made due already — before the event's time (a check opened by
// a truth its authority recorded past the viewer's deadline), or before
// the order's horizon, where the partition watermark had already fired
// its timers. So what the order has emitted is, after every event, what a
// replay of its history up to its horizon emits: a correction's "before"
// (see correct). (Firing only up to the event's time left a check the
// event opened due behind the horizon unfired until the next record; a
// late event of the order arriving first then found it in "before", never
// emitted, and the check was lost or kept depending on batch order.)
func (p *Processor) step(st *State, o *order, ev *event, plain map[string]any, out *Output) (dirty bool) {
	p.fireOrder(st, ev.orderID, o, ev.recorded, out)
	st.now = ev.recorded
	o.seen = append(o.seen, seenHash(ev.system, ev.eventID))
	o.touched = st.now
	o.horizon = max(o.horizon, st.now)
	a := applier{p: p, st: st, o: o, ev: ev, out: out}
	a.apply()
	a.attributeTicket(plain)
	a.checkView()
	a.observeDelay(plain)
	p.settle(st, ev.orderID, o)
	p.fireOrder(st, ev.orderID, o, min(max(ev.recorded, o.horizon), p.horizonCap(o)), out)
	return a.dirty
}

// historyEntry encodes the event for the order's history.
func historyEntry(ev *event, plain map[string]any) (histEntry, error) {
	raw, err := canonicalSchema.AppendBinary(nil, plain)
	if err != nil {
		return histEntry{}, fmt.Errorf("%w: %s/%s of order %q: %v", ErrInvalid, ev.system, ev.eventID, ev.orderID, err)
	}
	return histEntry{at: ev.recorded, system: ev.system, id: ev.eventID, raw: raw}, nil
}

// decode reads a history entry back as the stage's input.
func (e *histEntry) decode() (Input, error) {
	plain, rest, err := canonicalSchema.DecodePlain(e.raw)
	if err != nil || len(rest) != 0 {
		return Input{}, fmt.Errorf("history entry %s/%s: %v (%d trailing bytes)", e.system, e.id, err, len(rest))
	}
	ingested, err := schemas.PlainTimeField(plain, "ingested_at")
	if err != nil {
		return Input{}, fmt.Errorf("history entry %s/%s: ingested_at: %w", e.system, e.id, err)
	}
	return Input{Plain: plain, Ingested: ingested}, nil
}

// replay computes the order id from its history alone, on a scratch
// state: what the order would be, and the records it would have emitted
// (the latest of each), had its events arrived in event-time order, with
// its timers fired up to horizon.
func (p *Processor) replay(st *State, id string, hist []histEntry, horizon int64) (*order, Output, error) {
	scratch := &State{orders: map[string]*order{}, strs: st.strs}
	o := &order{}
	scratch.orders[id] = o
	var out Output
	for i := range hist {
		in, err := hist[i].decode()
		if err != nil {
			return nil, Output{}, err
		}
		ev, err := parseEvent(in)
		if err != nil {
			return nil, Output{}, err
		}
		if o.touched != 0 && ev.recorded > p.goneAt(o) {
			// The life ended before this event: as Process does.
			p.endLife(scratch, id, o, &out)
			o = nextLife(o)
			scratch.orders[id] = o
		}
		p.step(scratch, o, &ev, in.Plain, &out)
	}
	p.fireOrder(scratch, id, o, min(horizon, p.horizonCap(o)), &out)
	o.hist = hist
	return o, out, nil
}

// correct handles a late event: the order is recomputed from its history
// with the event in its place, and every record that differs from what the
// order had emitted goes out again with the next revision as its version;
// a record that no longer exists goes out retracted.
func (p *Processor) correct(st *State, o *order, ev *event, e histEntry, out *Output) error {
	id := ev.orderID
	horizon := max(o.horizon, st.watermark)
	_, before, err := p.replay(st, id, o.hist, o.horizon)
	if err != nil {
		return err
	}
	i, _ := slices.BinarySearchFunc(o.hist, ev, func(h histEntry, ev *event) int { return h.compare(ev) })
	hist := slices.Insert(slices.Clip(o.hist), i, e)
	n, after, err := p.replay(st, id, hist, horizon)
	if err != nil {
		return err
	}
	n.revision = o.revision + 1
	n.saved = i // the entries from the late one on moved
	n.closed, n.touched = max(n.closed, 0), max(n.touched, o.touched)
	st.orders[id] = n
	if n.closed != 0 {
		st.closed.Push(n.closed, id)
	}
	diffOutputs(before, after, n.revision, out)
	rec := stateRecord(id, n)
	out.State = &rec
	out.Corrected++
	return nil
}

// outputKind names the record kinds a correction compares.
type outputKind uint8

const (
	kindTransition outputKind = iota
	kindCheck
	kindFailed
	kindNotice
	kindTicket
)

// kindNames are the kinds' names (metric labels).
var kindNames = [...]string{kindTransition: "transition", kindCheck: "sync_check", kindFailed: "failed_sync", kindNotice: "delay_notice", kindTicket: "wismo_ticket"}

// CorrectionKinds are the kinds a Correction names (Correction.Kind), for
// metric labels.
func CorrectionKinds() []string { return slices.Clone(kindNames[:]) }

// outputID is a record's identity in its ClickHouse table.
type outputID struct {
	kind outputKind
	id   string
}

// latest collects each record's latest value by identity.
func latest(out Output) map[outputID]map[string]any {
	m := map[outputID]map[string]any{}
	add := func(kind outputKind, field string, v map[string]any) {
		id, _ := v[field].(string)
		if kind == kindTicket {
			id = fmt.Sprint(id, "\x00", v["ticket_at"])
		}
		m[outputID{kind, id}] = v
	}
	for _, r := range out.Transitions {
		add(kindTransition, "transition_id", r.Value)
	}
	for _, set := range []struct {
		kind  outputKind
		field string
		recs  []synccheck.Record
	}{{kindCheck, "check_id", out.Checks}, {kindFailed, "check_id", out.Failed}, {kindNotice, "notice_id", out.Notices}, {kindTicket, "ticket_id", out.Tickets}} {
		for _, r := range set.recs {
			add(set.kind, set.field, r.Value)
		}
	}
	return m
}

// diffOutputs appends to out, in (kind, ID) order, every record of after
// that is new or changed against before, and a retraction of every record
// of before that after no longer has, all at version revision.
func diffOutputs(before, after Output, revision uint32, out *Output) {
	old, now := latest(before), latest(after)
	ids := slices.Collect(maps.Keys(old))
	for id := range now {
		if _, ok := old[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b outputID) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.id, b.id))
	})
	for _, id := range ids {
		v, ok := now[id]
		switch {
		case !ok:
			v = maps.Clone(old[id])
			v["retracted"] = true
		case reflect.DeepEqual(v, old[id]):
			continue
		default:
			v = maps.Clone(v)
		}
		stampVersion(id.kind, v, revision)
		out.Corrections = append(out.Corrections, Correction{Kind: kindNames[id.kind], Retracted: !ok})
		out.add(id.kind, v)
	}
}

// add appends the value v, a record of kind, to its list, keyed by its
// order ID.
func (out *Output) add(kind outputKind, v map[string]any) {
	key, _ := v["order_id"].(string)
	r := synccheck.Record{Key: key, Value: v}
	switch kind {
	case kindTransition:
		out.Transitions = append(out.Transitions, Record(r))
	case kindCheck:
		out.Checks = append(out.Checks, r)
	case kindFailed:
		out.Failed = append(out.Failed, r)
	case kindNotice:
		out.Notices = append(out.Notices, r)
	case kindTicket:
		out.Tickets = append(out.Tickets, r)
	}
}

// noticeVersionBits is how many low bits of a delay notice's version are
// the detector's own count of its changes; the revision of the order's
// results is above them, so a corrected notice outranks every version
// emitted before the correction.
const noticeVersionBits = 20

// stampVersion sets a record's version to the order's revision (for a
// delay notice, the revision above the detector's own version).
func stampVersion(kind outputKind, v map[string]any, revision uint32) {
	if kind == kindNotice {
		own, _ := v["version"].(int64)
		v["version"] = int64(revision)<<noticeVersionBits | own&(1<<noticeVersionBits-1)
		return
	}
	v["version"] = int64(revision)
}

// mark is a position in an Output's record lists.
type mark struct{ t, c, f, n, k int }

func (out *Output) mark() mark {
	return mark{len(out.Transitions), len(out.Checks), len(out.Failed), len(out.Notices), len(out.Tickets)}
}

// stampSince sets the version of every record appended since m, when the
// order has been corrected before (revision 0 is the schemas' default).
func (out *Output) stampSince(m mark, revision uint32) {
	if revision == 0 {
		return
	}
	for _, r := range out.Transitions[m.t:] {
		stampVersion(kindTransition, r.Value, revision)
	}
	for _, set := range []struct {
		kind outputKind
		recs []synccheck.Record
	}{{kindCheck, out.Checks[m.c:]}, {kindFailed, out.Failed[m.f:]}, {kindNotice, out.Notices[m.n:]}, {kindTicket, out.Tickets[m.k:]}} {
		for _, r := range set.recs {
			stampVersion(set.kind, r.Value, revision)
		}
	}
}
