-- The lease of an executing run: the instance that holds it renews it after every batch. A run
-- whose lease has expired belongs to an instance that died, and any runner takes it over; the
-- fingerprints of the batches it committed make the new attempt skip what was written.
ALTER TABLE sync_runs ADD COLUMN lease_expires_at TEXT;
