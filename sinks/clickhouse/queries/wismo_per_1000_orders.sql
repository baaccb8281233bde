SELECT
    period,
    sumIf(n, what = 'ticket') AS wismo_tickets,
    sumIf(n, what = 'order') AS orders,
    if(orders = 0, NULL, 1000 * wismo_tickets / orders) AS per_1000_orders
FROM
(
    SELECT
        what,
        multiIf(at_ms >= {since_ms}
                    AND at_ms < {until_ms}, 'current',
                at_ms >= 2 * {since_ms} - {until_ms}
                    AND at_ms < {since_ms}, 'previous',
                '') AS period,
        count() AS n
    FROM
    (
        SELECT 'ticket' AS what, opened_ms AS at_ms
        FROM
        (
            {part:wismo_tickets_opened}
        )
        UNION ALL
        SELECT 'order' AS what, placed_ms AS at_ms
        FROM
        (
            {part:orders_placed}
        )
    )
    GROUP BY what, period
)
WHERE period != ''
GROUP BY period
ORDER BY period
