-- SQLite's fingerprints move into a table without rowid (see the SQLite migration of the same
-- number); PostgreSQL's table stays as it is. Kept so that both engines number alike.
SELECT 1;
