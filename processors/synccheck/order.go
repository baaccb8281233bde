package synccheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// Order is one order's check state: the viewers seen for the order and
// the open checks and pending conflicts. The zero value is an order with
// no viewer seen; it allocates nothing until a viewer is seen. An Order is
// not safe for concurrent use; the caller owns it (the unify stage keeps
// one inside each order's state) and passes it to every Checker call.
type Order struct {
	views  []view  // in first-sight order
	checks []check // in opening order: open checks and pending conflicts
}

// view is what the order knows of one viewer.
type view struct {
	first   int64 // the viewer's time of its first event for the order
	shownAt int64 // the viewer's time of shown
	sys     sys
	shown   st // the viewer's latest status (latest by its own time); 0: none yet
	// earlier are the viewer's reports before its latest, by its own time,
	// the most recent maxEarlier: a truth that reaches baton after the
	// viewer's copy of it (a carrier scan held until its tracking number
	// is linked) is matched with the report that showed it first, not
	// with whatever the viewer shows by then.
	earlier []report
}

// report is one status a viewer showed, at its own time.
type report struct {
	at     int64
	status st
}

// maxEarlier bounds a viewer's remembered reports: an order's lifecycle
// has about ten customer-facing steps.
const maxEarlier = 12

// remember records a report with a status, keeping the latest in
// shown/shownAt and the earlier ones sorted by time.
func (v *view) remember(s st, at int64) {
	if v.shown == 0 || at >= v.shownAt {
		if v.shown != 0 {
			v.earlier = append(v.earlier, report{at: v.shownAt, status: v.shown})
		}
		v.shown, v.shownAt = s, at
	} else {
		i := len(v.earlier)
		for i > 0 && v.earlier[i-1].at > at {
			i--
		}
		v.earlier = slices.Insert(v.earlier, i, report{at: at, status: s})
	}
	if len(v.earlier) > maxEarlier {
		v.earlier = slices.Delete(v.earlier, 0, len(v.earlier)-maxEarlier)
	}
}

// reflecting finds the report that shows x for a check from t: the status
// the viewer showed at t if it reflects x (shown first: latency 0), else
// the earliest later report that reflects x.
func (v *view) reflecting(x st, t int64) (s st, at int64, ok bool) {
	all := append(v.earlier[:len(v.earlier):len(v.earlier)], report{at: v.shownAt, status: v.shown})
	asOf := -1
	for i, r := range all {
		if r.status != 0 && r.at <= t {
			asOf = i
		}
	}
	if asOf >= 0 && all[asOf].status.reflects(x) {
		return all[asOf].status, all[asOf].at, true
	}
	for _, r := range all[asOf+1:] {
		if r.status.reflects(x) {
			return r.status, r.at, true
		}
	}
	return 0, 0, false
}

// opener says what opened a check.
type opener uint8

const (
	byTruth      opener = 1 // the truth moved to the expected status
	byFirstSight opener = 2 // the viewer first showed the order behind the truth
	byReport     opener = 3 // a pending conflict: the viewer's report contradicts the truth
)

var openerNames = [...]string{byTruth: "truth", byFirstSight: "first_sight", byReport: "report"}

func (b opener) String() string { return openerNames[b] }

// check is one open check, or (by == byReport) a pending conflict, whose
// shown status is always its viewer's latest.
type check struct {
	id       uint64 // check_id, fixed when opened
	t        int64  // truth_at
	deadline int64
	carrier  string
	status   st // expected_status
	by       opener
	auth     sys   // truth_authority
	view     uint8 // index into Order.views
	failed   bool  // its failed sync was emitted
	shown    st    // a pending conflict's contradicting status (opened_by report)
}

// Empty reports whether no viewer has been seen for the order (then it
// holds nothing and encodes as one byte).
func (o *Order) Empty() bool { return len(o.views) == 0 }

