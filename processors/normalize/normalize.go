// Package normalize is the first processor: it turns every source event
// into a canonical event — the source's own status code mapped to the
// shared status language (package statusmap), the order it belongs to
// resolved, duplicates collapsed, bad input rejected with a reason.
//
// Two kinds of events may not carry their order, and are resolved through
// a link learned from other events (see kind):
//
//   - Carrier scans carry a tracking number. The processor learns tracking
//     number → (order, shipment) from WMS and storefront events that carry
//     both, and from carrier events that carry an order ID.
//   - Help-desk events carry a ticket ID, and the order only when the
//     help desk sends it: Zendesk's own ticket events carry the order
//     field only in the custom_field_changed event that sets it. The
//     processor learns ticket ID → order from every help-desk event that
//     carries both (such an event is placed by its own order), and places
//     the ticket's order-less events (ticket.created, status changes, the
//     order-status field's changes: the help desk's view of the order)
//     through it, the canonical event's linked_by saying "ticket_link". A
//     ticket is about the order its latest link names (see
//     mergeTicketLink).
//
// A link travels through the links topic, keyed by its tracking number or
// ticket ID, to the partition of the events waiting for it (carrier
// records are keyed by tracking number, order-less help-desk records by
// ticket ID). An event that arrives before its link is held, and released
// when the link arrives, in event-time order; if no link of its key was
// made within HoldTimeout of event time after it (recorded then, by a
// source partition not yet processed further: see Link.SourceClock), it
// is rejected with reason "unlinked" once its kind's link clock has
// passed that.
//
// Every decision is a function of the records, never of the wall clock
// nor of how the inputs' topics interleave, so that replaying,
// backfilling or re-partitioning the same events, or rebalancing mid-run,
// makes the same decisions: hold timeouts follow the kind's link
// watermark (the least advanced of its link sources' latest recorded_at
// as the links topic delivers it: WMS and storefront partitions for scans,
// help-desk partitions for tickets, see Holds.Watermarks) against the held
// event's recorded_at; a redelivery is caught by its system's own dedupe
// clock (the latest delivery time, the record timestamp, of that system's
// events on the partition: redeliveries are a matter of delivery, see
// Config.DedupeWindow). Two arrival-dependent cases remain: when a key's
// links name different orders (a relabelled parcel, a ticket whose order
// field was corrected), an event emitted before the other link reached
// normalize keeps the order known then; and a carrier scan that carries
// its order links earlier order-less scans of its tracking number only if
// the link clock has not expired them yet (it is made in the carrier
// topic's order, which the link clock does not follow).
package normalize

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

// Reasons a source event is rejected (dead-lettered). Each is a metric
// label value, so the set is small and stable.
const (
	ReasonMissingID      = "missing_id"      // no event ID, order ID, tracking number or ticket ID where one is required
	ReasonInvalidTime    = "invalid_time"    // a time before 2000-01-01
	ReasonFutureTime     = "future_time"     // a time later than ingest time plus MaxFutureSkew
	ReasonUnmappedStatus = "unmapped_status" // the status code is not in the system's status map
	ReasonUnlinked       = "unlinked"        // a carrier scan or order-less ticket event whose key got no link in time
)

// Config tunes the processor.
type Config struct {
	Maps *statusmap.Set
	// HoldTimeout bounds how long a carrier scan or an order-less
	// help-desk event waits for its link, in event time.
	HoldTimeout time.Duration
	// DedupeWindow is how long an event ID is remembered after its first
	// delivery, in delivery (ingest) time of its own system on its
	// partition: a redelivery is dropped unless that system has since
	// delivered an event more than DedupeWindow after the first. Delivery
	// time, not event time: a report delivered two days late and then
	// redelivered is a redelivery of minutes. Longer windows catch later
	// redeliveries at the cost of state size (one entry per event in the
	// window).
	DedupeWindow time.Duration
	// MaxFutureSkew is how far after its ingest time an event's own times
	// may lie (clock skew between systems); later is rejected.
	MaxFutureSkew time.Duration
	// LinkRetention is how long, in event time, a learned link (tracking
	// number or ticket → order) is kept after it was last in use: its
	// latest link or event placed through it. An event recorded later
	// than that is not placed by it (it waits for a new link, as for a
	// carrier that recycles its tracking numbers), and the link clock
	// passing it drops the link: without it the links would grow with
	// every parcel and ticket for as long as the process runs. `baton
	// run` sets it to --retention, the unify stage's allowed lateness (or
	// --hold-timeout when that is longer). Default: the larger of 30 days
	// and HoldTimeout; shorter than HoldTimeout is refused.
	LinkRetention time.Duration
	// LinkSources lists the link-producing source partitions (e.g.
	// "wms/0" … "helpdesk/5", see LinkSourceKeys) that must report
	// progress before any held event may expire: those of wms and
	// storefront before a scan, those of helpdesk before a ticket event.
	// A kind with none listed waits only for those that reported.
	LinkSources []string
	// ProgressLag is how far behind the partition's most advanced source
	// system another may fall and still hold its progress back (see
	// Processor.Progress): a source that stopped must not stop every
	// eviction downstream for good. `baton run` sets unify's idle timeout
	// (the longest anything stays in its state); default
	// DefaultProgressLag. A source further behind (a year-old backfill of
	// one system) may find its orders evicted, as a too-late event would.
	ProgressLag time.Duration
}

