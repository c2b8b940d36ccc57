-- An alert's webhook POST whose process died before it ended (SIGKILL, OOM) is sent by another
-- process's sweep: the claim keeps the alert, and when its POST succeeded (null while under way).
-- Rows claimed before this migration have neither and are never sent again (as before).
ALTER TABLE "alert_deliveries" ADD COLUMN "alert" jsonb;--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD COLUMN "delivered_at" timestamp with time zone;