package wismo

import (
	"time"
)

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func optString[S ~string](s S) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// ticketRecord builds a wismo_ticket value (schemas/avro/wismo_ticket.avsc).
func ticketRecord(orderID, ticketID string, at, classifiedAt int64, m Match, a *Attribution) Record {
	var since, problemSince, truthSince any
	if a.Cause == CauseViewerOutOfSync || a.Cause == CauseDelayNotNotified {
		since = msTime(a.Since)
	}
	if a.Cause == CauseCarrierException {
		problemSince = msTime(a.ProblemSince)
	}
	if a.Truth != "" {
		truthSince = msTime(a.TruthSince)
	}
	return Record{Key: orderID, Value: map[string]any{
		"version": int64(0), "retracted": false, // a correction re-emits with a higher version (package unify, "Event time")
		"ticket_id":          ticketID,
		"order_id":           orderID,
		"classified_by":      m.By,
		"matched":            m.Term,
		"ticket_at":          msTime(at),
		"classified_at":      msTime(classifiedAt),
		"cause":              a.Cause,
		"link":               optString(a.Link()),
		"viewer":             optString(a.Viewer),
		"out_of_sync_since":  since,
		"check_id":           optString(a.CheckID),
		"failed_sync_reason": optString(a.Reason),
		"expected_status":    optString(a.Expected),
		"shown_status":       optString(a.Shown),
		"delay_reason":       optString(a.DelayReason),
		"problem_status":     optString(a.Problem),
		"problem_since":      problemSince,
		"truth_status":       optString(a.Truth),
		"truth_since":        truthSince,
	}}
}
