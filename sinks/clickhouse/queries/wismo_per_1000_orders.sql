SELECT
    period,
    sumIf(n, what = 'ticket') AS wismo_tickets,
    sumIf(n, what = 'order') AS orders,
    if(orders = 0, NULL, 1000 * wismo_tickets / orders) AS per_1000_orders
FROM
(
    SELECT
        'ticket' AS what,
        multiIf(opened_ms >= {since_ms}
                    AND opened_ms < {until_ms}, 'current',
                opened_ms >= 2 * {since_ms} - {until_ms}
                    AND opened_ms < {since_ms}, 'previous',
                '') AS period,
        count() AS n
    FROM
    (
        SELECT ticket_id, min(occurred_at_ms) AS opened_ms
        FROM {db}.canonical_events
        WHERE source_system = 'helpdesk' AND ticket_id != ''
        GROUP BY ticket_id
        HAVING max(has(tags, 'wismo')) = 1
    )
    GROUP BY period
    UNION ALL
    SELECT
        'order' AS what,
        multiIf(placed_ms >= {since_ms}
                    AND placed_ms < {until_ms}, 'current',
                placed_ms >= 2 * {since_ms} - {until_ms}
                    AND placed_ms < {since_ms}, 'previous',
                '') AS period,
        count() AS n
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
    )
    GROUP BY period
)
WHERE period != ''
GROUP BY period
ORDER BY period
