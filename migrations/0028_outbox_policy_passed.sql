ALTER TABLE "outbox" ADD COLUMN "policy_passed_at" timestamp with time zone;--> statement-breakpoint
-- Modifies on their way at the upgrade that the old rule counted as let through (a check of their
-- order since they were queued) keep counting until they are answered or checked again.
UPDATE "outbox" SET "policy_passed_at" = "orders"."policy_passed_at" FROM "orders"
  WHERE "outbox"."order_id" = "orders"."id" AND "outbox"."kind" = 'ModifyOrder' AND "outbox"."status" IN ('pending', 'enqueued', 'held')
  AND "orders"."policy_passed_at" >= "outbox"."created_at";
