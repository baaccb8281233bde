-- WISMO tickets (wismo_ticket.avsc; package processors/wismo): help-desk
-- tickets classified "where is my order?", each attributed to the cause
-- visible when the customer asked and, for a sync problem, to the
-- integration link to fix. One record per ticket, but the topic may repeat
-- a ticket: an order evicted and seen again starts afresh, and re-emits the
-- ticket with a later ticket_at (the first of its events the fresh state
-- saw) and an attribution made without the order's history. The first
-- emission is the one that counts: read with FINAL and keep, per ticket_id,
-- the row with the least ticket_at_ms (argMin; docs/queries.md).
--
-- ticket_at_ms is in the sorting key, so a record stored twice (a sink
-- crash between insert and commit) collapses on merge or under FINAL,
-- while a repeat with a later ticket_at stays a row of its own, whichever
-- partition it lands in, and the argMin above sees both. Partitioned by
-- month of ticket_at, the month the monthly review counts a ticket in.
-- Optional strings are '' when null; optional times are Nullable.
CREATE TABLE IF NOT EXISTS {db}.wismo_tickets
(
    ticket_id          String,
    order_id           String,
    classified_by      String,
    matched            String,
    ticket_at          DateTime,
    ticket_at_ms       Int64,
    classified_at      DateTime,
    classified_at_ms   Int64,
    cause              String,
    link               String,
    viewer             String,
    out_of_sync_since  Nullable(DateTime),
    check_id           String,
    failed_sync_reason String,
    expected_status    String,
    shown_status       String,
    delay_reason       String,
    problem_status     String,
    problem_since      Nullable(DateTime),
    truth_status       String,
    truth_since        Nullable(DateTime),
    topic              String,
    kafka_partition    Int32,
    kafka_offset       Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ticket_at)
ORDER BY (order_id, ticket_id, ticket_at_ms);
