package canonical

// Index is a canonical status as a one-byte number (0: none), for the
// stages whose per-order state must stay small and whose rules test sets
// of statuses as bit masks (Bit). Numbers follow All's lifecycle order, so
// they are the same in every package that uses them; they never leave
// memory: changelogs, records and tables spell statuses by name.
type Index uint8

var (
	indexInfos   = append([]Info{{}}, All()...) // by Index; [0] is none
	indexClasses = func() []Class {
		out := make([]Class, len(indexInfos))
		for i, in := range indexInfos[1:] {
			out[i+1] = in.Class()
		}
		return out
	}()
	indexByName = func() map[Status]Index {
		m := make(map[Status]Index, len(indexInfos))
		for i, in := range indexInfos[1:] {
			m[in.Status] = Index(i + 1)
		}
		return m
	}()
	shippedRank = Shipped.Rank()
)

func init() {
	if len(indexInfos) > 32 {
		panic("canonical: more than 31 statuses do not fit Index.Bit's uint32 masks")
	}
}

// Indexes is the number of indexes including 0 (none): every Index is
// below it, so it sizes a table indexed by Index.
func Indexes() int { return len(indexInfos) }

// IndexOf returns s's index; false (and 0) for a name that is not a
// canonical status.
func IndexOf(s Status) (Index, bool) {
	i, ok := indexByName[s]
	return i, ok
}

// IndexOfBytes is IndexOf for a name still in a decoder's buffer; it does
// not allocate (the conversion only forms a map key), which the state
// decoders of a restore rely on.
func IndexOfBytes(name []byte) (Index, bool) {
	i, ok := indexByName[Status(name)]
	return i, ok
}

// MustIndex returns s's index, for the statuses code names: it panics on a
// name that is not canonical, a programming error.
func MustIndex(s Status) Index {
	i, ok := indexByName[s]
	if !ok {
		panic("canonical: " + string(s) + " is not a canonical status")
	}
	return i
}

// Status is i's name; "" for 0.
func (i Index) Status() Status { return indexInfos[i].Status }

// String is i's name, for logs and tests.
func (i Index) String() string { return string(indexInfos[i].Status) }

// Rank is i's progress rank (Info.Rank); 0 for none.
func (i Index) Rank() int { return indexInfos[i].Rank }

// Class is i's class; ClassNone for 0.
func (i Index) Class() Class { return indexClasses[i] }

// Bit is i as a one-bit mask; sets of statuses are unions of Bits.
func (i Index) Bit() uint32 { return 1 << i }

// Stage reports whether i is on the main line (ClassStage).
func (i Index) Stage() bool { return indexClasses[i] == ClassStage }

// Problem reports whether i is a side state off the line (ClassProblem).
func (i Index) Problem() bool { return indexClasses[i] == ClassProblem }

// Aggregate reports whether i is PARTIALLY_SHIPPED or PARTIALLY_DELIVERED.
func (i Index) Aggregate() bool { return indexClasses[i] == ClassAggregate }

// ReturnBranch reports whether i is on the return branch after delivery
// (ClassReturn).
func (i Index) ReturnBranch() bool { return indexClasses[i] == ClassReturn }

// OnLine reports whether a track moves through i in rank order: a main-line
// stage or a status of the return branch.
func (i Index) OnLine() bool { c := indexClasses[i]; return c == ClassStage || c == ClassReturn }

// PreShip reports whether i is a main-line stage before SHIPPED.
func (i Index) PreShip() bool { return i.Stage() && i.Rank() < shippedRank }
