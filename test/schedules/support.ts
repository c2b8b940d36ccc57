import { randomUUID } from 'node:crypto'
import { DelayedError, Queue } from 'bullmq'
import { and, eq, inArray } from 'drizzle-orm'
import { afterAll } from 'vitest'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { controlQueueSettings } from '../../src/queue/scheduleRepeatStrategy.js'
import { ScheduleValidationError } from '../../src/core/rebalance/ScheduleValidationError.js'
import type { ScheduleSpecInput } from '../../src/core/rebalance/parseScheduleSpec.js'
import { listScheduleRuns } from '../../src/runtime/schedules/listScheduleRuns.js'
import type { ScheduleContext } from '../../src/runtime/schedules/types.js'
import type { RunControl } from '../../jobs/runSchedule.js'
import { intents, orders, type ScheduleRunRow } from '../../src/store/schema/index.js'
import type { Db } from '../../src/store/Database.js'
import type { RunningWorker } from '../../src/worker.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

/** Every 2 seconds (6 fields, seconds first), read in UTC. */
export const EVERY_2S = '*/2 * * * * *'
/** Never fires while a test runs: its runs are started by hand. */
export const YEARLY = '0 0 1 1 *'

/** A control queue as the worker's (its repeat strategy), under a prefix of the test file's own, closed and its keys deleted after the file. */
export function controlQueueForFile(): Queue {
  const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
  const queue = new Queue('control', { connection: { url: REDIS_URL }, prefix, settings: controlQueueSettings })
  afterAll(async () => {
    await queue.close()
    await deleteQueueKeys(REDIS_URL, prefix)
  })
  return queue
}

export function specOf(targets: Record<string, string>, overrides: Partial<ScheduleSpecInput> = {}): ScheduleSpecInput {
  return { targets, cron: EVERY_2S, timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10, ...overrides }
}

export function contextOf(worker: RunningWorker): ScheduleContext {
  return { db: worker.deps.db, queue: worker.controlQueue, markets: worker.markets }
}

export async function runsOf(worker: RunningWorker, scheduleId: string): Promise<ScheduleRunRow[]> {
  return listScheduleRuns(worker.deps.db, { scheduleId, limit: 500 })
}

/** The first run, latest slot first, that passes `match`, once it exists. */
export async function waitForRun(worker: RunningWorker, scheduleId: string, match: (run: ScheduleRunRow) => boolean, timeoutMs = 15_000): Promise<ScheduleRunRow> {
  return eventually(async () => (await runsOf(worker, scheduleId)).find(match), timeoutMs)
}

/** Waits until every order of the run's legs is filled. */
export async function waitForFills(worker: RunningWorker, run: ScheduleRunRow): Promise<void> {
  const ids = run.legs.map((leg) => leg.orderId)
  if (ids.length === 0) return
  await eventually(async () => {
    const rows = await worker.deps.db.select({ state: orders.state }).from(orders).where(inArray(orders.id, ids))
    return rows.length === ids.length && rows.every((row) => row.state === 'filled')
  }, 15_000)
}

/** Intents (and so orders) a schedule wrote for one slot. */
export async function intentsOfSlot(worker: RunningWorker, scheduleId: string, slotAt: Date) {
  return worker.deps.db.select().from(intents).where(and(eq(intents.scheduleId, scheduleId), eq(intents.slotAt, slotAt)))
}

/** Weights observed at the operator now: balances by an authenticated read, valued at the tickers' marks. */
export async function observedWeights(worker: RunningWorker, walletId: string, assets: readonly string[]): Promise<Record<string, number>> {
  const { venue, sessions } = worker.deps
  const session = await sessions.active(walletId)
  if (!session) throw new Error('wallet has no active session')
  const balances = await venue.balances(sessions.readAuth(session))
  const values: Record<string, number> = {}
  for (const asset of assets) {
    const total = Number(balances.find((b) => b.asset === asset)?.total ?? '0')
    const mark = asset === 'USD' ? 1 : Number((await venue.ticker(`${asset}-USD`)).mark)
    values[asset] = total * mark
  }
  const sum = Object.values(values).reduce((a, b) => a + b, 0)
  return Object.fromEntries(assets.map((asset) => [asset, values[asset]! / sum]))
}

/** The validation problems a call threw, as `field: rule` strings. */
export async function problemsOf(call: () => Promise<unknown>): Promise<{ field: string; rule: string }[]> {
  try {
    await call()
  } catch (error) {
    if (error instanceof ScheduleValidationError) return [...error.problems]
    if (error instanceof Error && 'field' in error && 'rule' in error) return [{ field: String(error.field), rule: String(error.rule) }]
    throw error
  }
  throw new Error('expected a validation error')
}

/** A run's control when the test calls the processor itself: a run that would wait throws DelayedError, as BullMQ's `moveToDelayed` does. */
export const delayThrows: RunControl = { delay: async () => { throw new DelayedError() } }

/** Waits until every order of the wallet has ended filled or cancelled. */
export function allSettled(db: Db, walletId: string) {
  return eventually(async () => (await db.select({ state: orders.state }).from(orders).where(eq(orders.walletId, walletId)))
    .every((o) => ['filled', 'cancelled'].includes(o.state)))
}
