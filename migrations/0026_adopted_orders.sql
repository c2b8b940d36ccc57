ALTER TABLE "orders" ALTER COLUMN "time_in_force" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "adopted_at" timestamp with time zone;--> statement-breakpoint
-- Orphans adopted before this column: marked from the reconciler's audit entry, and their time in
-- force (recorded GTC, which the operator's read never gave) made unknown.
UPDATE "orders" SET "adopted_at" = "audit_log"."at", "time_in_force" = NULL FROM "audit_log"
  WHERE "audit_log"."actor" = 'reconciler' AND "audit_log"."action" IN ('orphan.adopt', 'orphan.cancel')
  AND "audit_log"."details"->>'orderId' = "orders"."id"::text AND "orders"."intent_id" IS NULL AND "orders"."adopted_at" IS NULL;
