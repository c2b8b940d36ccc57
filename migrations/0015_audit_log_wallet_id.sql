-- A wallet's audit trail is read newest first, a page at a time (GET /v1/wallets/{id}/audit, keyset
-- on id): the (wallet_id, at) index, which nothing read, becomes (wallet_id, id). Built inside the
-- migration's transaction, so writes to audit_log wait for it (one pass over the table).
DROP INDEX "audit_log_wallet_at_idx";--> statement-breakpoint
CREATE INDEX "audit_log_wallet_id_idx" ON "audit_log" USING btree ("wallet_id","id");