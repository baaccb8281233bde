package synccheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/internal/binfmt"
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
		b = binfmt.AppendString(b, v.sys.String())
		b = binary.AppendVarint(b, v.first)
		b = binfmt.AppendString(b, statusName(v.shown))
		b = binary.AppendVarint(b, v.shownAt)
		b = binary.AppendUvarint(b, uint64(len(v.earlier)))
		for _, r := range v.earlier {
			b = binfmt.AppendString(b, statusName(r.status))
			b = binary.AppendVarint(b, r.at)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(o.checks)))
	for _, c := range o.checks {
		b = binary.AppendUvarint(b, uint64(c.view))
		b = binfmt.AppendString(b, statusName(c.status))
		flags := byte(c.by)
		if c.failed {
			flags |= failedBit
		}
		b = append(b, flags)
		b = binfmt.AppendString(b, c.auth.String())
		b = binfmt.AppendString(b, c.carrier)
		b = binfmt.AppendString(b, statusName(c.shown))
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

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("synccheck: corrupt order state")

// decoder reads the format's statuses and systems by name on top of the
// shared primitives.
type decoder struct{ binfmt.Decoder }

func (d *decoder) status(what string, optional bool) st {
	name := d.Bytes(what, 64)
	if d.Err != nil {
		return 0
	}
	if len(name) == 0 && optional {
		return 0
	}
	s, ok := stByName[canonical.Status(name)] // no allocation: the conversion is only a map key
	if !ok {
		d.Fail("%s: unknown status %q", what, name)
	}
	return s
}

func (d *decoder) system(what string, optional bool) sys {
	name := d.Bytes(what, 64)
	if d.Err != nil {
		return 0
	}
	if len(name) == 0 && optional {
		return 0
	}
	y, ok := sysByName[schemas.System(name)]
	if !ok {
		d.Fail("%s: unknown system %q", what, name)
	}
	return y
}

// DecodeOrder reads one order state written by AppendBinary from the start
// of b and returns it with the bytes after it. It never panics: corrupt or
// truncated input is an error (wrapping a common sentinel) naming what was
// wrong.
func DecodeOrder(b []byte) (Order, []byte, error) {
	d := &decoder{binfmt.Decoder{B: b, Corrupt: errCorrupt}}
	switch body := d.Header(headerEmpty, headerFull); {
	case d.Err != nil:
		return Order{}, b, d.Err
	case !body:
		return Order{}, d.B, nil
	}
	var o Order
	nv := d.Uvarint("view count")
	if d.Err == nil && (nv == 0 || nv > uint64(len(viewerSystems))) {
		d.Fail("view count %d out of range", nv)
	}
	if d.Err != nil {
		return Order{}, b, d.Err
	}
	o.views = make([]view, nv)
	for i := range o.views {
		v := &o.views[i]
		v.sys = d.system("viewer", false)
		v.first = d.Varint("first sight")
		v.shown = d.status("shown status", true)
		v.shownAt = d.Varint("shown at")
		ne := d.Uvarint("earlier count")
		if d.Err == nil && ne > maxEarlier {
			d.Fail("earlier count %d over %d", ne, maxEarlier)
		}
		for j := uint64(0); j < ne && d.Err == nil; j++ {
			r := report{status: d.status("earlier status", false)}
			r.at = d.Varint("earlier at")
			v.earlier = append(v.earlier, r)
		}
		if d.Err != nil {
			return Order{}, b, d.Err
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
	nc := d.Uvarint("check count")
	// Each check takes at least 14 bytes: bound the allocation by the input.
	if d.Err == nil && nc > uint64(len(d.B)/14) {
		d.Fail("check count %d exceeds the input", nc)
	}
	if d.Err != nil {
		return Order{}, b, d.Err
	}
	if nc > 0 {
		o.checks = make([]check, nc)
	}
	var reports uint8 // bit per view
	for i := range o.checks {
		c := &o.checks[i]
		vi := d.Uvarint("check view")
		c.status = d.status("expected status", false)
		flags := d.Byte("opener")
		c.auth = d.system("truth authority", true)
		c.carrier = d.String("carrier", maxCarrier)
		c.shown = d.status("conflict shown", true)
		c.t = d.Varint("truth at")
		span := d.Uvarint("deadline")
		c.id = d.Uint64("check id")
		if d.Err != nil {
			return Order{}, b, d.Err
		}
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
	return o, d.B, nil
}
