-- Connectors of every workspace. A name is unique per workspace and connector type; the
-- constraint, not a read before the write, is what turns a duplicate into a 422.
CREATE TABLE connectors (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id   INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT,
    connector_type TEXT    NOT NULL CHECK (connector_type IN ('source', 'destination')),
    connector_name TEXT    NOT NULL,
    configuration  TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    CONSTRAINT connectors_unique_name UNIQUE (workspace_id, connector_type, name)
);

CREATE INDEX connectors_by_workspace_updated ON connectors (workspace_id, updated_at DESC, id DESC);
