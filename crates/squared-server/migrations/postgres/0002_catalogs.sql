-- The discovered catalog of a connector; see migrations/sqlite/0002_catalogs.sql, its twin.
CREATE TABLE catalogs (
    connector_id BIGINT NOT NULL PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL,
    catalog      TEXT   NOT NULL,
    catalog_hash TEXT   NOT NULL,
    updated_at   TEXT   NOT NULL
);
