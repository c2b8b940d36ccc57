-- The reconciler's cancels of orders recorded ended here that the operator listed open, queued
-- before they were flagged: marked from their `order.liveAtOperator` audit entry, written in the
-- same transaction (so at the same now()), so one that failed for good while the order is still
-- live there is queued again by the next sweep, and one still queued is held for a scope change.
UPDATE "outbox" SET "payload" = "outbox"."payload" || '{"liveAtOperator": true}'::jsonb FROM "audit_log"
  WHERE "audit_log"."actor" = 'reconciler' AND "audit_log"."action" = 'order.liveAtOperator'
  AND "audit_log"."details"->>'orderId' = "outbox"."order_id"::text AND "outbox"."kind" = 'CancelOrder'
  AND "outbox"."created_at" = "audit_log"."at";
