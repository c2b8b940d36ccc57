ALTER TABLE "wallets" DROP CONSTRAINT "wallets_address_unique";--> statement-breakpoint
ALTER TABLE "wallets" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_address_live_unique" ON "wallets" USING btree ("address") WHERE "wallets"."retired_at" is null;