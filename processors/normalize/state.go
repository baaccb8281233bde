package normalize

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Link says which order and shipment a tracking number belongs to.
type Link struct {
	TrackingNumber string    `json:"tracking_number"`
	OrderID        string    `json:"order_id"`
	ShipmentID     string    `json:"shipment_id,omitempty"`
	SourceSystem   string    `json:"source_system"`
	SourceEventID  string    `json:"source_event_id"`
	OccurredAt     time.Time `json:"occurred_at"`
	// RecordedAt is the linking event's recorded_at, its event time: it
	// advances the source partition's link watermark.
	RecordedAt time.Time `json:"recorded_at,omitzero"`
	// SourcePartition is the partition of the source topic the link was
	// learned from.
	SourcePartition int32 `json:"source_partition"`
}

// SourceWatermark says that partition Partition of a link-producing source
// topic (wms or storefront) has been processed up to event time At (the
// latest recorded_at seen in it).
//
// Idle says the partition has nothing more to process right now (its
// consumer reached the end): it holds no link in flight, so it is not
// waited for until it reports progress again.
type SourceWatermark struct {
	Source    string
	Partition int32
	At        time.Time
	Idle      bool
}

func (w SourceWatermark) key() string { return fmt.Sprintf("%s/%d", w.Source, w.Partition) }

// Held is a carrier event waiting for its tracking number's link. It keeps
// the original record so that, if no link ever comes, the dead letter holds
// exactly what arrived.
type Held struct {
	Event  Source   `json:"event"`
	Record Original `json:"record"`
}

