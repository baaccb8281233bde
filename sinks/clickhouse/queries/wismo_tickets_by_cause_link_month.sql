SELECT
    toYYYYMM(toDateTime(intDiv(first_ms, 1000)), 'UTC') AS month,
    first_cause AS cause,
    nullIf(first_link, '') AS link,
    count() AS tickets
FROM
(
    {part:first_attributions}
)
GROUP BY month, cause, link
ORDER BY month, cause, ifNull(link, '')
