package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// TestDelayNoticesKeepTheLatestVersion: two versions of one notice (opened,
// then told) collapse to the latest under FINAL, every field intact.
func TestDelayNoticesKeepTheLatestVersion(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	version := func(v int, extra string) clickhouse.DelayNotice {
		n, err := clickhouse.NewDelayNotice(encodeDecode(t, "delay_notice", `{"notice_id":"9f3a","order_id":"o-1","reason":"ship_by_missed",
			"promise":"ship_by","renews":null,"original_promise":"2026-11-02T10:00:00Z","promise_is_default":false,
			"missed_promise":"2026-11-02T10:00:00Z","revised_date":null,"no_revised_date_reason":"no carrier estimate",
			"shipment_id":null,"carrier":null,"cause_id":null,"cause_authority":"","cause_at":"2026-11-02T10:00:00Z",
			"known_at":"2026-11-02T10:00:00Z","notify_by":"2026-11-02T10:05:00.250Z","detected_at":"2026-11-02T10:00:01Z",
			"may_cancel":true,"refund_due":false,"refund_due_reason":null,`+extra+`,"failed_sync_emitted":false,
			"version":`+string(rune('0'+v))+`,"updated_at":"2026-11-02T10:03:00Z"}`))
		if err != nil {
			t.Fatal(err)
		}
		n.Position = clickhouse.Position{Topic: "baton.delay-notices", Partition: 0, Offset: int64(v)}
		return n
	}
	opened := version(1, `"state":"open","outcome":null,"notified":false,"notified_at":null,"notified_via":null,"closed_at":null`)
	told := version(2, `"state":"closed","outcome":"NOTIFIED","notified":true,"notified_at":"2026-11-02T10:02:00Z","notified_via":"delay_notice","closed_at":"2026-11-02T10:03:00Z"`)
	if err := c.InsertDelayNotices(ctx, []clickhouse.DelayNotice{opened, told}); err != nil {
		t.Fatal(err)
	}
	var (
		n                          uint64
		outcome, reason, noRevised string
		mayCancel, notified        uint8
		notifyByMs                 int64
		notifiedAt                 *time.Time
		version2                   uint64
	)
	row := c.Conn().QueryRow(ctx, `SELECT count(), any(outcome), any(reason), any(no_revised_date_reason), any(may_cancel), any(notified), any(notify_by_ms), any(notified_at), max(version)
		FROM `+c.Database()+`.delay_notices FINAL WHERE notice_id = '9f3a'`)
	if err := row.Scan(&n, &outcome, &reason, &noRevised, &mayCancel, &notified, &notifyByMs, &notifiedAt, &version2); err != nil {
		t.Fatal(err)
	}
	if n != 1 || outcome != "NOTIFIED" || reason != "ship_by_missed" || noRevised != "no carrier estimate" || mayCancel != 1 || notified != 1 || version2 != 2 {
		t.Errorf("got %d rows: outcome %q reason %q no_revised %q may_cancel %d notified %d version %d; want the told version only",
			n, outcome, reason, noRevised, mayCancel, notified, version2)
	}
	if want := time.Date(2026, 11, 2, 10, 5, 0, 250e6, time.UTC).UnixMilli(); notifyByMs != want {
		t.Errorf("notify_by_ms %d, want %d", notifyByMs, want)
	}
	if notifiedAt == nil || !notifiedAt.Equal(time.Date(2026, 11, 2, 10, 2, 0, 0, time.UTC)) {
		t.Errorf("notified_at %v", notifiedAt)
	}
}
