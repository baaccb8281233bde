package normalize

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// Link says which order an event's key belongs to: a tracking link (a
// tracking number's order and shipment) or a ticket link (a help-desk
// ticket's order). Exactly one of TrackingNumber and TicketID is set.
type Link struct {
	TrackingNumber string `json:"tracking_number,omitempty"`
	// TicketID is set on a ticket link, learned from a help-desk event
	// that carries both the ticket and its order.
	TicketID      string    `json:"ticket_id,omitempty"`
	OrderID       string    `json:"order_id"`
	ShipmentID    string    `json:"shipment_id,omitempty"`
	SourceSystem  string    `json:"source_system"`
	SourceEventID string    `json:"source_event_id"`
	OccurredAt    time.Time `json:"occurred_at"`
	// RecordedAt is the linking event's recorded_at, its event time: it
	// advances the source partition's link watermark. Once stored in the
	// state, it is the key's earliest link's (see Processor.inTime).
	RecordedAt time.Time `json:"recorded_at,omitzero"`
	// NamedAt is, for a stored ticket link, the recorded_at of the link
	// that named OrderID: the latest one (see mergeTicketLink).
	NamedAt time.Time `json:"named_at,omitzero"`
	// SourcePartition is the partition of the source topic the link was
	// learned from.
	SourcePartition int32 `json:"source_partition"`
	// SourceClock is how far, in event time, that source partition had
	// been processed when the link was made, its own event included (its
	// system's State.SourceClock then). Stored, it is the earliest of the
	// key's links'. A held event is linked only by a link made before its
	// source passed HoldTimeout after the event (see Processor.inTime):
	// such a link always finds the event still held, since the link clock
	// that expires events is no further than what the link's own source
	// announced before it, and any other link might as well have arrived
	// after the expiry. So a link its source delivered late (recorded in
	// time, but behind the partition's later records) has the same effect
	// whether its partition's watermark reached the held event before the
	// link or after it, which depends on batch sizes. Zero in links
	// written before it existed: RecordedAt stands in.
	SourceClock time.Time `json:"source_clock,omitzero"`
	// LastAt is, for a stored link, the latest recorded_at of the key's
	// links and of the events placed through it (moved in steps of
	// Config.LinkRetention/16, so that a parcel's scans do not rewrite it
	// each time): the link is kept LinkRetention after it (see
	// Processor.linkAlive). Zero in links stored before it existed.
	LastAt time.Time `json:"last_at,omitzero"`
}

// lastUse is the latest event time the stored link is known to have been
// in use: LastAt, or for a link stored before LastAt existed its latest
// link time.
func (l Link) lastUse() time.Time {
	if !l.LastAt.IsZero() {
		return l.LastAt
	}
	if l.NamedAt.After(l.RecordedAt) {
		return l.NamedAt
	}
	return l.RecordedAt
}

// madeAt is how far its source had been processed when the link was made:
// SourceClock, or RecordedAt for a link written before it existed.
func (l Link) madeAt() time.Time {
	if !l.SourceClock.IsZero() {
		return l.SourceClock
	}
	return l.RecordedAt
}

// Key is what the link links: its tracking number, or its ticket ID. It
// is the link's record key on the links topic, so that it reaches the
// partition of the events waiting for it.
func (l Link) Key() string {
	if l.TrackingNumber != "" {
		return l.TrackingNumber
	}
	return l.TicketID
}

// SourceWatermark says that partition Partition of a link-producing source
// topic (wms, storefront or helpdesk) has been processed up to event time
// At (the latest recorded_at seen in it).
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

// Held is an event waiting for its link (a carrier scan for its tracking
// number's, an order-less help-desk event for its ticket's). It keeps the
// original record so that, if no link ever comes, the dead letter holds
// exactly what arrived.
type Held struct {
	Event  Source   `json:"event"`
	Record Original `json:"record"`
}

// kind is one kind of event that normalize resolves to its order through
// a link learned from other events, holding it until the link comes:
// carrier scans by tracking number, order-less help-desk events by ticket
// ID. Both follow the same rules — held in event-time order, released when
// their key's earliest link is recorded within HoldTimeout after them,
// dead-lettered unlinked once their own link clock passes that — in one
// implementation (Processor.resolve, learn, expireHeld and Holds); a kind
// says only what tells them apart.
type kind struct {
	what, held, short string           // for messages: the key ("tracking number"), the held event ("carrier event", "scan")
	sources           []schemas.System // the link-producing systems: the kind's clock is their partitions' least progress
	linkPrefix        string           // changelog key prefixes
	heldPrefix        string
	linkedBy          string                  // linked_by of an event resolved through a link
	eventKey          func(Source) string     // the key an event waits on
	merge             func(prev, l Link) Link // a key's stored link, given its previous one and a new one
}

