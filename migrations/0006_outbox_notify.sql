-- Wakes the outbox relay as soon as new work is committed, instead of at its next poll:
-- a notification on channel deputy_outbox when rows are inserted (once per statement).
-- Postgres delivers it at commit, folds repeats within one transaction into one, and
-- drops it on rollback. Rows that go back to pending (a failed relay, a released hold)
-- are left to the relay's poll, so a failing relay cannot wake itself in a loop.
CREATE FUNCTION deputy_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('deputy_outbox', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER outbox_inserted_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION deputy_outbox_notify();
