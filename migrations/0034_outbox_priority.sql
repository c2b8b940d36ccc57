-- Fairness across wallets: a job's BullMQ priority is its place in its wallet's backlog, set by the
-- relay, which counts on from the wallet's last numbered row (found by the partial index, newest seq
-- first) while that row is still in BullMQ.
ALTER TABLE "outbox" ADD COLUMN "priority" integer;--> statement-breakpoint
CREATE INDEX "outbox_wallet_prioritized_idx" ON "outbox" USING btree ("wallet_id","seq") WHERE "outbox"."priority" is not null;