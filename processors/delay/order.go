package delay

import (
	"encoding/binary"
	"errors"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/internal/binfmt"
	"github.com/baton-pipeline/baton/schemas"
)

// Order is one order's delay state: its placement, promises, the
// carrier's estimates, the delay messages it was sent and its notices. The
// zero value is an order nothing is known of. An Order is not safe for
// concurrent use; the caller owns it (the unify stage keeps one inside each
// order's state) and passes it to every Detector call.
type Order struct {
	placed    int64 // earliest storefront/OMS event time; 0: unknown
	seen      int64 // first sight: the earliest recorded_at (else occurred_at) of any event; 0: unknown (format 2)
	shippedAt int64 // the time of the first truth that shipped the whole order; 0: not shipped
	ship      promise
	deliver   promise
	truth     st
	parcels   []parcel  // the carrier's latest estimate per outbound parcel
	messages  []message // the latest messages that can tell a notice, by sending time
	notices   []notice  // in opening order
	// dropped are notices owed and not told in time (NOT_NOTIFIED, LATE)
	// dropped from notices to make room, the latest maxDropped, for
	// Untold.
	dropped []owedNotice
}

// owedNotice is what Untold reports of a notice dropped from Order.notices.
type owedNotice struct {
	id                      uint64
	knownAt, notifyBy, told int64 // told: 0 never
	reason                  reason
}

// promise is one kind of promise: ship-by or deliver-by.
type promise struct {
	promised, promisedAt int64 // the latest promise (by event time); 0: none
	original, originalAt int64 // the earliest promise (by event time)
	// revised is the latest revised date: a notice's own (the carrier's
	// estimate), one a delay message told the customer, or an estimate past
	// a date a notice covered. The date in force is max(promised, revised).
	revised int64
	// cover is the date in force the latest notice covered: a date in force
	// at or before it needs no other notice.
	cover   int64
	covered bool
}

type parcel struct {
	key     string
	eta, at int64 // the estimate, and the event time of the scan that gave it
}

// message is a notifications message that can tell a notice.
type message struct {
	at      int64 // its sending time (recorded_at)
	revised int64 // a delay_notice's revised date; 0: none
	status  st    // 0: a delay_notice; else the carrier problem it shows
}

// Bounds on what one order holds; an order has a handful of each.
const (
	maxParcels  = 16
	maxMessages = 8
	maxNotices  = 16
	maxString   = 256
	// maxDropped bounds the untold notices remembered after they were
	// dropped from the notices (the oldest is forgotten first).
	maxDropped = 4
)

type kind uint8 // the promise a notice is about

const (
	shipBy    kind = 0
	deliverBy kind = 1
)

var kindNames = [...]string{shipBy: "ship_by", deliverBy: "deliver_by"}

type reason uint8

const (
	reasonShipBy reason = iota + 1
	reasonETA
	reasonException
	reasonAttemptFailed
	reasonReturnToSender
)

var reasonNames = [...]string{"", ReasonShipByMissed, ReasonETAPastPromise, ReasonException, ReasonDeliveryAttemptFailed, ReasonReturnToSender}

func (r reason) problem() bool { return r >= reasonException }

type outcome uint8

const (
	open outcome = iota
	outNotified
	outLate
	outNotNotified
	outWithdrawn
	outCancelled
)

var outcomeNames = [...]string{"", Notified, Late, NotNotified, Withdrawn, Cancelled}

type refundWhy uint8

const (
	refundCancelled refundWhy = iota + 1
	refundReturnToSender
)

var refundNames = [...]string{"", RefundCancelledBeforeShipping, RefundReturnToSender}

// Notice flags.
const (
	fFailed    = 1 << iota // its failed sync was emitted
	fTold                  // a message told it (toldAt, via)
	fMayCancel             // the customer may cancel for a full refund
	fRefundDue             // flagged for cancellation and refund (refundWhy)
	fDefault               // the missed promise is the FTC default ship-by
	fAll       = fFailed | fTold | fMayCancel | fRefundDue | fDefault
)

