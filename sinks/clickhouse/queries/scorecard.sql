SELECT
    viewer,
    checks,
    accuracy,
    accuracy > 0.99 AS accuracy_pass,
    latency_checks,
    if(latency_checks = 0, NULL, p95_ms) AS latency_p95_ms,
    if(latency_checks = 0, NULL, p95_ms < 300000) AS latency_pass,
    failed,
    failed_rate,
    failed_rate < 0.005 AS failed_pass
FROM
(
    SELECT viewer, checks, accuracy, latency_checks, p95_ms
    FROM
    (
        SELECT
            viewer,
            countIf(outcome != 'SUPERSEDED') AS checks,
            if(checks = 0, NULL, countIf(outcome = 'IN_SYNC') / checks) AS accuracy
        FROM {db}.sync_checks_latest
        WHERE {in_window:truth_at}
        GROUP BY viewer
    ) AS accuracy_by_viewer
    ANY LEFT JOIN
    (
        SELECT
            viewer,
            count() AS latency_checks,
            quantilesExact(0.5, 0.95, 0.99)(assumeNotNull(latency_ms))[2] AS p95_ms
        FROM {db}.sync_checks_latest
        WHERE truth_authority = 'carrier' AND outcome IN ('IN_SYNC', 'LATE') AND latency_ms IS NOT NULL
          AND {in_window:truth_at}
        GROUP BY viewer
    ) AS latency_by_viewer USING viewer
) AS checked
ANY LEFT JOIN
(
    SELECT
        viewer,
        uniqExactIf(check_id, is_failed = 1) AS failed,
        uniqExact(check_id) AS all_checks,
        if(all_checks = 0, NULL, failed / all_checks) AS failed_rate
    FROM
    (
        {part:failed_sync_checks}
    )
    GROUP BY viewer
) AS failed_by_viewer USING viewer
ORDER BY viewer
