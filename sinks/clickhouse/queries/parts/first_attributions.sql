-- Each WISMO ticket first stored in the window, once, with the cause and
-- link of its first row: bounded by {until} in the WHERE and by {since}
-- only in the HAVING, so that a ticket stored again later counts where it
-- was first stored.
SELECT
    ticket_id,
    min(ticket_at_ms) AS first_ms,
    argMin(cause, (ticket_at_ms, order_id)) AS first_cause,
    argMin(link, (ticket_at_ms, order_id)) AS first_link
FROM {db}.wismo_tickets_latest
WHERE ticket_at_ms < {until_ms} AND ticket_at <= toDateTime({until})
GROUP BY ticket_id
HAVING first_ms >= {since_ms}
