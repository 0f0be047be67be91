-- Models: a query on a source connector, with a primary key. A model keeps its connector
-- (RESTRICT): a connector that a model uses cannot be deleted, even by a delete that races a
-- create on another instance.
CREATE TABLE models (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE RESTRICT,
    name         TEXT    NOT NULL,
    description  TEXT,
    query        TEXT,
    query_type   TEXT    NOT NULL,
    primary_key  TEXT,
    configuration TEXT   NOT NULL,
    columns      TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX models_by_workspace_updated ON models (workspace_id, updated_at DESC, id DESC);
CREATE INDEX models_by_connector ON models (connector_id);
