SELECT
    toStartOfHour(detected_at) AS hour,
    viewer,
    reason,
    uniqExact(check_id) AS failed
FROM {db}.failed_syncs_latest
WHERE detected_at >= toDateTime({since}) AND detected_at < toDateTime({until})
GROUP BY hour, viewer, reason
ORDER BY hour, viewer, reason
