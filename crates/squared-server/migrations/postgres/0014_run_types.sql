-- What a run is for (`general`, `test`, `dry_run`: the spec's SyncRunType) and what it did
-- by action: rows inserted, updated, and recorded as gone from the model (for a dry run, what
-- it would have done). A test or dry run leaves its sync's status, fingerprints and cursor as
-- they were, and is not the sync's last run.
ALTER TABLE sync_runs ADD COLUMN run_type TEXT NOT NULL DEFAULT 'general';
ALTER TABLE sync_runs ADD COLUMN inserted_rows BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN updated_rows BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN deleted_rows BIGINT NOT NULL DEFAULT 0;
-- The process that held a run before the last claim, for the log line of a take-over.
ALTER TABLE sync_runs ADD COLUMN previous_runner TEXT;
