-- The outbox notification (0006) only when a statement inserted rows. A statement-level trigger
-- fires for an INSERT that inserts nothing too, and the worker runs one on every batch of receipts
-- it records (queueLateCancels: a cancel for an order a halt or a CancelAll may have missed, nearly
-- always none): each such commit woke every worker's relay for a relay statement that found
-- nothing. The transition table holds the rows the statement inserted; with none, no notification.
CREATE OR REPLACE FUNCTION deputy_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted) THEN
    PERFORM pg_notify('deputy_outbox', '');
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
DROP TRIGGER outbox_inserted_notify ON outbox;--> statement-breakpoint
CREATE TRIGGER outbox_inserted_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION deputy_outbox_notify();
