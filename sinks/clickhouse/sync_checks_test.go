package clickhouse_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

func msp(ms int64) *int64 { return &ms }

// encodeDecode runs a JSON record through the Avro schema and back to the
// plain form the sink receives from a topic.
func encodeDecode(t *testing.T, schema, record string) map[string]any {
	t.Helper()
	s, err := schemas.Load(schema)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(record))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	native, err := s.FromJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := s.Codec.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := s.Codec.NativeFromBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	return s.Plain(back.(map[string]any))
}

func TestSyncChecksAndFailedSyncsRoundTripThroughClickHouse(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	check, err := clickhouse.NewSyncCheck(encodeDecode(t, "sync_check", `{"check_id":"o-1|storefront|IN_TRANSIT|t-9","order_id":"o-1","viewer":"storefront",
		"expected_status":"IN_TRANSIT","opened_by":"truth","truth_at":"2026-11-01T10:00:00.250Z","deadline":"2026-11-01T10:05:00.250Z",
		"truth_authority":"carrier","carrier":"UPS","outcome":"LATE","shown_status":"IN_TRANSIT","shown_at":"2026-11-01T10:07:00.750Z",
		"latency_ms":420500,"closed_at":"2026-11-01T10:07:01Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	missing, err := clickhouse.NewSyncCheck(encodeDecode(t, "sync_check", `{"check_id":"o-2|helpdesk|SHIPPED|t-3","order_id":"o-2","viewer":"helpdesk",
		"expected_status":"SHIPPED","opened_by":"first_sight","truth_at":"2026-11-01T09:00:00Z","deadline":"2026-11-01T09:15:00Z",
		"truth_authority":"wms","carrier":null,"outcome":"MISSING","shown_status":null,"shown_at":null,"latency_ms":null,"closed_at":"2026-11-02T09:15:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if missing.ShownAt != nil || missing.LatencyMillis != nil || missing.Carrier != "" || missing.ShownStatus != "" {
		t.Errorf("nulls projected as %+v", missing)
	}
	fs, err := clickhouse.NewFailedSync(encodeDecode(t, "failed_sync", `{"check_id":"o-1|storefront|IN_TRANSIT|t-9","order_id":"o-1","viewer":"storefront",
		"reason":"sla_breached","expected_status":"IN_TRANSIT","shown_status":"SHIPPED","truth_at":"2026-11-01T10:00:00.250Z",
		"deadline":"2026-11-01T10:05:00.250Z","detected_at":"2026-11-01T10:05:01.5Z","truth_authority":"carrier","carrier":"UPS"}`))
	if err != nil {
		t.Fatal(err)
	}
	check.Topic, check.Partition, check.Offset = "sync-checks", 3, 17
	missing.Topic, missing.Offset = "sync-checks", 18
	fs.Topic, fs.Partition, fs.Offset = "failed-syncs", 1, 4
	for i := 0; i < 2; i++ { // re-inserted: FINAL keeps one of each
		if err := c.InsertSyncChecks(ctx, []clickhouse.SyncCheck{check, missing}); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertFailedSyncs(ctx, []clickhouse.FailedSync{fs}); err != nil {
			t.Fatal(err)
		}
	}

	type checkRow struct {
		CheckID, OrderID, Viewer, Expected, OpenedBy string
		TruthAt                                      time.Time
		TruthAtMs                                    int64
		Deadline                                     time.Time
		DeadlineMs                                   int64
		Authority, Carrier, Outcome, Shown           string
		ShownAt                                      *time.Time
		ShownAtMs, LatencyMs                         *int64
		ClosedAt                                     time.Time
		ClosedAtMs                                   int64
		Topic                                        string
		Partition                                    int32
		Offset                                       int64
	}
	rows, err := c.Conn().Query(ctx, "SELECT check_id, order_id, viewer, expected_status, opened_by, truth_at, truth_at_ms, deadline, deadline_ms, truth_authority, carrier, outcome, shown_status, shown_at, shown_at_ms, latency_ms, closed_at, closed_at_ms, topic, kafka_partition, kafka_offset FROM "+c.Database()+".sync_checks FINAL ORDER BY check_id DESC")
	if err != nil {
		t.Fatal(err)
	}
	var got []checkRow
	for rows.Next() {
		var r checkRow
		if err := rows.Scan(&r.CheckID, &r.OrderID, &r.Viewer, &r.Expected, &r.OpenedBy, &r.TruthAt, &r.TruthAtMs, &r.Deadline, &r.DeadlineMs,
			&r.Authority, &r.Carrier, &r.Outcome, &r.Shown, &r.ShownAt, &r.ShownAtMs, &r.LatencyMs, &r.ClosedAt, &r.ClosedAtMs, &r.Topic, &r.Partition, &r.Offset); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	rows.Close()
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	shownAt := at("2026-11-01T10:07:00Z")
	want := []checkRow{
		{"o-2|helpdesk|SHIPPED|t-3", "o-2", "helpdesk", "SHIPPED", "first_sight", at("2026-11-01T09:00:00Z"), at("2026-11-01T09:00:00Z").UnixMilli(),
			at("2026-11-01T09:15:00Z"), at("2026-11-01T09:15:00Z").UnixMilli(), "wms", "", "MISSING", "", nil, nil, nil,
			at("2026-11-02T09:15:00Z"), at("2026-11-02T09:15:00Z").UnixMilli(), "sync-checks", 0, 18},
		{"o-1|storefront|IN_TRANSIT|t-9", "o-1", "storefront", "IN_TRANSIT", "truth", at("2026-11-01T10:00:00Z"), at("2026-11-01T10:00:00.250Z").UnixMilli(),
			at("2026-11-01T10:05:00Z"), at("2026-11-01T10:05:00.250Z").UnixMilli(), "carrier", "UPS", "LATE", "IN_TRANSIT", &shownAt,
			msp(at("2026-11-01T10:07:00.750Z").UnixMilli()), msp(420500), at("2026-11-01T10:07:01Z"), at("2026-11-01T10:07:01Z").UnixMilli(), "sync-checks", 3, 17},
	}
	for i := range got {
		got[i].TruthAt, got[i].Deadline, got[i].ClosedAt = got[i].TruthAt.UTC(), got[i].Deadline.UTC(), got[i].ClosedAt.UTC()
		if got[i].ShownAt != nil {
			u := got[i].ShownAt.UTC()
			got[i].ShownAt = &u
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sync_checks FINAL:\n got %+v\nwant %+v", got, want)
	}

	var (
		n                                                    uint64
		checkID, viewer, reason, expected, shown, auth, carr string
		truthMs, deadlineMs, detectedMs, offset              int64
		detected                                             time.Time
		partition                                            int32
	)
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM "+c.Database()+".failed_syncs FINAL").Scan(&n); err != nil || n != 1 {
		t.Fatalf("failed_syncs FINAL holds %d rows (%v), want 1", n, err)
	}
	if err := c.Conn().QueryRow(ctx, "SELECT check_id, viewer, reason, expected_status, shown_status, truth_at_ms, deadline_ms, detected_at, detected_at_ms, truth_authority, carrier, kafka_partition, kafka_offset FROM "+c.Database()+".failed_syncs").Scan(
		&checkID, &viewer, &reason, &expected, &shown, &truthMs, &deadlineMs, &detected, &detectedMs, &auth, &carr, &partition, &offset); err != nil {
		t.Fatal(err)
	}
	if checkID != check.CheckID || viewer != "storefront" || reason != "sla_breached" || expected != "IN_TRANSIT" || shown != "SHIPPED" ||
		truthMs != check.TruthAt.UnixMilli() || deadlineMs != check.Deadline.UnixMilli() || !detected.Equal(at("2026-11-01T10:05:01Z")) ||
		detectedMs != at("2026-11-01T10:05:01.5Z").UnixMilli() || auth != "carrier" || carr != "UPS" || partition != 1 || offset != 4 {
		t.Errorf("failed_syncs row: %s %s %s %s %s %d %d %s %d %s %s %d %d", checkID, viewer, reason, expected, shown, truthMs, deadlineMs, detected, detectedMs, auth, carr, partition, offset)
	}
}

func TestNewSyncCheckRefusesRecordsWithoutTheirTimes(t *testing.T) {
	plain := map[string]any{"check_id": "c", "truth_at": "2026-11-01T10:00:00Z", "deadline": "2026-11-01T10:05:00Z", "closed_at": "2026-11-01T10:06:00Z", "latency_ms": json.Number("12")}
	c, err := clickhouse.NewSyncCheck(plain)
	if err != nil || c.LatencyMillis == nil || *c.LatencyMillis != 12 {
		t.Fatalf("NewSyncCheck = %+v, %v", c, err)
	}
	for _, f := range []string{"truth_at", "deadline", "closed_at"} {
		bad := map[string]any{}
		for k, v := range plain {
			bad[k] = v
		}
		delete(bad, f)
		if _, err := clickhouse.NewSyncCheck(bad); err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("without %s: err = %v", f, err)
		}
	}
	plain["latency_ms"] = "soon"
	if _, err := clickhouse.NewSyncCheck(plain); err == nil {
		t.Error("a non-numeric latency_ms must be refused")
	}
	if _, err := clickhouse.NewFailedSync(map[string]any{"truth_at": "2026-11-01T10:00:00Z", "deadline": "2026-11-01T10:05:00Z"}); err == nil || !strings.Contains(err.Error(), "detected_at") {
		t.Errorf("a failed sync without detected_at: err = %v", err)
	}
}

// TestLatestViewsKeepTheLatestVersionAndDropRetractions: a check first
// stored IN_SYNC and corrected to LATE (version 1) reads LATE; a failed
// sync stored and then retracted (a late report showed the viewer was in
// time) is gone; both tables still hold every version.
func TestLatestViewsKeepTheLatestVersionAndDropRetractions(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(outcome string, version int, offset int64) clickhouse.SyncCheck {
		s, err := clickhouse.NewSyncCheck(encodeDecode(t, "sync_check", `{"check_id":"c-1","order_id":"o-1","viewer":"storefront",
			"expected_status":"SHIPPED","opened_by":"truth","truth_at":"2026-11-01T10:00:00Z","deadline":"2026-11-01T10:05:00Z",
			"truth_authority":"wms","outcome":"`+outcome+`","closed_at":"2026-11-01T10:07:00Z","version":`+strconv.Itoa(version)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		s.SetPosition("sync-checks", 0, offset)
		return s
	}
	failed := func(retracted bool, version int, offset int64) clickhouse.FailedSync {
		f, err := clickhouse.NewFailedSync(encodeDecode(t, "failed_sync", `{"check_id":"c-2","order_id":"o-1","viewer":"storefront","reason":"sla_breached",
			"expected_status":"SHIPPED","truth_at":"2026-11-01T10:00:00Z","deadline":"2026-11-01T10:05:00Z","detected_at":"2026-11-01T10:05:00.001Z",
			"truth_authority":"wms","version":`+strconv.Itoa(version)+`,"retracted":`+strconv.FormatBool(retracted)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		f.SetPosition("failed-syncs", 0, offset)
		return f
	}
	// Two inserts each, as two sink batches would write them.
	for _, rows := range [][]clickhouse.SyncCheck{{check("IN_SYNC", 0, 1)}, {check("LATE", 1, 2)}} {
		if err := c.InsertSyncChecks(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	for _, rows := range [][]clickhouse.FailedSync{{failed(false, 0, 1)}, {failed(true, 1, 2)}} {
		if err := c.InsertFailedSyncs(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	var outcome string
	var version uint64
	if err := c.Conn().QueryRow(ctx, "SELECT outcome, version FROM "+c.Database()+".sync_checks_latest WHERE check_id = 'c-1'").Scan(&outcome, &version); err != nil || outcome != "LATE" || version != 1 {
		t.Errorf("sync_checks_latest: %s v%d (%v), want LATE v1", outcome, version, err)
	}
	var n uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM "+c.Database()+".failed_syncs_latest").Scan(&n); err != nil || n != 0 {
		t.Errorf("failed_syncs_latest holds %d rows (%v), want 0: the failed sync was retracted", n, err)
	}
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM "+c.Database()+".failed_syncs").Scan(&n); err != nil || n != 2 {
		t.Errorf("failed_syncs holds %d rows (%v), want both versions", n, err)
	}
}