// notice is one delay notice.
type notice struct {
	id, renews uint64 // renews: the notice of the same kind before it; 0: none
	reason     reason
	kind       kind
	flags      uint8
	outcome    outcome
	refundWhy  refundWhy
	via        st // the problem a telling message showed; 0: a delay_notice
	version    uint32
	shipment   string
	carrier    string
	cause      string // the transition or event that caused it
	authority  string // the system of the causing event
	since      int64  // a renewal: delay messages after this time can tell it
	causeAt    int64
	// problemSince: problem messages from this time can tell it.
	problemSince int64
	knownAt      int64
	notifyBy     int64
	missed       int64 // the date in force it says is missed; 0: none promised
	original     int64
	revised      int64 // 0: none
	toldAt       int64
	detectedAt   int64
	closedAt     int64
	updatedAt    int64
}

func (n *notice) failed() bool { return n.flags&fFailed != 0 }

// Empty reports whether nothing is known of the order (then it encodes as
// one byte).
func (o *Order) Empty() bool {
	return o.placed == 0 && o.seen == 0 && o.shippedAt == 0 && o.ship == (promise{}) && o.deliver == (promise{}) &&
		o.truth == 0 && len(o.parcels) == 0 && len(o.messages) == 0 && len(o.notices) == 0 && len(o.dropped) == 0
}

// Notices counts the order's notices held (open and closed); OpenNotices
// the open ones.
func (o *Order) Notices() int { return len(o.notices) }

// OpenNotices counts the notices still waiting to be told.
func (o *Order) OpenNotices() int {
	n := 0
	for i := range o.notices {
		if o.notices[i].outcome == open {
			n++
		}
	}
	return n
}

// Binary format. The first byte is the format version shifted left by one,
// its low bit set when a body follows; an empty order is that byte alone.
// The body (varint: signed, uvarint: unsigned, string: uvarint length and
// bytes; statuses by canonical name, "" for none):
//
//	string   truth status
//	varint   placed, first seen, shipped at
//	2 × promise (ship-by, deliver-by):
//	  varint promised, promised at, original, original at, revised, cover
//	  byte   covered (0 or 1)
//	uvarint  parcels (≤ 16), each: string key, varint eta, varint at
//	uvarint  messages (≤ 8, by sending time), each: varint at, varint revised, string status
//	uvarint  notices (≤ 16), each:
//	  8 bytes id, 8 bytes renews (little-endian; 0: none)
//	  byte    reason (1..5), kind (0 ship_by, 1 deliver_by), flags, outcome (0 open, 1..5), refund reason (0..2)
//	  uvarint version
//	  string  via status, shipment, carrier, cause, authority
//	  varint  since, cause at, problem since, known at, notify by, missed, original, revised,
//	          told at, detected at, closed at, updated at
//	uvarint  untold notices dropped (≤ 4, oldest first), each:
//	  8 bytes id (little-endian)
//	  byte    reason (1..5)
//	  varint  known at, notify by, told at (0: never)
//
// Reasons, outcomes and flags are this package's own codes, fixed by the
// format version; statuses are written by name, so the format survives a
// reordering of the canonical statuses. Format 2, written before the
// first sight was kept, is format 3 without it (first seen 0: unknown);
// format 1, written before the dropped notices were remembered, is format
// 2 without them. DecodeOrder still reads both.
const (
	formatVersion = 3
	headerEmpty   = formatVersion << 1
	headerFull    = formatVersion<<1 | 1
	headerEmptyV2 = 2 << 1
	headerFullV2  = 2<<1 | 1
	headerEmptyV1 = 1 << 1
	headerFullV1  = 1<<1 | 1
)

