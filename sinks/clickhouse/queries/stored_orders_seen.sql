SELECT uniqExactIf(order_id, order_id != '') AS orders_seen
FROM {db}.source_events
