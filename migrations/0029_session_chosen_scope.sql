-- The scope the user chose explicitly (the API's `families`, `needs` or `unrestricted`), which session
-- maintenance's rotations never go below; null when the worker chose it (the default, a scope
-- change's), which they narrow to what the wallet's work needs. Who chose the scope of a session
-- granted before this was not recorded: each keeps its own as chosen, so none is narrowed below what
-- a user may have asked for. The next grant or rotation through the API records the choice anew; an
-- operator who knows a wallet's scope was the worker's may set its sessions' chosen_scope to null.
ALTER TABLE "sessions" ADD COLUMN "chosen_scope" text[];--> statement-breakpoint
UPDATE "sessions" SET "chosen_scope" = "acl_scope";
