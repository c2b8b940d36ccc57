/**
 * Retention: settled outbox rows and applied events past their retention are deleted, in batches;
 * queued or held work, events still waiting for an earlier one, and everything recent are kept.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { pruneHistory } from '../../src/store/repositories/pruneHistory.js'
import { startHistoryPruning } from '../../src/runtime/startHistoryPruning.js'
import { events, outbox, streamCursors, type NewOrderRow, type OutboxStatus } from '../../src/store/schema/index.js'
import { capturedLog } from '../support/capturedLog.js'
import { eventually } from '../worker/support/harness.js'
import { drivers, insertOrder, insertWallet } from './fixtures.js'

const DAY = 24 * 3600 * 1000
const ago = (days: number) => new Date(Date.now() - days * DAY)
const cutoff = () => ago(30)

describe.each(drivers)('pruneHistory on $name', ({ create }) => {
  let handle: Awaited<ReturnType<(typeof drivers)[number]['create']>>
  let db: Db
  beforeAll(async () => {
    handle = await create()
    db = handle.database.db
  })
  afterAll(async () => {
    await handle?.drop()
  })
  beforeEach(async () => {
    await db.execute(sql`truncate events, outbox, stream_cursors`)
  })

  /** One wallet's stream applied up to seq 5: seqs 1–4 and the waiting 7–8 arrived 40 days ago, 5 just now; 6 is missing. */
  async function seedEvents(): Promise<{ walletId: string; uncursored: string }> {
    const wallet = await insertWallet(db)
    const uncursored = await insertWallet(db)
    await db.insert(streamCursors).values({ walletId: wallet.id, lastSeq: 5 })
    const event = (walletId: string, seq: number, receivedAt: Date) => ({ walletId, seq, type: 'OrderAccepted', payload: { seq }, receivedAt })
    for (const seq of [1, 2, 3, 4, 7, 8]) await db.insert(events).values(event(wallet.id, seq, ago(40)))
    await db.insert(events).values(event(uncursored.id, 1, ago(40)))
    await db.insert(events).values(event(wallet.id, 5, ago(0)))
    return { walletId: wallet.id, uncursored: uncursored.id }
  }

  /** Work of every status, 40 days old, and a row queued long ago but settled just now. */
  async function seedOutbox(): Promise<Map<string, string>> {
    const wallet = await insertWallet(db)
    const ids = new Map<string, string>()
    const statuses: OutboxStatus[] = ['done', 'failed', 'pending', 'enqueued', 'held']
    for (const status of statuses) {
      const [row] = await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: {}, status, availableAt: ago(40), createdAt: ago(40), updatedAt: ago(40) }).returning({ id: outbox.id })
      ids.set(`old ${status}`, row!.id)
    }
    const [recent] = await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: {}, status: 'done', availableAt: ago(40), createdAt: ago(40), updatedAt: ago(0) }).returning({ id: outbox.id })
    ids.set('settled just now', recent!.id)
    return ids
  }

  const remainingSeqs = async (walletId: string) => (await db.select({ seq: events.seq }).from(events).where(sql`${events.walletId} = ${walletId}`)).map((r) => Number(r.seq)).sort((a, b) => a - b)
  const remainingOutbox = async (ids: Map<string, string>) => {
    const left = new Set((await db.select({ id: outbox.id }).from(outbox)).map((r) => r.id))
    return [...ids].filter(([, id]) => left.has(id)).map(([label]) => label).sort()
  }

  it('deletes applied events and settled work past the cutoff, in batches, and keeps the rest', async () => {
    const { walletId, uncursored } = await seedEvents()
    const work = await seedOutbox()
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 4, outbox: 2 })
    expect(await remainingSeqs(walletId)).toEqual([5, 7, 8])
    expect(await remainingSeqs(uncursored)).toEqual([1])
    expect(await remainingOutbox(work)).toEqual(['old enqueued', 'old held', 'old pending', 'settled just now'])
    // Nothing left to delete: a second run deletes nothing.
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 0, outbox: 0 })
  })

  it('stops after maxBatches statements per table, and the next call goes on', async () => {
    const { walletId } = await seedEvents()
    const work = await seedOutbox()
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 1, maxBatches: 3 })).toEqual({ events: 3, outbox: 2 })
    expect(await remainingSeqs(walletId)).toEqual([4, 5, 7, 8])
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 1, maxBatches: 3 })).toEqual({ events: 1, outbox: 0 })
    expect(await remainingSeqs(walletId)).toEqual([5, 7, 8])
    expect(await remainingOutbox(work)).toEqual(['old enqueued', 'old held', 'old pending', 'settled just now'])
  })

  it('events kept at the head of the table (waiting behind a gap for good) do not stop the ones after them from going', async () => {
    // A wallet whose stream stopped with events waiting behind a missing one (its session ended):
    // they are the oldest rows, and kept. Another wallet's applied events arrived after them.
    const stalled = await insertWallet(db)
    const applied = await insertWallet(db)
    await db.insert(streamCursors).values([{ walletId: stalled.id, lastSeq: 1 }, { walletId: applied.id, lastSeq: 3 }])
    const event = (walletId: string, seq: number) => ({ walletId, seq, type: 'OrderAccepted', payload: { seq }, receivedAt: ago(40) })
    for (const seq of [3, 4]) await db.insert(events).values(event(stalled.id, seq))
    for (const seq of [1, 2, 3]) await db.insert(events).values(event(applied.id, seq))
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 3, outbox: 0 })
    expect(await remainingSeqs(applied.id)).toEqual([])
    expect(await remainingSeqs(stalled.id)).toEqual([3, 4])
  })

  it('deletes the good-till cancels, not yet due, of orders that ended for good before the cutoff; keeps those of orders that may still trade', async () => {
    const wallet = await insertWallet(db)
    const ids = new Map<string, string>()
    const goodTillOf = async (label: string, order: Partial<NewOrderRow>, status: OutboxStatus = 'pending') => {
      const { id } = await insertOrder(db, wallet.id, order)
      const [row] = await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelOrder', orderId: id, payload: { reason: 'goodTill' }, status, availableAt: ago(-365), createdAt: ago(40), updatedAt: ago(40) }).returning({ id: outbox.id })
      ids.set(label, row!.id)
    }
    await goodTillOf('filled long ago', { state: 'filled', updatedAt: ago(40) })
    await goodTillOf('rejected long ago', { state: 'rejected', updatedAt: ago(40) }, 'enqueued')
    await goodTillOf('cancelled by its user long ago', { state: 'cancelled', cancelReason: 'user', updatedAt: ago(40) })
    // A read showed it cancelled, with no reason yet: its session's end may still place it again.
    await goodTillOf('cancelled for no known reason', { state: 'cancelled', updatedAt: ago(40) })
    await goodTillOf('resting', { state: 'open', updatedAt: ago(40) })
    await goodTillOf('filled just now', { state: 'filled', updatedAt: ago(0) })
    expect(await pruneHistory(db, { before: cutoff() })).toEqual({ events: 0, outbox: 3 })
    expect(await remainingOutbox(ids)).toEqual(['cancelled for no known reason', 'filled just now', 'resting'])
  })

  it('deletes nothing once stopping() answers true (shutdown)', async () => {
    const { walletId } = await seedEvents()
    expect(await pruneHistory(db, { before: cutoff(), stopping: () => true })).toEqual({ events: 0, outbox: 0 })
    expect(await remainingSeqs(walletId)).toEqual([1, 2, 3, 4, 5, 7, 8])
  })

  it('the worker prunes every interval and logs what it deleted; retention 0 keeps everything', async () => {
    const { walletId } = await seedEvents()
    const kept = startHistoryPruning({ db, log: capturedLog('info').log, retentionDays: 0, intervalMs: 20 })
    await new Promise((r) => setTimeout(r, 200))
    await kept.close()
    expect(await remainingSeqs(walletId)).toEqual([1, 2, 3, 4, 5, 7, 8])

    const captured = capturedLog('info')
    const pruning = startHistoryPruning({ db, log: captured.log, retentionDays: 30, intervalMs: 20 })
    try {
      await eventually(async () => { expect(await remainingSeqs(walletId)).toEqual([5, 7, 8]); return true })
      await eventually(async () => captured.entries().find((e) => e.msg.startsWith('deleted settled work')))
      expect(captured.entries().filter((e) => e.msg.startsWith('deleted settled work'))).toMatchObject([{ pruned: { events: 4, outbox: 0 }, retentionDays: 30 }])
    } finally {
      await pruning.close()
    }
  })
})
