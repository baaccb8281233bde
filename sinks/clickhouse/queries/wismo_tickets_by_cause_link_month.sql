SELECT
    toYYYYMM(toDateTime(intDiv(first_ms, 1000)), 'UTC') AS month,
    first_cause AS cause,
    nullIf(first_link, '') AS link,
    count() AS tickets
FROM
(
    SELECT
        ticket_id,
        min(ticket_at_ms) AS first_ms,
        argMin(cause, (ticket_at_ms, order_id)) AS first_cause,
        argMin(link, (ticket_at_ms, order_id)) AS first_link
    FROM {db}.wismo_tickets_latest
    WHERE ticket_at_ms < {until_ms} AND ticket_at <= toDateTime({until})
    GROUP BY ticket_id
    HAVING first_ms >= {since_ms}
)
GROUP BY month, cause, link
ORDER BY month, cause, ifNull(link, '')
