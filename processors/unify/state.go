package unify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/internal/timers"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/wismo"

	"github.com/baton-pipeline/baton/schemas"
)

// State is one input partition's unify state: the orders of that
// partition of the canonical topic (keyed by order ID), and the partition's
// watermark. It is rebuilt from the changelog on assignment (Apply).
type State struct {
	orders    map[string]*order
	watermark int64 // the partition's event-time watermark, Unix ms: when its orders' timers fire
	// staged holds the history records applied (restore) for the order
	// records that follow them; dropped at the first Process.
	staged map[string][]histEntry
	// now is the clock of the order being worked on: the time of the event
	// being applied or of the timer firing (see eventtime.go). Records
	// carry it, never the watermark, so they do not depend on arrival.
	now   int64
	swept int64 // eviction clock of the last idle sweep
	// progress holds, per origin (normalize partition), the least source
	// clock its events can still carry (see Processor.Progress); Unix ms,
	// 0 until it reported.
	progress []int64
	// closed holds the closed orders by close time (eviction), timers the
	// orders by the time their next viewer check falls due. Both are
	// ordered by (time, order ID), so a restored state acts exactly as the
	// original would have, and both delete lazily: a popped entry that no
	// longer matches its order is skipped.
	closed timers.Heap[string]
	timers timers.Heap[string]
	due    []timers.Entry[string] // scratch for fireDue
	// heapStale is set by Apply: the heaps are rebuilt from the orders
	// before the next Process.
	heapStale bool
	strs      map[string]string // interned source status codes
}

// NewState returns an empty state.
func NewState() *State {
	return &State{orders: map[string]*order{}, strs: map[string]string{}}
}

// Orders is the number of orders held in memory (a metric).
func (s *State) Orders() int { return len(s.orders) }

// Watermark is the partition's clock: the latest ingest time it has seen
// (or been advanced to); the zero time for a state that has seen nothing.
func (s *State) Watermark() time.Time {
	if s.watermark == 0 {
		return time.Time{}
	}
	return schemas.PlainTime(s.watermark)
}

// Change is one changelog record: an order's new state (key: order ID), or
// the partition's watermark (key: WatermarkKey); Value nil deletes the
// order (a tombstone). Applying a partition's changes in order rebuilds its
// state exactly.
type Change struct {
	Key   string
	Value []byte
}

// WatermarkKey is the changelog key of the partition's watermark. It starts
// with NUL, which no order ID may (such events are rejected).
const WatermarkKey = "\x00watermark"

// changelogFormat is the version of the changelog values, their first byte
// (see "The changelog's binary format" below); Apply refuses others, so a
// format change is a deliberate migration. Format 1 was JSON.
const changelogFormat = 2

// maxInterned bounds the interned source codes: a vocabulary is small, an
// input that is not cannot grow the table without bound.
const maxInterned = 4096

func (s *State) intern(v string) string {
	if x, ok := s.strs[v]; ok {
		return x
	}
	if len(s.strs) < maxInterned {
		s.strs[v] = v
	}
	return v
}

// internBytes is intern for a string still in a record's bytes: an
// interned code costs no allocation.
func (s *State) internBytes(b []byte) string {
	if x, ok := s.strs[string(b)]; ok {
		return x
	}
	return s.intern(string(b))
}

// advance moves the watermark to ingested if later.
func (s *State) advance(ingested int64) bool {
	if ingested <= s.watermark {
		return false
	}
	s.watermark = ingested
	return true
}

// progressTo moves origin's progress to at if later, and reports whether
// it moved.
func (s *State) progressTo(origin int32, at int64, origins int) bool {
	if len(s.progress) < origins {
		s.progress = append(s.progress, make([]int64, origins-len(s.progress))...)
	}
	if at <= s.progress[origin] {
		return false
	}
	s.progress[origin] = at
	return true
}

// evictionClock is the clock evictions follow: with Config.Origins, the
// least progress of every origin (0 until each has reported), below
// which no event's source clock can still come; without, the watermark.
func (p *Processor) evictionClock(s *State) int64 {
	if p.cfg.Origins == 0 {
		return s.watermark
	}
	if len(s.progress) < p.cfg.Origins {
		return 0
	}
	return slices.Min(s.progress[:p.cfg.Origins])
}

