-- How many connectors each workspace has per definition, kept by a trigger; see
-- migrations/sqlite/0003_connector_counts.sql, its twin.
CREATE TABLE connector_counts (
    workspace_id   BIGINT NOT NULL,
    connector_type TEXT   NOT NULL,
    connector_name TEXT   NOT NULL,
    count          BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, connector_type, connector_name)
);

INSERT INTO connector_counts (workspace_id, connector_type, connector_name, count)
SELECT workspace_id, connector_type, connector_name, COUNT(*) FROM connectors
GROUP BY workspace_id, connector_type, connector_name;

CREATE FUNCTION connector_counts_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE connector_counts SET count = count - 1
        WHERE workspace_id = OLD.workspace_id AND connector_type = OLD.connector_type
          AND connector_name = OLD.connector_name;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO connector_counts (workspace_id, connector_type, connector_name, count)
        VALUES (NEW.workspace_id, NEW.connector_type, NEW.connector_name, 1)
        ON CONFLICT (workspace_id, connector_type, connector_name)
        DO UPDATE SET count = connector_counts.count + 1;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER connector_counts_keep
AFTER INSERT OR DELETE OR UPDATE OF workspace_id, connector_type, connector_name ON connectors
FOR EACH ROW EXECUTE FUNCTION connector_counts_keep();
