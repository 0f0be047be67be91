-- Fenced runs: every claim of a run raises its generation, and the runner that claimed it
-- writes (counts, records, fingerprints, position, its end) only while the generation is still
-- the one it claimed, so a runner whose lease lapsed cannot write beside the one that took the
-- run over. `runner` names the process that holds (or last held) the run.
ALTER TABLE sync_runs ADD COLUMN claim_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN runner TEXT;
-- One row's history across the runs of a sync (list_sync_records?primary_key=).
CREATE INDEX sync_records_by_key ON sync_records (sync_id, primary_key, id);
