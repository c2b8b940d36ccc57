-- When each alert (wallet, code, details hash) last went out, one row per alert for every process:
-- the alert sink claims it here (insert, or move a row older than the hour) before it writes the
-- audit entry and POSTs it, so N workers, and a restarted one, send the same alert once an hour.
CREATE TABLE "alert_deliveries" (
	"wallet_id" uuid NOT NULL,
	"code" text NOT NULL,
	"details_hash" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alert_deliveries_pk" PRIMARY KEY("wallet_id","code","details_hash")
);
