package unify

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// State is one input partition's unify state: the orders of that
// partition of the canonical topic (keyed by order ID), and the partition's
// watermark. It is rebuilt from the changelog on assignment (Apply).
type State struct {
	orders    map[string]*order
	watermark int64 // the latest ingest time seen, Unix ms: the stage's only clock
	swept     int64 // watermark of the last idle sweep
	closed    closedHeap
	// heapStale is set by Apply: the closed-order heap is rebuilt from the
	// orders before the next Process.
	heapStale bool
	strs      map[string]string // interned source status codes
}

// NewState returns an empty state.
func NewState() *State {
	return &State{orders: map[string]*order{}, strs: map[string]string{}}
}

// Orders is the number of orders held in memory (a metric).
func (s *State) Orders() int { return len(s.orders) }

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

// changelogFormat is the version of the changelog values; Apply refuses
// others, so a format change is a deliberate migration.
const changelogFormat = 1

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

// advance moves the watermark to ingested if later.
func (s *State) advance(ingested int64) bool {
	if ingested <= s.watermark {
		return false
	}
	s.watermark = ingested
	return true
}

// prepare rebuilds what Apply leaves stale.
func (s *State) prepare() {
	if !s.heapStale {
		return
	}
	s.heapStale = false
	s.closed = s.closed[:0]
	for id, o := range s.orders {
		if o.closed != 0 {
			s.closed = append(s.closed, closedEntry{at: o.closed, id: id})
		}
	}
	s.closed.init()
}

func (s *State) pushClosed(id string, at int64) { s.closed.push(closedEntry{at: at, id: id}) }

// evict drops closed orders whose retention has passed and, every
// IdleTimeout/16 of watermark time, open orders idle for IdleTimeout. Both
// are decided by the watermark alone and emitted in (time, order ID)
// order, so a restored state evicts exactly as the original would have.
func (p *Processor) evict(s *State, out *Output) {
	retention := p.cfg.Retention.Milliseconds()
	for len(s.closed) > 0 && s.watermark > s.closed[0].at+retention {
		e := s.closed.pop()
		if o := s.orders[e.id]; o == nil || o.closed != e.at {
			continue // reopened, or already gone: a stale entry
		}
		delete(s.orders, e.id)
		out.Changes = append(out.Changes, Change{Key: e.id})
		out.Evicted++
	}
	idle := p.cfg.IdleTimeout.Milliseconds()
	if s.watermark-s.swept < idle/16 {
		return
	}
	s.swept = s.watermark
	var expired []string
	for id, o := range s.orders {
		if s.watermark-o.touched > idle {
			expired = append(expired, id)
		}
	}
	slices.Sort(expired)
	for _, id := range expired {
		delete(s.orders, id)
		out.Changes = append(out.Changes, Change{Key: id})
		out.Expired++
	}
}

// Apply applies one changelog record (restore).
func (s *State) Apply(c Change) error {
	if c.Key == WatermarkKey {
		if c.Value == nil {
			return nil
		}
		var w watermarkJSON
		if err := json.Unmarshal(c.Value, &w); err != nil {
			return fmt.Errorf("unify changelog watermark: %w", err)
		}
		if w.V != changelogFormat {
			return fmt.Errorf("unify changelog watermark: format %d, want %d", w.V, changelogFormat)
		}
		s.watermark, s.swept = w.At, w.Swept
		return nil
	}
	if c.Key == "" || strings.HasPrefix(c.Key, "\x00") {
		return fmt.Errorf("unify changelog: unknown key %q", c.Key)
	}
	s.heapStale = true
	if c.Value == nil {
		delete(s.orders, c.Key)
		return nil
	}
	o, err := s.decodeOrder(c.Value)
	if err != nil {
		return fmt.Errorf("unify changelog order %s: %w", c.Key, err)
	}
	s.orders[c.Key] = o
	return nil
}

// closedEntry is a closed order in the eviction heap.
type closedEntry struct {
	at int64
	id string
}

