-- How many connectors each workspace has per definition, kept by triggers, so that a list
-- learns its total from a few rows instead of counting every connector of the workspace.
CREATE TABLE connector_counts (
    workspace_id   INTEGER NOT NULL,
    connector_type TEXT    NOT NULL,
    connector_name TEXT    NOT NULL,
    count          INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, connector_type, connector_name)
);

INSERT INTO connector_counts (workspace_id, connector_type, connector_name, count)
SELECT workspace_id, connector_type, connector_name, COUNT(*) FROM connectors
GROUP BY workspace_id, connector_type, connector_name;

CREATE TRIGGER connector_counts_insert AFTER INSERT ON connectors BEGIN
    INSERT INTO connector_counts (workspace_id, connector_type, connector_name, count)
    VALUES (NEW.workspace_id, NEW.connector_type, NEW.connector_name, 1)
    ON CONFLICT (workspace_id, connector_type, connector_name) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER connector_counts_delete AFTER DELETE ON connectors BEGIN
    UPDATE connector_counts SET count = count - 1
    WHERE workspace_id = OLD.workspace_id AND connector_type = OLD.connector_type
      AND connector_name = OLD.connector_name;
END;

CREATE TRIGGER connector_counts_update AFTER UPDATE OF workspace_id, connector_type, connector_name ON connectors BEGIN
    UPDATE connector_counts SET count = count - 1
    WHERE workspace_id = OLD.workspace_id AND connector_type = OLD.connector_type
      AND connector_name = OLD.connector_name;
    INSERT INTO connector_counts (workspace_id, connector_type, connector_name, count)
    VALUES (NEW.workspace_id, NEW.connector_type, NEW.connector_name, 1)
    ON CONFLICT (workspace_id, connector_type, connector_name) DO UPDATE SET count = count + 1;
END;