// The two kinds. Their changelog prefixes must not be prefixes of each
// other's (see State.Apply). Tracking links keep the prefixes of the
// changelogs written before ticket links existed.
var (
	scanKind = &kind{what: "tracking number", held: "carrier event", short: "scan", sources: linkers(schemas.LinksTracking),
		linkPrefix: "link/", heldPrefix: "held/", linkedBy: "tracking_link",
		eventKey: func(ev Source) string { return ev.TrackingNumber }, merge: mergeTrackingLink}
	ticketKind = &kind{what: "ticket", held: "help-desk event", short: "event", sources: linkers(schemas.LinksTickets),
		linkPrefix: "ticket-link/", heldPrefix: "ticket-held/", linkedBy: "ticket_link",
		eventKey: func(ev Source) string { return ev.TicketID }, merge: mergeTicketLink}
)

// LinkSourceSystems are the source systems whose events link other
// events to orders (schemas.Spec.Links): WMS and storefront shipments
// (tracking links), and help-desk events that carry their order (ticket
// links). The stage announces their partitions' progress on the links
// topic.
var LinkSourceSystems = schemas.SystemsWhere(func(s schemas.Spec) bool { return s.Links != schemas.LinksNothing })

// linkers are the systems whose events make links of the kind.
func linkers(k schemas.LinkKind) []schemas.System {
	return schemas.SystemsWhere(func(s schemas.Spec) bool { return s.Links == k })
}

// IsLinkSource reports whether sys is one of LinkSourceSystems.
func IsLinkSource(sys schemas.System) bool { return slices.Contains(LinkSourceSystems, sys) }

// mergeTrackingLink keeps the tracking number's link learned last (a
// relabelled parcel's new link names the order for scans still to come;
// which one is learned last depends on arrival when they differ) with the
// earliest link's time, which decides whether a scan is linked in time.
func mergeTrackingLink(prev, l Link) Link {
	if !prev.RecordedAt.IsZero() && (l.RecordedAt.IsZero() || prev.RecordedAt.Before(l.RecordedAt)) {
		l.RecordedAt = prev.RecordedAt // the tracking number was linked since then (see inTime)
	}
	return l
}

// mergeTicketLink keeps the ticket link with the latest recorded_at (at
// equal times, the greater order ID), with the earliest link's time: a
// ticket is about the order its order field named last (an agent who
// corrects a mistyped order number re-points the ticket), whichever of its
// links reaches normalize first, and it was linked since its first one.
func mergeTicketLink(prev, l Link) Link {
	l.NamedAt = l.RecordedAt
	if prev.OrderID == "" {
		return l // the ticket's first link
	}
	earliest := prev.RecordedAt
	if l.RecordedAt.Before(earliest) {
		earliest = l.RecordedAt
	}
	if prev.NamedAt.After(l.NamedAt) || prev.NamedAt.Equal(l.NamedAt) && prev.OrderID >= l.OrderID {
		l = prev
	}
	l.RecordedAt = earliest
	return l
}

// kindOf is the kind a link links.
func kindOf(l Link) *kind {
	if l.TrackingNumber != "" {
		return scanKind
	}
	return ticketKind
}

// isSource reports whether the link-source partition key ("wms/3") is
// one of the kind's sources.
func (k *kind) isSource(key string) bool {
	sys, _, _ := strings.Cut(key, "/")
	return slices.Contains(k.sources, schemas.System(sys))
}

func (k *kind) heldKey(key string, h Held) string {
	return k.heldPrefix + key + "\x00" + h.Event.System + "\x00" + h.Event.EventID
}

// Holds is one kind's part of a partition's state: the links learned, the
// events waiting for one, and the link clock that times them out.
type Holds struct {
	kind *kind
	// Links by key (tracking number, ticket ID).
	Links map[string]Link
	// Held events by key, in event-time order.
	Held map[string][]Held
	// Watermarks holds, per link-producing source partition of the kind
	// (e.g. "wms/3"), how far it has been processed in event time, as
	// told by the links topic. Their minimum is the kind's link clock: a
	// held event is unlinked only once every source that could link it
	// has moved HoldTimeout past it. The source topics' own time would not
	// do: links come back through the links topic a transaction later and
	// from partitions processed at their own pace, so events whose link is
	// merely in flight would expire. Each kind has its own clock, over its
	// own sources only: a help desk days behind the warehouse must not
	// hold carrier scans back, nor the warehouse time tickets out.
	Watermarks map[string]time.Time
	// Idle are link-producing source partitions reported idle.
	Idle map[string]bool
	// lastSweep is the link clock step of the last expiry sweep of held
	// events, lastLinkSweep that of the last sweep of links.
	lastSweep, lastLinkSweep time.Time
	// oldest caches OldestHeld; changed marks it stale after a release
	// (a hold only lowers it).
	oldest  time.Time
	changed bool
}

func newHolds(k *kind) *Holds {
	return &Holds{kind: k, Links: map[string]Link{}, Held: map[string][]Held{}, Watermarks: map[string]time.Time{}, Idle: map[string]bool{}}
}

