package normalize

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/processors/internal/timers"
)

// State is one partition's normalize state. Partition p of every input
// topic (all keyed so that one order's, one tracking number's or one
// order-less ticket's records share a partition number, and assigned
// together by the range balancer) shares it. It is rebuilt from the
// changelog on assignment.
type State struct {
	// Scans are the tracking links and the carrier scans held for one.
	Scans *Holds
	// Tickets are the ticket links and the order-less help-desk events
	// held for one.
	Tickets *Holds
	// Seen maps a dedupe key (system/event_id) to when its window
	// started: its first delivery's ingest time (the record timestamp),
	// or the system's dedupe clock then if later (see remember); entries
	// more than the dedupe window behind their system's dedupe clock (see
	// dedupeClock) are expired.
	Seen map[string]time.Time
	// dedupeClock is, per source system, the latest window start among
	// its Seen entries: the clock that expires the system's dedupe keys. It is
	// per system because a redelivery travels in its own system's topic
	// partition, processed in offset order: its fate then depends on that
	// sequence alone, not on how far the partition's other topics were
	// processed meanwhile (with one clock for the partition, a source a
	// day behind the others lost its keys before its redeliveries came,
	// and how far behind it was depended on fetch timing). It is never
	// expired itself, so a restore rebuilds it exactly from Seen.
	dedupeClock map[string]time.Time
	// sourceClock is, per source system, the latest recorded_at of its
	// events remembered on the partition: how far the partition of that
	// system's topic has been processed in event time, as its own
	// sequence gives it, whatever the other topics did meanwhile. A link
	// carries its source's (Link.SourceClock). A restore rebuilds it
	// exactly: each seen entry
	// carries its system's clock after it, and a system's latest seen
	// entry is never swept (its window start is its system's dedupe
	// clock, see remember).
	sourceClock map[string]time.Time
	// Watermark is the latest event time (recorded_at) seen on the
	// partition, over every input: the stage's exported watermark, saved
	// to the changelog every DedupeWindow/16 of it.
	Watermark time.Time
	// lastWatermarkSave is the watermark last written to the changelog.
	lastWatermarkSave time.Time
	// seenSweptAt holds each system's dedupe clock at the last sweep of
	// the dedupe keys. Sweeps follow the dedupe clocks, not event time:
	// only a dedupe clock expires keys, and under a live run or a backfill
	// (weeks of event time delivered within minutes) a sweep scheduled by
	// event time found nothing to drop, thousands of times over.
	seenSweptAt map[string]time.Time
	// seenBySystem holds, per system, every Seen entry's window start as
	// it was set (later resets and deletions leave stale entries behind,
	// skipped when they come up): a sweep pops what expired instead of
	// scanning every remembered key, about 16 times per key over its
	// window. Rebuilt by a restore as Seen is.
	seenBySystem map[string]*timers.Heap[string]
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Scans: newHolds(scanKind), Tickets: newHolds(ticketKind), Seen: map[string]time.Time{}, dedupeClock: map[string]time.Time{},
		sourceClock: map[string]time.Time{}, seenSweptAt: map[string]time.Time{}, seenBySystem: map[string]*timers.Heap[string]{}}
}

// holds are the state's kinds, in the order their sweeps run.
func (s *State) holds() [2]*Holds { return [2]*Holds{s.Scans, s.Tickets} }

// holdsOf is the part of the state of the kind k.
func (s *State) holdsOf(k *kind) *Holds {
	if k == ticketKind {
		return s.Tickets
	}
	return s.Scans
}

// remember records a dedupe key of system sys, first delivered at at,
// and returns the time its window runs from: at, or the system's dedupe
// clock when that is later. Record timestamps need not grow along a
// partition (a backfill produced today lands among last month's events),
// and a key must not be born expired: its window runs from when the
// partition's own sequence reached it.
func (s *State) remember(sys, key string, at time.Time) time.Time {
	if c := s.dedupeClock[sys]; c.After(at) {
		at = c
	}
	s.setSeen(sys, key, at)
	return at
}

