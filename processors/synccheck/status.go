package synccheck

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// st is a canonical status as a one-byte index (0: none), so that an
// order's checks stay small in memory. The index is internal: the binary
// state and every record spell statuses by name.
type st uint8

// class is canonical.Class, short for the rules here.
type class = canonical.Class

const (
	classStage     = canonical.ClassStage
	classProblem   = canonical.ClassProblem
	classReturn    = canonical.ClassReturn
	classAggregate = canonical.ClassAggregate
)

type stInfo struct {
	name  canonical.Status
	rank  int
	class class
}

var (
	stInfos  = []stInfo{{}} // by st; [0] is none
	stByName = map[canonical.Status]st{}
	// reflectsBy[s] has bit x set when a viewer showing s reflects x.
	reflectsBy []uint32
)

func init() {
	for _, in := range canonical.All() {
		i := stInfo{name: in.Status, rank: in.Rank, class: in.Class()}
		stByName[in.Status] = st(len(stInfos))
		stInfos = append(stInfos, i)
	}
	if len(stInfos) > 32 {
		panic("synccheck: more than 31 canonical statuses do not fit a uint32 mask")
	}
	reflectsBy = make([]uint32, len(stInfos))
	for s := 1; s < len(stInfos); s++ {
		for x := 1; x < len(stInfos); x++ {
			if reflects(stInfos[s], stInfos[x]) {
				reflectsBy[s] |= 1 << x
			}
		}
	}
}

// reflects is the rule of Reflects over two known statuses.
func reflects(s, x stInfo) bool {
	switch {
	case s.name == x.name:
		return true
	case x.class != classStage && x.class != classAggregate && x.class != classReturn:
		// Problem statuses and CANCELLED are reflected only by themselves.
		return false
	case !s.name.AtLeast(x.name):
		return false
	case s.class == classProblem:
		// A problem implies the stages before it, not the one it sits
		// beside: a stale EXCEPTION does not show the recovered IN_TRANSIT.
		return x.rank < s.rank
	}
	return true
}

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
	s, ok1 := stByName[shown]
	x, ok2 := stByName[truth]
	return ok1 && ok2 && s.reflects(x)
}

func (s st) reflects(x st) bool { return s != 0 && x != 0 && reflectsBy[s]&(1<<x) != 0 }

// covers reports whether a viewer showing s while the truth is x is merely
// behind the truth (or at it), which a check measures, rather than
// contradicting it, which is a conflict: x reflects s; or x is a problem
// status and s a stage of no higher rank (IN_TRANSIT while the truth is
// EXCEPTION, PLACED while ON_HOLD: the viewer has not heard of the problem
// yet); or x is CANCELLED and s a stage or aggregate (the viewer has not
// heard of the cancellation) or REFUNDED (the money went back for it); or
// x is REFUNDED and s CANCELLED.
func (x st) covers(s st) bool {
	if x.reflects(s) {
		return true
	}
	if x == 0 || s == 0 {
		return false
	}
	xi, si := stInfos[x], stInfos[s]
	switch {
	case xi.class == classProblem:
		return si.class == classStage && si.rank <= xi.rank
	case xi.name == canonical.Cancelled:
		// Not heard of the cancellation yet, or refunded for it.
		return si.class == classStage || si.class == classAggregate || si.name == canonical.Refunded
	case xi.name == canonical.Refunded:
		return si.name == canonical.Cancelled
	}
	return false
}
func (s st) String() string          { return string(stInfos[s].name) }
func (s st) bit() uint32             { return 1 << s }
func parseSt(name string) (st, bool) { s, ok := stByName[canonical.Status(name)]; return s, ok }

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
// customer or an agent. Every other system is an authority or a feed.
var viewerSystems = []schemas.System{schemas.Storefront, schemas.Helpdesk, schemas.Notifications}

func isViewer(s schemas.System) bool {
	for _, v := range viewerSystems {
		if v == s {
			return true
		}
	}
	return false
}
