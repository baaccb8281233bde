-- One order's records in one place, for `baton serve`'s order page and
-- API. The page needs seven tables (the order's state, its canonical
-- events, transitions, sync checks, failed syncs, delay notices and WISMO
-- tickets). Read one by one, each read touches every part of every monthly
-- partition of its table, and a lookup took 60–130 ms of ClickHouse time on
-- a 20,000-order database; the same records read from one table sorted by
-- order ID took about 5 ms (sinks/clickhouse/order.go has the figures).
--
-- order_rows is an index of the sink's tables, kept by ClickHouse itself:
-- a materialized view on each table copies every inserted row here, as
-- the kind of record, its ID, version, retraction flag, Kafka offset and
-- the columns the order page reads, as text, in a fixed order (the reader
-- in order.go parses them by position: keep the two in step, and change
-- them only in a new migration that replaces the views). The sink's tables
-- stay the source of truth: order_rows holds every version a table
-- received, like the table before its merges, and the reader keeps, per
-- record, what the table's FINAL read keeps (the highest version, then the
-- last written, which is the highest offset: a record's versions travel
-- one Kafka partition in order), then drops the retracted ones, as the
-- *_latest views do.
--
-- Text encodings: integers in decimal; DateTime as Unix seconds; a NULL as
-- the empty string (only integer and time columns are nullable); an array
-- of statuses joined by commas (statuses are upper-case words).
CREATE TABLE IF NOT EXISTS {db}.order_rows
(
    order_id String,
    record_kind String,
    record_id String,
    version UInt64,
    retracted UInt8,
    kafka_offset Int64,
    fields Array(String)
)
ENGINE = MergeTree()
ORDER BY (order_id, record_kind, record_id)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_order_states TO {db}.order_rows AS
SELECT order_id, 'state' AS record_kind, '' AS record_id, version, toUInt8(0) AS retracted, kafka_offset,
    [truth, truth_authority, ifNull(toString(truth_since_ms), ''), views_json, shipments_json, toString(shipment_count),
     ifNull(toString(promised_ship_by_ms), ''), ifNull(toString(promised_deliver_by_ms), ''), toString(transitions),
     toString(closed), toString(updated_at_ms)] AS fields
FROM {db}.order_states;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_canonical_events TO {db}.order_rows AS
SELECT order_id, 'event' AS record_kind, concat(topic, ':', toString(kafka_partition), ':', toString(kafka_offset)) AS record_id,
    toUInt64(0) AS version, toUInt8(0) AS retracted, kafka_offset,
    [shipment_id, tracking_number, source_system, source_event_id, source_status, canonical_status, carrier, ticket_id,
     toString(occurred_at_ms), toString(recorded_at_ms)] AS fields
FROM {db}.canonical_events
WHERE order_id != '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_order_transitions TO {db}.order_rows AS
SELECT order_id, 'transition' AS record_kind, transition_id AS record_id, version, retracted, kafka_offset,
    [shipment_id, kind, from_status, to_status, arrayStringConcat(skipped, ','), authority, source_event_id,
     toString(event_time_ms), toString(recorded_at_ms), toString(processed_at_ms)] AS fields
FROM {db}.order_transitions;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_sync_checks TO {db}.order_rows AS
SELECT order_id, 'check' AS record_kind, check_id AS record_id, version, retracted, kafka_offset,
    [viewer, expected_status, opened_by, toString(truth_at_ms), toString(deadline_ms), truth_authority, carrier, outcome,
     shown_status, ifNull(toString(shown_at_ms), ''), ifNull(toString(latency_ms), ''), toString(closed_at_ms)] AS fields
FROM {db}.sync_checks;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_failed_syncs TO {db}.order_rows AS
SELECT order_id, 'failed' AS record_kind, check_id AS record_id, version, retracted, kafka_offset,
    [viewer, reason, expected_status, shown_status, toString(truth_at_ms), toString(deadline_ms), toString(detected_at_ms),
     truth_authority, carrier] AS fields
FROM {db}.failed_syncs;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_delay_notices TO {db}.order_rows AS
SELECT order_id, 'notice' AS record_kind, notice_id AS record_id, version, retracted, kafka_offset,
    [reason, promise, renews, ifNull(toString(toUnixTimestamp(original_promise)), ''), toString(promise_is_default),
     ifNull(toString(toUnixTimestamp(missed_promise)), ''), ifNull(toString(toUnixTimestamp(revised_date)), ''),
     no_revised_date_reason, shipment_id, carrier, cause_authority, toString(toUnixTimestamp(known_at)), toString(notify_by_ms),
     toString(toUnixTimestamp(detected_at)), toString(may_cancel), toString(refund_due), refund_due_reason, state, outcome,
     toString(notified), ifNull(toString(toUnixTimestamp(notified_at)), ''), notified_via,
     ifNull(toString(toUnixTimestamp(closed_at)), '')] AS fields
FROM {db}.delay_notices;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.order_rows_from_wismo_tickets TO {db}.order_rows AS
SELECT order_id, 'ticket' AS record_kind, concat(ticket_id, ':', toString(ticket_at_ms)) AS record_id, version, retracted, kafka_offset,
    [ticket_id, classified_by, matched, toString(ticket_at_ms), cause, link, viewer, ifNull(toString(toUnixTimestamp(out_of_sync_since)), ''),
     check_id, failed_sync_reason, expected_status, shown_status, delay_reason, problem_status,
     ifNull(toString(toUnixTimestamp(problem_since)), ''), truth_status, ifNull(toString(toUnixTimestamp(truth_since)), '')] AS fields
FROM {db}.wismo_tickets;