// setSeen stores a dedupe key's window start and moves the system's clock.
func (s *State) setSeen(sys, key string, from time.Time) {
	s.Seen[key] = from
	if from.After(s.dedupeClock[sys]) {
		s.dedupeClock[sys] = from
	}
	// Filed under the system the key names, which is the one a sweep
	// expires it by.
	h := s.seenBySystem[seenSystem(key)]
	if h == nil {
		h = &timers.Heap[string]{}
		s.seenBySystem[seenSystem(key)] = h
	}
	h.Push(from.UnixNano(), key)
}

// advanceClock moves system sys's source clock to at, if later, and
// returns it.
func (s *State) advanceClock(sys string, at time.Time) time.Time {
	if at.After(s.sourceClock[sys]) {
		s.sourceClock[sys] = at
	}
	return s.sourceClock[sys]
}

// progress is the least source clock (see Source.SourceClock) of the
// canonical events the partition can still emit: its systems' source
// clocks, each only grows, and its held events', each at least the event's
// recorded_at. A system more than maxLag behind the partition's most
// advanced is not waited for (a source that stopped must not hold
// everything back); the zero time before the first event.
func (s *State) progress(maxLag time.Duration) time.Time {
	var lead time.Time
	for _, c := range s.sourceClock {
		if c.After(lead) {
			lead = c
		}
	}
	least := lead
	for _, c := range s.sourceClock {
		if c.Before(least) && lead.Sub(c) <= maxLag {
			least = c
		}
	}
	if held := s.OldestHeld(); !held.IsZero() && held.Before(least) {
		least = held
	}
	return least
}

// SourceClock is system sys's source clock on the partition: the latest
// recorded_at of its events remembered (zero before the first).
func (s *State) SourceClock(sys string) time.Time { return s.sourceClock[sys] }

// seen reports whether key, an event of system sys delivered (again) at
// now, is remembered within window: neither the system's dedupe clock nor
// now is more than window past the key's window start. An entry past the
// window counts as unseen whether or not a sweep has dropped it yet, so
// that when sweeps run changes nothing but memory.
func (s *State) seen(sys, key string, now time.Time, window time.Duration) bool {
	from, ok := s.Seen[key]
	return ok && !s.expired(sys, from, window) && now.Sub(from) <= window
}

// expired reports whether a dedupe entry of system sys whose window starts
// at from is more than window behind the system's dedupe clock.
func (s *State) expired(sys string, from time.Time, window time.Duration) bool {
	return s.dedupeClock[sys].Sub(from) > window
}

// seenSweepDue reports whether some system's dedupe clock moved by every
// since the last sweep of the dedupe keys.
func (s *State) seenSweepDue(every time.Duration) bool {
	for sys, c := range s.dedupeClock {
		if c.Sub(s.seenSweptAt[sys]) >= every {
			return true
		}
	}
	return false
}

// sweepSeen drops the dedupe keys past window and returns them in order
// (so that the changelog a sweep writes does not depend on map order).
func (s *State) sweepSeen(window time.Duration) []string {
	var dropped []string
	var due []timers.Entry[string]
	for sys, h := range s.seenBySystem {
		c, ok := s.dedupeClock[sys]
		if !ok || c.IsZero() {
			continue
		}
		// Expired: more than window behind the clock (see expired).
		due = h.PopDue(c.Add(-window).UnixNano(), due[:0])
		for _, e := range due {
			if from, ok := s.Seen[e.Key]; ok && from.UnixNano() == e.Due {
				delete(s.Seen, e.Key)
				dropped = append(dropped, e.Key)
			} // else stale: deleted, or set again since
		}
	}
	for sys, c := range s.dedupeClock {
		s.seenSweptAt[sys] = c
	}
	slices.Sort(dropped)
	return dropped
}

// seenSystem is the system of a dedupe key (system/event_id).
func seenSystem(key string) string {
	sys, _, _ := strings.Cut(key, "/")
	return sys
}

