package canonical

// The outcomes of a sync check (sync_check.outcome): the vocabulary the
// checker (processors/synccheck) writes and the sink's scorecard, the
// simulator's ground truth and the report read, kept here so that none
// spells it again.
const (
	CheckInSync     = "IN_SYNC"    // the viewer showed the truth by the deadline
	CheckLate       = "LATE"       // it showed it after the deadline
	CheckMissing    = "MISSING"    // it never showed it
	CheckConflict   = "CONFLICT"   // it showed another status past the deadline
	CheckSuperseded = "SUPERSEDED" // the truth moved on before the deadline: not judged
)

// CheckOutcomes lists the outcomes of a sync check in the order reports
// show them.
func CheckOutcomes() []string {
	return []string{CheckInSync, CheckLate, CheckMissing, CheckConflict, CheckSuperseded}
}
