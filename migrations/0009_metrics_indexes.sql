-- What a /metrics scrape reads, so that it costs what is current, not all history: orders not yet
-- settled by state, refused requests by code, the reconciler's repairs, and Orders' requests created
-- since the last scrape (submit latency). Before, each scrape counted every order, request and
-- audit row ever written (about 0.5 s of Postgres at 1M of each; past 2 s the series drop out).
-- Partial indexes on columns a request's receipt leaves unchanged when accepted, so that update
-- stays HOT (0008). Built in this migration's transaction: on a large existing database, writes
-- to these tables wait while they build.
CREATE INDEX "audit_log_reconciler_action_idx" ON "audit_log" USING btree ("action") WHERE "audit_log"."actor" = 'reconciler';--> statement-breakpoint
CREATE INDEX "orders_unsettled_state_idx" ON "orders" USING btree ("state") WHERE not ("orders"."state" in ('filled', 'cancelled', 'rejected'));--> statement-breakpoint
CREATE INDEX "requests_order_created_idx" ON "requests" USING btree ("created_at","id") WHERE "requests"."family" = 'Order';--> statement-breakpoint
CREATE INDEX "requests_error_code_idx" ON "requests" USING btree ("error_code") WHERE "requests"."error_code" is not null;