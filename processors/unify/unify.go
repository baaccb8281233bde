package unify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/schemas"
)

// Config tunes the processor.
type Config struct {
	// Authority says which system is the source of truth for which
	// canonical status (DefaultAuthority when nil).
	Authority *Authority
	// Retention is how long after it closed (or after its latest event
	// since, when later), in event time, a closed order takes events into
	// its history: an event of the order timed later starts it afresh.
	// It is also the allowed lateness: an event timed more than Retention
	// behind its partition's watermark is too late (ErrTooLate), and an
	// order's state is dropped once the watermark passes the end of its
	// life plus Retention, when no event that could still join it can
	// come. Longer keeps late events (a return requested weeks after
	// delivery, a straggling scan, a backfill of one system) attached to
	// their order's history at the cost of memory.
	Retention time.Duration
	// IdleTimeout evicts an order that is still open but has had no event
	// for this long of watermark time (a parcel lost with no refund
	// recorded, an order whose last events were dead-lettered), so that
	// the state cannot grow without bound. It must exceed Retention.
	IdleTimeout time.Duration
	// Viewers are the sync-check rules (package synccheck): which systems
	// show status to customers and agents, their SLAs and the statuses each
	// must reflect. Nil: the embedded viewers.map.
	Viewers *synccheck.Viewers
	// SyncChecks turns the viewer checks on (Output.Checks, Output.Failed;
	// `baton run` turns them on unless --sync-checks=false).
	SyncChecks bool
	// Delays turns delay detection on (package delay): FTC-style delay
	// notices (Output.Notices) and the notifications viewer's check that
	// each was told in time (failed syncs of reason delay_not_notified, in
	// Output.Failed). Its SLA is the notifications viewer's.
	Delays bool
	// Wismo turns WISMO attribution on (package wismo): help-desk tickets
	// classified as "where is my order?" are attributed to the cause
	// visible when the customer asked (Output.Tickets). Its facts come from
	// the viewer checks and delay detection, so turn those on too (a cause
	// whose feature is off is never found).
	Wismo bool
	// WismoRules are the classification and attribution rules; nil: the
	// embedded wismo.map.
	WismoRules *wismo.Rules
	// Origins is the number of normalize partitions that announce their
	// progress to every state (Processor.Progress; `baton run` sets the
	// partition count). With it, lateness and eviction follow the events'
	// own sources, not the order in which the partition received them:
	// an event is too late when it is timed more than Retention behind
	// its source clock (how far its source partition had been processed
	// when normalize read it, the canonical event's source_clock), and an
	// order's state is dropped once every origin's progress (the least
	// source clock any of its events can still carry) passes the end of
	// its life plus Retention, so every event that is not too late finds
	// its order whatever the arrival order. Zero: both follow the
	// partition's watermark, as in Flink, and which events are too late
	// depends on arrival order near the limit.
	Origins int
}

// Defaults.
const (
	DefaultRetention   = 30 * 24 * time.Hour
	DefaultIdleTimeout = 120 * 24 * time.Hour
)

// Processor is the unify logic. It holds no state of its own (state is per
// partition and passed in), so one Processor serves every partition, also
// concurrently.
type Processor struct {
	cfg   Config
	auth  *Authority
	floor [32]st // per problem state, the lowest main-line stage a recovery may return to
	// checker checks the viewers against the truth; nil unless
	// Config.SyncChecks.
	checker *synccheck.Checker
	// detector detects delays; nil unless Config.Delays.
	detector *delay.Detector
	// attributor attributes WISMO tickets; nil unless Config.Wismo.
	attributor *wismo.Attributor
}

