SELECT
    order_id,
    arrayStringConcat(arraySort(groupUniqArray(refund_due_reason)), ', ') AS refund_due_reasons,
    count() AS notices,
    min(detected_at) AS first_detected
FROM {db}.delay_notices_latest
WHERE refund_due = 1 AND detected_at >= toDateTime({since}) AND detected_at < toDateTime({until})
GROUP BY order_id
ORDER BY order_id
