-- The lifetime a session's grant asked for, which a rotation keeps. Deputy's grants sign the
-- Delegation with the grant's time (unix ms, the operator's clock) as its nonce, so the sessions
-- granted before this get theirs back from it, when it reads as one (an hour to 30 days).
ALTER TABLE "sessions" ADD COLUMN "lifetime_seconds" integer;--> statement-breakpoint
UPDATE "sessions" SET "lifetime_seconds" = "expiry_unix" - floor("delegation_nonce" / 1000)::bigint WHERE "expiry_unix" - floor("delegation_nonce" / 1000) BETWEEN 3600 AND 2592000;
