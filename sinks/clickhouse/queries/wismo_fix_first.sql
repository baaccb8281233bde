SELECT
    link,
    cause,
    tickets,
    round(100 * tickets / total, 1) AS percent_of_tickets
FROM
(
    SELECT
        groupArray(link_) AS links,
        groupArray(cause_) AS causes,
        groupArray(tickets_) AS counts,
        sum(tickets_) AS total
    FROM
    (
        SELECT first_link AS link_, any(first_cause) AS cause_, count() AS tickets_
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
        GROUP BY link_
    )
)
ARRAY JOIN links AS link, causes AS cause, counts AS tickets
WHERE link != ''
ORDER BY tickets DESC, link
