-- Canonical events: every source event in the shared status language,
-- resolved to its order (the normalize stage's output). Ordered by order
-- so one order's timeline is one range read; (topic, partition, offset)
-- completes the key so a re-inserted batch collapses (ReplacingMergeTree,
-- read with FINAL when exact counts matter). Optional times are Nullable
-- epoch milliseconds.
CREATE TABLE IF NOT EXISTS {db}.canonical_events
(
    order_id               String,
    shipment_id            String,
    tracking_number        String,
    source_system          String,
    source_event_id        String,
    source_status          String,
    canonical_status       String,
    linked_by              String,
    occurred_at            DateTime,
    occurred_at_ms         Int64,
    recorded_at            DateTime,
    recorded_at_ms         Int64,
    ingested_at_ms         Int64,
    carrier                String,
    ticket_id              String,
    tags                   Array(String),
    message_type           String,
    delivery_status        String,
    estimated_delivery_ms  Nullable(Int64),
    promised_ship_by_ms    Nullable(Int64),
    promised_deliver_by_ms Nullable(Int64),
    revised_date_ms        Nullable(Int64),
    topic                  String,
    kafka_partition        Int32,
    kafka_offset           Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (order_id, topic, kafka_partition, kafka_offset);

-- Dead letters: every record a stage rejected, with the reason and the
-- original bytes (base64), so analysts and on-call see what failed and why.
CREATE TABLE IF NOT EXISTS {db}.dead_letters
(
    stage            String,
    reason           String,
    error            String,
    source_topic     String,
    source_partition Int32,
    source_offset    Int64,
    failed_at        DateTime,
    failed_at_ms     Int64,
    key_base64       String,
    value_base64     String,
    topic            String,
    kafka_partition  Int32,
    kafka_offset     Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(failed_at)
ORDER BY (topic, kafka_partition, kafka_offset)
