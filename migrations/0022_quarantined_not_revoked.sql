-- A session quarantined after SignerMismatch was recorded as ended at the operator (`revoked_at`),
-- yet SignerMismatch ends nothing there: its delegation and orders stay live. The unexpired ones
-- lose that mark, so session maintenance revokes them there with the wallet's signature.
UPDATE "sessions" SET "revoked_at" = NULL WHERE "status" = 'quarantined' AND "delegated_payload" IS NOT NULL AND "expiry" > now();
