package synccheck

import (
	"strings"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// Lag is one way a viewer was behind or against the order's truth, as
// Order.AppendLags lists them (see the package doc, "Lags"): a check (the
// viewer had to show Expected by Deadline) or a conflict (the viewer
// showed Shown, which the truth Expected contradicts, and the SLA for it to
// be a race ended at Deadline). The viewer was out of sync at a time t
// when Deadline < t and it had not caught up by t (Until is 0 or after t);
// a lag within its SLA (t ≤ Deadline) is not a failure. Times are Unix ms.
type Lag struct {
	Viewer schemas.System
	// CheckID is the check's check_id, the one its sync_check and
	// failed_sync records carry (16 hex digits).
	CheckID string
	// Conflict: a pending or confirmed conflict (opened_by report); else
	// a check.
	Conflict bool
	// Expected is the check's expected_status (for a conflict: the truth
	// it contradicts); Shown what the viewer showed ("" when nothing): its
	// latest status for an open check, the contradicting status for a
	// conflict, the status before it caught up for a check closed LATE.
	Expected, Shown canonical.Status
	// Authority is the system whose event set the truth the viewer missed
	// or contradicts (truth_authority; "" when unknown).
	Authority schemas.System
	// Since is when the viewer started to differ from the truth: a check's
	// truth_at (the truth's move, or the viewer's first sight when it was
	// behind from the start), a conflict's first contradicting report.
	Since int64
	// Deadline is Since plus the viewer's SLA: the check's deadline.
	Deadline int64
	// Until is when the viewer showed the truth again: the report that
	// closed a LATE check, or that showed a MISSING check's status (or the
	// truth of the moment) after it closed, or the end of a confirmed
	// conflict (a report the truth covers, or the truth coming to cover
	// what the viewer shows). 0: not (yet) — always for an open check or
	// a pending conflict.
	Until int64
}

// Lags returns AppendLags(nil).
func (o *Order) Lags() []Lag { return o.AppendLags(nil) }

// AppendLags appends the order's lags to dst and returns the extended
// slice: every open check and pending conflict, in opening order, then
// the failures remembered since they closed (checks closed LATE or
// MISSING, confirmed conflicts; the latest four, oldest first). An order
// with none appends nothing and allocates nothing; otherwise the check IDs
// share one allocation (and dst grows if it has no room).
func (o *Order) AppendLags(dst []Lag) []Lag {
	n := len(o.checks) + len(o.failures)
	if n == 0 {
		return dst
	}
	var ids strings.Builder
	ids.Grow(16 * n)
	for i := range o.checks {
		appendID(&ids, o.checks[i].id)
	}
	for i := range o.failures {
		appendID(&ids, o.failures[i].id)
	}
	all := ids.String()
	id := func() string { s := all[:16]; all = all[16:]; return s }
	for i := range o.checks {
		k := &o.checks[i]
		v := &o.views[k.view]
		l := Lag{Viewer: v.sys.system(), CheckID: id(), Expected: k.status.Status(), Shown: v.shown.Status(),
			Authority: k.auth.system(), Since: k.t, Deadline: k.deadline}
		if k.by == byReport {
			l.Conflict, l.Shown = true, k.shown.Status()
		}
		dst = append(dst, l)
	}
	for i := range o.failures {
		f := &o.failures[i]
		dst = append(dst, Lag{Viewer: o.views[f.view].sys.system(), CheckID: id(), Conflict: f.outcome == failConflict,
			Expected: f.status.Status(), Shown: f.shown.Status(), Authority: f.auth.system(), Since: f.t,
			Deadline: f.deadline, Until: f.until})
	}
	return dst
}

// appendID writes id as idString does, without allocating.
func appendID(b *strings.Builder, id uint64) {
	const hexDigits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[id>>uint(shift)&0xf])
	}
}

func (y sys) system() schemas.System { return schemas.System(y.String()) }

// before is the status the viewer showed just before t: its latest report
// with a time before t (0: none).
func (v *view) before(t int64) st {
	if v.shown != 0 && v.shownAt < t {
		return v.shown // the latest is the most recent
	}
	for i := len(v.earlier) - 1; i >= 0; i-- {
		if v.earlier[i].at < t {
			return v.earlier[i].status
		}
	}
	return 0
}

// uncontradicted is the time of the viewer's first report after from
// that the truth x covers (it stopped contradicting x); 0: none.
func (v *view) uncontradicted(x st, from int64) int64 {
	for _, r := range v.earlier {
		if r.at > from && covers(x, r.status) {
			return r.at
		}
	}
	if v.shown != 0 && v.shownAt > from && covers(x, v.shown) {
		return v.shownAt
	}
	return 0
}

// reportCorrects ends the remembered failures of view vi that its report
// of s at r (with the truth x) corrects: a MISSING check's when s
// reflects its expected status or the truth, a confirmed conflict's when
// the report is judged (see View) and the truth covers s. The earliest
// such report ends it.
func (o *Order) reportCorrects(vi int, s st, r int64, x st, judged bool) {
	for i := range o.failures {
		f := &o.failures[i]
		if int(f.view) != vi || (f.until != 0 && f.until <= r) {
			continue
		}
		switch f.outcome {
		case failMissing:
			if r >= f.t && (reflects(s, f.status) || reflects(s, x)) {
				f.until = r
			}
		case failConflict:
			if judged && r > f.t && covers(x, s) {
				f.until = r
			}
		}
	}
}

// truthCorrects ends the remembered failures the truth's move to x at t
// corrects: a viewer whose latest status reflects the new truth (a MISSING
// check) or that the new truth covers (a conflict) shows the truth from
// then on.
func (o *Order) truthCorrects(x st, t int64) {
	for i := range o.failures {
		f := &o.failures[i]
		v := &o.views[f.view]
		if f.until != 0 || v.shown == 0 {
			continue
		}
		switch f.outcome {
		case failMissing:
			if reflects(v.shown, x) {
				f.until = max(t, v.shownAt, f.t)
			}
		case failConflict:
			if covers(x, v.shown) {
				f.until = max(t, v.shownAt, f.t)
			}
		}
	}
}

// confirmed reports whether the conflict id is a remembered failure: it
// was confirmed (and recorded) already.
func (o *Order) confirmed(id uint64) bool {
	for i := range o.failures {
		if o.failures[i].id == id && o.failures[i].outcome == failConflict {
			return true
		}
	}
	return false
}