// AppendBinary appends the order's state in the binary format above and
// returns the extended buffer.
func (o *Order) AppendBinary(b []byte) []byte {
	if o.Empty() {
		return append(b, headerEmpty)
	}
	b = append(b, headerFull)
	b = binfmt.AppendString(b, o.truth.String())
	b = binary.AppendVarint(b, o.placed)
	b = binary.AppendVarint(b, o.seen)
	b = binary.AppendVarint(b, o.shippedAt)
	for _, p := range [2]*promise{&o.ship, &o.deliver} {
		for _, v := range [...]int64{p.promised, p.promisedAt, p.original, p.originalAt, p.revised, p.cover} {
			b = binary.AppendVarint(b, v)
		}
		b = binfmt.AppendBool(b, p.covered)
	}
	b = binary.AppendUvarint(b, uint64(len(o.parcels)))
	for _, p := range o.parcels {
		b = binfmt.AppendString(b, p.key)
		b = binary.AppendVarint(b, p.eta)
		b = binary.AppendVarint(b, p.at)
	}
	b = binary.AppendUvarint(b, uint64(len(o.messages)))
	for _, m := range o.messages {
		b = binary.AppendVarint(b, m.at)
		b = binary.AppendVarint(b, m.revised)
		b = binfmt.AppendString(b, m.status.String())
	}
	b = binary.AppendUvarint(b, uint64(len(o.notices)))
	for i := range o.notices {
		n := &o.notices[i]
		b = binary.LittleEndian.AppendUint64(b, n.id)
		b = binary.LittleEndian.AppendUint64(b, n.renews)
		b = append(b, byte(n.reason), byte(n.kind), n.flags, byte(n.outcome), byte(n.refundWhy))
		b = binary.AppendUvarint(b, uint64(n.version))
		for _, s := range [...]string{n.via.String(), n.shipment, n.carrier, n.cause, n.authority} {
			b = binfmt.AppendString(b, s)
		}
		for _, v := range n.times() {
			b = binary.AppendVarint(b, *v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(o.dropped)))
	for _, u := range o.dropped {
		b = binary.LittleEndian.AppendUint64(b, u.id)
		b = append(b, byte(u.reason))
		b = binary.AppendVarint(b, u.knownAt)
		b = binary.AppendVarint(b, u.notifyBy)
		b = binary.AppendVarint(b, u.told)
	}
	return b
}

// times lists the notice's times in their binary order.
func (n *notice) times() [12]*int64 {
	return [...]*int64{&n.since, &n.causeAt, &n.problemSince, &n.knownAt, &n.notifyBy, &n.missed, &n.original, &n.revised,
		&n.toldAt, &n.detectedAt, &n.closedAt, &n.updatedAt}
}

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("delay: corrupt order state")

// decoder reads the format's statuses and notices on top of the shared
// primitives.
type decoder struct{ binfmt.Decoder }

// string reads a string of at most maxString bytes.
func (d *decoder) string(what string) string { return d.String(what, maxString) }

func (d *decoder) status(what string) st {
	name := d.string(what)
	if d.Err != nil || name == "" {
		return 0
	}
	s, ok := canonical.IndexOf(canonical.Status(name))
	if !ok {
		d.Fail("%s: unknown status %q", what, name)
	}
	return s
}

// DecodeOrder reads one order state written by AppendBinary from the start
// of b and returns it with the bytes after it. It never panics: corrupt or
// truncated input is an error (wrapping a common sentinel) naming what was
// wrong.
func DecodeOrder(b []byte) (Order, []byte, error) {
	d := &decoder{binfmt.Decoder{B: b, Corrupt: errCorrupt}}
	format := formatVersion
	switch h := d.Byte("header"); {
	case d.Err != nil:
		return Order{}, b, d.Err
	case h == headerEmpty || h == headerEmptyV2 || h == headerEmptyV1:
		return Order{}, d.B, nil
	case h == headerFullV2:
		format = 2
	case h == headerFullV1:
		format = 1
	case h != headerFull:
		d.Fail("format byte 0x%02x, want 0x%02x or 0x%02x (or format 2's 0x%02x or 0x%02x, format 1's 0x%02x or 0x%02x)",
			h, headerEmpty, headerFull, headerEmptyV2, headerFullV2, headerEmptyV1, headerFullV1)
		return Order{}, b, d.Err
	}
	var o Order
	o.truth = d.status("truth")
	o.placed = d.Varint("placed")
	if format >= 3 {
		o.seen = d.Varint("first seen")
	}
	o.shippedAt = d.Varint("shipped at")
	for _, p := range [2]*promise{&o.ship, &o.deliver} {
		for _, v := range [...]*int64{&p.promised, &p.promisedAt, &p.original, &p.originalAt, &p.revised, &p.cover} {
			*v = d.Varint("promise")
		}
		p.covered = d.Bool("covered")
	}
	if n := d.Count("parcels", maxParcels, 3); n > 0 {
		o.parcels = make([]parcel, n)
		for i := range o.parcels {
			p := &o.parcels[i]
			p.key = d.string("parcel key")
			p.eta = d.Varint("eta")
			p.at = d.Varint("eta at")
			for _, q := range o.parcels[:i] {
				if d.Err == nil && q.key == p.key {
					d.Fail("parcel %q twice", p.key)
				}
			}
		}
	}
	if n := d.Count("messages", maxMessages, 3); n > 0 {
		o.messages = make([]message, n)
		for i := range o.messages {
			m := &o.messages[i]
			m.at = d.Varint("message at")
			m.revised = d.Varint("revised")
			m.status = d.status("message status")
			if d.Err == nil && m.status != 0 && !carrierProblem(m.status) {
				d.Fail("message status %s is no carrier problem", m.status.String())
			}
			if d.Err == nil && i > 0 && o.messages[i-1].at > m.at {
				d.Fail("messages out of order")
			}
		}
	}
	if n := d.Count("notices", maxNotices, 33); n > 0 {
		o.notices = make([]notice, n)
		for i := range o.notices {
			d.notice(&o.notices[i])
			for _, q := range o.notices[:i] {
				if d.Err == nil && q.id == o.notices[i].id {
					d.Fail("notice %016x twice", q.id)
				}
			}
		}
	}
	if format >= 2 {
		if n := d.Count("dropped notices", maxDropped, 12); n > 0 {
			o.dropped = make([]owedNotice, n, maxDropped)
		}
		for i := range o.dropped {
			u := &o.dropped[i]
			u.id = d.Uint64("dropped notice id")
			u.reason = reason(d.ByteMax("dropped notice reason", byte(reasonReturnToSender)))
			u.knownAt = d.Varint("dropped known at")
			u.notifyBy = d.Varint("dropped notify by")
			u.told = d.Varint("dropped told at")
			if d.Err == nil && u.reason == 0 {
				d.Fail("dropped notice without a reason")
			}
		}
	}
	if d.Err != nil {
		return Order{}, b, d.Err
	}
	return o, d.B, nil
}

func (d *decoder) notice(n *notice) {
	n.id = d.Uint64("notice id")
	n.renews = d.Uint64("renews")
	n.reason = reason(d.ByteMax("reason", byte(reasonReturnToSender)))
	n.kind = kind(d.ByteMax("kind", byte(deliverBy)))
	n.flags = d.ByteMax("flags", fAll)
	n.outcome = outcome(d.ByteMax("outcome", byte(len(outcomeNames)-1)))
	n.refundWhy = refundWhy(d.ByteMax("refund reason", byte(refundReturnToSender)))
	v := d.Uvarint("version")
	if d.Err == nil && v > 1<<32-1 {
		d.Fail("version %d out of range", v)
	}
	n.version = uint32(v)
	n.via = d.status("via")
	n.shipment = d.string("shipment")
	n.carrier = d.string("carrier")
	n.cause = d.string("cause")
	n.authority = d.string("authority")
	for _, t := range n.times() {
		*t = d.Varint("notice time")
	}
	switch {
	case d.Err != nil:
	case n.reason == 0:
		d.Fail("notice without a reason")
	case (n.reason == reasonShipBy) != (n.kind == shipBy):
		d.Fail("reason %s about %s", reasonNames[n.reason], kindNames[n.kind])
	case n.flags&fTold != 0 && n.outcome != outNotified && n.outcome != outLate,
		n.flags&fTold == 0 && (n.via != 0 || n.toldAt != 0):
		d.Fail("inconsistent telling")
	case (n.flags&fRefundDue != 0) != (n.refundWhy != 0):
		d.Fail("inconsistent refund flag")
	case n.via != 0 && !carrierProblem(n.via):
		d.Fail("told via %s", n.via.String())
	case n.authority != "" && !validSystem(n.authority):
		d.Fail("unknown system %q", n.authority)
	}
}

func validSystem(s string) bool {
	for _, y := range schemas.Systems {
		if string(y) == s {
			return true
		}
	}
	return false
}
