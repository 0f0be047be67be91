-- What each sync last wrote for each primary key: a fingerprint of the mapped record. A run
-- writes a row only when its fingerprint is new or changed, and records the outcome.
CREATE TABLE sync_fingerprints (
    sync_id     BIGINT NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    primary_key TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    PRIMARY KEY (sync_id, primary_key)
);
