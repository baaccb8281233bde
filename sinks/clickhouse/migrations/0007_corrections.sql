-- Corrections (event time; see processors/unify, "Event time"). A late
-- event — one that reaches baton after its order applied or fired
-- something later in event time — makes the order recompute its results
-- from its history and re-emit what changed: the same ID with a higher
-- version, and, for a record that no longer exists, a retraction (the same
-- ID, retracted = 1). So every output table gets version and retracted,
-- and the latest version of each ID is the answer: the same whatever the
-- arrival order, batch sizes, crashes or process count.
--
-- The tables keep every version (ReplacingMergeTree collapses them on
-- merge; a correction is always written after what it corrects, in the
-- same Kafka partition, so the last row inserted per ID is the latest).
-- Read them through the *_latest views: FINAL first, then the retracted
-- rows dropped. (A WHERE on a FINAL read may be applied before the
-- collapse, which would bring back an older version; the views filter
-- outside it.)
ALTER TABLE {db}.order_transitions ADD COLUMN version UInt64 DEFAULT 0, ADD COLUMN retracted UInt8 DEFAULT 0;
ALTER TABLE {db}.sync_checks ADD COLUMN version UInt64 DEFAULT 0, ADD COLUMN retracted UInt8 DEFAULT 0;
ALTER TABLE {db}.failed_syncs ADD COLUMN version UInt64 DEFAULT 0, ADD COLUMN retracted UInt8 DEFAULT 0;
ALTER TABLE {db}.wismo_tickets ADD COLUMN version UInt64 DEFAULT 0, ADD COLUMN retracted UInt8 DEFAULT 0;
ALTER TABLE {db}.delay_notices ADD COLUMN retracted UInt8 DEFAULT 0;

CREATE VIEW IF NOT EXISTS {db}.order_transitions_latest AS
SELECT * FROM (SELECT * FROM {db}.order_transitions FINAL) WHERE retracted = 0;

CREATE VIEW IF NOT EXISTS {db}.sync_checks_latest AS
SELECT * FROM (SELECT * FROM {db}.sync_checks FINAL) WHERE retracted = 0;

CREATE VIEW IF NOT EXISTS {db}.failed_syncs_latest AS
SELECT * FROM (SELECT * FROM {db}.failed_syncs FINAL) WHERE retracted = 0;

CREATE VIEW IF NOT EXISTS {db}.delay_notices_latest AS
SELECT * FROM (SELECT * FROM {db}.delay_notices FINAL) WHERE retracted = 0;

CREATE VIEW IF NOT EXISTS {db}.wismo_tickets_latest AS
SELECT * FROM (SELECT * FROM {db}.wismo_tickets FINAL) WHERE retracted = 0;

-- The hourly accuracy sets of migration 0004 count a check in every
-- outcome it ever had: a corrected check would count twice. Accuracy is
-- read from sync_checks_latest instead (docs/queries.md).
DROP TABLE IF EXISTS {db}.sync_accuracy_hourly;
