-- Where an incremental sync's reads stand (the cursor and key of the last row it committed, as
-- JSON), and whether a full refresh deletes at the destination the rows that left the model.
ALTER TABLE syncs ADD COLUMN cursor_position TEXT;
ALTER TABLE syncs ADD COLUMN delete_removed_rows INTEGER NOT NULL DEFAULT 0;