// New checks the config and fills defaults.
func New(cfg Config) (*Processor, error) {
	if cfg.Authority == nil {
		a, err := DefaultAuthority()
		if err != nil {
			return nil, fmt.Errorf("unify: %w", err)
		}
		cfg.Authority = a
	}
	if cfg.Retention < 0 || cfg.IdleTimeout < 0 {
		return nil, fmt.Errorf("unify: negative Retention (%v) or IdleTimeout (%v)", cfg.Retention, cfg.IdleTimeout)
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	cfg.IdleTimeout = IdleTimeoutOr(cfg.IdleTimeout, cfg.Retention)
	if cfg.IdleTimeout <= cfg.Retention {
		return nil, fmt.Errorf("unify: IdleTimeout %v must exceed Retention %v (a closed order would be evicted as idle first)", cfg.IdleTimeout, cfg.Retention)
	}
	p := &Processor{cfg: cfg, auth: cfg.Authority}
	if cfg.SyncChecks {
		p.checker = synccheck.New(cfg.Viewers)
	}
	if cfg.Delays {
		d, err := newDetector(cfg.Viewers)
		if err != nil {
			return nil, fmt.Errorf("unify: %w", err)
		}
		p.detector = d
	}
	if cfg.Wismo {
		p.attributor = wismo.New(cfg.WismoRules)
	}
	for c := st(1); c <= lastSt; c++ {
		if c.Problem() {
			p.floor[c] = p.recoveryFloor(c)
		}
	}
	return p, nil
}

// recoveryFloor is the lowest main-line stage a track may recover to from
// problem state c: the lowest stage of c's own authority (a carrier
// exception may recover to IN_TRANSIT, an OMS hold to CONFIRMED), or, if
// that authority decides no stage, the highest stage at or below c's rank.
func (p *Processor) recoveryFloor(c st) st {
	var floor st
	for s := st(1); s <= lastSt; s++ {
		if s.Stage() && p.auth.by[s] == p.auth.by[c] && (floor == 0 || s.Rank() < floor.Rank()) {
			floor = s
		}
	}
	if floor != 0 {
		return floor
	}
	for s := st(1); s <= lastSt; s++ {
		if s.Stage() && s.Rank() <= c.Rank() && (floor == 0 || s.Rank() > floor.Rank()) {
			floor = s
		}
	}
	return floor
}

// Authority is the processor's authority rules.
func (p *Processor) Authority() *Authority { return p.auth }

// Input is one canonical event.
type Input struct {
	// Plain is the event in the JSON form schemas.Schema.Plain produces for
	// canonical_event: times as RFC 3339 strings (time.Time is accepted
	// too), nullable fields nil or their value.
	Plain map[string]any
	// Ingested is the Kafka record timestamp of the canonical event: the
	// partition's clock (watermark).
	Ingested time.Time
}

// Record is one output record: Value is in the JSON form
// schemas.MustLoad(name).FromJSON accepts (times as time.Time).
type Record struct {
	Key   string
	Value map[string]any
}

// Output is everything one input caused.
type Output struct {
	// Transitions are order_transition values, keyed by order ID, in
	// timeline order: a shipment's move before the order's it caused.
	Transitions []Record
	// State is the order's new order_state value (key order ID); nil when
	// nothing in it changed.
	State *Record
	// Changes are the changelog records to write, in order.
	Changes []Change
	// Rejected is set when the input is invalid (no order ID, an
	// unparseable time, an unknown status or system; ErrInvalid) or too
	// late (ErrTooLate); nothing else is set and the state is untouched.
	// The pipeline dead-letters the input.
	Rejected error
	// Duplicate is set when the order has seen this (source_system,
	// source_event_id) before: the event changes nothing and emits nothing.
	Duplicate bool
	// Regressions counts authoritative events refused because they would
	// move a truth backward (see the package doc, "Tracks").
	Regressions int
	// Evicted counts closed orders evicted by this input's watermark
	// advance; Expired, open orders evicted after IdleTimeout.
	Evicted int
	Expired int
	// Checks are sync_check values (checks that closed) and Failed
	// failed_sync values, keyed by order ID: of this input's order, of
	// orders whose checks fell due as the watermark advanced, and of
	// evicted orders (their open checks close MISSING).
	Checks []synccheck.Record
	Failed []synccheck.Record
	// Notices are delay_notice values (package delay), keyed by order ID:
	// every notice opened or changed, with its state after the change.
	// Their failed syncs (delay_not_notified) are in Failed.
	Notices []synccheck.Record
	// Tickets are wismo_ticket values (package wismo), keyed by order ID:
	// the help-desk tickets this input classified as WISMO, each with its
	// attribution.
	Tickets []synccheck.Record
	// Late is set when the event sorted before what its order had applied
	// or fired (see eventtime.go): the order was recomputed, and Corrected
	// counts the orders whose records went out again (changed ones with a
	// higher version, vanished ones retracted).
	Late      bool
	Corrected int
	// Corrections lists the records the correction re-emitted, by kind
	// (transition, sync_check, failed_sync, delay_notice, wismo_ticket).
	Corrections []Correction
}

// Correction is one record a correction re-emitted.
type Correction struct {
	Kind      string
	Retracted bool
}

// event is the part of a canonical event the stage reads.
type event struct {
	orderID, shipmentID, tracking string
	system                        sys
	eventID, source               string
	status                        st
	occurred, recorded, ingested  int64
	sourceClock                   int64 // how far its source partition had been processed when normalize read it; 0 when not carried
	eta, shipBy, deliverBy        int64
	carrier                       string
}

// Process handles one canonical event against its partition's state,
// updating the state and returning what to produce. It never panics and
// never reads the wall clock: the same inputs into the same state give the
// same outputs, byte for byte.
func (p *Processor) Process(st *State, in Input) Output {
	ev, err := parseEvent(in)
	if err != nil {
		return Output{Rejected: err}
	}
	entry, err := historyEntry(&ev, in.Plain)
	if err != nil {
		return Output{Rejected: err}
	}
	if clock, what := p.latenessClock(st, &ev); clock-ev.recorded > p.cfg.Retention.Milliseconds() {
		return Output{Rejected: fmt.Errorf("%w: %s/%s of order %q recorded at %s, %s behind %s; the allowed lateness (--retention) is %s",
			ErrTooLate, ev.system, ev.eventID, ev.orderID, time.UnixMilli(ev.recorded).UTC().Format(time.RFC3339), time.Duration(clock-ev.recorded)*time.Millisecond, what, p.cfg.Retention)}
	}
	var out Output
	p.prepare(st)
	o := st.orders[ev.orderID]
	if o != nil && ev.recorded > p.goneAt(o) {
		// By event time the order's life ended before this event: it
		// ends now, and the event starts the order afresh. Its history
		// stays until the order is evicted: an event of the ended life
		// may still arrive (it is not too late), and is replayed with it
		// (see replay), as it would have joined it arriving first.
		p.endLife(st, ev.orderID, o, &out)
		o = nextLife(o)
		st.orders[ev.orderID] = o
	}
	fresh := o == nil
	if fresh {
		o = &order{}
		st.orders[ev.orderID] = o
	}
	var touched []string
	switch {
	case !fresh && o.hasSeen(seenHash(ev.system, ev.eventID)):
		out.Duplicate = true
	case !fresh && o.late(&ev):
		out.Late = true
		if err := p.correct(st, o, &ev, entry, &out); err != nil {
			return Output{Rejected: err}
		}
		touched = append(touched, ev.orderID)
	default:
		m := out.mark()
		dirty := p.step(st, o, &ev, in.Plain, &out)
		o.hist = append(o.hist, entry)
		out.stampSince(m, o.revision)
		touched = append(touched, ev.orderID)
		if dirty {
			rec := stateRecord(ev.orderID, o)
			out.State = &rec
		}
	}
	p.finish(st, &out, st.advance(ev.recorded), touched)
	return out
}

// latenessClock is what an event's lateness is measured against: its
// source clock when the partition's origins announce their progress
// (Config.Origins) and the event carries one, else the partition's
// watermark. what names it for the error.
func (p *Processor) latenessClock(st *State, ev *event) (clock int64, what string) {
	if p.cfg.Origins > 0 && ev.sourceClock != 0 {
		return ev.sourceClock, "its source partition's progress when normalize read it"
	}
	return st.watermark, "the partition's watermark"
}

// Progress records that normalize partition origin will send this
// partition no event whose source clock is before at (a progress record
// of the canonical topic), and evicts what the least progress of every
// origin (Config.Origins) now allows. It never fails: an origin out of
// range is ignored.
func (p *Processor) Progress(st *State, origin int32, at time.Time) Output {
	var out Output
	if origin < 0 || int(origin) >= p.cfg.Origins || !st.progressTo(origin, at.UnixMilli(), p.cfg.Origins) {
		return out
	}
	p.prepare(st)
	p.evict(st, &out)
	out.Changes = append(out.Changes, Change{Key: WatermarkKey, Value: encodeWatermark(st)})
	return out
}

// IdleTimeoutOr is the idle timeout New uses: idle, or when zero the
// larger of DefaultIdleTimeout and 4 × retention.
func IdleTimeoutOr(idle, retention time.Duration) time.Duration {
	if idle == 0 {
		return max(DefaultIdleTimeout, 4*retention)
	}
	return idle
}

// Advance moves the partition's watermark to at without an input: the
// stage calls it when the partition has been quiet for a while, so that
// checks still fall due (failed syncs are raised) and orders are evicted
// in quiet periods. It is the one input not derived from the records, so
// a replay of the same records may raise a failed sync at a later
// watermark; the checks' outcomes do not depend on it.
func (p *Processor) Advance(st *State, at time.Time) Output {
	var out Output
	p.prepare(st)
	p.finish(st, &out, st.advance(at.UnixMilli()), nil)
	return out
}

// finish runs what a watermark advance causes — due checks, evictions —
// and writes the changelog records of the orders touched.
func (p *Processor) finish(st *State, out *Output, advanced bool, touched []string) {
	touched = p.fireDue(st, out, touched)
	for _, id := range touched {
		if o := st.orders[id]; o != nil {
			p.schedule(st, id, o)
			out.Changes = appendOrderChanges(out.Changes, id, o)
		}
	}
	p.evict(st, out)
	if advanced { // (an idle sweep only happens on an advance)
		out.Changes = append(out.Changes, Change{Key: WatermarkKey, Value: encodeWatermark(st)})
	}
}

// settle records whether the order is closed, and since when: the
// watermark of its latest event while closed, so that Retention runs from
// the last activity of a closed order (a delivered order whose return and
// refund come weeks later, without a return request that reopens it, is
// not evicted on its own refund). Each new close time goes on the heap;
// the entry of an earlier one is stale.
func (p *Processor) settle(st *State, id string, o *order) {
	closed := p.isClosed(o)
	switch {
	case closed && o.closed != st.now:
		o.closed = st.now
		st.closed.Push(o.closed, id)
	case !closed:
		o.closed = 0
	}
}

// Errors of invalid input wrap ErrInvalid.
var ErrInvalid = errors.New("invalid canonical event")

// ErrTooLate is the error of an event timed more than the allowed lateness
// (Config.Retention) behind its source partition's progress (or, without
// Config.Origins, its partition's watermark): its order may have left the
// state already. It changes nothing; the stage dead-letters and counts
// it.
var ErrTooLate = errors.New("event too late")

func parseEvent(in Input) (event, error) {
	p := in.Plain
	str := func(f string) string { s, _ := p[f].(string); return s }
	var ev event
	ev.orderID, ev.eventID = str("order_id"), str("source_event_id")
	fail := func(format string, args ...any) (event, error) {
		return event{}, fmt.Errorf("%w: %s/%s of order %q: %s", ErrInvalid, str("source_system"), ev.eventID, ev.orderID, fmt.Sprintf(format, args...))
	}
	switch {
	case p == nil:
		return fail("no value")
	case ev.orderID == "":
		return fail("order_id is missing")
	case strings.HasPrefix(ev.orderID, "\x00"):
		return fail("order_id starts with NUL, reserved for the changelog's own keys")
	case ev.eventID == "":
		return fail("source_event_id is missing")
	}
	var ok bool
	if ev.system, ok = sysByName[str("source_system")]; !ok {
		return fail("unknown source_system %q (valid: %s)", str("source_system"), schemas.SystemNames())
	}
	if ev.source, ok = p["source_status"].(string); !ok {
		return fail("source_status is missing")
	}
	if cs := p["canonical_status"]; cs != nil {
		name, _ := cs.(string)
		if ev.status, ok = parseSt(name); !ok {
			return fail("unknown canonical_status %v", cs)
		}
	}
	ev.shipmentID, ev.tracking, ev.carrier = str("shipment_id"), str("tracking_number"), str("carrier")
	var err error
	for _, f := range []struct {
		name     string
		dst      *int64
		required bool
	}{
		{"occurred_at", &ev.occurred, true}, {"recorded_at", &ev.recorded, true},
		{"estimated_delivery", &ev.eta, false}, {"promised_ship_by", &ev.shipBy, false}, {"promised_deliver_by", &ev.deliverBy, false},
		{"source_clock", &ev.sourceClock, false},
	} {
		if *f.dst, err = canonical.PlainTime(p[f.name], f.required); err != nil {
			return fail("%s: %v", f.name, err)
		}
	}
	if in.Ingested.IsZero() {
		return fail("no ingest time (the record timestamp)")
	}
	ev.ingested = in.Ingested.UnixMilli()
	return ev, nil
}
