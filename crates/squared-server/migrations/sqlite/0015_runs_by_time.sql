-- The activity report sums a workspace's runs of the last day or week: a range scan of this
-- index, whatever the number of older runs.
CREATE INDEX sync_runs_by_workspace_time ON sync_runs (workspace_id, created_at);
