package synccheck

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// st is a canonical status as a one-byte index (canonical.Index), so that
// an order's checks stay small in memory.
type st = canonical.Index

// reflectsBy[s] has bit x set when a viewer showing s reflects x.
var reflectsBy = func() []uint32 {
	out := make([]uint32, canonical.Indexes())
	for s := 1; s < len(out); s++ {
		for x := 1; x < len(out); x++ {
			if reflectsRule(st(s), st(x)) {
				out[s] |= 1 << x
			}
		}
	}
	return out
}()

// reflectsRule is the rule of Reflects over two known statuses.
func reflectsRule(s, x st) bool {
	switch {
	case s == x:
		return true
	case !x.Stage() && !x.Aggregate() && !x.ReturnBranch():
		// Problem statuses and CANCELLED are reflected only by themselves.
		return false
	case !s.Status().AtLeast(x.Status()):
		return false
	case s.Problem():
		// A problem implies the stages before it, not the one it sits
		// beside: a stale EXCEPTION does not show the recovered IN_TRANSIT.
		return x.Rank() < s.Rank()
	}
	return true
}

// stOf is the index of a canonical status; 0 for an unknown one.
func stOf(s canonical.Status) st { x, _ := canonical.IndexOf(s); return x }

// Reflects reports whether a viewer showing shown is showing truth, or a
// status that implies it:
//
//   - shown == truth; or
//   - truth is a main-line stage, an aggregate or on the return branch,
//     and shown.AtLeast(truth) (so CANCELLED reflects only CANCELLED) —
//     except that a problem status (EXCEPTION, RETURN_TO_SENDER,
//     DELIVERY_ATTEMPT_FAILED, AVAILABLE_FOR_PICKUP, ON_HOLD) reflects
//     only a truth of strictly lower rank.
//
// A problem truth is reflected only by itself. Unknown and empty statuses
// reflect nothing and are reflected by nothing.
func Reflects(shown, truth canonical.Status) bool {
	return reflects(stOf(shown), stOf(truth))
}

// Covers reports whether a viewer showing shown while the truth is truth
// is behind the truth (or at it), which a check measures, rather than
// contradicting it, a conflict (see covers). Unknown and empty statuses
// cover nothing.
func Covers(truth, shown canonical.Status) bool { return covers(stOf(truth), stOf(shown)) }

// reflects is Reflects over indexes; false when either is 0.
func reflects(s, x st) bool { return s != 0 && x != 0 && reflectsBy[s]&x.Bit() != 0 }

// covers reports whether a viewer showing s while the truth is x is merely
// behind the truth (or at it), which a check measures, rather than
// contradicting it, which is a conflict: x reflects s; or x is a problem
// status and s a stage of no higher rank (IN_TRANSIT while the truth is
// EXCEPTION, PLACED while ON_HOLD: the viewer has not heard of the problem
// yet); or x is CANCELLED and s a stage or aggregate (the viewer has not
// heard of the cancellation) or REFUNDED (the money went back for it); or
// x is REFUNDED and s CANCELLED.
func covers(x, s st) bool {
	if reflects(x, s) {
		return true
	}
	if x == 0 || s == 0 {
		return false
	}
	switch {
	case x.Problem():
		return s.Stage() && s.Rank() <= x.Rank()
	case x.Status() == canonical.Cancelled:
		// Not heard of the cancellation yet, or refunded for it.
		return s.Stage() || s.Aggregate() || s.Status() == canonical.Refunded
	case x.Status() == canonical.Refunded:
		return s.Status() == canonical.Cancelled
	}
	return false
}

func parseSt(name string) (st, bool) { return canonical.IndexOf(canonical.Status(name)) }

// sys is a source system as a one-byte index into schemas.Systems (0:
// none). Like st, it never leaves memory as a number.
type sys uint8

var sysByName = func() map[schemas.System]sys {
	m := make(map[schemas.System]sys, len(schemas.Systems))
	for i, s := range schemas.Systems {
		m[s] = sys(i + 1)
	}
	return m
}()

func (y sys) String() string {
	if y == 0 || int(y) > len(schemas.Systems) {
		return ""
	}
	return string(schemas.Systems[y-1])
}

// viewerSystems are the systems that may be viewers: they show status to a
// customer or an agent (schemas.Spec.Shows). Every other system is an
// authority or a feed.
var viewerSystems = schemas.SystemsWhere(schemas.Spec.IsViewer)

func isViewer(s schemas.System) bool {
	for _, v := range viewerSystems {
		if v == s {
			return true
		}
	}
	return false
}
