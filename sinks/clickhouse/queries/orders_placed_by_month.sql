SELECT
    toYYYYMM(toDateTime(intDiv(placed_ms, 1000)), 'UTC') AS month,
    count() AS orders
FROM
(
    {part:orders_placed}
)
WHERE placed_ms >= {since_ms} AND placed_ms < {until_ms}
GROUP BY month
ORDER BY month
