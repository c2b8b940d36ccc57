/**
 * A run left `running` by a lost job (its worker crashed) is taken over by the job of a later slot.
 * One that placed no orders yet must not place them now: the later slot trades from the balances
 * as they are, and would only cancel them. One whose sells went out still places the buys they fund.
 */
import { DelayedError } from 'bullmq'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunScheduleResult, runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { STALE_RUN_MS } from '../../src/core/rebalance/runWaits.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import { orders, scheduleRuns, schedules } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { contextOf, delayThrows, intentsOfSlot, runsOf, specOf, YEARLY } from './support.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const control = delayThrows
const walletOrders = (walletId: string) => h.db.select({ id: orders.id, market: orders.market, side: orders.side, state: orders.state }).from(orders).where(eq(orders.walletId, walletId))
const allSettled = (walletId: string) => eventually(async () => (await walletOrders(walletId)).every((o) => ['filled', 'cancelled'].includes(o.state)))

/**
 * Delivers the job of `jobSlot` as BullMQ would: again after each delay (its orders settled meanwhile),
 * until it ends. By default a run another job left running is taken for lost at once (staleRunMs 0).
 */
async function deliverUntilDone(walletId: string, scheduleId: string, jobSlot: number, jobId: string, deps = worker.deps, staleRunMs: number | undefined = 0): Promise<RunScheduleResult> {
  for (let delivery = 0; delivery < 10; delivery++) {
    try {
      return await runSchedule(deps, { scheduleId, jobSlot, jobId, queue: worker.controlQueue, control, ...(staleRunMs === undefined ? {} : { staleRunMs }) })
    } catch (error) {
      if (!(error instanceof DelayedError)) throw error
      await allSettled(walletId)
    }
  }
  throw new Error('the job kept delaying')
}