// prepare rebuilds what Apply leaves stale: the heaps, from the orders.
func (p *Processor) prepare(s *State) {
	if !s.heapStale {
		return
	}
	s.heapStale = false
	s.staged = nil // restored: every order has its history
	var closed, due []timers.Entry[string]
	for id, o := range s.orders {
		if o.closed != 0 {
			closed = append(closed, timers.Entry[string]{Due: o.closed, Key: id})
		}
		if o.scheduled = p.nextTimer(o); o.scheduled != 0 {
			due = append(due, timers.Entry[string]{Due: o.scheduled, Key: id})
		}
	}
	s.closed.Init(closed)
	s.timers.Init(due)
}

// evict drops closed orders whose retention has passed by more than the
// allowed lateness (see droppable) and, every IdleTimeout/16 of watermark
// time, open orders idle for IdleTimeout and the allowed lateness. Both
// are decided by the watermark alone and emitted in (time, order ID)
// order, so a restored state evicts exactly as the original would have.
// What an eviction emits depends on the order alone (see evictOrder).
func (p *Processor) evict(s *State, out *Output) {
	retention := p.cfg.Retention.Milliseconds()
	clock := p.evictionClock(s)
	// The heap is by close time: goneAt is Retention after it, and
	// droppable the allowed lateness (Retention again) after that.
	for e, ok := s.closed.Peek(); ok && clock > e.Due+2*retention; e, ok = s.closed.Peek() {
		s.closed.Pop()
		o := s.orders[e.Key]
		if o == nil || o.closed != e.Due {
			continue // reopened, or already gone: a stale entry
		}
		p.evictOrder(s, e.Key, o, out)
	}
	idle := p.cfg.IdleTimeout.Milliseconds()
	if clock-s.swept < idle/16 {
		return
	}
	s.swept = clock
	var expired []string
	for id, o := range s.orders {
		if p.droppable(s, o) {
			expired = append(expired, id)
		}
	}
	slices.Sort(expired)
	for _, id := range expired {
		p.evictOrder(s, id, s.orders[id], out)
	}
}

// goneAt is when, in event time, o's life ends: Retention after it closed
// (or after its latest event since), IdleTimeout after its latest event
// while open. Its eviction runs on the clock 1 ms past it: its timers due
// by then fire, its open checks close, no timer after fires, and an event
// of the order timed after it starts the order afresh.
func (p *Processor) goneAt(o *order) int64 {
	if o.closed != 0 {
		return o.closed + p.cfg.Retention.Milliseconds()
	}
	return o.touched + p.cfg.IdleTimeout.Milliseconds()
}

// droppable reports whether o's state can go: the watermark passed the
// end of its life by more than the allowed lateness (Retention), so an
// event that could still join it (timed before goneAt) is too late. Until
// then an event timed before goneAt, arriving after the watermark passed
// it, finds the order as it would have in event-time order; dropped any
// sooner, it would start the order afresh in one arrival order and not in
// another.
func (p *Processor) droppable(s *State, o *order) bool {
	return p.evictionClock(s) > p.goneAt(o)+p.cfg.Retention.Milliseconds()
}

// horizonCap is the latest clock o's timers fire up to: 1 ms past the end
// of its life.
func (p *Processor) horizonCap(o *order) int64 { return p.goneAt(o) + 1 }

// endLife ends o's life (see goneAt): its timers due by goneAt fire first,
// each at its own time, then its open checks and delay notices close at
// goneAt (+1 ms). What it emits depends on the order alone, not on what
// ended it.
func (p *Processor) endLife(s *State, id string, o *order, out *Output) {
	gone := p.goneAt(o)
	m := out.mark()
	p.fireOrder(s, id, o, gone+1, out)
	s.now = gone + 1
	p.evictChecks(s, id, o, out)
	out.stampSince(m, o.revision) // a corrected order's records keep its version
}

// nextLife is the order that an event timed after o's life ends starts:
// fresh, but with o's history (every life's, which a late event of an
// ended life is replayed with, see replay), the event IDs it has seen and
// its revision.
func nextLife(o *order) *order {
	return &order{hist: o.hist, saved: o.saved, seen: o.seen, revision: o.revision}
}

