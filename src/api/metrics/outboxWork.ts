import { sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { unfinishedOutboxStatuses } from '../../store/schema/index.js'

export type OutboxWork = {
  /** Unfinished work by status (every status present, 0 without rows). */
  counts: { key: string; n: number }[]
  /** Seconds since the oldest due row of each unfinished status became due (0 without one). */
  oldestAges: { key: string; n: number }[]
  /** Work that came due within the last hour and failed for good, by the code its `last_error` starts with. */
  failed: { key: string; n: number }[]
}

type Row = { status: string; code: string | null; n: number; oldest_s: number | null }

/** How far back `deputy_outbox_failed` looks: work that came due within this window and failed for good. */
export const FAILED_WINDOW_SECONDS = 3600

/**
 * A failed row's `last_error` is `<code>: <message>` (`settleFailed`), so the text before the first
 * colon is the label; anything that does not look like a code reads `other`, so a free-text message
 * never becomes a series. Checked here, on the few grouped keys, not per row in Postgres.
 */
function failedCode(prefix: string | null): string {
  return prefix !== null && /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(prefix) ? prefix : 'other'
}

/**
 * The outbox series of `/metrics`, in one statement on Postgres's clock (which dates `available_at`),
 * through `outbox_status_available_idx` (status, available_at): the unfinished rows, and the failed
 * rows that came due within the last hour, never the settled history that makes up the table. A
 * retired wallet's work is not counted (`wallets.retired_at`). A row's age is how long ago it came
 * due: `available_at` is its creation, a good-till time, or its release from `held`; a row not due
 * yet (a good-till cancel) is counted but not aged. Failed work that waited more than the window
 * before failing (retried by BullMQ that long) is not in `failed`.
 */
export async function readOutboxWork(db: Db): Promise<OutboxWork> {
  const { rows } = await db.execute<Row>(sql`
    select o.status, case when o.status = 'failed' then split_part(o.last_error, ':', 1) end as code, count(*)::int as n,
      extract(epoch from now() - min(o.available_at) filter (where o.available_at <= now()))::float8 as oldest_s
    from outbox o join wallets w on w.id = o.wallet_id and w.retired_at is null
    where o.status in ('pending', 'enqueued', 'held')
      or (o.status = 'failed' and o.available_at > now() - make_interval(secs => ${FAILED_WINDOW_SECONDS}))
    group by 1, 2`)
  const unfinished = (status: string) => rows.find((row) => row.status === status)
  const failed = new Map<string, number>()
  for (const row of rows.filter((r) => r.status === 'failed')) {
    const code = failedCode(row.code)
    failed.set(code, (failed.get(code) ?? 0) + row.n)
  }
  return {
    counts: unfinishedOutboxStatuses.map((key) => ({ key, n: unfinished(key)?.n ?? 0 })),
    oldestAges: unfinishedOutboxStatuses.map((key) => ({ key, n: Math.max(0, Number(unfinished(key)?.oldest_s ?? 0)) })),
    failed: [...failed].map(([key, n]) => ({ key, n })),
  }
}
