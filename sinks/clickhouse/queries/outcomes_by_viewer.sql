SELECT viewer, outcome, count() AS checks
FROM {db}.sync_checks_latest
WHERE {in_window:truth_at}
GROUP BY viewer, outcome
ORDER BY viewer, outcome