// State is one partition's normalize state. Partition p of every input
// topic (all keyed so that one order's or one tracking number's records
// share a partition number, and assigned together by the range balancer)
// shares it. It is rebuilt from the changelog on assignment.
type State struct {
	// Links by tracking number.
	Links map[string]Link
	// Held carrier events by tracking number, in event-time order.
	Held map[string][]Held
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
	// Watermark is the latest event time (recorded_at) seen on the
	// partition, over every input: the stage's exported watermark, saved
	// to the changelog every DedupeWindow/16 of it.
	Watermark time.Time
	// LinkWatermarks holds, per link-producing source partition (e.g.
	// "wms/3"), how far it has been processed in ingest time, as told by
	// the links topic. Their minimum is the clock of hold timeouts: a scan
	// is unlinked only once every source that could link it has moved
	// HoldTimeout past its arrival. The source topics' own time would not
	// do: links come back through the links topic a transaction later and
	// from partitions processed at their own pace, so scans whose link is
	// merely in flight would expire. A source partition that never
	// produced a record is not waited for.
	LinkWatermarks map[string]time.Time
	// IdleSources are link-producing source partitions reported idle.
	IdleSources map[string]bool
	// lastWatermarkSave is the watermark last written to the changelog.
	lastWatermarkSave time.Time
	// seenSweptAt holds each system's dedupe clock at the last sweep of
	// the dedupe keys. Sweeps follow the dedupe clocks, not event time:
	// only a dedupe clock expires keys, and under a live run or a backfill
	// (weeks of event time delivered within minutes) a sweep scheduled by
	// event time found nothing to drop, thousands of times over.
	seenSweptAt   map[string]time.Time
	lastHeldSweep time.Time
	// oldestHeld caches OldestHeld; heldChanged marks it stale after a
	// release (a hold only lowers it).
	oldestHeld  time.Time
	heldChanged bool
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Links: map[string]Link{}, Held: map[string][]Held{}, Seen: map[string]time.Time{}, dedupeClock: map[string]time.Time{},
		seenSweptAt: map[string]time.Time{}, LinkWatermarks: map[string]time.Time{}, IdleSources: map[string]bool{}}
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
}

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
	for k, from := range s.Seen {
		if s.expired(seenSystem(k), from, window) {
			dropped = append(dropped, k)
		}
	}
	for _, k := range dropped {
		delete(s.Seen, k)
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

// LinkWatermark is the link clock: the least event-time progress of the
// link-producing source partitions that have had records, idle or not. A
// partition at its end is not skipped: whether it is at its end when a
// scan's hold times out depends on arrival (a live run's partitions are
// at their end most of the time), and a scan's fate must not. A partition
// that never had a record (reported idle, no progress) holds nobody back.
// ok is false while an expected source partition (see Config.LinkSources)
// has neither reported progress nor been reported idle, or when none has
// reported progress: then nothing may expire.
func (s *State) LinkWatermark(expected []string) (at time.Time, ok bool) {
	for _, k := range expected {
		if _, seen := s.LinkWatermarks[k]; !seen && !s.IdleSources[k] {
			return time.Time{}, false
		}
	}
	for _, t := range s.LinkWatermarks {
		if t.IsZero() {
			continue // announced idle before any record
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}

// observe records a source partition's progress.
func (s *State) observe(w SourceWatermark) {
	k := w.key()
	if w.At.After(s.LinkWatermarks[k]) {
		s.LinkWatermarks[k] = w.At
	}
	if w.Idle {
		s.IdleSources[k] = true
	} else {
		delete(s.IdleSources, k)
	}
}

// HeldCount is the number of carrier events waiting for a link.
func (s *State) HeldCount() int {
	n := 0
	for _, h := range s.Held {
		n += len(h)
	}
	return n
}

// Size is the number of entries the state holds (links, held events and
// dedupe keys), the figure exported as a metric.
func (s *State) Size() int { return len(s.Links) + s.HeldCount() + len(s.Seen) }

// Change is one changelog record: a state entry's new value, or its
// deletion (Value nil). Applying a partition's changes in order rebuilds its
// state.
type Change struct {
	Key   string
	Value []byte
}

const (
	linkPrefix      = "link/"
	heldPrefix      = "held/"
	seenPrefix      = "seen/"
	watermarkKey    = "watermark"
	changelogFormat = 1
)

// seenEntry is the changelog value of a dedupe key.
type seenEntry struct {
	V  int       `json:"v"`
	At time.Time `json:"at"`
}

// watermarkEntry is the changelog value of the watermarks, written at each
// sweep.
type watermarkEntry struct {
	V     int                  `json:"v"`
	At    time.Time            `json:"at"`
	Links map[string]time.Time `json:"links"`
	Idle  map[string]bool      `json:"idle,omitempty"`
}

func heldKey(tn string, h Held) string {
	return heldPrefix + tn + "\x00" + h.Event.System + "\x00" + h.Event.EventID
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
	switch {
	case strings.HasPrefix(c.Key, linkPrefix):
		tn := strings.TrimPrefix(c.Key, linkPrefix)
		if c.Value == nil {
			delete(s.Links, tn)
			return nil
		}
		var l Link
		if err := json.Unmarshal(c.Value, &l); err != nil {
			return fmt.Errorf("changelog %s: %w", c.Key, err)
		}
		s.Links[tn] = l
	case strings.HasPrefix(c.Key, heldPrefix):
		s.heldChanged = true
		tn, _, _ := strings.Cut(strings.TrimPrefix(c.Key, heldPrefix), "\x00")
		list := s.Held[tn]
		for i, h := range list {
			if heldKey(tn, h) == c.Key {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if c.Value != nil {
			var h Held
			if err := json.Unmarshal(c.Value, &h); err != nil {
				return fmt.Errorf("changelog %s: %w", c.Key, err)
			}
			list = insertHeld(list, h)
		}
		if len(list) == 0 {
			delete(s.Held, tn)
		} else {
			s.Held[tn] = list
		}
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
	case c.Key == watermarkKey:
		if c.Value == nil {
			return nil
		}
		var e watermarkEntry
		if err := json.Unmarshal(c.Value, &e); err != nil {
			return fmt.Errorf("changelog %s: %w", c.Key, err)
		}
		s.Watermark, s.lastWatermarkSave = e.At, e.At
		s.LinkWatermarks, s.IdleSources = map[string]time.Time{}, map[string]bool{}
		for k, at := range e.Links {
			s.LinkWatermarks[k] = at
		}
		for k := range e.Idle {
			s.IdleSources[k] = true
		}
	default:
		return fmt.Errorf("changelog: unknown key %q", c.Key)
	}
	return nil
}

// insertHeld inserts h keeping the list in event-time order (ties by
// ingest time, then event ID, so the order is total and replay-stable).
func insertHeld(list []Held, h Held) []Held {
	i := sort.Search(len(list), func(i int) bool { return heldLess(h, list[i]) })
	list = append(list, Held{})
	copy(list[i+1:], list[i:])
	list[i] = h
	return list
}

func heldLess(a, b Held) bool {
	if !a.Event.OccurredAt.Equal(b.Event.OccurredAt) {
		return a.Event.OccurredAt.Before(b.Event.OccurredAt)
	}
	if !a.Event.RecordedAt.Equal(b.Event.RecordedAt) {
		return a.Event.RecordedAt.Before(b.Event.RecordedAt)
	}
	return a.Event.EventID < b.Event.EventID
}

// OldestHeld is the event time of the oldest carrier event still held
// (the zero time when none is). A stage downstream must not judge the
// order's timeline up to that time yet: the event will reach it later.
// Cheap unless events were released since the last call.
func (s *State) OldestHeld() time.Time {
	if !s.heldChanged {
		return s.oldestHeld
	}
	s.heldChanged = false
	s.oldestHeld = time.Time{}
	for _, hs := range s.Held {
		for _, h := range hs {
			if s.oldestHeld.IsZero() || h.Event.RecordedAt.Before(s.oldestHeld) {
				s.oldestHeld = h.Event.RecordedAt
			}
		}
	}
	return s.oldestHeld
}

// hold adds a held event to the cache of OldestHeld.
func (s *State) hold(at time.Time) {
	if !s.heldChanged && (s.oldestHeld.IsZero() || at.Before(s.oldestHeld)) {
		s.oldestHeld = at
	}
}
