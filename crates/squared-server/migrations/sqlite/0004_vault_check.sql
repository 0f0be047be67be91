-- One row: a known value sealed with the key that seals this database's secrets. A server
-- started with another key finds it cannot open it and refuses to start, instead of failing
-- at the first request that needs a secret. Key rotation re-seals it with the rest.
CREATE TABLE vault_check (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    key_id TEXT    NOT NULL,
    sealed TEXT    NOT NULL
);
