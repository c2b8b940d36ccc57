/**
 * The outbox sweep after Redis lost its jobs, with more `enqueued` rows than one page: good-till
 * cancels wait `enqueued` (as delayed jobs) for up to a day, so a busy deployment always has many.
 * Every row's job comes back, not only the oldest page's. And the relay's and the sweep's job
 * delays on a process whose clock runs behind Postgres's, which dates the rows.
 */
import { asc, eq, sql } from 'drizzle-orm'
import { describe, expect, it, vi } from 'vitest'
import { type SweepCursor, relayOutbox, sweepOutbox } from '../../jobs/relayOutbox.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import { outbox } from '../../src/store/schema/index.js'
import { REDIS_URL, submitQueueForFile } from '../support/submitQueueForFile.js'

const file = submitQueueForFile('sweep')
const { prefix } = file

describe('the outbox sweep', () => {
  it('re-adds the job of every enqueued row Redis lost, past the first page, going on where its last run stopped', async () => {
    const db = file.t.database.db
    const wallet = await ensureWallet(db, '0x000000000000000000000000000000000000dEaD')
    // 25 good-till cancels due in 12 h (relayed at once, as delayed jobs), then work due now.
    await db.insert(outbox).values(Array.from({ length: 25 }, () => ({ walletId: wallet.id, kind: 'CancelAll' as const, payload: { market: '' }, availableAt: sql`now() + interval '12 hours'` })))
    await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: { market: '' } })
    while (await relayOutbox(db, file.queue) > 0);
    expect(await file.queue.getJobCountByTypes('delayed', 'wait', 'prioritized')).toBe(26)

    await deleteQueueKeys(REDIS_URL, prefix) // FLUSHDB, or a restart without persistence
    await db.update(outbox).set({ enqueuedAt: sql`now() - interval '1 minute'` })
    // Pages of 10, at most 2 per run: the first run repairs 20, the next the other 6 and starts over.
    const cursor: SweepCursor = { afterSeq: 0 }
    expect(await sweepOutbox(db, file.queue, { batch: 10, cursor, maxPages: 2 })).toBe(20)
    expect(await sweepOutbox(db, file.queue, { batch: 10, cursor, maxPages: 2 })).toBe(6)
    expect(cursor.afterSeq).toBe(0)
    const rows = await db.select().from(outbox).orderBy(asc(outbox.seq))
    for (const row of rows) expect(await file.queue.getJob(outboxJobId(row)), `job of row ${row.seq}`).toBeTruthy()
    expect(await file.queue.getJobCountByTypes('delayed', 'wait', 'prioritized')).toBe(26)
    // Nothing is missing any more: a further run adds nothing.
    expect(await sweepOutbox(db, file.queue, { batch: 10, cursor, maxPages: 2 })).toBe(0)
  })
})

describe('a relay whose clock runs a minute behind Postgres\'s', () => {
  /** Runs `work` with this process's clock (Date) a minute behind, as on a host whose clock runs behind. */
  async function aMinuteBehind<T>(work: () => Promise<T>): Promise<T> {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 60_000 })
    try {
      return await work()
    } finally {
      vi.useRealTimers()
    }
  }

  it('hands work queued just now over at once, and a good-till cancel due in an hour an hour on: the relay and the sweep', async () => {
    const db = file.t.database.db
    const wallet = await ensureWallet(db, '0x000000000000000000000000000000000000bEEF')
    // available_at is Postgres's now() (due now), and its now() + 1 h (a good-till cancel).
    const [now] = await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: { market: '' } }).returning()
    const [later] = await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: { market: '' }, availableAt: sql`now() + interval '1 hour'` }).returning()
    const delays = async () => Promise.all([now!, later!].map(async (row) => (await file.queue.getJob(outboxJobId(row)))?.opts.delay ?? 0))
    const expectDelays = async () => {
      const [dueNow, dueLater] = await delays()
      expect(dueNow, 'the delay of work due now').toBe(0)
      // An hour less the moments since the insert: not an hour and a minute.
      expect(dueLater).toBeLessThanOrEqual(3_600_000)
      expect(dueLater).toBeGreaterThan(3_600_000 - 60_000)
    }

    while (await aMinuteBehind(() => relayOutbox(db, file.queue)) > 0);
    await expectDelays()

    // Redis lost them: the sweep, on the same clock, adds them again with the same delays.
    await file.queue.remove(outboxJobId(now!))
    await file.queue.remove(outboxJobId(later!))
    await db.update(outbox).set({ enqueuedAt: sql`now() - interval '1 minute'` }).where(eq(outbox.walletId, wallet.id))
    expect(await aMinuteBehind(() => sweepOutbox(db, file.queue))).toBe(2)
    await expectDelays()
  })
})