// LinkSourceKeys names the partitions of the link-producing source topics
// (LinkSourceSystems), for Config.LinkSources.
func LinkSourceKeys(partitions int32) []string {
	var keys []string
	for _, sys := range LinkSourceSystems {
		for p := int32(0); p < partitions; p++ {
			keys = append(keys, SourceWatermark{Source: string(sys), Partition: p}.key())
		}
	}
	return keys
}

// Defaults.
const (
	DefaultHoldTimeout   = 24 * time.Hour
	DefaultDedupeWindow  = 24 * time.Hour
	DefaultMaxFutureSkew = time.Hour
	DefaultLinkRetention = 30 * 24 * time.Hour
	DefaultProgressLag   = 120 * 24 * time.Hour
)

// Processor is the normalize logic. It holds no state of its own: state is
// per partition and passed in.
type Processor struct{ cfg Config }

// New checks the config and fills defaults.
func New(cfg Config) (*Processor, error) {
	if cfg.Maps == nil {
		return nil, errors.New("normalize: no status maps")
	}
	if cfg.HoldTimeout <= 0 {
		cfg.HoldTimeout = DefaultHoldTimeout
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = DefaultDedupeWindow
	}
	if cfg.MaxFutureSkew <= 0 {
		cfg.MaxFutureSkew = DefaultMaxFutureSkew
	}
	if cfg.LinkRetention <= 0 {
		cfg.LinkRetention = max(DefaultLinkRetention, cfg.HoldTimeout)
	}
	if cfg.ProgressLag <= 0 {
		cfg.ProgressLag = DefaultProgressLag
	}
	if cfg.LinkRetention < cfg.HoldTimeout {
		return nil, fmt.Errorf("normalize: LinkRetention %v is shorter than HoldTimeout %v (a link would be dropped while events may still wait for it)", cfg.LinkRetention, cfg.HoldTimeout)
	}
	return &Processor{cfg: cfg}, nil
}

// Original is where an input record came from and its bytes, kept so a
// rejection can be dead-lettered exactly as it arrived.
type Original struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       []byte `json:"key,omitempty"`
	Value     []byte `json:"value,omitempty"`
}

// Input is one decoded record: a source event (System set, Plain its value
// in JSON form), a tracking or ticket link from the links topic (Link
// set), or a link-source watermark from the links topic (Watermark set).
type Input struct {
	System    schemas.System
	Plain     map[string]any
	Link      *Link
	Watermark *SourceWatermark
	// Direct marks a link applied by the stage that produced it, in the
	// same transaction, ahead of the links topic: it links, but does not
	// move its source's link watermark. That watermark must follow the
	// links topic's order, in which the source's earlier links (produced
	// when this state was elsewhere, or not restored yet) may still be
	// unread; moved by a direct link, it let events expire unlinked whose
	// earlier link was one poll away. The link's copy in the topic moves
	// it (Watermark set), in order.
	Direct   bool
	Ingested time.Time
	Record   Original
}

// Rejected is an input the processor refuses, with the reason.
type Rejected struct {
	Reason string
	Err    error
	Record Original
	// System and Code are set for unmapped statuses (metric labels).
	System string
	Code   string
}

// Event is a canonical event to produce, keyed by order ID. Value is in the
// JSON form of schemas/avro/canonical_event.avsc.
type Event struct {
	Key   string
	Value map[string]any
}

