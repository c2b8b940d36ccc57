-- The kill switch's ordering with request signing (insertSignedRequests, lockWalletToHalt): a halt
-- takes its wallet's advisory lock exclusively, the statement that persists signed placements and
-- modifications takes it shared and only then reads which wallets are halted. Advisory locks live in
-- the lock manager: unlike a row lock on the wallet, taking one writes nothing (no WAL, no
-- multixact), and intake's row lock on the wallet is not waited for. A VOLATILE SQL function runs
-- each of its statements on a fresh snapshot, so the read after the wait sees a halt that committed
-- meanwhile. The key: (class 1146115161, 'DPTY', the wallet id's hash).
CREATE OR REPLACE FUNCTION deputy_halted_wallets(ids uuid[]) RETURNS uuid[] LANGUAGE sql VOLATILE AS $$
  SELECT count(pg_advisory_xact_lock_shared(1146115161, hashtext(id::text))) FROM (SELECT DISTINCT id FROM unnest(ids) AS id ORDER BY id) AS wanted;
  SELECT coalesce(array_agg(id), '{}') FROM wallets WHERE id = ANY(ids) AND status = 'halted';
$$;
