-- Order transitions: the canonical timeline of every order and shipment
-- (the unify stage's output). transition_id is deterministic, so the
-- sorting key (order_id, transition_id) collapses any re-insert of the same
-- transition (read with FINAL when exact counts matter), and one order's
-- timeline is one range read.
CREATE TABLE IF NOT EXISTS {db}.order_transitions
(
    transition_id    String,
    order_id         String,
    shipment_id      String,
    kind             String,
    from_status      String,
    to_status        String,
    skipped          Array(String),
    authority        String,
    source_event_id  String,
    event_time       DateTime,
    event_time_ms    Int64,
    recorded_at_ms   Int64,
    processed_at_ms  Int64,
    topic            String,
    kafka_partition  Int32,
    kafka_offset     Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (order_id, transition_id);

-- The latest unified view of each order: one row per order after merges
-- (ReplacingMergeTree keeps the row with the highest version, the Kafka
-- offset: an order's states are all in one partition of the order-state
-- topic, in order; UInt64 because old ClickHouse takes no signed version). Query with FINAL for the current view. Per-system views and
-- shipments are JSON arrays as in the order_state Avro schema.
CREATE TABLE IF NOT EXISTS {db}.order_states
(
    order_id               String,
    truth                  String,
    truth_authority        String,
    truth_since_ms         Nullable(Int64),
    views_json             String,
    shipments_json         String,
    shipment_count         UInt16,
    promised_ship_by_ms    Nullable(Int64),
    promised_deliver_by_ms Nullable(Int64),
    transitions            UInt32,
    closed                 UInt8,
    updated_at             DateTime,
    updated_at_ms          Int64,
    topic                  String,
    kafka_partition        Int32,
    kafka_offset           Int64,
    version                UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY order_id