// evictOrder drops order id from the state: its life ends (endLife) and
// its changelog records are tombstoned. What it emits depends on the order
// alone, not on what evicted it: the least progress passing goneAt plus
// the allowed lateness (evict, fireDue), whichever input moves it.
func (p *Processor) evictOrder(s *State, id string, o *order, out *Output) {
	p.endLife(s, id, o, out)
	delete(s.orders, id)
	out.Changes = appendEviction(out.Changes, id, o)
	if o.closed != 0 {
		out.Evicted++
	} else {
		out.Expired++
	}
}

// appendEviction appends the tombstones of an evicted order: its history's
// records, then its own.
func appendEviction(changes []Change, id string, o *order) []Change {
	for i := range o.hist {
		changes = append(changes, Change{Key: histKey(id, i)})
	}
	return append(changes, Change{Key: id})
}

// appendOrderChanges appends an order's changelog records: its history
// entries not written yet, then the order.
func appendOrderChanges(changes []Change, id string, o *order) []Change {
	for i := o.saved; i < len(o.hist); i++ {
		changes = append(changes, Change{Key: histKey(id, i), Value: encodeHistEntry(&o.hist[i])})
	}
	o.saved = len(o.hist)
	return append(changes, Change{Key: id, Value: encodeOrder(o)})
}

// Apply applies one changelog record (restore).
func (s *State) Apply(c Change) error {
	if c.Key == WatermarkKey {
		if c.Value == nil {
			return nil
		}
		at, swept, progress, err := decodeWatermark(c.Value)
		if err != nil {
			return fmt.Errorf("unify changelog watermark: %w", err)
		}
		s.watermark, s.swept, s.progress = at, swept, progress
		return nil
	}
	if c.Key == HoldbacksKey {
		return nil // written by earlier versions; see HoldbacksKey
	}
	if id, seq, ok := parseHistKey(c.Key); ok {
		return s.applyHistEntry(id, seq, c.Value)
	}
	if c.Key == "" || strings.HasPrefix(c.Key, "\x00") {
		return fmt.Errorf("unify changelog: unknown key %q", c.Key)
	}
	s.heapStale = true
	if c.Value == nil {
		delete(s.orders, c.Key)
		delete(s.staged, c.Key)
		return nil
	}
	o, err := s.decodeOrder(c.Key, c.Value)
	if err != nil {
		return fmt.Errorf("unify changelog order %s: %w", c.Key, err)
	}
	s.orders[c.Key] = o
	return nil
}

