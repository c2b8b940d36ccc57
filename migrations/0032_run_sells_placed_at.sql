-- When a schedule run placed its sells ahead of its buys, on the operator's clock: the run's wait
-- for them counts from it, not from the run's start (sells placed late in the run were given up on
-- early). Nullable, no default: adding it rewrites nothing; a run left waiting for its sells before
-- this counts its wait from its start, as before.
ALTER TABLE "schedule_runs" ADD COLUMN "sells_placed_at" timestamp with time zone;