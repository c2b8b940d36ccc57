-- What a /metrics scrape reads, so that it costs what is current, not all history. Refused
-- requests by code and the reconciler's repairs get partial indexes: rare rows, and a request's
-- receipt leaves error_code null when accepted, so that update stays HOT (0008). Orders not yet
-- settled and the Orders signed since the last scrape are read wallet by wallet through the
-- (wallet_id, state) and (wallet_id, created_at) indexes, which adds nothing to the write path.
-- Before, each scrape counted every order, request and audit row ever written (about 0.5 s of
-- Postgres at 1M of each; past 2 s the series drop out).
CREATE INDEX "audit_log_reconciler_action_idx" ON "audit_log" USING btree ("action") WHERE "audit_log"."actor" = 'reconciler';--> statement-breakpoint
CREATE INDEX "requests_error_code_idx" ON "requests" USING btree ("error_code") WHERE "requests"."error_code" is not null;