package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/canonical"

	"github.com/baton-pipeline/baton/schemas"
)

// SyncCheck is one row of sync_checks (see migration 0004): one closed
// check of a viewer against the order's truth. Carrier and ShownStatus are
// "" when the record has them null.
type SyncCheck struct {
	CheckID, OrderID, Viewer, ExpectedStatus, OpenedBy string
	TruthAt, Deadline                                  time.Time
	TruthAuthority, Carrier, Outcome, ShownStatus      string
	ShownAt                                            *time.Time
	// LatencyMillis is shown_at - truth_at for IN_SYNC and LATE, else nil.
	LatencyMillis *int64
	ClosedAt      time.Time
	Position
	Revision
}

// The outcomes of a sync check (sync_check.avsc; canonical's vocabulary).
const (
	OutcomeInSync     = canonical.CheckInSync
	OutcomeLate       = canonical.CheckLate
	OutcomeMissing    = canonical.CheckMissing
	OutcomeConflict   = canonical.CheckConflict
	OutcomeSuperseded = canonical.CheckSuperseded
)

// NewSyncCheck projects a decoded sync_check (plain JSON form).
func NewSyncCheck(plain map[string]any) (SyncCheck, error) {
	str := func(f string) string { return plainString(plain, f) }
	var c SyncCheck
	var err error
	for f, dst := range map[string]*time.Time{"truth_at": &c.TruthAt, "deadline": &c.Deadline, "closed_at": &c.ClosedAt} {
		if *dst, err = schemas.PlainTimeField(plain, f); err != nil {
			return c, fmt.Errorf("sync check: %w", err)
		}
	}
	if c.ShownAt, err = plainOptTime(plain, "shown_at"); err != nil {
		return c, fmt.Errorf("sync check: %w", err)
	}
	if c.LatencyMillis, err = plainOptInt64(plain, "latency_ms"); err != nil {
		return c, fmt.Errorf("sync check: %w", err)
	}
	c.CheckID, c.OrderID, c.Viewer, c.ExpectedStatus, c.OpenedBy = str("check_id"), str("order_id"), str("viewer"), str("expected_status"), str("opened_by")
	c.TruthAuthority, c.Carrier, c.Outcome, c.ShownStatus = str("truth_authority"), str("carrier"), str("outcome"), str("shown_status")
	c.Revision = revisionOf(plain)
	return c, nil
}

const syncCheckColumns = "check_id, order_id, viewer, expected_status, opened_by, truth_at, truth_at_ms, deadline, deadline_ms, truth_authority, carrier, outcome, shown_status, shown_at, shown_at_ms, latency_ms, closed_at, closed_at_ms, topic, kafka_partition, kafka_offset" + revisionColumns

// InsertSyncChecks writes rows in one batch.
func (c *Client) InsertSyncChecks(ctx context.Context, rows []SyncCheck) error {
	return c.insert(ctx, "sync_checks", syncCheckColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return r.values(r.CheckID, r.OrderID, r.Viewer, r.ExpectedStatus, r.OpenedBy, second(r.TruthAt), r.TruthAt.UnixMilli(),
			second(r.Deadline), r.Deadline.UnixMilli(), r.TruthAuthority, r.Carrier, r.Outcome, r.ShownStatus,
			optSecond(r.ShownAt), optMillis(r.ShownAt), r.LatencyMillis, second(r.ClosedAt), r.ClosedAt.UnixMilli(),
			r.Topic, r.Partition, r.Offset)
	})
}

// FailedSync is one row of failed_syncs: a check that breached its SLA or
// confirmed a conflict. Carrier and ShownStatus are "" when null.
type FailedSync struct {
	CheckID, OrderID, Viewer, Reason, ExpectedStatus, ShownStatus string
	TruthAt, Deadline, DetectedAt                                 time.Time
	TruthAuthority, Carrier                                       string
	Position
	Revision
}

// NewFailedSync projects a decoded failed_sync (plain JSON form).
func NewFailedSync(plain map[string]any) (FailedSync, error) {
	str := func(f string) string { return plainString(plain, f) }
	var s FailedSync
	var err error
	for f, dst := range map[string]*time.Time{"truth_at": &s.TruthAt, "deadline": &s.Deadline, "detected_at": &s.DetectedAt} {
		if *dst, err = schemas.PlainTimeField(plain, f); err != nil {
			return s, fmt.Errorf("failed sync: %w", err)
		}
	}
	s.CheckID, s.OrderID, s.Viewer, s.Reason = str("check_id"), str("order_id"), str("viewer"), str("reason")
	s.ExpectedStatus, s.ShownStatus, s.TruthAuthority, s.Carrier = str("expected_status"), str("shown_status"), str("truth_authority"), str("carrier")
	s.Revision = revisionOf(plain)
	return s, nil
}

const failedSyncColumns = "check_id, order_id, viewer, reason, expected_status, shown_status, truth_at, truth_at_ms, deadline, deadline_ms, detected_at, detected_at_ms, truth_authority, carrier, topic, kafka_partition, kafka_offset" + revisionColumns

// InsertFailedSyncs writes rows in one batch.
func (c *Client) InsertFailedSyncs(ctx context.Context, rows []FailedSync) error {
	return c.insert(ctx, "failed_syncs", failedSyncColumns, len(rows), func(i int) []any {
		r := &rows[i]
		return r.values(r.CheckID, r.OrderID, r.Viewer, r.Reason, r.ExpectedStatus, r.ShownStatus,
			second(r.TruthAt), r.TruthAt.UnixMilli(), second(r.Deadline), r.Deadline.UnixMilli(), second(r.DetectedAt), r.DetectedAt.UnixMilli(),
			r.TruthAuthority, r.Carrier, r.Topic, r.Partition, r.Offset)
	})
}

// second is t at the DateTime column's resolution, in UTC.
func second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func optSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := second(*t)
	return &s
}

// plainOptInt64 is a nullable long field of a plain record: nil when null.
// It takes goavro's int64 and the json.Number or float64 of a JSON decode.
func plainOptInt64(plain map[string]any, field string) (*int64, error) {
	var n int64
	switch v := plain[field].(type) {
	case nil:
		return nil, nil
	case int64:
		n = v
	case int32:
		n = int64(v)
	case int:
		n = int64(v)
	case float64:
		if v != float64(int64(v)) {
			return nil, fmt.Errorf("record field %s: %v is not an integer", field, v)
		}
		n = int64(v)
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return nil, fmt.Errorf("record field %s: %w", field, err)
		}
		n = i
	default:
		return nil, fmt.Errorf("record field %s: %T is not a long", field, v)
	}
	return &n, nil
}
