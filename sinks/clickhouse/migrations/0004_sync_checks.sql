-- Sync checks: every closed check of a viewer (storefront, helpdesk,
-- notifications) against the order's truth (sync_check.avsc). check_id is
-- deterministic, so the sorting key (order_id, check_id) collapses a
-- re-inserted check (read with FINAL, or dedupe with uniqExact(check_id),
-- when exact counts matter); the partition is by truth_at, fixed per check,
-- so a re-insert always lands in the partition of its first copy.
-- Optional strings (carrier, shown_status) are '' when null; optional times
-- are Nullable. latency_ms is shown_at - truth_at for IN_SYNC and LATE.
CREATE TABLE IF NOT EXISTS {db}.sync_checks
(
    check_id         String,
    order_id         String,
    viewer           String,
    expected_status  String,
    opened_by        String,
    truth_at         DateTime,
    truth_at_ms      Int64,
    deadline         DateTime,
    deadline_ms      Int64,
    truth_authority  String,
    carrier          String,
    outcome          String,
    shown_status     String,
    shown_at         Nullable(DateTime),
    shown_at_ms      Nullable(Int64),
    latency_ms       Nullable(Int64),
    closed_at        DateTime,
    closed_at_ms     Int64,
    topic            String,
    kafka_partition  Int32,
    kafka_offset     Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(truth_at)
ORDER BY (order_id, check_id);

-- Failed syncs: one row per check that breached its SLA or confirmed a
-- conflict (failed_sync.avsc), emitted before the check itself closes.
-- Same approach as sync_checks: (order_id, check_id) collapses re-inserts.
CREATE TABLE IF NOT EXISTS {db}.failed_syncs
(
    check_id         String,
    order_id         String,
    viewer           String,
    reason           String,
    expected_status  String,
    shown_status     String,
    truth_at         DateTime,
    truth_at_ms      Int64,
    deadline         DateTime,
    deadline_ms      Int64,
    detected_at      DateTime,
    detected_at_ms   Int64,
    truth_authority  String,
    carrier          String,
    topic            String,
    kafka_partition  Int32,
    kafka_offset     Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(truth_at)
ORDER BY (order_id, check_id);

-- Hourly status sync accuracy per viewer, kept up to date on insert: the
-- hour is that of truth_at. The states are uniqExact sets of check IDs, so
-- a re-inserted check is counted once and the numbers stay exact (a check's
-- row never changes outcome: it is written once, when the check closes).
-- Read with uniqExactIfMerge(in_sync_state) / uniqExactIfMerge(counted_state)
-- grouped by any multiple of an hour (see docs/queries.md).
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.sync_accuracy_hourly
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (viewer, hour)
AS SELECT
    viewer,
    toStartOfHour(truth_at) AS hour,
    uniqExactIfState(check_id, outcome = 'IN_SYNC') AS in_sync_state,
    uniqExactIfState(check_id, outcome != 'SUPERSEDED') AS counted_state
FROM {db}.sync_checks
GROUP BY viewer, hour;
