SELECT
    viewer,
    toDate(truth_at, 'UTC') AS day,
    countIf(outcome = 'IN_SYNC') AS in_sync,
    countIf(outcome != 'SUPERSEDED') AS checks,
    if(checks = 0, NULL, in_sync / checks) AS accuracy,
    accuracy > 0.99 AS meets_target
FROM {db}.sync_checks_latest
WHERE {in_window:truth_at}
GROUP BY viewer, day
ORDER BY viewer, day
