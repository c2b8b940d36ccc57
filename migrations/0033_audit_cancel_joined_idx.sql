-- The cancels an API ask joined (audit CancelOrder.joined), found again by wallet and the ask's action
-- id when a retry under its Idempotency-Key comes back: without it, a scan of the wallet's whole trail.
CREATE INDEX "audit_log_cancel_joined_idx" ON "audit_log" USING btree ("wallet_id",("details"->>'actionId')) WHERE "audit_log"."action" = 'CancelOrder.joined';