SELECT hour, transitions
FROM
(
    SELECT toStartOfHour(event_time) AS hour, count() AS transitions
    FROM {db}.order_transitions_latest
    GROUP BY hour
    ORDER BY hour DESC
    LIMIT 24
)
ORDER BY hour
