package delay

import "strings"

// Untold is one delay notice the customer was owed and not told in time,
// as Order.AppendUntold lists them (see the package doc, "Untold"). The
// customer was owed the notice and untold at a time t when NotifyBy < t
// and no message had told it by t (ToldAt is 0 or after t). Times are
// Unix ms.
type Untold struct {
	// NoticeID is notice_id: the check_id of its failed sync (16 hex
	// digits).
	NoticeID string
	// Reason is the notice's reason: ship_by_missed, eta_past_promise,
	// exception, delivery_attempt_failed or return_to_sender.
	Reason string
	// KnownAt is when the delay became knowable (known_at); NotifyBy the
	// deadline to tell the customer (notify_by).
	KnownAt, NotifyBy int64
	// ToldAt is when a message told the customer (notified_at); 0: never
	// (yet).
	ToldAt int64
}

// Untold returns AppendUntold(nil).
func (o *Order) Untold() []Untold { return o.AppendUntold(nil) }

// AppendUntold appends to dst the order's notices the customer was owed
// and not told in time, and returns the extended slice: those dropped
// from the order's notices to make room (at most four, oldest first), then,
// in opening order, every notice open (untold), closed NOT_NOTIFIED, or
// told late (closed LATE: ToldAt after NotifyBy). Notices told in time
// (NOTIFIED), withdrawn (the delay proved false) or cancelled before they
// failed (the cancellation answered the delay) are not owed. An order with
// none appends nothing and allocates nothing; otherwise the notice IDs
// share one allocation (and dst grows if it has no room).
func (o *Order) AppendUntold(dst []Untold) []Untold {
	n := len(o.dropped)
	for i := range o.notices {
		if o.notices[i].untold() {
			n++
		}
	}
	if n == 0 {
		return dst
	}
	var ids strings.Builder
	ids.Grow(16 * n)
	for _, u := range o.dropped {
		appendID(&ids, u.id)
	}
	for i := range o.notices {
		if o.notices[i].untold() {
			appendID(&ids, o.notices[i].id)
		}
	}
	all := ids.String()
	id := func() string { s := all[:16]; all = all[16:]; return s }
	for _, u := range o.dropped {
		dst = append(dst, Untold{NoticeID: id(), Reason: reasonNames[u.reason], KnownAt: u.knownAt, NotifyBy: u.notifyBy, ToldAt: u.told})
	}
	for i := range o.notices {
		if nt := &o.notices[i]; nt.untold() {
			dst = append(dst, Untold{NoticeID: id(), Reason: reasonNames[nt.reason], KnownAt: nt.knownAt, NotifyBy: nt.notifyBy, ToldAt: nt.toldAt})
		}
	}
	return dst
}

// untold reports whether the customer was owed the notice and was not
// told it in time: open, closed NOT_NOTIFIED, or told late.
func (n *notice) untold() bool {
	return n.outcome == open || n.outcome == outNotNotified || n.outcome == outLate
}

// rememberDropped keeps an untold notice dropped from the notices, the
// latest maxDropped.
func (o *Order) rememberDropped(u owedNotice) {
	switch {
	case o.dropped == nil:
		o.dropped = make([]owedNotice, 0, maxDropped)
	case len(o.dropped) == maxDropped:
		o.dropped = append(o.dropped[:0], o.dropped[1:]...)
	}
	o.dropped = append(o.dropped, u)
}

// appendID writes id as idString does, without allocating.
func appendID(b *strings.Builder, id uint64) {
	const hexDigits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[id>>uint(shift)&0xf])
	}
}