// Output is everything one input caused.
type Output struct {
	Events   []Event
	Links    []Link // to the links topic, keyed by Link.Key
	Rejected []Rejected
	Changes  []Change // to the changelog, in order
	// Duplicate is set when the input was a redelivery and was dropped.
	Duplicate bool
	// Held is set when the input was held for its link.
	Held bool
	// EventTime is a source event's recorded_at (zero when it did not
	// parse): the stage announces each link source's progress in it.
	EventTime time.Time
}

// Process handles one input against its partition's state, updating the
// state and returning what to produce. It never fails: bad input becomes a
// Rejected.
func (p *Processor) Process(st *State, in Input) Output {
	var out Output
	var at time.Time // the input's event time: the partition's clock
	switch {
	case in.Link != nil:
		p.learn(st, *in.Link, &out)
		if !in.Direct {
			at = in.Link.RecordedAt
			st.observe(SourceWatermark{Source: in.Link.SourceSystem, Partition: in.Link.SourcePartition, At: at})
		}
	case in.Watermark != nil:
		st.observe(*in.Watermark)
	default:
		if at = p.source(st, in, &out); !at.IsZero() {
			out.EventTime = st.SourceClock(string(in.System))
		}
	}
	p.advance(st, at, &out)
	return out
}

// source handles a source event and returns its event time (zero when
// it does not parse).
func (p *Processor) source(st *State, in Input, out *Output) (at time.Time) {
	reject := func(reason string, err error) {
		out.Rejected = append(out.Rejected, Rejected{Reason: reason, Err: fmt.Errorf("%s event %s/%d@%d: %w", in.System, in.Record.Topic, in.Record.Partition, in.Record.Offset, err), Record: in.Record})
	}
	ev, err := parseSource(in.System, in.Plain, in.Ingested)
	if err != nil {
		var re *rejectError
		if errors.As(err, &re) {
			reject(re.reason, re.err)
			return at
		}
		reject(ReasonMissingID, err)
		return at
	}
	if reason, err := p.checkTimes(ev); err != nil {
		reject(reason, err)
		return at
	}
	at = ev.RecordedAt
	res, err := p.cfg.Maps.Resolve(in.System, in.Plain)
	if err != nil {
		out.Rejected = append(out.Rejected, Rejected{Reason: ReasonUnmappedStatus,
			Err:    fmt.Errorf("%s event %s (%s/%d@%d): %w", in.System, ev.EventID, in.Record.Topic, in.Record.Partition, in.Record.Offset, err),
			Record: in.Record, System: string(in.System), Code: res.Code})
		return at
	}
	ev.SourceStatus, ev.CanonicalStatus, ev.HasStatus = res.Code, res.Status, res.HasStatus
	seenKey := string(in.System) + "/" + ev.EventID
	if st.seen(string(in.System), seenKey, in.Ingested, p.cfg.DedupeWindow) {
		out.Duplicate = true
		return at
	}
	from := st.remember(string(in.System), seenKey, in.Ingested)
	clock := st.advanceClock(string(in.System), ev.RecordedAt)
	ev.SourceClock = clock
	out.Changes = append(out.Changes, Change{Key: seenPrefix + seenKey, Value: mustJSON(seenEntry{V: changelogFormat, At: from, Clock: clock})})

	switch in.System {
	case schemas.Carrier:
		p.carrier(st, ev, in.Record, out)
		return at
	case schemas.Helpdesk:
		p.ticket(st, ev, in.Record, out)
		return at
	}
	if ev.TrackingNumber != "" && in.System.Spec().Links == schemas.LinksTracking {
		// The link goes through the links topic, re-keyed by tracking
		// number, to the partition that holds that tracking number's scans.
		out.Links = append(out.Links, Link{TrackingNumber: ev.TrackingNumber, OrderID: ev.OrderID, ShipmentID: ev.ShipmentID,
			SourceSystem: ev.System, SourceEventID: ev.EventID, OccurredAt: ev.OccurredAt, RecordedAt: ev.RecordedAt, SourcePartition: in.Record.Partition,
			SourceClock: clock})
	}
	ev.LinkedBy = "event"
	out.Events = append(out.Events, ev.canonical())
	return at
}