// # The changelog's binary format
//
// Every changelog value is a compact binary record whose first byte is the
// format version, changelogFormat (2). Format 1 was JSON, whose records
// start with '{'; a record of any other version is refused, not guessed at.
// After the version byte come the fields below, in this order and nothing
// after them (trailing bytes are an error). Encodings:
//
//	uvarint   unsigned LEB128, as encoding/binary.AppendUvarint
//	varint    zig-zag signed LEB128, as encoding/binary.AppendVarint
//	string    uvarint byte length, then the UTF-8 bytes
//	times     varint Unix milliseconds; 0 is "not stated"
//
// Statuses and systems are written by name, never by in-memory index (the
// enumerations are not a format: a status added to canonical must not
// change the meaning of an old record). Each record carries two name
// tables, and refers to their entries by position:
//
//	status ref  uvarint: 0 none, k the status table's entry k-1
//	system ref  uvarint: 0 none, k the system table's entry k-1
//	status set  uvarint bit mask over the status table: bit i set is entry
//	            i in the set (so the status table has at most 64 entries)
//
// The watermark record (key WatermarkKey):
//
//	version   byte 2
//	at        varint: the watermark
//	swept     varint: the eviction clock of the last idle sweep
//	progress  (absent in records written before it existed) uvarint
//	          count, then count varints: each origin's progress
//
// An order record (key: the order ID):
//
//	version        byte 2
//	status table   uvarint count (at most 64), then count strings: the
//	               canonical status names the record refers to
//	system table   uvarint count (at most 255), then count strings: the
//	               source system names the record refers to
//	truth          status ref: the order's status
//	truth auth     system ref: the system whose event gave it
//	reached        status set: every truth the order has had
//	truth since    varint time
//	base           track: the order's own PLACED / ON_HOLD / CONFIRMED track
//	cancelled      varint time
//	return req.    varint time
//	refunded       varint time
//	views          uvarint count, then count views, sorted by system:
//	                 system    system ref
//	                 status    status ref
//	                 source    string: the source's own status code
//	                 occurred  varint time
//	                 recorded  varint time
//	shipments      uvarint count, then count shipments, in order of appearance:
//	                 id        string ("" until a system names it)
//	                 tracking  string ("" until a system gives it)
//	                 track     track
//	                 return    byte: 1 a customer's return parcel, 0 outbound
//	                 eta       varint time
//	ship by        varint time
//	deliver by     varint time
//	promised at    varint time: event time of the latest promise
//	transitions    varint (an int32)
//	updated        varint time
//	closed         varint: the watermark when the order closed; 0 open
//	touched        varint: the watermark of its latest event
//	seen           uvarint count, then count 8-byte little-endian hashes of
//	               the events applied (seenHash), to drop duplicates
//	checks         the order's viewer checks: synccheck.Order.AppendBinary
//	               (its own format byte first; one byte when no viewer has
//	               shown the order)
//	delays         the order's promises and delay notices:
//	               delay.Order.AppendBinary (its own format byte first);
//	               absent in records written before delay detection, which
//	               read as no promises and no notices
//	wismo          the order's help-desk tickets: wismo.Order.AppendBinary
//	               (its own format byte first); absent in records written
//	               before WISMO attribution, which read as no tickets
//
// where a track is
//
//	status   status ref
//	auth     system ref: the system whose event put the track in status
//	reached  status set: every status the track has been in
//	since    varint time
//	clock    varint time: the latest event time the track followed
//
// This writer lists each name once, only the names the record refers to,
// the statuses in canonical rank order and the systems in schemas.Systems
// order, so that equal orders encode to equal bytes; a reader must not
// depend on that order. An unknown name is an error: the record was written
// by a newer stage.

// minView and minShip are the fewest bytes a view and a shipment take: the
// decoder checks counts against the bytes left before allocating.
const (
	minView = 5 // system, status, source length, occurred, recorded
	minShip = 9 // id length, tracking length, track (5), return, eta
	minSeen = 8

	maxStatusTable = 64  // the width of a status set
	maxSystemTable = 255 // sys is a byte, 0 none
)

// maxPooledScratch bounds the encode buffers kept for reuse: an order with
// an outsized seen set does not pin its buffer.
const maxPooledScratch = 64 << 10

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// encodeOrder returns the order's changelog record. It encodes into a
// pooled scratch buffer and copies the result out: the one allocation is
// the returned slice, which the caller owns (a producer may hold it).
func encodeOrder(o *order) []byte {
	p := scratchPool.Get().(*[]byte)
	b := appendOrder((*p)[:0], o)
	out := make([]byte, len(b))
	copy(out, b)
	if cap(b) <= maxPooledScratch {
		*p = b
		scratchPool.Put(p)
	}
	return out
}

// encodeWatermark returns the partition's watermark record.
func encodeWatermark(s *State) []byte {
	b := make([]byte, 0, 1+(3+len(s.progress))*binary.MaxVarintLen64)
	b = append(b, changelogFormat)
	b = binary.AppendVarint(b, s.watermark)
	b = binary.AppendVarint(b, s.swept)
	if len(s.progress) > 0 {
		b = binary.AppendUvarint(b, uint64(len(s.progress)))
		for _, at := range s.progress {
			b = binary.AppendVarint(b, at)
		}
	}
	return b
}

// sysSet is a set of systems (sys is a byte).
type sysSet [4]uint64

func (m *sysSet) add(y sys) { m[y>>6] |= 1 << (y & 63) }

// orderEncoder maps the statuses and systems an order refers to onto the
// positions of its record's name tables.
type orderEncoder struct {
	st  [32]uint8  // status ref by st (1 + table position); st < 32 (status.go)
	sys [256]uint8 // system ref by sys
}

