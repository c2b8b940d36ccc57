-- Retention (pruneHistory) deletes the schedule runs that traded nothing (skipped or awaiting a
-- delegation, no legs, no cancelled orders) once past RETENTION_DAYS: it reads them, oldest first,
-- from this index, so neither the runs it keeps nor the rest of the table are scanned by each batch.
CREATE INDEX "schedule_runs_prunable_idx" ON "schedule_runs" USING btree ("finished_at") WHERE "schedule_runs"."status" in ('skipped', 'awaiting_delegation') and "schedule_runs"."legs" = '[]'::jsonb and "schedule_runs"."cancelled_order_ids" = '[]'::jsonb;