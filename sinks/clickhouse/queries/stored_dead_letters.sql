SELECT stage, reason, count() AS records
FROM {db}.dead_letters FINAL
GROUP BY stage, reason
ORDER BY stage, reason