// closedHeap is a min-heap of closed orders by (close time, order ID), so
// eviction order is total and the same after a restore. Entries of orders
// that reopened stay until popped (lazy deletion).
type closedHeap []closedEntry

func (a closedEntry) less(b closedEntry) bool { return a.at < b.at || (a.at == b.at && a.id < b.id) }

func (h *closedHeap) init() {
	for i := len(*h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *closedHeap) push(e closedEntry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].less(q[parent]) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *closedHeap) pop() closedEntry {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = closedEntry{}
	*h = q[:last]
	h.down(0)
	return top
}

func (h *closedHeap) down(i int) {
	q := *h
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].less(q[least]) {
			least = l
		}
		if r < len(q) && q[r].less(q[least]) {
			least = r
		}
		if least == i {
			return
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
}

// The changelog's JSON forms. Statuses and systems are spelled by name (the
// in-memory indexes are not a format); times are Unix milliseconds; keys
// are short because an order's record is rewritten on each of its events.

type watermarkJSON struct {
	V     int   `json:"v"`
	At    int64 `json:"at"`
	Swept int64 `json:"swept"`
}

func encodeWatermark(s *State) []byte {
	return mustJSON(watermarkJSON{V: changelogFormat, At: s.watermark, Swept: s.swept})
}

type trackJSON struct {
	Status  string   `json:"s"`
	Auth    string   `json:"a"`
	Reached []string `json:"r"`
	Since   int64    `json:"since"`
	Clock   int64    `json:"clock"`
}

type shipJSON struct {
	ID       string `json:"id,omitempty"`
	Tracking string `json:"tn,omitempty"`
	trackJSON
	Ret bool  `json:"ret,omitempty"`
	ETA int64 `json:"eta,omitempty"`
}

type viewJSON struct {
	System   string `json:"y"`
	Status   string `json:"s"`
	Source   string `json:"src"`
	Occurred int64  `json:"o"`
	Recorded int64  `json:"rec"`
}

type orderJSON struct {
	V           int        `json:"v"`
	Truth       string     `json:"t,omitempty"`
	TruthAuth   string     `json:"ta,omitempty"`
	TruthSince  int64      `json:"ts,omitempty"`
	Reached     []string   `json:"r,omitempty"`
	Base        *trackJSON `json:"base,omitempty"`
	Cancelled   int64      `json:"cancelled,omitempty"`
	ReturnReq   int64      `json:"return_requested,omitempty"`
	Refunded    int64      `json:"refunded,omitempty"`
	Views       []viewJSON `json:"views,omitempty"`
	Ships       []shipJSON `json:"ships,omitempty"`
	ShipBy      int64      `json:"ship_by,omitempty"`
	DeliverBy   int64      `json:"deliver_by,omitempty"`
	PromisedAt  int64      `json:"promised_at,omitempty"`
	Transitions int32      `json:"n,omitempty"`
	Updated     int64      `json:"u,omitempty"`
	Closed      int64      `json:"closed,omitempty"`
	Touched     int64      `json:"touched"`
	Seen        []byte     `json:"seen"` // 8 bytes per event, little endian
}

func statusNames(mask uint32) []string {
	var out []string
	for s := st(1); int(s) < len(stInfos); s++ {
		if mask&s.bit() != 0 {
			out = append(out, s.String())
		}
	}
	return out
}

func encodeTrack(t track) trackJSON {
	return trackJSON{Status: t.status.String(), Auth: t.auth.String(), Reached: statusNames(t.reached), Since: t.since, Clock: t.clock}
}

