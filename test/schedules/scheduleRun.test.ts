import { randomUUID } from 'node:crypto'
import { DelayedError } from 'bullmq'
import { pino } from 'pino'
import { and, asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { Side } from '../../src/core/eip712/types.js'
import type { RebalanceLeg } from '../../src/core/rebalance/types.js'
import { controlJobs } from '../../src/queue/names.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../src/runtime/schedules/deleteSchedule.js'
import { listSchedules } from '../../src/runtime/schedules/listSchedules.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { replaceSessionOrder } from '../../src/runtime/sessions/replaceSessionOrder.js'
import { resumeSchedule } from '../../src/runtime/schedules/resumeSchedule.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import { writeLegs } from '../../src/runtime/schedules/run/writeLegs.js'
import { syncAllSchedules } from '../../src/runtime/schedules/syncAllSchedules.js'
import { updateSchedule } from '../../src/runtime/schedules/updateSchedule.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { auditLog, intents, orders, outbox, scheduleRuns, sessions } from '../../src/store/schema/index.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from '../lifecycle/support/gateProxy.js'
import { fromWallet } from '../lifecycle/support/lifecycle.js'
import { contextOf, delayThrows, intentsOfSlot, problemsOf, runsOf, specOf, waitForFills, YEARLY } from './support.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  gate = await startGateProxy(h.sandbox.url)
  // No repair sweep while the tests run: it restores a job scheduler a test removed on purpose
  // (the start-up sync's test below), racing the sync that test calls.
  worker = await h.startWorker({ operatorUrl: gate.url, sweepIntervalMs: 600_000 })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

/** Runs the processor's recipe directly, as a delivered job would; waits are not expected here. */
const control = delayThrows
const runNow = (scheduleId: string, jobSlot: number, jobId: string) =>
  runSchedule(worker.deps, { scheduleId, jobSlot, jobId, queue: worker.controlQueue, control })

const walletOrders = async (walletId: string) => worker.deps.db.select({ id: orders.id }).from(orders).where(eq(orders.walletId, walletId))
const allSettled = (walletId: string) => eventually(async () => (await worker.deps.db.select({ state: orders.state }).from(orders).where(eq(orders.walletId, walletId)))
  .every((o) => ['filled', 'cancelled'].includes(o.state)))

/**
 * A schedule whose first run placed two legs that stay in flight (their Orders held on the wire
 * until the caller lets them through: `release`), and the slot after it.
 */
async function firstRunInFlight() {
  const { wallet } = await h.wallet(undefined, { USD: '100000' })
  const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.3', USD: '0.2' }, { cron: YEARLY }) })
  const held = gate.hold((request) => request.family === 'Order' && fromWallet(wallet.address)(request))
  const first = Date.now()
  expect(await runNow(schedule.id, first, 'job-a')).toMatchObject({ outcome: 'completed', legs: 2 })
  const earlier = (await runsOf(worker, schedule.id))[0]!.legs.map((leg) => leg.orderId).sort()
  await held.arrived
  return { wallet, schedule, earlier, next: first + 1, release: () => held.release() }
}

describe('one run of a schedule', () => {
  it('re-running a slot never trades twice: redelivered, re-queued, or resumed after the market moved', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    // A yearly cron never fires during the test: each run here is a job delivered by hand.
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.3', USD: '0.2' }, { cron: YEARLY }) })
    const slot = Date.now()
    const first = await runNow(schedule.id, slot, 'job-1')
    expect(first).toMatchObject({ outcome: 'completed', legs: 2 })
    const [run] = await runsOf(worker, schedule.id)
    await waitForFills(worker, run!)
    expect(await walletOrders(wallet.id)).toHaveLength(2)

    // The same slot delivered again, by another job: the run row for the slot is the claim.
    expect(await runNow(schedule.id, slot, 'job-2')).toMatchObject({ outcome: 'alreadyRan' })
    // ...and through the queue and the worker, as BullMQ would redeliver it.
    const job = await worker.controlQueue.add(controlJobs.scheduleRun as never, { scheduleId: schedule.id } as never, { jobId: `again-${schedule.id}`, prevMillis: slot })
    const done = await eventually(async () => { const j = await worker.controlQueue.getJob(job.id!); return j?.finishedOn ? j : undefined })
    expect(done.returnvalue).toMatchObject({ outcome: 'alreadyRan' })

    // An attempt that died after writing its legs is resumed by its retry: the market has moved since,
    // so the plan differs, yet (schedule, slot, leg) already has its intents and nothing new is placed.
    h.sandbox.setMark('ETH-USD', '2600')
    await worker.deps.db.update(scheduleRuns).set({ status: 'running', stage: 'selling', finishedAt: null }).where(eq(scheduleRuns.id, run!.id))
    expect(await runNow(schedule.id, slot, 'job-1')).toMatchObject({ outcome: 'completed', legs: 2 })
    h.sandbox.setMark('ETH-USD', '2000')
    expect(await intentsOfSlot(worker, schedule.id, new Date(slot))).toHaveLength(2)
    expect(await walletOrders(wallet.id)).toHaveLength(2)
    expect(await runsOf(worker, schedule.id)).toHaveLength(1)
  })

  it('a run first cancels the working orders of earlier runs and waits for them to settle before it reads', async () => {
    const { wallet, schedule, earlier, next, release } = await firstRunInFlight()
    await expect(runNow(schedule.id, next, 'job-b')).rejects.toBeInstanceOf(DelayedError)
    const waiting = (await runsOf(worker, schedule.id)).find((r) => r.slotAt.getTime() === next)!
    expect(waiting).toMatchObject({ status: 'running', stage: 'settling', legs: [] })
    expect([...waiting.cancelledOrderIds].sort()).toEqual(earlier)
    release()

    // The job comes back (BullMQ re-delivers it after the delay): once they settled, it reads and decides.
    await allSettled(wallet.id)
    const resumed = await runNow(schedule.id, next, 'job-b')
    expect(resumed.outcome).toBe('completed')
    const [run] = await runsOf(worker, schedule.id)
    expect(run).toMatchObject({ status: 'completed', stage: null })
    expect(run!.slotAt.getTime()).toBe(next)
    expect([...run!.cancelledOrderIds].sort()).toEqual(earlier)
  })

  it('a run notes each earlier order it cancels with its cancel: a run that failed between the two still records it', async () => {
    const { wallet, schedule, earlier, next, release } = await firstRunInFlight()
    // The run's first note of a cancel fails, once, as a process dying there would leave it.
    await withFirstWriteFailing(h.db, {
      name: 'fail_note', table: 'schedule_runs', on: 'update', when: 'new.cancelled_order_ids is distinct from old.cancelled_order_ids', message: 'run update failed (test)',
    }, async () => {
      const failed = await runNow(schedule.id, next, 'job-b').then(() => undefined, (error: Error) => error)
      expect(String((failed?.cause as Error | undefined)?.message ?? failed)).toContain('run update failed (test)')
      // Its retry (BullMQ's) cancels and notes what the failed attempt left.
      await expect(runNow(schedule.id, next, 'job-b')).rejects.toBeInstanceOf(DelayedError)
    })
    const waiting = (await runsOf(worker, schedule.id)).find((r) => r.slotAt.getTime() === next)!
    expect([...waiting.cancelledOrderIds].sort()).toEqual(earlier)
    // One cancel per order, whichever attempt queued it.
    for (const orderId of earlier) expect((await h.db.select().from(outbox).where(eq(outbox.orderId, orderId))).filter((row) => row.kind === 'CancelOrder')).toHaveLength(1)
    release()
    await allSettled(wallet.id)
  })

  it('a run whose wait for earlier orders ends with them still working trades nothing: they could still fill', async () => {
    const { wallet, schedule, earlier, next, release } = await firstRunInFlight()
    // The next slot's wait is already over (as after settleTimeoutMs) while the first run's orders are still on their way.
    const skipped = await runSchedule(worker.deps, { scheduleId: schedule.id, jobSlot: next, jobId: 'job-b', queue: worker.controlQueue, control, settleTimeoutMs: 0 })
    expect(skipped).toMatchObject({ outcome: 'earlierOrdersWorking', detail: expect.stringContaining('2 order(s) of earlier runs were still working after 0 ms: nothing traded') })
    const run = (await runsOf(worker, schedule.id)).find((r) => r.slotAt.getTime() === next)!
    expect(run).toMatchObject({ status: 'skipped', reason: 'earlierOrdersWorking', stage: null, legs: [] })
    expect([...run.cancelledOrderIds].sort()).toEqual(earlier)
    expect(await intentsOfSlot(worker, schedule.id, new Date(next))).toEqual([])
    release()
    await allSettled(wallet.id)
    expect((await walletOrders(wallet.id)).map((o) => o.id).sort()).toEqual(earlier)
  })

  it('a run\'s wait for earlier orders is measured on the clock every worker shares: a delivery on a worker whose clock runs ahead still waits', async () => {
    const { wallet, schedule, next, release } = await firstRunInFlight()
    await expect(runNow(schedule.id, next, 'job-b')).rejects.toBeInstanceOf(DelayedError)
    // BullMQ re-delivers the waiting job to another worker, whose clock runs 45 s ahead of the first's
    // (its operator clock, measured at its start-up, agrees with everyone's).
    const ahead = { ...worker.deps, now: () => Date.now() + 45_000 }
    const again = runSchedule(ahead, { scheduleId: schedule.id, jobSlot: next, jobId: 'job-b', queue: worker.controlQueue, control })
    // Before: its own clock read the 30 s wait as over at once, and the slot was skipped without waiting.
    await expect(again).rejects.toBeInstanceOf(DelayedError)
    expect((await runsOf(worker, schedule.id)).find((r) => r.slotAt.getTime() === next)).toMatchObject({ status: 'running', stage: 'settling' })
    release()
    await allSettled(wallet.id)
    expect(await runSchedule(ahead, { scheduleId: schedule.id, jobSlot: next, jobId: 'job-b', queue: worker.controlQueue, control })).toMatchObject({ outcome: 'completed' })
  })

  it('a buy proposed after the run sold the same asset (the marks moved between its stages) is logged as not placed', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    const slot = Date.now()
    const claim = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: 'stages', now: slot, staleRunMs: 60_000 })
    if (claim.kind !== 'start') throw new Error(`expected a start, got ${claim.kind}`)
    const leg = (side: Side): RebalanceLeg => ({
      leg: 0, asset: 'ETH', market: 'ETH-USD', side, size: 10n ** 17n, price: 2000n * 10n ** 18n, notional: 200n * 10n ** 18n, mark: 2000n * 10n ** 18n, idealSize: 10n ** 17n, limitedBy: [],
    })
    const plan = (legs: RebalanceLeg[]) => ({ legs, skipped: [], adjustments: [], portfolioValue: 10n ** 23n, projectedValue: 10n ** 23n, before: [], after: [] })
    const sells = await writeLegs(h.db, { runId: claim.run.id, plan: plan([leg(Side.sell)]), legs: [leg(Side.sell)], final: false, stage: 'settling', scheduleVersion: claim.run.scheduleVersion, notes: [], now: Date.now() })
    expect(sells).toMatchObject({ kind: 'written', inserted: [{ side: 'sell' }] })
    const buys = await writeLegs(h.db, { runId: claim.run.id, plan: plan([leg(Side.buy)]), legs: [leg(Side.buy)], final: true, stage: 'selling', scheduleVersion: claim.run.scheduleVersion, notes: [], now: Date.now() })
    expect(buys).toMatchObject({ kind: 'written', inserted: [] })
    const [run] = await runsOf(worker, schedule.id)
    expect(run).toMatchObject({ status: 'completed', legs: [{ side: 'sell' }] })
    expect(run!.skippedLegs).toEqual([{ asset: 'ETH', reason: 'alreadyTraded', detail: 'this run already placed a sell of ETH for the slot; the buy of 0.1 proposed after it is left to the next slot' }])
    expect(await intentsOfSlot(worker, schedule.id, new Date(slot))).toHaveLength(1)
  })

  it('an edit or a pause that lands while a run is in flight: the run writes no orders and says why', async () => {
    const ctx = contextOf(worker)
    for (const change of ['edit', 'pause'] as const) {
      const { wallet } = await h.wallet(undefined, { USD: '100000' }) // one active schedule per wallet
      const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
      const slot = Date.now()
      const claim = await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: 'in-flight', now: slot, staleRunMs: 60_000 })
      expect(claim.kind).toBe('start')
      if (change === 'edit') await updateSchedule(ctx, schedule.id, { targets: { ETH: '0.1', USD: '0.9' } })
      else await pauseSchedule(ctx, schedule.id)
      expect(await runNow(schedule.id, slot, 'in-flight')).toMatchObject({ outcome: 'stopped', detail: change === 'edit' ? 'superseded' : 'paused' })
      const [run] = await runsOf(worker, schedule.id)
      expect(run).toMatchObject({ status: 'skipped', reason: change === 'edit' ? 'superseded' : 'paused', legs: [] })
      expect(await intentsOfSlot(worker, schedule.id, new Date(slot))).toEqual([])
      expect(await walletOrders(wallet.id)).toEqual([])
    }
  })

  it('an edit that lands after a run placed its sells: the buys still go out, sized by the spec as edited', async () => {
    const ctx = contextOf(worker)
    for (const edit of ['cron', 'noBtc'] as const) {
      // All in ETH, half to go to BTC: the BTC buy needs the ETH sale's proceeds, so the sells go first.
      const { wallet } = await h.wallet(undefined, { USD: '1', ETH: '50' })
      const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY }) })
      const slot = Date.now()
      await expect(runNow(schedule.id, slot, 'sells')).rejects.toBeInstanceOf(DelayedError)
      const [selling] = await runsOf(worker, schedule.id)
      expect(selling).toMatchObject({ status: 'running', stage: 'selling', legs: [{ side: 'sell', market: 'ETH-USD' }] })
      await allSettled(wallet.id)
      // A cron change leaves the targets as they were; the other drops BTC for USD, so no buy is wanted now.
      const edited = await updateSchedule(ctx, schedule.id, edit === 'cron' ? { cron: '0 0 2 1 *' } : { targets: { ETH: '0.5', USD: '0.5' } })
      expect(edited.version).toBe(schedule.version + 1)
      const finished = await runNow(schedule.id, slot, 'sells')
      const [run] = await runsOf(worker, schedule.id)
      expect(finished.outcome).toBe('completed')
      expect(run).toMatchObject({ status: 'completed', stage: null })
      expect(run!.legs.map((leg) => `${leg.side} ${leg.market}`)).toEqual(edit === 'cron' ? ['sell ETH-USD', 'buy BTC-USD'] : ['sell ETH-USD'])
      expect(run!.notes.join(' ')).toContain(`edited (version ${schedule.version} → ${edited.version}) after its sells were placed`)
    }
  })

  it('an edit of the targets after a run placed its sells: the buys are told apart from the sells by asset, not by their place in the targets', async () => {
    const ctx = contextOf(worker)
    // A leg's number is its asset's place among the targets (BTC 0, ETH 1 before the edit): the edit
    // below drops one of them, and the other takes number 0 in the buy stage.
    const cases = [
      // Sold BTC (number 0); the edit keeps only ETH, whose buy is now number 0 as well.
      { holding: 'BTC', amount: '2', edit: { ETH: '0.5', USD: '0.5' }, legs: ['sell BTC-USD', 'buy ETH-USD'], skipped: [] },
      // Sold ETH (number 1); the edit keeps only ETH, more of it, and its buy is now number 0, which no sell took.
      { holding: 'ETH', amount: '50', edit: { ETH: '0.8', USD: '0.2' }, legs: ['sell ETH-USD'], skipped: [{ asset: 'ETH', reason: 'alreadyTraded' }] },
    ] as const
    for (const c of cases) {
      const { wallet } = await h.wallet(undefined, { USD: '1', [c.holding]: c.amount })
      const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY }) })
      const slot = Date.now()
      await expect(runNow(schedule.id, slot, 'sells')).rejects.toBeInstanceOf(DelayedError)
      expect(await runsOf(worker, schedule.id)).toMatchObject([{ stage: 'selling', legs: [{ side: 'sell', asset: c.holding }] }])
      await allSettled(wallet.id)
      await updateSchedule(ctx, schedule.id, { targets: c.edit })
      expect(await runNow(schedule.id, slot, 'sells')).toMatchObject({ outcome: 'completed' })
      const [run] = await runsOf(worker, schedule.id)
      // Before: the ETH buy of the first case was dropped as "already placed a sell of ETH" (the BTC sell's number),
      // and the second bought back the ETH the run had just sold.
      expect(run!.legs.map((leg) => `${leg.side} ${leg.market}`)).toEqual(c.legs)
      expect(run!.skippedLegs.filter((skip) => skip.reason === 'alreadyTraded')).toMatchObject(c.skipped)
      expect(new Set(run!.legs.map((leg) => leg.clientOrderId)).size).toBe(run!.legs.length)
      expect(await intentsOfSlot(worker, schedule.id, new Date(slot))).toHaveLength(c.legs.length)
    }
  })

  it('a run of a paused schedule is recorded as skipped and removes a scheduler left behind', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '1000' })
    const ctx = contextOf(worker)
    const { schedule } = await pauseSchedule(ctx, (await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })).id)
    // A sync that lost a race left a scheduler for the paused schedule.
    await worker.controlQueue.upsertJobScheduler(schedule.id, { pattern: YEARLY, tz: 'UTC' }, { name: controlJobs.scheduleRun, data: { scheduleId: schedule.id } as never })
    expect(await runNow(schedule.id, Date.now(), 'stray')).toMatchObject({ outcome: 'paused' })
    expect(await worker.controlQueue.getJobScheduler(schedule.id)).toBeUndefined()
    expect((await runsOf(worker, schedule.id)).map((r) => `${r.status}:${r.reason}`)).toEqual(['skipped:paused'])
    // Start-up sync is idempotent and restores what Redis lost.
    await worker.controlQueue.removeJobScheduler((await createSchedule(ctx, { walletId: wallet.id, ...specOf({ BTC: '1' }, { cron: YEARLY }) })).id)
    expect(await syncAllSchedules(h.db, worker.controlQueue)).toMatchObject({ upserted: 1, removed: 0 })
    expect(await syncAllSchedules(h.db, worker.controlQueue)).toMatchObject({ upserted: 0, removed: 0 })
  })

  it('a job of a schedule deleted, or no longer stored, does nothing but remove its scheduler, and says so in the log', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '1000' })
    const ctx = contextOf(worker)
    const { schedule: deleted } = await deleteSchedule(ctx, (await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })).id)
    const unknown = randomUUID()
    const lines: { msg: string; scheduleId?: string; outcome?: string }[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as (typeof lines)[number]) } })
    for (const id of [deleted.id, unknown]) {
      // Left behind (a sync lost, a deletion written in Postgres only): the job it fires is the one this runs.
      await worker.controlQueue.upsertJobScheduler(id, { pattern: YEARLY, tz: 'UTC' }, { name: controlJobs.scheduleRun, data: { scheduleId: id } as never })
      const result = await runSchedule({ ...worker.deps, log }, { scheduleId: id, jobSlot: Date.now(), jobId: `stray-${id}`, queue: worker.controlQueue, control })
      expect(result.outcome).toBe(id === unknown ? 'unknownSchedule' : 'deleted')
      expect(await worker.controlQueue.getJobScheduler(id)).toBeUndefined()
    }
    expect(await walletOrders(wallet.id)).toEqual([])
    expect(lines.filter((line) => line.msg.includes('job scheduler removed')).map((line) => [line.scheduleId, line.outcome])).toEqual([[deleted.id, 'deleted'], [unknown, 'unknownSchedule']])
    // And a worker's start-up sync removes both before they fire.
    for (const id of [deleted.id, unknown]) await worker.controlQueue.upsertJobScheduler(id, { pattern: YEARLY, tz: 'UTC' }, { name: controlJobs.scheduleRun, data: { scheduleId: id } as never })
    await syncAllSchedules(h.db, worker.controlQueue)
    expect([await worker.controlQueue.getJobScheduler(deleted.id), await worker.controlQueue.getJobScheduler(unknown)]).toEqual([undefined, undefined])
  })

  it('a bad spec is refused with the field and rule named, and nothing is stored', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '1000' })
    const ctx = contextOf(worker)
    const create = (overrides: Record<string, unknown>) => problemsOf(() => createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }), ...overrides }))
    expect(await create({ targets: { ETH: '0.5', BTC: '0.3' } })).toEqual([{ field: 'targets', rule: 'weights must sum to exactly 1, got 0.8' }])
    expect((await create({ cron: '*/2 * * *' }))[0]).toMatchObject({ field: 'cron', rule: expect.stringContaining('5 fields') })
    expect((await create({ timeZone: 'Mars/Olympus' }))[0]).toMatchObject({ field: 'timeZone' })
    expect((await create({ toleranceBand: '-0.1' }))[0]).toMatchObject({ field: 'toleranceBand', rule: 'must not be negative' })
    expect((await create({ targets: { DOGE: '0.5', USD: '0.5' } }))[0]).toMatchObject({ field: 'targets.DOGE', rule: expect.stringContaining('no DOGE-USD market') })
    expect(await problemsOf(() => createSchedule(ctx, { ...specOf({ ETH: '1' }), walletId: 'not-a-uuid' }))).toEqual([{ field: 'walletId', rule: 'must be a UUID' }])
    expect(await listSchedules(h.db, { walletId: wallet.id, statuses: ['active', 'paused', 'deleted'] })).toEqual([])

    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    expect((await problemsOf(() => updateSchedule(ctx, schedule.id, { limitOffsetBps: 5000 })))[0]).toMatchObject({ field: 'limitOffsetBps' })
    expect((await problemsOf(() => updateSchedule(ctx, schedule.id, { walletId: wallet.id } as never)))[0]).toMatchObject({ field: 'walletId', rule: 'is not a schedule field' })
    expect((await problemsOf(() => updateSchedule(ctx, schedule.id, { toleranceBand: '0.05' }, { expectedVersion: 7 })))[0]).toMatchObject({ field: 'expectedVersion' })
    const [stored] = await listSchedules(h.db, { walletId: wallet.id })
    expect(stored).toMatchObject({ version: 1, limitOffsetBps: 10, targets: { ETH: '0.5', USD: '0.5' } })
    expect(await h.db.select().from(intents).where(eq(intents.walletId, wallet.id))).toEqual([])
  })
})

