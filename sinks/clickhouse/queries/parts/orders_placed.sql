-- Each order once, at the first time any system reported it PLACED: an
-- order-level PLACED transition, or a canonical event with status PLACED
-- (which covers orders the unify stage has not seen).
SELECT order_id, min(at_ms) AS placed_ms
FROM
(
    SELECT order_id, event_time_ms AS at_ms FROM {db}.order_transitions_latest WHERE to_status = 'PLACED' AND shipment_id = ''
    UNION ALL
    SELECT order_id, occurred_at_ms AS at_ms FROM {db}.canonical_events WHERE canonical_status = 'PLACED'
)
GROUP BY order_id
