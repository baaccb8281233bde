package wismo

import (
	"github.com/baton-pipeline/baton/schemas"
)

// ticketRecord builds a wismo_ticket value (schemas/avro/wismo_ticket.avsc).
func ticketRecord(orderID, ticketID string, at, classifiedAt int64, m Match, a *Attribution) Record {
	var since, problemSince, truthSince any
	if a.Cause == CauseViewerOutOfSync || a.Cause == CauseDelayNotNotified {
		since = schemas.PlainTime(a.Since)
	}
	if a.Cause == CauseCarrierException {
		problemSince = schemas.PlainTime(a.ProblemSince)
	}
	if a.Truth != "" {
		truthSince = schemas.PlainTime(a.TruthSince)
	}
	return Record{Key: orderID, Value: map[string]any{
		"version": int64(0), "retracted": false, // a correction re-emits with a higher version (package unify, "Event time")
		"ticket_id":          ticketID,
		"order_id":           orderID,
		"classified_by":      m.By,
		"matched":            m.Term,
		"ticket_at":          schemas.PlainTime(at),
		"classified_at":      schemas.PlainTime(classifiedAt),
		"cause":              a.Cause,
		"link":               schemas.PlainOptionalString(a.Link()),
		"viewer":             schemas.PlainOptionalString(a.Viewer),
		"out_of_sync_since":  since,
		"check_id":           schemas.PlainOptionalString(a.CheckID),
		"failed_sync_reason": schemas.PlainOptionalString(a.Reason),
		"expected_status":    schemas.PlainOptionalString(a.Expected),
		"shown_status":       schemas.PlainOptionalString(a.Shown),
		"delay_reason":       schemas.PlainOptionalString(a.DelayReason),
		"problem_status":     schemas.PlainOptionalString(a.Problem),
		"problem_since":      problemSince,
		"truth_status":       schemas.PlainOptionalString(a.Truth),
		"truth_since":        truthSince,
	}}
}
