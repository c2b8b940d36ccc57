-- The operator events passed over as malformed, by wallet: reconciliation reads back the orders
-- whose passed-over fills are still not stored (`passedOverFills`), once a run, so the lookup costs
-- those rare rows, not the wallet's whole audit trail.
CREATE INDEX "audit_log_event_unappliable_idx" ON "audit_log" USING btree ("wallet_id") WHERE "audit_log"."action" = 'event.unappliable';
