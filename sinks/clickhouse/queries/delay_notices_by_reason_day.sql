SELECT
    toDate(detected_at) AS day,
    reason,
    count() AS notices,
    countIf(outcome = 'NOTIFIED') AS told_in_time,
    countIf(outcome = 'LATE') AS told_late,
    countIf(outcome = 'NOT_NOTIFIED') AS never_told,
    countIf(state = 'open') AS still_open,
    countIf(outcome IN ('WITHDRAWN', 'CANCELLED')) AS nothing_to_tell,
    countIf(refund_due = 1) AS refunds_due
FROM {db}.delay_notices_latest
WHERE detected_at >= toDateTime({since}) AND detected_at < toDateTime({until})
GROUP BY day, reason
ORDER BY day, reason
