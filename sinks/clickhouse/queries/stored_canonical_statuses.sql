SELECT canonical_status, count() AS events, uniqExact(order_id) AS orders
FROM {db}.canonical_events FINAL
GROUP BY canonical_status
ORDER BY canonical_status
