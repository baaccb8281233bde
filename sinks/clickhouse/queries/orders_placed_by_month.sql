SELECT
    toYYYYMM(toDateTime(intDiv(placed_ms, 1000)), 'UTC') AS month,
    count() AS orders
FROM
(
    SELECT order_id, min(at_ms) AS placed_ms
    FROM
    (
        SELECT order_id, event_time_ms AS at_ms FROM {db}.order_transitions_latest WHERE to_status = 'PLACED' AND shipment_id = ''
        UNION ALL
        SELECT order_id, occurred_at_ms AS at_ms FROM {db}.canonical_events WHERE canonical_status = 'PLACED'
    )
    GROUP BY order_id
    HAVING placed_ms >= {since_ms} AND placed_ms < {until_ms}
)
GROUP BY month
ORDER BY month