// carrier resolves a scan's order through its tracking number, or holds it.
func (p *Processor) carrier(st *State, ev Source, rec Original, out *Output) {
	if ev.OrderID != "" {
		// The provider carried the order ID (AfterShip can): the scan
		// links its own tracking number, here in its own partition.
		ev.LinkedBy = "event"
		out.Events = append(out.Events, ev.canonical())
		if l, known := st.Scans.Links[ev.TrackingNumber]; !known || !p.linkAlive(l, ev.RecordedAt) {
			p.learn(st, Link{TrackingNumber: ev.TrackingNumber, OrderID: ev.OrderID, ShipmentID: ev.ShipmentID,
				SourceSystem: ev.System, SourceEventID: ev.EventID, OccurredAt: ev.OccurredAt, RecordedAt: ev.RecordedAt,
				SourceClock: st.SourceClock(ev.System)}, out)
		} else {
			p.use(st.Scans, ev.TrackingNumber, l, ev.RecordedAt, out)
		}
		return
	}
	p.resolve(st.Scans, ev, rec, out)
}

// ticket places a help-desk event: by the order it carries, which also
// links its ticket (through the links topic, re-keyed by ticket ID, to the
// partition of the ticket's order-less events: help-desk records are keyed
// by order ID, else ticket ID), or else through its ticket's link, or
// holds it.
func (p *Processor) ticket(st *State, ev Source, rec Original, out *Output) {
	if ev.OrderID == "" {
		p.resolve(st.Tickets, ev, rec, out)
		return
	}
	if ev.TicketID != "" {
		out.Links = append(out.Links, Link{TicketID: ev.TicketID, OrderID: ev.OrderID, SourceSystem: ev.System, SourceEventID: ev.EventID,
			OccurredAt: ev.OccurredAt, RecordedAt: ev.RecordedAt, SourcePartition: rec.Partition, SourceClock: st.SourceClock(ev.System)})
	}
	ev.LinkedBy = "event"
	out.Events = append(out.Events, ev.canonical())
}

// resolve emits an event through its key's link, or holds it. No link
// yet, or only one recorded more than HoldTimeout after the event: an
// earlier link (the warehouse's, when the storefront's came first; a
// ticket's earlier order-field change) may still come, until the kind's
// link clock passes HoldTimeout after the event (see expireHeld).
func (p *Processor) resolve(h *Holds, ev Source, rec Original, out *Output) {
	key := h.kind.eventKey(ev)
	if l, ok := h.Links[key]; ok && p.linkAlive(l, ev.RecordedAt) && p.inTime(ev, l) {
		out.Events = append(out.Events, ev.resolved(l, h.kind.linkedBy))
		p.use(h, key, l, ev.RecordedAt, out)
		return
	}
	if step, ok := p.sweepStep(h); ok && p.expiredAt(step, ev) {
		// The link clock passed this event's timeout before it came (in
		// a backfill the link sources are processed first and the clock
		// has made its last move): it is unlinked now, as the sweep at
		// this step would have made it had it come earlier. Held, it
		// would wait for a sweep that never comes.
		out.Rejected = append(out.Rejected, p.unlinked(h, key, ev, rec))
		return
	}
	out.Changes = append(out.Changes, h.put(key, Held{Event: ev, Record: rec}))
	out.Held = true
}

// learn stores a link and releases the events held for it, in event-time
// order. Which order a key's links name is the kind's rule (see
// mergeTrackingLink, mergeTicketLink); whether a held event is linked in
// time is the earliest link's.
func (p *Processor) learn(st *State, l Link, out *Output) {
	h := st.holdsOf(kindOf(l))
	key := l.Key()
	prev, known := h.Links[key]
	if known && !l.RecordedAt.IsZero() && !p.linkAlive(prev, l.RecordedAt) {
		prev = Link{} // out of use for longer than LinkRetention: the key starts afresh
	}
	last := prev.lastUse()
	made := l.madeAt()
	if m := prev.madeAt(); !m.IsZero() && (made.IsZero() || m.Before(made)) {
		made = m
	}
	l = h.kind.merge(prev, l)
	l.SourceClock = made
	if last.Before(l.RecordedAt) {
		last = l.RecordedAt
	}
	if last.Before(l.NamedAt) {
		last = l.NamedAt
	}
	l.LastAt = last
	h.Links[key] = l
	out.Changes = append(out.Changes, Change{Key: h.kind.linkPrefix + key, Value: mustJSON(l)})
	out.Changes = append(out.Changes, h.release(key, func(held Held) bool {
		if !p.inTime(held.Event, l) {
			return false // an earlier link may still come (see resolve)
		}
		out.Events = append(out.Events, held.Event.resolved(l, h.kind.linkedBy))
		return true
	})...)
}

