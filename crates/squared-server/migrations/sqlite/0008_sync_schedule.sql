-- When a scheduled sync runs next (null for manual syncs). The runner of any instance creates
-- the run when it is due, moving next_run_at on with a conditional update, so one instance does.
ALTER TABLE syncs ADD COLUMN next_run_at TEXT;
CREATE INDEX syncs_by_next_run ON syncs (next_run_at);
