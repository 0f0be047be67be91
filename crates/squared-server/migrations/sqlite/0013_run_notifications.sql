-- The twin of migrations/postgres/0013_run_notifications.sql. SQLite has no notifications
-- between processes: runners of other processes on the same file find a new run at their next
-- look, and runners of the process that created it are woken in memory. Nothing changes here.
SELECT 1;
