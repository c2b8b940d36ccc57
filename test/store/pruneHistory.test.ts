/**
 * Retention: settled outbox rows, applied events and schedule runs that traded nothing past their
 * retention are deleted, in batches; queued or held work, events still waiting for an earlier one,
 * runs that traded or decide a schedule's next slot, and everything recent are kept.
 */
import { TransactionRollbackError, sql } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { pruneHistory } from '../../src/store/repositories/pruneHistory.js'
import { startHistoryPruning } from '../../src/runtime/startHistoryPruning.js'
import { type ClaimRunResult, claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import {
  events, outbox, scheduleRuns, schedules, streamCursors, type NewOrderRow, type NewScheduleRunRow, type OutboxStatus, type RunLeg,
} from '../../src/store/schema/index.js'
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
    await db.execute(sql`truncate events, outbox, stream_cursors, schedule_runs, schedules`)
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

  /** A schedule of a wallet of its own: daily at 01:30 in New York unless told, active since 2026-10-01. */
  async function insertSchedule(cron = '30 1 * * *') {
    const wallet = await insertWallet(db)
    const [row] = await db.insert(schedules).values({
      walletId: wallet.id, targets: { ETH: '0.5', USD: '0.5' }, cron, timeZone: 'America/New_York',
      toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10, activeSince: new Date('2026-10-01T00:00:00Z'),
    }).returning()
    return row!
  }

  /** A run of `schedule` for `slot`, finished at it: skipped, the wallet halted, nothing traded, unless told. */
  async function insertRun(schedule: { id: string; walletId: string }, slot: Date, overrides: Partial<NewScheduleRunRow> = {}): Promise<string> {
    const [row] = await db.insert(scheduleRuns).values({
      scheduleId: schedule.id, walletId: schedule.walletId, slotAt: slot, scheduleVersion: 1, status: 'skipped', reason: 'halted',
      detail: 'the wallet is halted: no orders', startedAt: slot, finishedAt: slot, ...overrides,
    }).returning({ id: scheduleRuns.id })
    return row!.id
  }

  const remainingRuns = async (ids: Map<string, string>) => {
    const left = new Set((await db.select({ id: scheduleRuns.id }).from(scheduleRuns)).map((r) => r.id))
    return [...ids].filter(([, id]) => left.has(id)).map(([label]) => label).sort()
  }

  const remainingSeqs = async (walletId: string) => (await db.select({ seq: events.seq }).from(events).where(sql`${events.walletId} = ${walletId}`)).map((r) => Number(r.seq)).sort((a, b) => a - b)
  const remainingOutbox = async (ids: Map<string, string>) => {
    const left = new Set((await db.select({ id: outbox.id }).from(outbox)).map((r) => r.id))
    return [...ids].filter(([, id]) => left.has(id)).map(([label]) => label).sort()
  }

  it('deletes applied events and settled work past the cutoff, in batches, and keeps the rest', async () => {
    const { walletId, uncursored } = await seedEvents()
    const work = await seedOutbox()
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 4, outbox: 2, scheduleRuns: 0 })
    expect(await remainingSeqs(walletId)).toEqual([5, 7, 8])
    expect(await remainingSeqs(uncursored)).toEqual([1])
    expect(await remainingOutbox(work)).toEqual(['old enqueued', 'old held', 'old pending', 'settled just now'])
    // Nothing left to delete: a second run deletes nothing.
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 0, outbox: 0, scheduleRuns: 0 })
  })

  it('stops after maxBatches statements per table, and the next call goes on', async () => {
    const { walletId } = await seedEvents()
    const work = await seedOutbox()
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 1, maxBatches: 3 })).toEqual({ events: 3, outbox: 2, scheduleRuns: 0 })
    expect(await remainingSeqs(walletId)).toEqual([4, 5, 7, 8])
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 1, maxBatches: 3 })).toEqual({ events: 1, outbox: 0, scheduleRuns: 0 })
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
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 3, outbox: 0, scheduleRuns: 0 })
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
    expect(await pruneHistory(db, { before: cutoff() })).toEqual({ events: 0, outbox: 3, scheduleRuns: 0 })
    expect(await remainingOutbox(ids)).toEqual(['cancelled for no known reason', 'filled just now', 'resting'])
  })

  it('deletes nothing once stopping() answers true (shutdown)', async () => {
    const { walletId } = await seedEvents()
    expect(await pruneHistory(db, { before: cutoff(), stopping: () => true })).toEqual({ events: 0, outbox: 0, scheduleRuns: 0 })
    expect(await remainingSeqs(walletId)).toEqual([1, 2, 3, 4, 5, 7, 8])
  })

  it('deletes the old schedule runs that traded nothing; keeps runs that traded, ended otherwise or are running, recent ones, and each schedule\'s latest', async () => {
    const schedule = await insertSchedule('* * * * *')
    const minute = (n: number) => new Date(ago(40).getTime() + n * 60_000)
    const leg = { leg: 0, asset: 'ETH', market: 'ETH-USD', side: 'buy', size: '1', price: '2000', notional: '2000', mark: '2000', idealSize: '1', limitedBy: [], intentId: 'i', orderId: 'o', clientOrderId: 'c' } satisfies RunLeg
    const ids = new Map<string, string>()
    ids.set('old skipped', await insertRun(schedule, minute(0)))
    ids.set('old awaiting delegation', await insertRun(schedule, minute(1), { status: 'awaiting_delegation', reason: 'noSession', detail: 'no active session' }))
    // Its session ended after it placed its sells: those orders are real.
    ids.set('old awaiting delegation with legs', await insertRun(schedule, minute(2), { status: 'awaiting_delegation', reason: 'noSession', detail: 'no active session', legs: [leg] }))
    ids.set('old skipped that cancelled orders', await insertRun(schedule, minute(3), { reason: 'earlierOrdersWorking', cancelledOrderIds: ['00000000-0000-4000-8000-000000000001'] }))
    ids.set('old completed with nothing to trade', await insertRun(schedule, minute(4), { status: 'completed', reason: 'due', detail: 'in band' }))
    ids.set('old failed', await insertRun(schedule, minute(5), { status: 'failed', reason: 'error', error: 'boom' }))
    ids.set('old running', await insertRun(schedule, minute(6), { status: 'running', stage: 'settling', reason: 'due', finishedAt: null }))
    ids.set('old skipped, finished just now', await insertRun(schedule, minute(7), { finishedAt: ago(0) }))
    ids.set('skipped 20 days ago', await insertRun(schedule, ago(20)))
    // Another schedule whose runs are all old: its latest stays.
    const stopped = await insertSchedule('* * * * *')
    ids.set('stopped: old skipped', await insertRun(stopped, minute(0)))
    ids.set('stopped: old skipped, its latest', await insertRun(stopped, minute(1)))
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 0, outbox: 0, scheduleRuns: 3 })
    expect(await remainingRuns(ids)).toEqual([
      'old awaiting delegation with legs', 'old completed with nothing to trade', 'old failed', 'old running',
      'old skipped that cancelled orders', 'old skipped, finished just now', 'skipped 20 days ago', 'stopped: old skipped, its latest',
    ])
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2 })).toEqual({ events: 0, outbox: 0, scheduleRuns: 0 })
  })

  it('keeps a schedule\'s runs from its latest one not skipped repeatedWallTime on, and claimRun picks the same slot after pruning', async () => {
    // Halted for two weeks up to the day New York's clocks go back (2026-11-01, 01:00–02:00 twice): each
    // 01:30 skipped, then 01:30 EST, BullMQ's slot an hour after 01:30 EDT, skipped as that wall time again.
    const schedule = await insertSchedule()
    const ids = new Map<string, string>()
    for (let day = 20; day <= 31; day++) ids.set(`2026-10-${day}`, await insertRun(schedule, new Date(`2026-10-${day}T05:30:00Z`)))
    ids.set('2026-11-01 01:30 EDT', await insertRun(schedule, new Date('2026-11-01T05:30:00Z')))
    ids.set('2026-11-01 01:30 EST', await insertRun(schedule, new Date('2026-11-01T06:30:00Z'), { reason: 'repeatedWallTime', detail: 'repeats the wall time' }))
    const at = (iso: string) => Date.parse(iso)
    /** What claimRun decides for the job of `jobSlot` at `now`, rolled back. */
    const claim = async (jobSlot: number, now: number) => {
      let result: ClaimRunResult | undefined
      await db.transaction(async (tx) => {
        result = await claimRun(tx, { scheduleId: schedule.id, jobSlot, jobId: `repeat:${schedule.id}:${jobSlot}`, now, staleRunMs: 120_000 })
        tx.rollback()
      }).catch((error: unknown) => { if (!(error instanceof TransactionRollbackError)) throw error })
      if (result?.kind !== 'start') return { kind: result?.kind, outcome: result?.kind === 'none' ? result.outcome : undefined }
      return { kind: result.kind, slot: result.run.slotAt.toISOString(), coalescedSlots: result.run.coalescedSlots }
    }
    const probes = async () => [
      // The next day's 01:30 job: that slot alone.
      await claim(at('2026-11-02T06:30:00Z'), at('2026-11-02T06:30:00Z')),
      // The repeated 01:30's job delivered again: still that wall time again (with only the latest run
      // kept, it would compare with 2026-10-31's 01:30 instead).
      await claim(at('2026-11-01T06:30:00Z'), at('2026-11-02T06:00:00Z')),
    ]
    const beforePruning = await probes()
    expect(beforePruning).toEqual([
      { kind: 'start', slot: '2026-11-02T06:30:00.000Z', coalescedSlots: [] },
      { kind: 'none', outcome: 'repeatedWallTime' },
    ])
    expect(await pruneHistory(db, { before: new Date('2026-11-10T00:00:00Z') })).toEqual({ events: 0, outbox: 0, scheduleRuns: 12 })
    expect(await remainingRuns(ids)).toEqual(['2026-11-01 01:30 EDT', '2026-11-01 01:30 EST'])
    expect(await probes()).toEqual(beforePruning)
  })

  it('deletes schedule runs batchSize at a time, maxBatches statements a call; the next call goes on', async () => {
    const schedule = await insertSchedule('* * * * *')
    for (let n = 0; n < 6; n++) await insertRun(schedule, new Date(ago(40).getTime() + n * 60_000))
    const runsLeft = async () => (await db.select({ id: scheduleRuns.id }).from(scheduleRuns)).length
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2, maxBatches: 1 })).toEqual({ events: 0, outbox: 0, scheduleRuns: 2 })
    expect(await runsLeft()).toBe(4)
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2, maxBatches: 2 })).toEqual({ events: 0, outbox: 0, scheduleRuns: 3 })
    // The latest run stays.
    expect(await runsLeft()).toBe(1)
    expect(await pruneHistory(db, { before: cutoff(), batchSize: 2, maxBatches: 1 })).toEqual({ events: 0, outbox: 0, scheduleRuns: 0 })
    expect(await pruneHistory(db, { before: cutoff(), stopping: () => true })).toEqual({ events: 0, outbox: 0, scheduleRuns: 0 })
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
      expect(captured.entries().filter((e) => e.msg.startsWith('deleted settled work'))).toMatchObject([{ pruned: { events: 4, outbox: 0, scheduleRuns: 0 }, retentionDays: 30 }])
    } finally {
      await pruning.close()
    }
  })

  it('the worker logs a run that deleted only schedule runs', async () => {
    const schedule = await insertSchedule('* * * * *')
    for (let n = 0; n < 3; n++) await insertRun(schedule, new Date(ago(40).getTime() + n * 60_000))
    const captured = capturedLog('info')
    const pruning = startHistoryPruning({ db, log: captured.log, retentionDays: 30, intervalMs: 20 })
    try {
      await eventually(async () => captured.entries().find((e) => e.msg.startsWith('deleted settled work')))
      expect(captured.entries().filter((e) => e.msg.startsWith('deleted settled work'))).toMatchObject([{ pruned: { events: 0, outbox: 0, scheduleRuns: 2 }, retentionDays: 30 }])
    } finally {
      await pruning.close()
    }
  })
})
