SELECT truth, count() AS orders
FROM {db}.order_states FINAL
GROUP BY truth
ORDER BY truth
