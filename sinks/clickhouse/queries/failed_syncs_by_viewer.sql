SELECT
    viewer,
    uniqExactIf(check_id, is_failed = 1) AS failed,
    uniqExact(check_id) AS checks,
    failed / checks AS failed_rate,
    failed_rate < 0.005 AS meets_target
FROM
(
    {part:failed_sync_checks}
)
GROUP BY viewer
ORDER BY viewer
