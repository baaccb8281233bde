SELECT
    viewer,
    uniqExactIf(check_id, is_failed = 1) AS failed,
    uniqExact(check_id) AS checks,
    failed / checks AS failed_rate,
    failed_rate < 0.005 AS meets_target
FROM
(
    SELECT viewer, check_id, 0 AS is_failed FROM {db}.sync_checks_latest
    WHERE outcome != 'SUPERSEDED' AND {in_window:truth_at}
    UNION ALL
    SELECT viewer, check_id, 1 AS is_failed FROM {db}.failed_syncs_latest
    WHERE {in_window:truth_at}
)
GROUP BY viewer
ORDER BY viewer
