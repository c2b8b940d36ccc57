DROP INDEX "requests_status_idx";--> statement-breakpoint
CREATE INDEX "requests_wallet_created_idx" ON "requests" USING btree ("wallet_id","created_at");