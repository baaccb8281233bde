-- Delay notices (delay_notice.avsc; package processors/delay): an order's
-- promise will be or was missed — FTC mail-order rule notices, with the
-- revised date or why there is none, whether the customer may cancel for a
-- full refund, the deadline to tell the customer, and whether the
-- notifications viewer told them. Each notice is written when it opens and
-- again whenever it changes, with a higher version: ReplacingMergeTree
-- keeps the latest version per (order_id, notice_id) (read with FINAL).
-- The partition is by detected_at, the same in every version of a notice.
-- Optional strings are '' when null; optional times are Nullable.
CREATE TABLE IF NOT EXISTS {db}.delay_notices
(
    notice_id              String,
    order_id               String,
    reason                 String,
    promise                String,
    renews                 String,
    original_promise       Nullable(DateTime),
    promise_is_default     UInt8,
    missed_promise         Nullable(DateTime),
    revised_date           Nullable(DateTime),
    no_revised_date_reason String,
    shipment_id            String,
    carrier                String,
    cause_authority        String,
    cause_at               DateTime,
    known_at               DateTime,
    notify_by              DateTime,
    notify_by_ms           Int64,
    detected_at            DateTime,
    may_cancel             UInt8,
    refund_due             UInt8,
    refund_due_reason      String,
    state                  String,
    outcome                String,
    notified               UInt8,
    notified_at            Nullable(DateTime),
    notified_via           String,
    closed_at              Nullable(DateTime),
    topic                  String,
    kafka_partition        Int32,
    kafka_offset           Int64,
    version                UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(detected_at)
ORDER BY (order_id, notice_id);