// appendOrder appends the order's changelog record to b.
func appendOrder(b []byte, o *order) []byte {
	var e orderEncoder
	// The status table: every status the record names, in st order.
	used := o.truth.Bit() | o.reached | o.base.status.Bit() | o.base.reached
	for i := range o.views {
		used |= o.views[i].status.Bit()
	}
	for i := range o.ships {
		used |= o.ships[i].status.Bit() | o.ships[i].reached
	}
	used &^= 1 // st 0: none
	b = append(b, changelogFormat)
	b = binary.AppendUvarint(b, uint64(bits.OnesCount32(used)))
	var k uint8
	for m := used; m != 0; m &= m - 1 {
		s := st(bits.TrailingZeros32(m))
		k++
		e.st[s] = k
		b = appendString(b, s.String())
	}
	// The system table, likewise.
	var ys sysSet
	ys.add(o.truthAuth)
	ys.add(o.base.auth)
	for i := range o.views {
		ys.add(o.views[i].system)
	}
	for i := range o.ships {
		ys.add(o.ships[i].auth)
	}
	ys[0] &^= 1 // sys 0: none
	n := 0
	for _, w := range ys {
		n += bits.OnesCount64(w)
	}
	b = binary.AppendUvarint(b, uint64(n))
	k = 0
	for wi, w := range ys {
		for ; w != 0; w &= w - 1 {
			y := sys(wi<<6 + bits.TrailingZeros64(w))
			k++
			e.sys[y] = k
			b = appendString(b, y.String())
		}
	}

	b = binary.AppendUvarint(b, uint64(e.st[o.truth]))
	b = binary.AppendUvarint(b, uint64(e.sys[o.truthAuth]))
	b = binary.AppendUvarint(b, e.set(o.reached))
	b = binary.AppendVarint(b, o.truthSince)
	b = e.appendTrack(b, &o.base)
	b = binary.AppendVarint(b, o.cancelled)
	b = binary.AppendVarint(b, o.returnReq)
	b = binary.AppendVarint(b, o.refunded)
	b = binary.AppendUvarint(b, uint64(len(o.views)))
	for i := range o.views {
		v := &o.views[i]
		b = binary.AppendUvarint(b, uint64(e.sys[v.system]))
		b = binary.AppendUvarint(b, uint64(e.st[v.status]))
		b = appendString(b, v.source)
		b = binary.AppendVarint(b, v.occurred)
		b = binary.AppendVarint(b, v.recorded)
	}
	b = binary.AppendUvarint(b, uint64(len(o.ships)))
	for i := range o.ships {
		sh := &o.ships[i]
		b = appendString(b, sh.id)
		b = appendString(b, sh.tracking)
		b = e.appendTrack(b, &sh.track)
		var ret byte
		if sh.ret {
			ret = 1
		}
		b = append(b, ret)
		b = binary.AppendVarint(b, sh.eta)
	}
	b = binary.AppendVarint(b, o.shipBy)
	b = binary.AppendVarint(b, o.deliverBy)
	b = binary.AppendVarint(b, o.promisedAt)
	b = binary.AppendVarint(b, int64(o.transitions))
	b = binary.AppendVarint(b, o.updated)
	b = binary.AppendVarint(b, o.closed)
	b = binary.AppendVarint(b, o.touched)
	b = binary.AppendUvarint(b, uint64(len(o.seen)))
	for _, h := range o.seen {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	b = o.checks.AppendBinary(b)
	b = o.delays.AppendBinary(b)
	b = o.wismo.AppendBinary(b)
	return appendHistory(b, o)
}

// appendHistory writes the event-time section (see eventtime.go); the
// history's entries are records of their own (histKey), so that an event
// costs the changelog its own bytes, not the whole history again.
func appendHistory(b []byte, o *order) []byte {
	b = binary.AppendUvarint(b, uint64(o.revision))
	b = binary.AppendVarint(b, o.fired)
	b = binary.AppendVarint(b, o.horizon)
	return binary.AppendUvarint(b, uint64(len(o.hist)))
}

// decodeHistory reads the event-time section; the entries come from the
// history records applied before it (State.staged).
func (d *orderDecoder) history(o *order, staged []histEntry) {
	rev := d.uvarint("revision")
	if rev > 1<<32-1 {
		d.fail("revision", "%d is not a uint32", rev)
	}
	o.revision = uint32(rev)
	o.fired = d.varint("fired")
	o.horizon = d.varint("horizon")
	n := d.uvarint("history")
	if d.err != nil {
		return
	}
	if n > uint64(len(staged)) || slices.ContainsFunc(staged[:n], func(e histEntry) bool { return e.raw == nil }) {
		d.fail("history", "%d entries, but the changelog before it holds %d of them", n, len(staged))
		return
	}
	o.hist = staged[:n:n]
	o.saved = int(n)
}

// histKey is the changelog key of entry seq of order id's history: NUL,
// 'h', the order ID's length and bytes, the entry's index (uvarints).
func histKey(id string, seq int) string {
	b := append([]byte{0, 'h'}, binary.AppendUvarint(nil, uint64(len(id)))...)
	b = append(b, id...)
	return string(binary.AppendUvarint(b, uint64(seq)))
}

// parseHistKey reads a histKey; ok is false for any other key.
func parseHistKey(k string) (id string, seq int, ok bool) {
	if !strings.HasPrefix(k, "\x00h") {
		return "", 0, false
	}
	b := []byte(k[2:])
	n, i := binary.Uvarint(b)
	if i <= 0 || n > uint64(len(b)-i) {
		return "", 0, false
	}
	id = string(b[i : i+int(n)])
	s, j := binary.Uvarint(b[i+int(n):])
	if j <= 0 || i+int(n)+j != len(b) || s > 1<<31 {
		return "", 0, false
	}
	return id, int(s), true
}

// encodeHistEntry is a history record's value: the format byte, then
// varint time, string system, string event ID, the canonical event's Avro
// binary.
func encodeHistEntry(e *histEntry) []byte {
	b := []byte{changelogFormat}
	b = binary.AppendVarint(b, e.at)
	b = appendString(b, e.system.String())
	b = appendString(b, e.id)
	return append(b, e.raw...)
}

func decodeHistEntry(v []byte) (histEntry, error) {
	if err := checkFormat(v); err != nil {
		return histEntry{}, err
	}
	d := orderDecoder{reader: reader{b: v, off: 1}}
	var e histEntry
	e.at = d.varint("time")
	name := string(d.bytes("system"))
	e.id = string(d.bytes("event ID"))
	if d.err != nil {
		return histEntry{}, d.err
	}
	y, ok := sysByName[name]
	if !ok {
		return histEntry{}, fmt.Errorf("history entry: unknown system %q", name)
	}
	e.system, e.raw = y, slices.Clone(v[d.off:])
	return e, nil
}

// applyHistEntry stages a history record for the order record that
// follows it in the changelog (an entry is written before its order).
func (s *State) applyHistEntry(id string, seq int, v []byte) error {
	if v == nil {
		return nil // the order was evicted: its record's tombstone drops the staged entries
	}
	e, err := decodeHistEntry(v)
	if err != nil {
		return fmt.Errorf("unify changelog history %s/%d: %w", id, seq, err)
	}
	if s.staged == nil {
		s.staged = map[string][]histEntry{}
	}
	h := s.staged[id]
	if seq >= len(h) {
		h = append(h, make([]histEntry, seq+1-len(h))...)
	}
	h[seq] = e
	s.staged[id] = h
	return nil
}

// set maps a reached mask (bit per st) onto the status table's positions.
func (e *orderEncoder) set(mask uint32) uint64 {
	var out uint64
	for m := mask &^ 1; m != 0; m &= m - 1 {
		out |= 1 << (e.st[bits.TrailingZeros32(m)] - 1)
	}
	return out
}

func (e *orderEncoder) appendTrack(b []byte, t *track) []byte {
	b = binary.AppendUvarint(b, uint64(e.st[t.status]))
	b = binary.AppendUvarint(b, uint64(e.sys[t.auth]))
	b = binary.AppendUvarint(b, e.set(t.reached))
	b = binary.AppendVarint(b, t.since)
	return binary.AppendVarint(b, t.clock)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// checkFormat refuses a record that is not of changelogFormat.
func checkFormat(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty record")
	case b[0] == '{':
		return fmt.Errorf("format 1 (JSON), want %d (binary)", changelogFormat)
	case b[0] != changelogFormat:
		return fmt.Errorf("format %d, want %d", b[0], changelogFormat)
	}
	return nil
}

// reader reads a record's fields, keeping the first error; after an error
// every read returns zero values.
type reader struct {
	b     []byte
	off   int
	start int // where the field being read starts, for errors
	err   error
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at byte %d: %s", field, r.start, fmt.Sprintf(format, args...))
	}
}

