SELECT
    system,
    events,
    unique_events,
    orders,
    tracking_numbers,
    first_occurred,
    last_occurred
FROM
(
    SELECT
        system,
        count() AS events,
        uniqExact(event_id) AS unique_events,
        uniqExactIf(tracking_number, tracking_number != '') AS tracking_numbers,
        min(occurred_at) AS first_occurred,
        max(occurred_at) AS last_occurred
    FROM {db}.source_events FINAL
    GROUP BY system
) AS sources
ANY LEFT JOIN
(
    SELECT source_system AS system, uniqExactIf(order_id, order_id != '') AS orders
    FROM {db}.canonical_events FINAL
    GROUP BY system
) AS resolved USING system
ORDER BY system
