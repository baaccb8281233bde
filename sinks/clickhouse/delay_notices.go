package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// DelayNotice is one row of delay_notices (see migration 0005): one version
// of a delay notice. Optional strings are "" when the record has them null.
type DelayNotice struct {
	NoticeID, OrderID, Reason, Promise, Renews               string
	OriginalPromise                                          *time.Time
	PromiseIsDefault                                         bool
	MissedPromise, RevisedDate                               *time.Time
	NoRevisedDateReason, ShipmentID, Carrier, CauseAuthority string
	CauseAt, KnownAt, NotifyBy, DetectedAt                   time.Time
	MayCancel, RefundDue                                     bool
	RefundDueReason, State, Outcome                          string
	Notified                                                 bool
	NotifiedAt                                               *time.Time
	NotifiedVia                                              string
	ClosedAt                                                 *time.Time
	Version                                                  uint64
	Retracted                                                bool
	Position
}

// NewDelayNotice projects a decoded delay_notice (plain JSON form).
func NewDelayNotice(plain map[string]any) (DelayNotice, error) {
	str := func(f string) string { return plainString(plain, f) }
	flag := func(f string) bool { b, _ := plain[f].(bool); return b }
	var n DelayNotice
	var err error
	for f, dst := range map[string]*time.Time{"cause_at": &n.CauseAt, "known_at": &n.KnownAt, "notify_by": &n.NotifyBy, "detected_at": &n.DetectedAt} {
		if *dst, err = schemas.PlainTimeField(plain, f); err != nil {
			return n, fmt.Errorf("delay notice: %w", err)
		}
	}
	for f, dst := range map[string]**time.Time{"original_promise": &n.OriginalPromise, "missed_promise": &n.MissedPromise,
		"revised_date": &n.RevisedDate, "notified_at": &n.NotifiedAt, "closed_at": &n.ClosedAt} {
		if *dst, err = plainOptTime(plain, f); err != nil {
			return n, fmt.Errorf("delay notice: %w", err)
		}
	}
	version, err := plainOptInt64(plain, "version")
	if err != nil || version == nil || *version < 1 {
		return n, fmt.Errorf("delay notice: version %v: %v", version, err)
	}
	n.Version = uint64(*version)
	n.Retracted = revisionOf(plain).Retracted
	n.NoticeID, n.OrderID, n.Reason, n.Promise, n.Renews = str("notice_id"), str("order_id"), str("reason"), str("promise"), str("renews")
	n.NoRevisedDateReason, n.ShipmentID, n.Carrier, n.CauseAuthority = str("no_revised_date_reason"), str("shipment_id"), str("carrier"), str("cause_authority")
	n.RefundDueReason, n.State, n.Outcome, n.NotifiedVia = str("refund_due_reason"), str("state"), str("outcome"), str("notified_via")
	n.PromiseIsDefault, n.MayCancel, n.RefundDue, n.Notified = flag("promise_is_default"), flag("may_cancel"), flag("refund_due"), flag("notified")
	return n, nil
}

const delayNoticeColumns = "notice_id, order_id, reason, promise, renews, original_promise, promise_is_default, missed_promise, revised_date, no_revised_date_reason, shipment_id, carrier, cause_authority, cause_at, known_at, notify_by, notify_by_ms, detected_at, may_cancel, refund_due, refund_due_reason, state, outcome, notified, notified_at, notified_via, closed_at, topic, kafka_partition, kafka_offset, version, retracted"

// InsertDelayNotices writes rows in one batch.
func (c *Client) InsertDelayNotices(ctx context.Context, rows []DelayNotice) error {
	return c.insert(ctx, "delay_notices", delayNoticeColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return []any{r.NoticeID, r.OrderID, r.Reason, r.Promise, r.Renews, optSecond(r.OriginalPromise), uint8of(r.PromiseIsDefault),
			optSecond(r.MissedPromise), optSecond(r.RevisedDate), r.NoRevisedDateReason, r.ShipmentID, r.Carrier, r.CauseAuthority,
			second(r.CauseAt), second(r.KnownAt), second(r.NotifyBy), r.NotifyBy.UnixMilli(), second(r.DetectedAt),
			uint8of(r.MayCancel), uint8of(r.RefundDue), r.RefundDueReason, r.State, r.Outcome, uint8of(r.Notified),
			optSecond(r.NotifiedAt), r.NotifiedVia, optSecond(r.ClosedAt), r.Topic, r.Partition, r.Offset, r.Version, uint8of(r.Retracted)}
	})
}

// uint8of is a boolean as ClickHouse's UInt8.
func uint8of(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
