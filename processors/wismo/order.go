package wismo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/internal/binfmt"
	"github.com/baton-pipeline/baton/schemas"
)

// Order is one order's WISMO state: the help-desk tickets seen for the
// order, each with its time and, until it is classified, the attribution
// made at its first event. The zero value is an order with no ticket seen;
// it allocates nothing until one is. An Order is not safe for concurrent
// use; the caller owns it (the unify stage keeps one inside each order's
// state) and passes it to every Attributor call.
type Order struct {
	tickets []ticket // in first-seen order
}

// ticket is one ticket of the order.
type ticket struct {
	id string
	at int64 // the occurred_at of its first event: ticket_at
	// attr is the attribution made at its first event; nil once the
	// ticket was classified (and its record emitted).
	attr *Attribution
}

// maxTickets bounds the tickets an order remembers; an order has a
// handful. Past it the oldest unclassified ticket is forgotten (else the
// oldest classified one: should it come back, it is classified again,
// with the same ticket_id, which consumers de-duplicate by).
const maxTickets = 16

// maxString bounds a string in the binary state.
const maxString = 256

// Empty reports whether no ticket has been seen for the order (then it
// holds nothing and encodes as one byte).
func (o *Order) Empty() bool { return len(o.tickets) == 0 }

// Tickets counts the tickets remembered; Classified those classified.
func (o *Order) Tickets() int { return len(o.tickets) }

// Classified counts the tickets classified as WISMO (their records
// emitted).
func (o *Order) Classified() int {
	n := 0
	for i := range o.tickets {
		if o.tickets[i].attr == nil {
			n++
		}
	}
	return n
}

func (o *Order) find(id string) *ticket {
	for i := range o.tickets {
		if o.tickets[i].id == id {
			return &o.tickets[i]
		}
	}
	return nil
}

// add appends t, forgetting a ticket when the order holds maxTickets, and
// returns a pointer to the stored t.
func (o *Order) add(t ticket) *ticket {
	if len(o.tickets) >= maxTickets {
		drop := 0
		for i := range o.tickets {
			if o.tickets[i].attr != nil {
				drop = i
				break
			}
		}
		o.tickets = slices.Delete(o.tickets, drop, drop+1)
	}
	o.tickets = append(o.tickets, t)
	return &o.tickets[len(o.tickets)-1]
}

// Binary format. The first byte is the format version shifted left by one,
// its low bit set when a body follows; an order with no ticket seen is
// that byte alone. The body (varint: signed, uvarint: unsigned, string:
// uvarint length and bytes, at most 256):
//
//	uvarint  number of tickets (1..16), then per ticket:
//	  string  ticket ID (not empty, unique)
//	  varint  ticket_at (Unix ms)
//	  byte    0: classified; 1: not yet, its attribution follows:
//	    byte    cause (1 viewer_out_of_sync, 2 delay_not_notified, 3 carrier_exception, 4 no_sync_problem)
//	    string  viewer, authority (system names or "")
//	    varint  since
//	    string  check ID, failed sync reason, expected, shown, delay reason, problem
//	    varint  problem since
//	    string  truth
//	    varint  truth since
//
// Statuses and systems are written by name, so the format survives a
// reordering of the enums; causes are this package's codes, fixed by the
// format version.
const (
	formatVersion = 1
	headerEmpty   = formatVersion << 1
	headerFull    = formatVersion<<1 | 1
)

var causeCodes = map[string]byte{CauseViewerOutOfSync: 1, CauseDelayNotNotified: 2, CauseCarrierException: 3, CauseNoSyncProblem: 4}