// OpenChecks counts the open checks, pending conflicts excluded.
func (o *Order) OpenChecks() int {
	n := 0
	for i := range o.checks {
		if o.checks[i].by != byReport {
			n++
		}
	}
	return n
}

// Binary format. The first byte is the format version shifted left by one,
// its low bit set when a body follows; an order with no viewer seen is
// that byte alone. The body:
//
//	uvarint  number of views (1..3), then per view:
//	  string  viewer system name
//	  varint  first sight (Unix ms)
//	  string  latest shown status name ("" for none)
//	  varint  latest shown time (Unix ms)
//	uvarint  number of checks, then per check:
//	  uvarint index of its view in the list above
//	  string  expected status name
//	  byte    opener (1 truth, 2 first_sight, 3 report) | 0x80 if failed
//	  string  truth authority system name ("" for none)
//	  string  carrier
//	  varint  truth_at (Unix ms)
//	  uvarint deadline − truth_at
//	  8 bytes check ID, little-endian
//
// Strings are a uvarint length and the bytes. Statuses and systems are
// written by name, so the format survives a reordering of the enums.
const (
	formatVersion = 3
	headerEmpty   = formatVersion << 1
	headerFull    = formatVersion<<1 | 1
	failedBit     = 0x80
	maxCarrier    = 1 << 10
)

// AppendBinary appends the order's state in the binary format above and
// returns the extended buffer.
func (o *Order) AppendBinary(b []byte) []byte {
	if len(o.views) == 0 {
		return append(b, headerEmpty)
	}
	b = append(b, headerFull)
	b = binary.AppendUvarint(b, uint64(len(o.views)))
	for _, v := range o.views {
		b = appendString(b, v.sys.String())
		b = binary.AppendVarint(b, v.first)
		b = appendString(b, statusName(v.shown))
		b = binary.AppendVarint(b, v.shownAt)
		b = binary.AppendUvarint(b, uint64(len(v.earlier)))
		for _, r := range v.earlier {
			b = appendString(b, statusName(r.status))
			b = binary.AppendVarint(b, r.at)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(o.checks)))
	for _, c := range o.checks {
		b = binary.AppendUvarint(b, uint64(c.view))
		b = appendString(b, statusName(c.status))
		flags := byte(c.by)
		if c.failed {
			flags |= failedBit
		}
		b = append(b, flags)
		b = appendString(b, c.auth.String())
		b = appendString(b, c.carrier)
		b = appendString(b, statusName(c.shown))
		b = binary.AppendVarint(b, c.t)
		b = binary.AppendUvarint(b, uint64(c.deadline-c.t))
		b = binary.LittleEndian.AppendUint64(b, c.id)
	}
	return b
}

