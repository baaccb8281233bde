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
            {part:first_attributions}
        )
        GROUP BY link_
    )
)
ARRAY JOIN links AS link, causes AS cause, counts AS tickets
WHERE link != ''
ORDER BY tickets DESC, link