func encodeOrder(o *order) []byte {
	j := orderJSON{V: changelogFormat, TruthSince: o.truthSince, Reached: statusNames(o.reached),
		Cancelled: o.cancelled, ReturnReq: o.returnReq, Refunded: o.refunded,
		ShipBy: o.shipBy, DeliverBy: o.deliverBy, PromisedAt: o.promisedAt, Transitions: o.transitions,
		Updated: o.updated, Closed: o.closed, Touched: o.touched}
	if o.truth != 0 {
		j.Truth, j.TruthAuth = o.truth.String(), o.truthAuth.String()
	}
	if o.base.status != 0 {
		b := encodeTrack(o.base)
		j.Base = &b
	}
	j.Views = make([]viewJSON, len(o.views))
	for i, v := range o.views {
		j.Views[i] = viewJSON{System: v.system.String(), Status: v.status.String(), Source: v.source, Occurred: v.occurred, Recorded: v.recorded}
	}
	j.Ships = make([]shipJSON, len(o.ships))
	for i, sh := range o.ships {
		j.Ships[i] = shipJSON{ID: sh.id, Tracking: sh.tracking, trackJSON: encodeTrack(sh.track), Ret: sh.ret, ETA: sh.eta}
	}
	j.Seen = make([]byte, 8*len(o.seen))
	for i, h := range o.seen {
		binary.LittleEndian.PutUint64(j.Seen[8*i:], h)
	}
	return mustJSON(j)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("unify: state does not encode: %v", err)) // only strings, numbers and bytes
	}
	return b
}

// decoder turns names back into indexes, keeping the first error.
type decoder struct{ err error }

func (d *decoder) status(name string, optional bool) st {
	if name == "" && optional {
		return 0
	}
	s, ok := parseSt(name)
	if !ok && d.err == nil {
		d.err = fmt.Errorf("unknown status %q", name)
	}
	return s
}

func (d *decoder) system(name string) sys {
	y, ok := sysByName[name]
	if !ok && d.err == nil {
		d.err = fmt.Errorf("unknown system %q", name)
	}
	return y
}

func (d *decoder) mask(names []string) uint32 {
	var m uint32
	for _, n := range names {
		m |= d.status(n, false).bit()
	}
	return m
}

func (d *decoder) track(j trackJSON) track {
	return track{status: d.status(j.Status, false), auth: d.system(j.Auth), reached: d.mask(j.Reached), since: j.Since, clock: j.Clock}
}

func (s *State) decodeOrder(b []byte) (*order, error) {
	var j orderJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	if j.V != changelogFormat {
		return nil, fmt.Errorf("format %d, want %d", j.V, changelogFormat)
	}
	if len(j.Seen)%8 != 0 {
		return nil, fmt.Errorf("seen set of %d bytes is not a multiple of 8", len(j.Seen))
	}
	var d decoder
	o := &order{truthSince: j.TruthSince, reached: d.mask(j.Reached), cancelled: j.Cancelled, returnReq: j.ReturnReq,
		refunded: j.Refunded, shipBy: j.ShipBy, deliverBy: j.DeliverBy, promisedAt: j.PromisedAt,
		transitions: j.Transitions, updated: j.Updated, closed: j.Closed, touched: j.Touched}
	if j.Truth != "" {
		o.truth, o.truthAuth = d.status(j.Truth, false), d.system(j.TruthAuth)
	}
	if j.Base != nil {
		o.base = d.track(*j.Base)
	}
	if len(j.Views) > 0 {
		o.views = make([]view, len(j.Views))
		for i, v := range j.Views {
			o.views[i] = view{system: d.system(v.System), status: d.status(v.Status, false), source: s.intern(v.Source), occurred: v.Occurred, recorded: v.Recorded}
		}
	}
	if len(j.Ships) > 0 {
		o.ships = make([]shipment, len(j.Ships))
		for i, sh := range j.Ships {
			o.ships[i] = shipment{id: sh.ID, tracking: sh.Tracking, track: d.track(sh.trackJSON), ret: sh.Ret, eta: sh.ETA}
		}
	}
	o.seen = make([]uint64, len(j.Seen)/8)
	for i := range o.seen {
		o.seen[i] = binary.LittleEndian.Uint64(j.Seen[8*i:])
	}
	return o, d.err
}
