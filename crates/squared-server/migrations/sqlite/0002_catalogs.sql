-- The discovered catalog of a connector, kept until refreshed; it goes with its connector.
CREATE TABLE catalogs (
    connector_id INTEGER NOT NULL PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL,
    catalog      TEXT    NOT NULL,
    catalog_hash TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
