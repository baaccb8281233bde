package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// WismoTicket is one row of wismo_tickets (see migration 0006): a help-desk
// ticket classified WISMO and attributed to a cause. Optional strings are ""
// when the record has them null. A ticket may be stored more than once (see
// the migration): readers keep the row with the earliest TicketAt.
type WismoTicket struct {
	TicketID, OrderID, ClassifiedBy, Matched               string
	TicketAt, ClassifiedAt                                 time.Time
	Cause, Link, Viewer                                    string
	OutOfSyncSince                                         *time.Time
	CheckID, FailedSyncReason, ExpectedStatus, ShownStatus string
	DelayReason, ProblemStatus                             string
	ProblemSince                                           *time.Time
	TruthStatus                                            string
	TruthSince                                             *time.Time
	Position
	Revision
}

// NewWismoTicket projects a decoded wismo_ticket (plain JSON form).
func NewWismoTicket(plain map[string]any) (WismoTicket, error) {
	str := func(f string) string { return plainString(plain, f) }
	var w WismoTicket
	var err error
	for f, dst := range map[string]*time.Time{"ticket_at": &w.TicketAt, "classified_at": &w.ClassifiedAt} {
		if *dst, err = schemas.PlainTimeField(plain, f); err != nil {
			return w, fmt.Errorf("wismo ticket: %w", err)
		}
	}
	for f, dst := range map[string]**time.Time{"out_of_sync_since": &w.OutOfSyncSince, "problem_since": &w.ProblemSince, "truth_since": &w.TruthSince} {
		if *dst, err = plainOptTime(plain, f); err != nil {
			return w, fmt.Errorf("wismo ticket: %w", err)
		}
	}
	w.TicketID, w.OrderID, w.ClassifiedBy, w.Matched = str("ticket_id"), str("order_id"), str("classified_by"), str("matched")
	if w.TicketID == "" || w.OrderID == "" {
		return w, fmt.Errorf("wismo ticket: ticket_id %q, order_id %q: both are required", w.TicketID, w.OrderID)
	}
	w.Cause, w.Link, w.Viewer, w.CheckID = str("cause"), str("link"), str("viewer"), str("check_id")
	w.FailedSyncReason, w.ExpectedStatus, w.ShownStatus = str("failed_sync_reason"), str("expected_status"), str("shown_status")
	w.DelayReason, w.ProblemStatus, w.TruthStatus = str("delay_reason"), str("problem_status"), str("truth_status")
	w.Revision = revisionOf(plain)
	return w, nil
}

const wismoTicketColumns = "ticket_id, order_id, classified_by, matched, ticket_at, ticket_at_ms, classified_at, classified_at_ms, cause, link, viewer, out_of_sync_since, check_id, failed_sync_reason, expected_status, shown_status, delay_reason, problem_status, problem_since, truth_status, truth_since, topic, kafka_partition, kafka_offset" + revisionColumns

// InsertWismoTickets writes rows in one batch.
func (c *Client) InsertWismoTickets(ctx context.Context, rows []WismoTicket) error {
	return c.insert(ctx, "wismo_tickets", wismoTicketColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return r.values(r.TicketID, r.OrderID, r.ClassifiedBy, r.Matched, second(r.TicketAt), r.TicketAt.UnixMilli(),
			second(r.ClassifiedAt), r.ClassifiedAt.UnixMilli(), r.Cause, r.Link, r.Viewer, optSecond(r.OutOfSyncSince),
			r.CheckID, r.FailedSyncReason, r.ExpectedStatus, r.ShownStatus, r.DelayReason, r.ProblemStatus,
			optSecond(r.ProblemSince), r.TruthStatus, optSecond(r.TruthSince), r.Topic, r.Partition, r.Offset)
	})
}
