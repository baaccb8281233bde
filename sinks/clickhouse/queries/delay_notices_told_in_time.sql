SELECT
    reason,
    countIf(outcome = 'NOTIFIED') AS told_in_time,
    countIf(outcome = 'LATE') AS told_late,
    countIf(outcome = 'NOT_NOTIFIED') AS never_told,
    told_in_time + told_late + never_told AS closed_to_tell,
    if(closed_to_tell = 0, NULL, told_in_time / closed_to_tell) AS share_told_in_time,
    countIf(state = 'open') AS still_open
FROM {db}.delay_notices_latest
WHERE {in_window:notify_by}
GROUP BY reason
ORDER BY reason
