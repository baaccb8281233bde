-- Each help-desk ticket any of whose events is tagged wismo, once, at its
-- first event (when it was opened).
SELECT ticket_id, min(occurred_at_ms) AS opened_ms
FROM {db}.canonical_events
WHERE source_system = 'helpdesk' AND ticket_id != ''
GROUP BY ticket_id
HAVING max(has(tags, 'wismo')) = 1