// linkAlive reports whether the stored link l still places an event
// recorded at: it was in use within LinkRetention before. A link of
// unknown time always does.
func (p *Processor) linkAlive(l Link, at time.Time) bool {
	last := l.lastUse()
	return last.IsZero() || !at.After(last.Add(p.cfg.LinkRetention))
}

// use records that an event recorded at was placed through key's link l:
// the link's LastAt moves to it once it is LinkRetention/16 or more ahead
// (at most 16 changelog writes per retention, not one per scan).
func (p *Processor) use(h *Holds, key string, l Link, at time.Time, out *Output) {
	if l.LastAt.IsZero() && l.lastUse().IsZero() {
		return // a link of unknown time is never dropped
	}
	if at.Sub(l.lastUse()) < p.cfg.LinkRetention/16 {
		return
	}
	l.LastAt = at
	h.Links[key] = l
	out.Changes = append(out.Changes, Change{Key: h.kind.linkPrefix + key, Value: mustJSON(l)})
}

// dropLinks deletes the links of one kind out of use for LinkRetention by
// the link clock step, in key order, and returns their changelog
// deletions.
func (p *Processor) dropLinks(h *Holds, step time.Time) []Change {
	var dropped []string
	for key, l := range h.Links {
		if last := l.lastUse(); !last.IsZero() && step.Sub(last) > p.cfg.LinkRetention {
			dropped = append(dropped, key)
		}
	}
	slices.Sort(dropped)
	changes := make([]Change, 0, len(dropped))
	for _, key := range dropped {
		delete(h.Links, key)
		changes = append(changes, Change{Key: h.kind.linkPrefix + key})
	}
	return changes
}

// inTime reports whether the event's key was linked within HoldTimeout of
// event time after it: by a link made before its source partition had
// been processed HoldTimeout past the event (l.SourceClock is the
// earliest of the key's links known so far, and a link's source clock is
// at least its recorded_at). An event is linked by such a link whichever
// of the event and its links reaches baton first, and never by another
// (it is dead-lettered unlinked once the link clock passes), so that its
// fate does not depend on the order in which the event, its links, their
// sources' watermarks and the hold's timeout are processed. A link of
// unknown time (written before event time) links.
func (p *Processor) inTime(ev Source, l Link) bool {
	return l.RecordedAt.IsZero() || !l.madeAt().After(ev.RecordedAt.Add(p.cfg.HoldTimeout))
}

// advance moves the partition's watermark and, every so often, expires
// held events past HoldTimeout (every HoldTimeout/16 of each kind's link
// time, by its link clock rounded down to it), drops dedupe keys past
// DedupeWindow (every DedupeWindow/16 of a dedupe clock, by their
// system's dedupe clock) and saves the watermarks (every DedupeWindow/16
// of event time, or with a sweep). Dedupe keys come off per-system heaps
// (see State.sweepSeen); held events and links are found by a scan. Each
// sweep sorts only what it drops: the changelog a sweep writes does not
// depend on map order.
func (p *Processor) advance(st *State, at time.Time, out *Output) {
	if at.After(st.Watermark) {
		st.Watermark = at
	}
	every := p.cfg.DedupeWindow / 16
	saveDue := st.Watermark.Sub(st.lastWatermarkSave) >= every
	seenDue := st.seenSweepDue(every)
	// Held events expire by their link clock rounded down to
	// HoldTimeout/16: which ones have expired then depends on the clock
	// alone, not on when the last sweep ran (a restore starts the sweeps
	// afresh), and at the end of a finite backlog the same events are left
	// held whatever crashed or restarted on the way.
	var steps, linkSteps [2]time.Time
	heldDue := false
	for i, h := range st.holds() {
		linkTime, ok := h.LinkWatermark(p.cfg.LinkSources)
		if !ok {
			continue
		}
		if step := linkTime.Truncate(p.cfg.HoldTimeout / 16); step.After(h.lastSweep) {
			steps[i], heldDue = step, true
		}
		if step := linkTime.Truncate(p.cfg.LinkRetention / 16); step.After(h.lastLinkSweep) {
			linkSteps[i], heldDue = step, true
		}
	}
	if !saveDue && !seenDue && !heldDue {
		return
	}
	for i, h := range st.holds() {
		if !steps[i].IsZero() {
			h.lastSweep = steps[i]
			p.expireHeld(h, steps[i], out)
		}
		if !linkSteps[i].IsZero() {
			h.lastLinkSweep = linkSteps[i]
			out.Changes = append(out.Changes, p.dropLinks(h, linkSteps[i])...)
		}
	}
	if seenDue {
		for _, k := range st.sweepSeen(p.cfg.DedupeWindow) {
			out.Changes = append(out.Changes, Change{Key: seenPrefix + k})
		}
	}
	st.lastWatermarkSave = st.Watermark
	out.Changes = append(out.Changes, st.watermarks())
}

