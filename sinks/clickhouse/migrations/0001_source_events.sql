-- Every source-system record exactly as consumed, one row per Kafka record.
-- The key (topic, kafka_partition, kafka_offset) identifies a record, so the
-- table is a ReplacingMergeTree on it: a batch re-inserted after a crash
-- between the insert and the offset commit collapses on merge, and queries
-- that must be exact read it with FINAL. The sink also resumes from the
-- highest offset stored here, so re-inserts are rare to begin with.
-- Times are DateTime (seconds, for partitioning and humans) beside Int64
-- epoch milliseconds (for latency maths), because DateTime64 is not in
-- every ClickHouse version baton supports.
CREATE TABLE IF NOT EXISTS {db}.source_events
(
    system           String,
    topic            String,
    kafka_partition  Int32,
    kafka_offset     Int64,
    record_key       String,
    schema_id        UInt32,
    event_id         String,
    order_id         String,
    shipment_id      String,
    tracking_number  String,
    ticket_id        String,
    status           String,
    sub_status       String,
    occurred_at      DateTime,
    occurred_at_ms   Int64,
    recorded_at      DateTime,
    recorded_at_ms   Int64,
    kafka_timestamp_ms Int64,
    ingested_at      DateTime,
    payload          String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (topic, kafka_partition, kafka_offset)