func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	r.start = r.off
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(field, "%s", varintProblem(n))
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint(field string) int64 {
	if r.err != nil {
		return 0
	}
	r.start = r.off
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail(field, "%s", varintProblem(n))
		return 0
	}
	r.off += n
	return v
}

func varintProblem(n int) string {
	if n == 0 {
		return "truncated"
	}
	return "varint overflows 64 bits"
}

// count reads a count of items of at least min bytes each, refusing one
// the bytes left cannot hold.
func (r *reader) count(field string, min int) int {
	n := r.uvarint(field)
	if left := len(r.b) - r.off; r.err == nil && n > uint64(left/min) {
		r.fail(field, "%d entries of at least %d bytes in %d bytes left", n, min, left)
		return 0
	}
	return int(n)
}

// bytes reads a string's bytes (not copied).
func (r *reader) bytes(field string) []byte {
	n := r.count(field, 1)
	if r.err != nil {
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

func (r *reader) flag(field string) byte {
	if r.err != nil {
		return 0
	}
	r.start = r.off
	if r.off >= len(r.b) {
		r.fail(field, "truncated")
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

// orderDecoder reads an order record with its name tables resolved.
type orderDecoder struct {
	reader
	stTab  [maxStatusTable]st
	sysTab [maxSystemTable]sys
	nst    int // entries of stTab in use
	nsy    int // entries of sysTab in use
}

func (d *orderDecoder) status(field string) st {
	k := d.uvarint(field)
	if k > uint64(d.nst) {
		d.fail(field, "status %d of a table of %d", k, d.nst)
		return 0
	}
	if k == 0 {
		return 0
	}
	return d.stTab[k-1]
}

func (d *orderDecoder) system(field string) sys {
	k := d.uvarint(field)
	if k > uint64(d.nsy) {
		d.fail(field, "system %d of a table of %d", k, d.nsy)
		return 0
	}
	if k == 0 {
		return 0
	}
	return d.sysTab[k-1]
}

func (d *orderDecoder) set(field string) uint32 {
	m := d.uvarint(field)
	if m>>d.nst != 0 {
		d.fail(field, "set %#x beyond a table of %d", m, d.nst)
		return 0
	}
	var out uint32
	for ; m != 0; m &= m - 1 {
		out |= d.stTab[bits.TrailingZeros64(m)].Bit()
	}
	return out
}

func (d *orderDecoder) track(field string) track {
	return track{status: d.status(field), auth: d.system(field), reached: d.set(field),
		since: d.varint(field), clock: d.varint(field)}
}

// decodeOrder reads an order record. It never panics: a record that is
// truncated, corrupt or names what this stage does not know is an error.
func (s *State) decodeOrder(id string, b []byte) (*order, error) {
	if err := checkFormat(b); err != nil {
		return nil, err
	}
	d := orderDecoder{reader: reader{b: b, off: 1}}
	d.nst = d.count("status table", 1)
	if d.nst > maxStatusTable {
		d.fail("status table", "%d entries, at most %d", d.nst, maxStatusTable)
	}
	for i := 0; i < d.nst && d.err == nil; i++ {
		name := d.bytes("status table")
		x, ok := canonical.IndexOfBytes(name)
		if !ok && d.err == nil {
			d.fail("status table", "unknown status %q", name)
		}
		d.stTab[i] = x
	}
	d.nsy = d.count("system table", 1)
	if d.nsy > maxSystemTable {
		d.fail("system table", "%d entries, at most %d", d.nsy, maxSystemTable)
	}
	for i := 0; i < d.nsy && d.err == nil; i++ {
		name := d.bytes("system table")
		y, ok := sysByName[string(name)]
		if !ok && d.err == nil {
			d.fail("system table", "unknown system %q", name)
		}
		d.sysTab[i] = y
	}
	if d.err != nil {
		return nil, d.err
	}

	o := &order{}
	o.truth = d.status("truth")
	o.truthAuth = d.system("truth authority")
	o.reached = d.set("reached")
	o.truthSince = d.varint("truth since")
	o.base = d.track("base")
	o.cancelled = d.varint("cancelled")
	o.returnReq = d.varint("return requested")
	o.refunded = d.varint("refunded")
	if n := d.count("views", minView); n > 0 {
		o.views = make([]view, n)
		for i := range o.views {
			v := &o.views[i]
			v.system = d.system("view")
			v.status = d.status("view")
			if src := d.bytes("view source"); d.err == nil {
				v.source = s.internBytes(src)
			}
			v.occurred = d.varint("view")
			v.recorded = d.varint("view")
		}
	}
	if n := d.count("shipments", minShip); n > 0 {
		o.ships = make([]shipment, n)
		for i := range o.ships {
			sh := &o.ships[i]
			sh.id = string(d.bytes("shipment id"))
			sh.tracking = string(d.bytes("shipment tracking"))
			sh.track = d.track("shipment")
			switch ret := d.flag("shipment return"); ret {
			case 0:
			case 1:
				sh.ret = true
			default:
				d.fail("shipment return", "flag %d", ret)
			}
			sh.eta = d.varint("shipment eta")
		}
	}
	o.shipBy = d.varint("ship by")
	o.deliverBy = d.varint("deliver by")
	o.promisedAt = d.varint("promised at")
	n := d.varint("transitions")
	if n != int64(int32(n)) {
		d.fail("transitions", "%d is not an int32", n)
	}
	o.transitions = int32(n)
	o.updated = d.varint("updated")
	o.closed = d.varint("closed")
	o.touched = d.varint("touched")
	if n := d.count("seen", minSeen); n > 0 {
		o.seen = make([]uint64, n)
		for i := range o.seen {
			o.seen[i] = binary.LittleEndian.Uint64(b[d.off:])
			d.off += 8
		}
	}
	if d.err == nil {
		checks, rest, err := synccheck.DecodeOrder(b[d.off:])
		if err != nil {
			d.start = d.off
			d.fail("checks", "%v", err)
		}
		o.checks = checks
		if d.err == nil && len(rest) > 0 {
			delays, more, err := delay.DecodeOrder(rest)
			if err != nil {
				d.start = len(b) - len(rest)
				d.fail("delays", "%v", err)
			}
			o.delays = delays
			if d.err == nil && len(more) > 0 {
				tickets, tail, err := wismo.DecodeOrder(more)
				if err != nil {
					d.start = len(b) - len(more)
					d.fail("wismo", "%v", err)
				}
				o.wismo = tickets
				if d.err == nil && len(tail) > 0 {
					d.off = len(b) - len(tail)
					d.history(o, s.staged[id])
					if d.err == nil && d.off != len(b) {
						d.start = d.off
						d.fail("record", "%d trailing bytes", len(b)-d.off)
					}
				}
			}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return o, nil
}

// decodeWatermark reads a watermark record.
func decodeWatermark(b []byte) (at, swept int64, progress []int64, err error) {
	if err := checkFormat(b); err != nil {
		return 0, 0, nil, err
	}
	r := reader{b: b, off: 1}
	at, swept = r.varint("at"), r.varint("swept")
	if r.err == nil && r.off < len(b) {
		n := r.uvarint("progress count")
		if r.err == nil && n > uint64(len(b)-r.off) {
			r.fail("progress count", "%d origins in %d bytes", n, len(b)-r.off)
		}
		for i := uint64(0); r.err == nil && i < n; i++ {
			progress = append(progress, r.varint("progress"))
		}
	}
	if r.err == nil && r.off != len(b) {
		r.start = r.off
		r.fail("record", "%d trailing bytes", len(b)-r.off)
	}
	return at, swept, progress, r.err
}