// Progress is the least source clock (Source.SourceClock) of the
// canonical events the partition can still emit, which the stage
// announces to unify (unify.Processor.Progress) so that it evicts no
// order an event still to come belongs to. A source system more than
// Config.ProgressLag behind the partition's most advanced is not waited
// for. It moves in steps of LinkRetention/64 (rounded down: under it,
// never above), so that it is announced every few hours of event time,
// not after every batch, at the cost of evictions that late. Zero before
// the partition's first event.
func (p *Processor) Progress(st *State) time.Time {
	return st.progress(p.cfg.ProgressLag).Truncate(p.cfg.LinkRetention / 64)
}

// sweepStep is the kind's expiry clock: its link clock rounded down to
// HoldTimeout/16. ok is false while the kind has no link clock yet.
func (p *Processor) sweepStep(h *Holds) (step time.Time, ok bool) {
	linkTime, ok := h.LinkWatermark(p.cfg.LinkSources)
	return linkTime.Truncate(p.cfg.HoldTimeout / 16), ok
}

// expiredAt reports whether an event without an in-time link has waited
// out HoldTimeout by the expiry clock step.
func (p *Processor) expiredAt(step time.Time, ev Source) bool {
	return step.Sub(ev.RecordedAt) > p.cfg.HoldTimeout
}

// unlinked is the dead letter of an event of kind h whose key was not
// linked in time, saying whether a link came too late or none came.
func (p *Processor) unlinked(h *Holds, key string, ev Source, rec Original) Rejected {
	k := h.kind
	err := fmt.Errorf("%s %s: no order links %s %s within %s of event time after it was recorded", k.held, ev.EventID, k.what, key, p.cfg.HoldTimeout)
	if l, ok := h.Links[key]; ok && p.linkAlive(l, ev.RecordedAt) {
		err = fmt.Errorf("%s %s: %s %s was first linked at %s, more than %s after the %s", k.held, ev.EventID, k.what, key,
			l.RecordedAt.Format(time.RFC3339), p.cfg.HoldTimeout, k.short)
	}
	return Rejected{Reason: ReasonUnlinked, Record: rec, Err: err}
}

// expireHeld rejects the held events of one kind that waited HoldTimeout
// by the expiry clock step, key by key in order.
func (p *Processor) expireHeld(h *Holds, step time.Time, out *Output) {
	expired := func(held Held) bool { return p.expiredAt(step, held.Event) }
	var due []string
	for key, list := range h.Held {
		if slices.ContainsFunc(list, expired) {
			due = append(due, key)
		}
	}
	slices.Sort(due)
	for _, key := range due {
		out.Changes = append(out.Changes, h.release(key, func(held Held) bool {
			if !expired(held) {
				return false
			}
			out.Rejected = append(out.Rejected, p.unlinked(h, key, held.Event, held.Record))
			return true
		})...)
	}
}

// earliest is the earliest plausible event time: anything before is a
// broken clock or a default value, not an order event.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (p *Processor) checkTimes(ev Source) (string, error) {
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"occurred_at", ev.OccurredAt}, {"recorded_at", ev.RecordedAt}} {
		if t.at.Before(earliest) {
			return ReasonInvalidTime, fmt.Errorf("%s %s is before %s", t.name, t.at.Format(time.RFC3339), earliest.Format("2006-01-02"))
		}
		if t.at.Sub(ev.Ingested) > p.cfg.MaxFutureSkew {
			return ReasonFutureTime, fmt.Errorf("%s %s is %s after the event reached Kafka (%s); allowed skew %s",
				t.name, t.at.Format(time.RFC3339), t.at.Sub(ev.Ingested).Round(time.Second), ev.Ingested.Format(time.RFC3339), p.cfg.MaxFutureSkew)
		}
	}
	return "", nil
}
