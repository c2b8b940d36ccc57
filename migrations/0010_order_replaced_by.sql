-- A cancelled order names the order placed again for its intent after its session ended, so a
-- user (and a modify queued for it) can follow it, and so it is replaced at most once however its
-- cancel was learnt: from the stream's OrderCancelled, or first from an operator read (a reconcile
-- or a read-back, which carry no reason) and then from the event. A nullable column without a
-- default or a foreign key: adding it rewrites and scans nothing.
ALTER TABLE "orders" ADD COLUMN "replaced_by" uuid;
