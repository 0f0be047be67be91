-- Syncs, their runs and the runs' records. A sync keeps its source, model and destination
-- (RESTRICT): what a sync uses cannot be deleted under it. Runs and records go with their sync.
CREATE TABLE syncs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id       INTEGER NOT NULL,
    name               TEXT,
    source_id          INTEGER NOT NULL REFERENCES connectors (id) ON DELETE RESTRICT,
    model_id           INTEGER NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
    destination_id     INTEGER NOT NULL REFERENCES connectors (id) ON DELETE RESTRICT,
    schedule_type      TEXT    NOT NULL,
    sync_interval      INTEGER,
    sync_interval_unit TEXT,
    cron_expression    TEXT,
    sync_mode          TEXT    NOT NULL,
    cursor_field       TEXT,
    stream_name        TEXT    NOT NULL,
    configuration      TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);

CREATE INDEX syncs_by_workspace_updated ON syncs (workspace_id, updated_at DESC, id DESC);
CREATE INDEX syncs_by_source ON syncs (source_id);
CREATE INDEX syncs_by_model ON syncs (model_id);
CREATE INDEX syncs_by_destination ON syncs (destination_id);

CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id     INTEGER NOT NULL,
    sync_id          INTEGER NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    status           TEXT    NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    total_query_rows INTEGER NOT NULL DEFAULT 0,
    skipped_rows     INTEGER NOT NULL DEFAULT 0,
    total_rows       INTEGER NOT NULL DEFAULT 0,
    successful_rows  INTEGER NOT NULL DEFAULT 0,
    failed_rows      INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);

CREATE INDEX sync_runs_by_sync ON sync_runs (sync_id, id DESC);
-- At most one active run per sync, whichever instance starts it.
CREATE UNIQUE INDEX sync_runs_one_active ON sync_runs (sync_id)
    WHERE status IN ('pending', 'started', 'querying', 'queued', 'in_progress', 'paused');

CREATE TABLE sync_records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id     INTEGER NOT NULL,
    sync_run_id INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    primary_key TEXT    NOT NULL,
    record      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    error       TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE INDEX sync_records_by_run ON sync_records (sync_run_id, id);
