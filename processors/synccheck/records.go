package synccheck

import (
	"encoding/hex"
	"strconv"

	"github.com/baton-pipeline/baton/canonical"

	"github.com/baton-pipeline/baton/schemas"
)

// Record is one output value in baton's JSON form (what
// schemas.Schema.FromJSON accepts: time.Time for timestamps, nil for
// null), keyed by order ID.
type Record struct {
	Key   string
	Value map[string]any
}

// The outcomes of a SyncCheck (canonical's vocabulary).
const (
	InSync     = canonical.CheckInSync
	Late       = canonical.CheckLate
	Missing    = canonical.CheckMissing
	Conflict   = canonical.CheckConflict
	Superseded = canonical.CheckSuperseded
)

// The reasons of a FailedSync.
const (
	ReasonSLABreached = "sla_breached"
	ReasonConflict    = "conflict"
)

func optStatus(s st) any {
	if s == 0 {
		return nil
	}
	return s.String()
}

// checkID is check_id: 64-bit FNV-1a over the order ID, the viewer, the
// expected status, the opener and what opened it (the truth transition's
// ID; or, for a first sight, a conflicting report or a truth without a
// transition ID, truth_at in decimal ms), NUL-separated; 16 hex digits.
func checkID(orderID string, viewer sys, expected st, by opener, transitionID string, t int64) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
		h *= prime // the NUL separator (h ^= 0 is a no-op)
	}
	add(orderID)
	add(viewer.String())
	add(expected.String())
	add(by.String())
	if by == byTruth && transitionID != "" {
		add(transitionID)
		return h
	}
	var buf [20]byte
	for _, c := range strconv.AppendInt(buf[:0], t, 10) {
		h ^= uint64(c)
		h *= prime
	}
	return h * prime
}

func idString(id uint64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (56 - 8*i))
	}
	return hex.EncodeToString(b[:])
}

// syncCheck builds a sync_check value. shown is 0 for MISSING and
// SUPERSEDED; latency applies to IN_SYNC and LATE.
func syncCheck(orderID string, v *view, c *check, outcome string, shown st, shownAt int64, w int64) Record {
	var shownV, shownAtV, latency any
	if shown != 0 {
		shownV, shownAtV = shown.String(), schemas.PlainTime(shownAt)
	}
	if outcome == InSync || outcome == Late {
		latency = max(0, shownAt-c.t)
	}
	return Record{Key: orderID, Value: map[string]any{
		"version": int64(0), "retracted": false, // a correction re-emits with a higher version (package unify, "Event time")
		"check_id":        idString(c.id),
		"order_id":        orderID,
		"viewer":          v.sys.String(),
		"expected_status": c.status.String(),
		"opened_by":       c.by.String(),
		"truth_at":        schemas.PlainTime(c.t),
		"deadline":        schemas.PlainTime(c.deadline),
		"truth_authority": c.auth.String(),
		"carrier":         schemas.PlainOptionalString(c.carrier),
		"outcome":         outcome,
		"shown_status":    shownV,
		"shown_at":        shownAtV,
		"latency_ms":      latency,
		"closed_at":       schemas.PlainTime(w),
	}}
}

// failedSync builds a failed_sync value; shown_status is the viewer's
// latest status.
func failedSync(orderID string, v *view, c *check, reason string, w int64) Record {
	return Record{Key: orderID, Value: map[string]any{
		"version": int64(0), "retracted": false, // a correction re-emits with a higher version (package unify, "Event time")
		"check_id":        idString(c.id),
		"order_id":        orderID,
		"viewer":          v.sys.String(),
		"reason":          reason,
		"expected_status": c.status.String(),
		"shown_status":    optStatus(v.shown),
		"truth_at":        schemas.PlainTime(c.t),
		"deadline":        schemas.PlainTime(c.deadline),
		"detected_at":     schemas.PlainTime(w),
		"truth_authority": c.auth.String(),
		"carrier":         schemas.PlainOptionalString(c.carrier),
	}}
}
