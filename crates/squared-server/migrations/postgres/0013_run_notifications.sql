-- Every new run is announced to every instance (delivered when its transaction commits), so a
-- runner on any instance takes a run created anywhere at once instead of at its next look.
CREATE FUNCTION squared_announce_run() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('squared_sync_runs', NEW.id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sync_runs_announced AFTER INSERT ON sync_runs
    FOR EACH ROW EXECUTE FUNCTION squared_announce_run();