// Count is the number of events held.
func (h *Holds) Count() int {
	n := 0
	for _, list := range h.Held {
		n += len(list)
	}
	return n
}

// LinkWatermark is the kind's link clock: the least event-time progress
// of its link-producing source partitions that have had records, idle or
// not. A partition at its end is not skipped: whether it is at its end
// when an event's hold times out depends on arrival (a live run's
// partitions are at their end most of the time), and an event's fate
// must not. A partition that never had a record (reported idle, no
// progress) holds nobody back. ok is false while an expected source
// partition of the kind (see Config.LinkSources) has neither reported
// progress nor been reported idle, or when none has reported progress:
// then nothing may expire.
func (h *Holds) LinkWatermark(expected []string) (at time.Time, ok bool) {
	for _, k := range expected {
		if !h.kind.isSource(k) {
			continue
		}
		if _, seen := h.Watermarks[k]; !seen && !h.Idle[k] {
			return time.Time{}, false
		}
	}
	for _, t := range h.Watermarks {
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
func (h *Holds) observe(w SourceWatermark) {
	k := w.key()
	if w.At.After(h.Watermarks[k]) {
		h.Watermarks[k] = w.At
	}
	if w.Idle {
		h.Idle[k] = true
	} else {
		delete(h.Idle, k)
	}
}

// hold adds a held event to the cache of OldestHeld.
func (h *Holds) hold(at time.Time) {
	if !h.changed && (h.oldest.IsZero() || at.Before(h.oldest)) {
		h.oldest = at
	}
}

// OldestHeld is the event time of the oldest event held (zero when none
// is). Cheap unless events were released since the last call.
func (h *Holds) OldestHeld() time.Time {
	if !h.changed {
		return h.oldest
	}
	h.changed = false
	h.oldest = time.Time{}
	for _, list := range h.Held {
		for _, held := range list {
			if h.oldest.IsZero() || held.Event.RecordedAt.Before(h.oldest) {
				h.oldest = held.Event.RecordedAt
			}
		}
	}
	return h.oldest
}

// put stores a held event and returns its changelog record.
func (h *Holds) put(key string, held Held) Change {
	h.Held[key] = insertHeld(h.Held[key], held)
	h.hold(held.Event.RecordedAt)
	return Change{Key: h.kind.heldKey(key, held), Value: mustJSON(held)}
}

// release removes the held events of key for which done is true, in
// order, calling done for each in event-time order, and returns their
// changelog deletions.
func (h *Holds) release(key string, done func(Held) bool) []Change {
	var changes []Change
	list := h.Held[key]
	keep := list[:0]
	for _, held := range list {
		if !done(held) {
			keep = append(keep, held)
			continue
		}
		changes = append(changes, Change{Key: h.kind.heldKey(key, held)})
		h.changed = true
	}
	if len(keep) == 0 {
		delete(h.Held, key)
	} else {
		h.Held[key] = keep
	}
	return changes
}

// applyChange applies a changelog record of the kind's link or held
// prefix; ok is false for any other key.
func (h *Holds) applyChange(c Change) (ok bool, err error) {
	switch {
	case strings.HasPrefix(c.Key, h.kind.linkPrefix):
		key := strings.TrimPrefix(c.Key, h.kind.linkPrefix)
		if c.Value == nil {
			delete(h.Links, key)
			return true, nil
		}
		var l Link
		if err := json.Unmarshal(c.Value, &l); err != nil {
			return true, fmt.Errorf("changelog %s: %w", c.Key, err)
		}
		h.Links[key] = l
	case strings.HasPrefix(c.Key, h.kind.heldPrefix):
		h.changed = true
		key, _, _ := strings.Cut(strings.TrimPrefix(c.Key, h.kind.heldPrefix), "\x00")
		list := h.Held[key]
		for i, held := range list {
			if h.kind.heldKey(key, held) == c.Key {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if c.Value != nil {
			var held Held
			if err := json.Unmarshal(c.Value, &held); err != nil {
				return true, fmt.Errorf("changelog %s: %w", c.Key, err)
			}
			list = insertHeld(list, held)
		}
		if len(list) == 0 {
			delete(h.Held, key)
		} else {
			h.Held[key] = list
		}
	default:
		return false, nil
	}
	return true, nil
}

// restoreClock replaces the clock with a saved one (see watermarkEntry).
func (h *Holds) restoreClock(marks map[string]time.Time, idle map[string]bool) {
	h.Watermarks, h.Idle = map[string]time.Time{}, map[string]bool{}
	for k, at := range marks {
		h.Watermarks[k] = at
	}
	for k := range idle {
		h.Idle[k] = true
	}
}

// insertHeld inserts h keeping the list in event-time order (occurred_at,
// then recorded_at, then event ID, so the order is total and
// replay-stable).
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
