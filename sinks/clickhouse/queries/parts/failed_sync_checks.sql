-- The checks a failed-sync rate counts, each check once per table: the
-- closed checks but SUPERSEDED (is_failed 0) and the failed ones, closed
-- or not (is_failed 1); count uniqExact(check_id) over them.
SELECT viewer, check_id, 0 AS is_failed FROM {db}.sync_checks_latest
WHERE outcome != 'SUPERSEDED' AND {in_window:truth_at}
UNION ALL
SELECT viewer, check_id, 1 AS is_failed FROM {db}.failed_syncs_latest
WHERE {in_window:truth_at}
