-- When a session failed (its grant failed, or the operator refused it while active): automatic
-- grants back off on a wallet's recent failures, so a wallet signer that is down or an operator
-- that refuses every delegation is not asked again every maintenance run. Nullable, no default:
-- adding it rewrites nothing.
ALTER TABLE "sessions" ADD COLUMN "failed_at" timestamp with time zone;