func statusName(s st) string {
	if s == 0 {
		return ""
	}
	return s.String()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("synccheck: corrupt order state")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("%s: bad uvarint", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("%s: bad varint", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("%s: truncated", what)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// bytes returns the next string's bytes, aliasing the input.
func (d *decoder) bytes(what string, limit int) []byte {
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(d.b)) {
		d.fail("%s: length %d out of range", what, n)
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) status(what string, optional bool) st {
	name := d.bytes(what, 64)
	if d.err != nil {
		return 0
	}
	if len(name) == 0 && optional {
		return 0
	}
	s, ok := stByName[canonical.Status(name)] // no allocation: the conversion is only a map key
	if !ok {
		d.fail("%s: unknown status %q", what, name)
	}
	return s
}

func (d *decoder) system(what string, optional bool) sys {
	name := d.bytes(what, 64)
	if d.err != nil {
		return 0
	}
	if len(name) == 0 && optional {
		return 0
	}
	y, ok := sysByName[schemas.System(name)]
	if !ok {
		d.fail("%s: unknown system %q", what, name)
	}
	return y
}

// DecodeOrder reads one order state written by AppendBinary from the start
// of b and returns it with the bytes after it. It never panics: corrupt or
// truncated input is an error (wrapping a common sentinel) naming what was
// wrong.
func DecodeOrder(b []byte) (Order, []byte, error) {
	d := &decoder{b: b}
	switch h := d.byte("header"); {
	case d.err != nil:
		return Order{}, b, d.err
	case h == headerEmpty:
		return Order{}, d.b, nil
	case h != headerFull:
		return Order{}, b, fmt.Errorf("%w: format byte 0x%02x, want 0x%02x or 0x%02x", errCorrupt, h, headerEmpty, headerFull)
	}
	var o Order
	nv := d.uvarint("view count")
	if d.err == nil && (nv == 0 || nv > uint64(len(viewerSystems))) {
		d.fail("view count %d out of range", nv)
	}
	if d.err != nil {
		return Order{}, b, d.err
	}
	o.views = make([]view, nv)
	for i := range o.views {
		v := &o.views[i]
		v.sys = d.system("viewer", false)
		v.first = d.varint("first sight")
		v.shown = d.status("shown status", true)
		v.shownAt = d.varint("shown at")
		ne := d.uvarint("earlier count")
		if d.err == nil && ne > maxEarlier {
			d.fail("earlier count %d over %d", ne, maxEarlier)
		}
		for j := uint64(0); j < ne && d.err == nil; j++ {
			r := report{status: d.status("earlier status", false)}
			r.at = d.varint("earlier at")
			v.earlier = append(v.earlier, r)
		}
		if d.err != nil {
			return Order{}, b, d.err
		}
		if !isViewer(schemas.System(v.sys.String())) {
			return Order{}, b, fmt.Errorf("%w: %s is not a viewer", errCorrupt, v.sys)
		}
		for _, u := range o.views[:i] {
			if u.sys == v.sys {
				return Order{}, b, fmt.Errorf("%w: viewer %s twice", errCorrupt, v.sys)
			}
		}
	}
	nc := d.uvarint("check count")
	// Each check takes at least 14 bytes: bound the allocation by the input.
	if d.err == nil && nc > uint64(len(d.b)/14) {
		d.fail("check count %d exceeds the input", nc)
	}
	if d.err != nil {
		return Order{}, b, d.err
	}
	if nc > 0 {
		o.checks = make([]check, nc)
	}
	var reports uint8 // bit per view
	for i := range o.checks {
		c := &o.checks[i]
		vi := d.uvarint("check view")
		c.status = d.status("expected status", false)
		flags := d.byte("opener")
		c.auth = d.system("truth authority", true)
		if carrier := d.bytes("carrier", maxCarrier); len(carrier) > 0 {
			c.carrier = string(carrier)
		}
		c.shown = d.status("conflict shown", true)
		c.t = d.varint("truth at")
		span := d.uvarint("deadline")
		if d.err == nil && len(d.b) < 8 {
			d.fail("check id: truncated")
		}
		if d.err != nil {
			return Order{}, b, d.err
		}
		c.id = binary.LittleEndian.Uint64(d.b)
		d.b = d.b[8:]
		if vi >= nv {
			return Order{}, b, fmt.Errorf("%w: check of view %d, only %d views", errCorrupt, vi, nv)
		}
		c.view = uint8(vi)
		c.by, c.failed = opener(flags&^failedBit), flags&failedBit != 0
		if c.by < byTruth || c.by > byReport {
			return Order{}, b, fmt.Errorf("%w: opener %d", errCorrupt, flags)
		}
		if span > math.MaxInt64 || (c.t > 0 && int64(span) > math.MaxInt64-c.t) {
			return Order{}, b, fmt.Errorf("%w: deadline out of range", errCorrupt)
		}
		c.deadline = c.t + int64(span)
		if c.by == byReport {
			if reports&(1<<vi) != 0 || o.views[vi].shown == 0 || c.failed {
				return Order{}, b, fmt.Errorf("%w: malformed pending conflict", errCorrupt)
			}
			reports |= 1 << vi
		}
	}
	return o, d.b, nil
}
