-- The alerts raised, counted by code for /metrics (deputy_alerts): a partial index holding the
-- alert rows only, so the count costs the alerts, not the audit log's size.
CREATE INDEX "audit_log_alert_idx" ON "audit_log" USING btree ("action") WHERE "audit_log"."action" like 'alert.%';