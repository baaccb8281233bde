SELECT viewer, reason, uniqExact(check_id) AS failed
FROM {db}.failed_syncs_latest
WHERE {in_window:truth_at}
GROUP BY viewer, reason
ORDER BY viewer, reason