// AppendBinary appends the order's state in the binary format above and
// returns the extended buffer.
func (o *Order) AppendBinary(b []byte) []byte {
	if len(o.tickets) == 0 {
		return append(b, headerEmpty)
	}
	b = append(b, headerFull)
	b = binary.AppendUvarint(b, uint64(len(o.tickets)))
	for i := range o.tickets {
		t := &o.tickets[i]
		b = binfmt.AppendString(b, t.id)
		b = binary.AppendVarint(b, t.at)
		if t.attr == nil {
			b = append(b, 0)
			continue
		}
		a := t.attr
		b = append(b, 1, causeCodes[a.Cause])
		b = binfmt.AppendString(b, string(a.Viewer))
		b = binfmt.AppendString(b, string(a.Authority))
		b = binary.AppendVarint(b, a.Since)
		for _, s := range [...]string{a.CheckID, a.Reason, a.Expected, string(a.Shown), a.DelayReason, string(a.Problem)} {
			b = binfmt.AppendString(b, s)
		}
		b = binary.AppendVarint(b, a.ProblemSince)
		b = binfmt.AppendString(b, string(a.Truth))
		b = binary.AppendVarint(b, a.TruthSince)
	}
	return b
}

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("wismo: corrupt order state")

// decoder reads the format's statuses, systems and attributions on top of
// the shared primitives.
type decoder struct{ binfmt.Decoder }

// string reads a string of at most maxString bytes.
func (d *decoder) string(what string) string { return d.String(what, maxString) }

// status reads an optional canonical status.
func (d *decoder) status(what string) canonical.Status {
	s := canonical.Status(d.string(what))
	if d.Err == nil && s != "" && !s.Valid() {
		d.Fail("%s: unknown status %q", what, s)
	}
	return s
}

// system reads an optional system name.
func (d *decoder) system(what string) schemas.System {
	s := d.string(what)
	if d.Err == nil && s != "" {
		if _, err := schemas.ParseSystem(s); err != nil {
			d.Fail("%s: unknown system %q", what, s)
		}
	}
	return schemas.System(s)
}

// oneOf reads an optional string that must be one of valid.
func (d *decoder) oneOf(what string, valid ...string) string {
	s := d.string(what)
	if d.Err == nil && s != "" && !slices.Contains(valid, s) {
		d.Fail("%s: unknown value %q", what, s)
	}
	return s
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
	n := d.Uvarint("ticket count")
	if d.Err == nil && (n == 0 || n > maxTickets) {
		d.Fail("ticket count %d out of range", n)
	}
	if d.Err != nil {
		return Order{}, b, d.Err
	}
	o := Order{tickets: make([]ticket, 0, n)}
	for range n {
		t := ticket{id: d.string("ticket id")}
		t.at = d.Varint("ticket at")
		switch pending := d.Byte("pending"); {
		case d.Err != nil:
		case pending == 1:
			t.attr = d.attribution()
		case pending != 0:
			d.Fail("pending flag %d", pending)
		}
		if d.Err != nil {
			return Order{}, b, d.Err
		}
		if t.id == "" || o.find(t.id) != nil {
			return Order{}, b, fmt.Errorf("%w: ticket id %q empty or repeated", errCorrupt, t.id)
		}
		o.tickets = append(o.tickets, t)
	}
	return o, d.B, nil
}

func (d *decoder) attribution() *Attribution {
	code := d.Byte("cause")
	a := &Attribution{}
	for cause, c := range causeCodes {
		if c == code {
			a.Cause = cause
		}
	}
	if d.Err == nil && a.Cause == "" {
		d.Fail("cause code %d", code)
	}
	a.Viewer = d.system("viewer")
	a.Authority = d.system("authority")
	a.Since = d.Varint("since")
	a.CheckID = d.string("check id")
	a.Reason = d.oneOf("failed sync reason", ReasonSLABreached, ReasonConflict, ReasonDelayNotNotified)
	a.Expected = d.string("expected")
	if d.Err == nil && a.Expected != "" && a.Expected != ExpectedDelayNotice && !canonical.Status(a.Expected).Valid() {
		d.Fail("expected: unknown status %q", a.Expected)
	}
	a.Shown = d.status("shown")
	a.DelayReason = d.string("delay reason")
	a.Problem = d.status("problem")
	a.ProblemSince = d.Varint("problem since")
	a.Truth = d.status("truth")
	a.TruthSince = d.Varint("truth since")
	return a
}