describe('a run left running by a lost job, taken over by a later slot\'s job', () => {
  it('one that placed no orders yet is skipped as superseded, and the later slot trades from the balances as they are', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    const lost = Date.now()
    // A job claimed its slot (stage `settling`, nothing written yet) and was lost: its worker crashed.
    expect(await claimRun(h.db, { scheduleId: schedule.id, jobSlot: lost, jobId: 'lost', now: lost, staleRunMs: 60_000 })).toMatchObject({ kind: 'start', run: { stage: 'settling', legs: [] } })

    const next = lost + 1
    const result = await deliverUntilDone(wallet.id, schedule.id, next, 'next')

    const [latest, superseded] = await runsOf(worker, schedule.id)
    // Before: the taken-over run bought the ETH for its superseded slot, and the later slot found nothing to do.
    expect(superseded).toMatchObject({ status: 'skipped', reason: 'superseded', stage: null, legs: [] })
    expect(superseded!.slotAt.getTime()).toBe(lost)
    expect(superseded!.detail).toContain(`slot ${new Date(next).toISOString()}`)
    expect(superseded!.finishedAt).not.toBeNull()
    expect(await intentsOfSlot(worker, schedule.id, new Date(lost))).toEqual([])
    // The later slot read the balances as they are (all USD) and bought the ETH: the wallet's one order.
    expect(result).toMatchObject({ outcome: 'completed', slot: new Date(next).toISOString(), legs: 1 })
    expect(latest).toMatchObject({ status: 'completed', legs: [{ side: 'buy', market: 'ETH-USD' }] })
    expect(latest!.slotAt.getTime()).toBe(next)
    expect(latest!.before?.find((row) => row.asset === 'USD')).toMatchObject({ balance: '100000' })
    expect((await walletOrders(wallet.id)).map((o) => o.id)).toEqual([latest!.legs[0]!.orderId])
  })

  it('one whose sells went out places the buys they fund, then the job runs its own slot', async () => {
    // All in ETH, half to go to BTC: the BTC buy needs the ETH sale's proceeds, so the sells go first.
    const { wallet } = await h.wallet(undefined, { USD: '1', ETH: '50' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY }) })
    const lost = Date.now()
    // The lost job placed the sells and was waiting for them when its worker crashed.
    await expect(runSchedule(worker.deps, { scheduleId: schedule.id, jobSlot: lost, jobId: 'lost', queue: worker.controlQueue, control })).rejects.toBeInstanceOf(DelayedError)
    expect((await runsOf(worker, schedule.id))[0]).toMatchObject({ status: 'running', stage: 'selling', legs: [{ side: 'sell', market: 'ETH-USD' }] })
    await allSettled(wallet.id)

    const next = lost + 1
    expect(await deliverUntilDone(wallet.id, schedule.id, next, 'next')).toMatchObject({ outcome: 'completed', slot: new Date(next).toISOString() })
    const [latest, adopted] = await runsOf(worker, schedule.id)
    expect(adopted!.slotAt.getTime()).toBe(lost)
    expect(adopted).toMatchObject({ status: 'completed', stage: null })
    expect(adopted!.legs.map((leg) => `${leg.side} ${leg.market}`)).toEqual(['sell ETH-USD', 'buy BTC-USD'])
    expect(latest).toMatchObject({ status: 'completed' })
    expect(latest!.slotAt.getTime()).toBe(next)
  })

  it('its own job, delivered again only after a later slot came due (its worker was down meanwhile), places nothing for it either', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    // Daily, five minutes ago, and active for three hours: its slot of two hours ago ran (the run below),
    // the one five minutes ago came due while the job was away (within SCHEDULE_MAX_LATENESS_MS, so it
    // trades: lateRun.test.ts has one later than that), the next is a day off.
    const at = new Date(Date.now() - 300_000)
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: `${at.getUTCMinutes()} ${at.getUTCHours()} * * *` }) })
    await h.db.update(schedules).set({ activeSince: sql`${schedules.activeSince} - interval '3 hours'` }).where(eq(schedules.id, schedule.id))
    const lost = Date.now() - 7_200_000
    const claimed = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: lost, jobId: 'job-a', now: lost, staleRunMs: STALE_RUN_MS })
    expect(claimed).toMatchObject({ kind: 'start', run: { stage: 'settling', legs: [] } })

    // The job was waiting (a delayed job) when its worker went down; it comes back two hours later,
    // past the next slot: its run has been untouched for two hours, on Postgres's clock (the default staleRunMs).
    if (claimed.kind !== 'start') throw new Error('not claimed')
    await h.db.update(scheduleRuns).set({ updatedAt: sql`now() - interval '2 hours'` }).where(eq(scheduleRuns.id, claimed.run.id))
    const result = await deliverUntilDone(wallet.id, schedule.id, lost, 'job-a', worker.deps, STALE_RUN_MS)

    const runs = await runsOf(worker, schedule.id)
    // Before: it resumed its run and bought the ETH for the old slot, which the next slot's run would have cancelled if unfilled.
    expect(runs.map((run) => [run.slotAt.getTime() === lost ? 'old slot' : 'later slot', run.status, run.legs.length])).toEqual([['later slot', 'completed', 1], ['old slot', 'skipped', 0]])
    const [latest, superseded] = runs
    expect(superseded).toMatchObject({ status: 'skipped', reason: 'superseded', legs: [] })
    expect(superseded!.slotAt.getTime()).toBe(lost)
    expect(latest!.slotAt.getTime()).toBeGreaterThan(lost)
    expect(superseded!.detail).toContain(`slot ${latest!.slotAt.toISOString()}`)
    expect(await intentsOfSlot(worker, schedule.id, new Date(lost))).toEqual([])
    expect(result).toMatchObject({ outcome: 'completed', slot: latest!.slotAt.toISOString(), legs: 1 })
    expect(latest).toMatchObject({ status: 'completed', legs: [{ side: 'buy', market: 'ETH-USD' }] })
  })
})

describe('a run in flight, as another worker sees it', () => {
  it('a worker whose clock runs ahead waits for a run another job touched just now, rather than taking it for lost', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    const slot = Date.now()
    // A job claimed its slot a moment ago and is waiting (for earlier orders, say): a live run.
    expect(await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: 'live', now: slot, staleRunMs: STALE_RUN_MS })).toMatchObject({ kind: 'start' })

    // A later slot's job, on a worker whose clock runs a minute past the stale time ahead.
    const ahead = { ...worker.deps, now: () => Date.now() + STALE_RUN_MS + 60_000 }
    await expect(runSchedule(ahead, { scheduleId: schedule.id, jobSlot: slot + 1, jobId: 'ahead', queue: worker.controlQueue, control })).rejects.toBeInstanceOf(DelayedError)

    // Before: it took the live run for lost, ended it `skipped` (superseded) and bought the ETH for its own slot.
    const runs = await runsOf(worker, schedule.id)
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({ status: 'running', stage: 'settling', jobId: 'live', legs: [] })
    expect(runs[0]!.slotAt.getTime()).toBe(slot)
    expect(await walletOrders(wallet.id)).toEqual([])
  })
})
