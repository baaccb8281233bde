SELECT
    viewer,
    toStartOfHour(truth_at) AS hour,
    countIf(outcome = 'IN_SYNC') AS in_sync,
    countIf(outcome != 'SUPERSEDED') AS checks,
    if(checks = 0, NULL, in_sync / checks) AS accuracy
FROM {db}.sync_checks_latest
WHERE {in_window:truth_at}
GROUP BY viewer, hour
ORDER BY viewer, hour
