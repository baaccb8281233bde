-- The tail of a latency query's select list, its FROM and WHERE: the
-- quantiles over the checks whose truth a carrier scan set and that the
-- viewer reflected (IN_SYNC or LATE), and the p95 target.
    count() AS checks,
    quantilesExact(0.5, 0.95, 0.99)(assumeNotNull(latency_ms)) AS quantiles_ms,
    quantiles_ms[1] AS p50_ms,
    quantiles_ms[2] AS p95_ms,
    quantiles_ms[3] AS p99_ms,
    p95_ms < 300000 AS meets_target
FROM {db}.sync_checks_latest
WHERE truth_authority = 'carrier' AND outcome IN ('IN_SYNC', 'LATE') AND latency_ms IS NOT NULL
  AND {in_window:truth_at}