describe('which schedules a wallet may have active', () => {
  it('a second one is refused while the first is active; pausing or deleting the first lets it in, and resuming takes turns the same way', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '1000' })
    const ctx = contextOf(worker)
    const create = () => createSchedule(ctx, { walletId: wallet.id, ...specOf({ BTC: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    // Asked together: the wallet's row lock makes them take turns, and exactly one is created.
    const both = await Promise.allSettled([create(), create()])
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const first = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))[0]!
    const refusal = { field: 'walletId', rule: expect.stringContaining(`the wallet already has an active schedule (${first.id}): one active schedule per wallet`) }
    expect(await problemsOf(create)).toEqual([refusal])

    await pauseSchedule(ctx, first.id)
    const second = await create()
    expect(await problemsOf(() => resumeSchedule(ctx, first.id))).toEqual([{ ...refusal, field: 'scheduleId', rule: expect.stringContaining(`(${second.id})`) }])
    await deleteSchedule(ctx, second.id)
    expect(await resumeSchedule(ctx, first.id)).toMatchObject({ id: first.id, status: 'active' })
    const statuses = (await listSchedules(h.db, { walletId: wallet.id, statuses: ['active', 'paused', 'deleted'] })).map((row) => [row.id, row.status])
    expect(statuses.sort()).toEqual([[first.id, 'active'], [second.id, 'deleted']].sort())
  })

  it('the wallet\'s active session must cover what a schedule sends (Order and CancelOrder), at creation and at resume', async () => {
    const ctx = contextOf(worker)
    const spec = specOf({ BTC: '0.5', USD: '0.5' }, { cron: YEARLY })
    const narrow = await h.wallet(['Order', 'CancelAll'], { USD: '1000' })
    expect(await problemsOf(() => createSchedule(ctx, { walletId: narrow.wallet.id, ...spec }))).toEqual([{
      field: 'walletId', rule: 'the wallet\'s active session cannot sign CancelOrder, which a schedule sends (its legs, and cancels of an earlier run\'s legs); grant a session whose scope covers schedules first',
    }])
    expect(await listSchedules(h.db, { walletId: narrow.wallet.id, statuses: ['active', 'paused', 'deleted'] })).toEqual([])

    const covered = await h.wallet(['Order', 'CancelOrder'], { USD: '1000' })
    const schedule = await createSchedule(ctx, { walletId: covered.wallet.id, ...spec })
    await pauseSchedule(ctx, schedule.id)
    // While paused, the wallet's session is replaced by one that can only cancel.
    await grantSession({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: covered.signer, walletId: covered.wallet.id, families: ['CancelOrder'], lifetimeSeconds: 24 * 3600, nowMs: Date.now() })
    expect(await problemsOf(() => resumeSchedule(ctx, schedule.id))).toEqual([{ field: 'scheduleId', rule: expect.stringContaining('the wallet\'s active session cannot sign Order, which a schedule sends') }])
    expect((await listSchedules(h.db, { walletId: covered.wallet.id, statuses: ['active', 'paused'] })).map((row) => row.status)).toEqual(['paused'])
  })

  it('a user-chosen scope that cannot run a schedule created while the wallet signed is not activated', async () => {
    const ctx = contextOf(worker)
    const { wallet, signer } = await h.wallet(['Order', 'CancelOrder'], { USD: '1000' })
    const [before] = await h.db.select().from(sessions).where(and(eq(sessions.walletId, wallet.id), eq(sessions.status, 'active')))
    // The wallet signs only when the test lets it: no schedule yet, so the scope passed the check before signing.
    let letSign!: () => void
    const signing = new Promise<void>((resolve) => { letSign = resolve })
    let asked!: () => void
    const wasAsked = new Promise<void>((resolve) => { asked = resolve })
    const slowSigner: WalletSigner = Object.assign(Object.create(signer) as WalletSigner, {
      signDelegation: async (typedData: Parameters<WalletSigner['signDelegation']>[0]) => { asked(); await signing; return signer.signDelegation(typedData) },
    })
    const grant = grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: slowSigner, walletId: wallet.id,
      families: ['Order', 'CancelAll'], lifetimeSeconds: 24 * 3600, nowMs: Date.now(), scheduleField: 'families',
    })
    await wasAsked
    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ BTC: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    letSign()
    expect(await problemsOf(() => grant)).toEqual([{ field: 'families', rule: expect.stringContaining(`must let the session sign CancelOrder: the wallet's active schedule (${schedule.id})`) }])
    // The schedule keeps the session it runs on; the new one never went live, and its refusal is no failure of the wallet.
    const all = await h.db.select().from(sessions).where(eq(sessions.walletId, wallet.id))
    expect(all.filter((row) => row.status === 'active').map((row) => row.id)).toEqual([before!.id])
    const refused = all.find((row) => row.id !== before!.id)!
    expect(refused).toMatchObject({ status: 'revoked', failedAt: null, activatedAt: null })
    expect(refused.statusReason).toMatch(/^not activated: families: must let the session sign CancelOrder/)
    const trail = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, wallet.id), eq(auditLog.action, 'session.grantFailed')))
    expect(trail.map((a) => a.details)).toEqual([{ sessionId: refused.id, reason: refused.statusReason, failure: false }])
  })
})