// observe records a link-source partition's progress on the clock of
// the kind it links (see Holds.Watermarks).
func (s *State) observe(w SourceWatermark) {
	if ticketKind.isSource(w.key()) {
		s.Tickets.observe(w)
		return
	}
	s.Scans.observe(w)
}

// HeldCount is the number of events waiting for a link, of both kinds.
func (s *State) HeldCount() int { return s.Scans.Count() + s.Tickets.Count() }

// Size is the number of entries the state holds (links, held events and
// dedupe keys), the figure exported as a metric.
func (s *State) Size() int {
	return len(s.Scans.Links) + len(s.Tickets.Links) + s.HeldCount() + len(s.Seen)
}

// Change is one changelog record: a state entry's new value, or its
// deletion (Value nil). Applying a partition's changes in order rebuilds its
// state.
type Change struct {
	Key   string
	Value []byte
}

const (
	seenPrefix      = "seen/"
	watermarkKey    = "watermark"
	changelogFormat = 1
)

// seenEntry is the changelog value of a dedupe key: its window start,
// and its system's source clock once the event was remembered (zero in
// entries written before it existed).
type seenEntry struct {
	V     int       `json:"v"`
	At    time.Time `json:"at"`
	Clock time.Time `json:"clock,omitzero"`
}

// watermarkEntry is the changelog value of the watermarks, written at each
// sweep: the partition's, and each kind's link clock. The scans' clock
// keeps the field names of the changelogs written before ticket links
// existed, whose watermark entries restore as they were.
type watermarkEntry struct {
	V           int                  `json:"v"`
	At          time.Time            `json:"at"`
	Links       map[string]time.Time `json:"links"`
	Idle        map[string]bool      `json:"idle,omitempty"`
	TicketLinks map[string]time.Time `json:"ticket_links,omitempty"`
	TicketIdle  map[string]bool      `json:"ticket_idle,omitempty"`
}

// watermarks is the state's watermark changelog record.
func (s *State) watermarks() Change {
	return Change{Key: watermarkKey, Value: mustJSON(watermarkEntry{V: changelogFormat, At: s.Watermark,
		Links: s.Scans.Watermarks, Idle: s.Scans.Idle, TicketLinks: s.Tickets.Watermarks, TicketIdle: s.Tickets.Idle})}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("normalize: state entry does not encode: %v", err)) // all fields are JSON-safe
	}
	return b
}

// Apply applies one changelog record to the state (restore).
func (s *State) Apply(c Change) error {
	for _, h := range s.holds() {
		if ok, err := h.applyChange(c); ok {
			return err
		}
	}
	switch {
	case strings.HasPrefix(c.Key, seenPrefix):
		k := strings.TrimPrefix(c.Key, seenPrefix)
		if c.Value == nil {
			delete(s.Seen, k)
			return nil
		}
		var e seenEntry
		if err := json.Unmarshal(c.Value, &e); err != nil {
			return fmt.Errorf("changelog %s: %w", c.Key, err)
		}
		s.setSeen(seenSystem(k), k, e.At)
		s.advanceClock(seenSystem(k), e.Clock)
	case c.Key == watermarkKey:
		if c.Value == nil {
			return nil
		}
		var e watermarkEntry
		if err := json.Unmarshal(c.Value, &e); err != nil {
			return fmt.Errorf("changelog %s: %w", c.Key, err)
		}
		s.Watermark, s.lastWatermarkSave = e.At, e.At
		s.Scans.restoreClock(e.Links, e.Idle)
		s.Tickets.restoreClock(e.TicketLinks, e.TicketIdle)
	default:
		return fmt.Errorf("changelog: unknown key %q", c.Key)
	}
	return nil
}

// OldestHeld is the event time of the oldest event still held, of either
// kind (the zero time when none is). A stage downstream must not judge
// the order's timeline up to that time yet: the event will reach it
// later. Cheap unless events were released since the last call.
func (s *State) OldestHeld() time.Time {
	oldest := s.Scans.OldestHeld()
	if t := s.Tickets.OldestHeld(); !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
		oldest = t
	}
	return oldest
}
