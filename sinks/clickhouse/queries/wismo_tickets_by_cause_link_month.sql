SELECT
    toStartOfMonth(first_at) AS month,
    first_cause AS cause,
    nullIf(first_link, '') AS link,
    count() AS tickets
FROM
(
    SELECT
        ticket_id,
        min(ticket_at) AS first_at,
        argMin(cause, (ticket_at_ms, order_id)) AS first_cause,
        argMin(link, (ticket_at_ms, order_id)) AS first_link
    FROM {db}.wismo_tickets_latest
    WHERE ticket_at < toDateTime({until})
    GROUP BY ticket_id
    HAVING first_at >= toDateTime({since})
)
GROUP BY month, cause, link
ORDER BY month, cause, link
