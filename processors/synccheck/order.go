package synccheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
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
	// failures are the checks that failed and closed (LATE, MISSING,
	// CONFLICT), the latest maxFailures in closing order, for Lags.
	failures []failure
}

// view is what the order knows of one viewer.
type view struct {
	first   int64 // the viewer's time of its first event for the order
	shownAt int64 // the viewer's time of shown
	sys     sys
	shown   st // the viewer's latest status (latest by its own time); 0: none yet
	// sighted has bit x set once a first_sight check for status x was
	// opened: its check_id (viewer, x, first_sight, first) names one check,
	// which the truth returning to x must not open again.
	sighted uint32
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
	if asOf >= 0 && reflects(all[asOf].status, x) {
		return all[asOf].status, all[asOf].at, true
	}
	for _, r := range all[asOf+1:] {
		if reflects(r.status, x) {
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

// failure is a check that failed and closed LATE, MISSING or CONFLICT:
// what Lags reports of it once it is no longer open.
type failure struct {
	id       uint64
	t        int64 // truth_at (a conflict: its first contradicting report)
	deadline int64
	until    int64 // when the viewer showed the truth again (≥ t); 0: not (yet)
	status   st    // expected_status
	shown    st    // what the viewer showed while failing; 0: nothing
	auth     sys   // truth_authority
	view     uint8 // index into Order.views
	outcome  failOutcome
}

// failOutcome is how a remembered failure closed.
type failOutcome uint8

const (
	failLate     failOutcome = 1
	failMissing  failOutcome = 2
	failConflict failOutcome = 3
)

// maxFailures bounds the failures an order remembers for Lags: the
// oldest is dropped first. A ticket asks about what the customer faces
// now; an order rarely fails more than a couple of checks.
const maxFailures = 4

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
// that byte alone. The body of format 4:
//
//	uvarint  number of views (1..3), then per view:
//	  string  viewer system name
//	  varint  first sight (Unix ms)
//	  string  latest shown status name ("" for none)
//	  varint  latest shown time (Unix ms)
//	  uvarint number of earlier reports (≤ 12), each:
//	    string status name
//	    varint its time (Unix ms)
//	  uvarint number of statuses its first sight was checked against, each:
//	    string status name
//	uvarint  number of checks, then per check:
//	  uvarint index of its view in the list above
//	  string  expected status name
//	  byte    opener (1 truth, 2 first_sight, 3 report) | 0x80 if failed
//	  string  truth authority system name ("" for none)
//	  string  carrier
//	  string  a pending conflict's shown status name ("" for a check)
//	  varint  truth_at (Unix ms)
//	  uvarint deadline − truth_at
//	  8 bytes check ID, little-endian
//	uvarint  number of remembered failures (≤ 4), oldest first, each:
//	  uvarint index of its view
//	  byte    outcome (1 LATE, 2 MISSING, 3 CONFLICT)
//	  string  expected status name
//	  string  shown status name ("" for none)
//	  string  truth authority system name ("" for none)
//	  varint  truth_at (Unix ms)
//	  uvarint deadline − truth_at
//	  uvarint until − truth_at + 1 (0: not yet)
//	  8 bytes check ID, little-endian
//
// Format 3, written before the remembered failures, is the same without
// each view's first-sight statuses and without the failures; DecodeOrder
// still reads it (no failure remembered, the first-sight statuses taken
// from the open first_sight checks). Strings are a uvarint length and the
// bytes. Statuses and systems are written by name, so the format survives
// a reordering of the enums.
const (
	formatVersion = 4
	headerEmpty   = formatVersion << 1
	headerFull    = formatVersion<<1 | 1
	// Format 3: no first-sight statuses, no failures.
	headerEmptyV3 = 3 << 1
	headerFullV3  = 3<<1 | 1
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
		b = binary.AppendUvarint(b, uint64(bits.OnesCount32(v.sighted)))
		for m := v.sighted; m != 0; m &= m - 1 {
			b = binfmt.AppendString(b, st(bits.TrailingZeros32(m)).String())
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
	b = binary.AppendUvarint(b, uint64(len(o.failures)))
	for _, f := range o.failures {
		b = binary.AppendUvarint(b, uint64(f.view))
		b = append(b, byte(f.outcome))
		b = binfmt.AppendString(b, statusName(f.status))
		b = binfmt.AppendString(b, statusName(f.shown))
		b = binfmt.AppendString(b, f.auth.String())
		b = binary.AppendVarint(b, f.t)
		b = binary.AppendUvarint(b, uint64(f.deadline-f.t))
		var until uint64
		if f.until != 0 {
			until = uint64(f.until-f.t) + 1
		}
		b = binary.AppendUvarint(b, until)
		b = binary.LittleEndian.AppendUint64(b, f.id)
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
	s, ok := canonical.IndexOfBytes(name)
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
	var v3 bool
	switch h := d.Byte("header"); {
	case d.Err != nil:
		return Order{}, b, d.Err
	case h == headerEmpty || h == headerEmptyV3:
		return Order{}, d.B, nil
	case h == headerFullV3:
		v3 = true
	case h != headerFull:
		d.Fail("format byte 0x%02x, want 0x%02x or 0x%02x (or format 3's 0x%02x or 0x%02x)",
			h, headerEmpty, headerFull, headerEmptyV3, headerFullV3)
		return Order{}, b, d.Err
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
		if !v3 {
			ns := d.Uvarint("first-sight status count")
			if d.Err == nil && ns >= uint64(canonical.Indexes()) {
				d.Fail("first-sight status count %d out of range", ns)
			}
			for j := uint64(0); j < ns && d.Err == nil; j++ {
				v.sighted |= d.status("first-sight status", false).Bit()
			}
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
		if c.deadline, d.Err = offset("deadline", c.t, span); d.Err != nil {
			return Order{}, b, d.Err
		}
		if c.by == byReport {
			if reports&(1<<vi) != 0 || o.views[vi].shown == 0 || c.failed {
				return Order{}, b, fmt.Errorf("%w: malformed pending conflict", errCorrupt)
			}
			reports |= 1 << vi
		}
		if v3 && c.by == byFirstSight && c.t == o.views[vi].first {
			// Format 3 kept no first-sight statuses: the open first_sight
			// checks are those known.
			o.views[vi].sighted |= c.status.Bit()
		}
	}
	if v3 {
		return o, d.B, nil
	}
	// Each failure takes at least 15 bytes.
	nf := d.Count("failure count", maxFailures, 15)
	if d.Err != nil {
		return Order{}, b, d.Err
	}
	if nf > 0 {
		o.failures = make([]failure, nf, maxFailures)
	}
	for i := range o.failures {
		f := &o.failures[i]
		vi := d.Uvarint("failure view")
		f.outcome = failOutcome(d.Byte("failure outcome"))
		f.status = d.status("failure expected status", false)
		f.shown = d.status("failure shown status", true)
		f.auth = d.system("failure truth authority", true)
		f.t = d.Varint("failure truth at")
		span := d.Uvarint("failure deadline")
		until := d.Uvarint("failure until")
		f.id = d.Uint64("failure check id")
		if d.Err != nil {
			return Order{}, b, d.Err
		}
		if vi >= nv {
			return Order{}, b, fmt.Errorf("%w: failure of view %d, only %d views", errCorrupt, vi, nv)
		}
		f.view = uint8(vi)
		if f.outcome < failLate || f.outcome > failConflict {
			return Order{}, b, fmt.Errorf("%w: failure outcome %d", errCorrupt, f.outcome)
		}
		if f.deadline, d.Err = offset("failure deadline", f.t, span); d.Err != nil {
			return Order{}, b, d.Err
		}
		if until != 0 {
			if f.until, d.Err = offset("failure until", f.t, until-1); d.Err != nil {
				return Order{}, b, d.Err
			}
			if f.until == 0 {
				return Order{}, b, fmt.Errorf("%w: failure until 0", errCorrupt)
			}
		}
	}
	return o, d.B, nil
}

// offset is t + span, an error naming what when it does not fit an int64.
func offset(what string, t int64, span uint64) (int64, error) {
	if span > math.MaxInt64 || (t > 0 && int64(span) > math.MaxInt64-t) {
		return 0, fmt.Errorf("%w: %s out of range", errCorrupt, what)
	}
	return t + int64(span), nil
}
