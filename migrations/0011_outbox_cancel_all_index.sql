-- Every claim and every receipt of an Order asks whether a CancelAll was asked for its wallet (and
-- market) after it was queued: a placement still queued is then never sent, and one that was on the
-- wire gets a CancelOrder. CancelAll rows are rare, so a partial index of them alone costs other
-- writes nothing (their kind never changes, so their updates stay as they were).
CREATE INDEX "outbox_cancel_all_idx" ON "outbox" USING btree ("wallet_id","seq") WHERE "outbox"."kind" = 'CancelAll';
