SELECT
    order_id,
    notice_id,
    reason,
    notify_by,
    intDiv({until_ms} - notify_by_ms, 60000) AS overdue_minutes,
    if(state = 'open', 'open', outcome) AS status,
    may_cancel
FROM {db}.delay_notices_latest
WHERE notified = 0 AND outcome IN ('', 'NOT_NOTIFIED')
  AND notify_by >= toDateTime({since})
  AND notify_by_ms < {until_ms}
ORDER BY notify_by_ms, notice_id