describe('what a run may spend', () => {
  const ordersOf = async (walletId: string) => worker.deps.db.select().from(orders).where(eq(orders.walletId, walletId))
  const settledOrders = (walletId: string, count: number) => eventually(async () => {
    const rows = await ordersOf(walletId)
    return rows.length === count && rows.every((o) => ['filled', 'rejected', 'cancelled'].includes(o.state)) && rows
  }, 15_000)

  it('keeps the fees out of the buy budget: a target with no USD left buys what the quote on hand pays, fee included', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '10000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '1' }, { cron: YEARLY }) })
    expect(await runNow(schedule.id, Date.now() + 1, 'fees')).toMatchObject({ outcome: 'completed', legs: 1 })
    const [order] = await settledOrders(wallet.id, 1)
    // Before, the buy spent all 10,000 USD and the operator, holding its fee too, refused it (InsufficientBalance).
    expect(order).toMatchObject({ state: 'filled', rejectCode: null })
    const [run] = await runsOf(worker, schedule.id)
    expect(Number(run!.legs[0]!.notional)).toBeLessThanOrEqual(10_000 / 1.001)
  })

  it('keeps to maxNotionalPerRun across both stages when the buys wait for the sells, and spends only what the sells brought', async () => {
    const { wallet } = await h.wallet(undefined, { ETH: '2' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY, maxNotionalPerRun: '1000' }) })
    const slot = Date.now() + 1
    await expect(runNow(schedule.id, slot, 'two-stages')).rejects.toBeInstanceOf(DelayedError) // the sells go first
    await waitForFills(worker, (await runsOf(worker, schedule.id))[0]!)
    expect(await runNow(schedule.id, slot, 'two-stages')).toMatchObject({ outcome: 'completed' })
    const [run] = await runsOf(worker, schedule.id)
    expect(run!.legs.map((l) => [l.asset, l.side])).toEqual([['ETH', 'sell'], ['BTC', 'buy']])
    // Before: the second stage applied the whole cap again and counted a sell it did not place (1,070 in all, the buy refused).
    expect(run!.legs.reduce((sum, l) => sum + Number(l.notional), 0)).toBeLessThanOrEqual(1000)
    expect((await settledOrders(wallet.id, 2)).map((o) => o.state)).toEqual(['filled', 'filled'])
  })

  it('an attempt that read the portfolio as the first stage, and writes after another attempt placed the sells, writes nothing: the cap holds', async () => {
    // Two attempts drive one run (a job BullMQ took for stalled and delivered again, or a run adopted
    // from a worker that hung past staleRunMs and then woke up). The first reads the balances only
    // once the second's sells have filled.
    const { wallet } = await h.wallet(undefined, { ETH: '2', USD: '1000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY, maxNotionalPerRun: '3000', toleranceBand: '0.1' }) })
    const slot = Date.now() + 1
    let readBalances!: () => void
    const gateOpen = new Promise<void>((resolve) => { readBalances = resolve })
    let reading!: () => void
    const atRead = new Promise<void>((resolve) => { reading = resolve })
    const { venue } = worker.deps
    const slowVenue = { ...venue, balances: async (auth: Parameters<typeof venue.balances>[0]) => { reading(); await gateOpen; return venue.balances(auth) } }
    const slow = runSchedule({ ...worker.deps, venue: slowVenue }, { scheduleId: schedule.id, jobSlot: slot, jobId: 'twice', queue: worker.controlQueue, control })
    slow.catch(() => undefined)
    await atRead
    // The other attempt places the sells (the BTC buy needs their proceeds) and they fill.
    await expect(runNow(schedule.id, slot, 'twice')).rejects.toBeInstanceOf(DelayedError)
    await waitForFills(worker, (await runsOf(worker, schedule.id))[0]!)
    // The first attempt now reads ETH near its band and USD enough for the buy: from the first stage,
    // it would write the buy as a whole run, against the whole cap again.
    readBalances()
    await expect(slow).rejects.toBeInstanceOf(DelayedError)
    expect(await runsOf(worker, schedule.id)).toMatchObject([{ status: 'running', stage: 'selling', legs: [{ asset: 'ETH', side: 'sell' }] }])
    // The run's own buy stage places the buy, within what the sells left of the cap.
    expect(await runNow(schedule.id, slot, 'twice')).toMatchObject({ outcome: 'completed' })
    const [run] = await runsOf(worker, schedule.id)
    expect(run!.legs.map((l) => [l.asset, l.side])).toEqual([['ETH', 'sell'], ['BTC', 'buy']])
    expect(run!.legs.reduce((sum, l) => sum + Number(l.notional), 0)).toBeLessThanOrEqual(3000)
  })
})

