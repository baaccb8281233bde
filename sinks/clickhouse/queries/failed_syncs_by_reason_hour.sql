SELECT
    reason,
    toStartOfHour(detected_at, 'UTC') AS hour,
    uniqExact(check_id) AS failed
FROM {db}.failed_syncs_latest
WHERE {in_window:truth_at}
GROUP BY reason, hour
ORDER BY reason, hour
