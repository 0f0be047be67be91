-- Alerts: channels (where alerts go, their secrets sealed in `configuration`), rules (when an
-- alert is raised) and deliveries (each alert raised, a durable job like a run). A delivery is
-- raised at most once per rule and event (`dedupe_key`), and sent by whichever process claims
-- it: a claim raises `claim_generation` and holds a lease, and the outcome of an attempt is
-- written only while the generation is still the one claimed.
CREATE TABLE alert_channels (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    configuration TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX alert_channels_by_workspace ON alert_channels (workspace_id, id DESC);

CREATE TABLE alert_rules (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id      INTEGER NOT NULL,
    name              TEXT    NOT NULL,
    channel_id        INTEGER NOT NULL REFERENCES alert_channels (id) ON DELETE RESTRICT,
    sync_id           INTEGER REFERENCES syncs (id) ON DELETE CASCADE,
    condition         TEXT    NOT NULL,
    threshold_percent REAL,
    duration_seconds  INTEGER,
    created_at        TEXT    NOT NULL
);
CREATE INDEX alert_rules_by_workspace ON alert_rules (workspace_id, id DESC);

CREATE TABLE alert_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id     INTEGER NOT NULL,
    rule_id          INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    channel_id       INTEGER NOT NULL,
    sync_id          INTEGER NOT NULL,
    sync_run_id      INTEGER,
    condition        TEXT    NOT NULL,
    dedupe_key       TEXT    NOT NULL UNIQUE,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TEXT,
    lease_expires_at TEXT,
    claim_generation INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT    NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX alert_deliveries_by_workspace ON alert_deliveries (workspace_id, id DESC);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