describe('a leg a session\'s end cancelled, recorded by a read before the stream', () => {
  /**
   * A rebalance leg whose order a session's end cancelled, recorded by an operator read before the
   * stream's OrderCancelled(sessionRevoked): once a newer run has traded, or the schedule was deleted,
   * the event must not place that leg again under the new session (a second trade).
   */
  /** A schedule whose first run's leg is at the operator, then recorded cancelled by a read (no reason yet). */
  async function legCancelledByRead() {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }, { cron: YEARLY }) })
    const held = gate.hold((request) => request.family === 'Order' && fromWallet(wallet.address)(request))
    const first = Date.now()
    expect(await runNow(schedule.id, first, 'job-a')).toMatchObject({ outcome: 'completed', legs: 1 })
    await held.arrived
    const [leg] = (await runsOf(worker, schedule.id))[0]!.legs
    // The session was rotated and its orders cancelled at the operator; an operator read learnt it first.
    await h.db.update(orders).set({ state: 'cancelled' }).where(eq(orders.id, leg!.orderId))
    return { wallet, schedule, first, orderId: leg!.orderId }
  }

  /** What the stream's OrderCancelled(sessionRevoked) does for the order (jobs/applyEvent.ts:200). */
  const streamCancelArrives = (orderId: string) => h.db.transaction(async (tx) => {
    const [row] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update')
    return replaceSessionOrder(tx, row!)
  })

  it('a later run that traded without the earlier leg: the stream\'s cancel does not place that leg again', async () => {
    const { schedule, first, orderId } = await legCancelledByRead()
    // The next slot finds no earlier order working, reads the portfolio and trades the same buy again.
    expect(await runNow(schedule.id, first + 1, 'job-b')).toMatchObject({ outcome: 'completed', legs: 1 })
    // The old slot's buy must not come back on top of it.
    expect(await streamCancelArrives(orderId)).toBeUndefined()
  })

  it('a deleted schedule: the stream\'s cancel does not place its leg again', async () => {
    const { schedule, orderId } = await legCancelledByRead()
    await deleteSchedule(contextOf(worker), schedule.id)
    expect(await streamCancelArrives(orderId)).toBeUndefined()
  })

  it('the stream\'s cancel came first: its replacement is a working order, and the next run cancels it', async () => {
    const { schedule, first, orderId } = await legCancelledByRead()
    const replacement = await streamCancelArrives(orderId)
    expect(replacement).toMatchObject({ state: 'pending' })
    // The run queues the cancel and waits for it to settle before it trades (a delayed job).
    await expect(runNow(schedule.id, first + 1, 'job-c')).rejects.toBeInstanceOf(DelayedError)
    const work = await h.db.select({ kind: outbox.kind, payload: outbox.payload }).from(outbox).where(eq(outbox.orderId, replacement!.id)).orderBy(asc(outbox.seq))
    expect(work.map((w) => w.kind)).toEqual(['Order', 'CancelOrder'])
  })
})
