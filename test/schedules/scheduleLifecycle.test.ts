import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../src/runtime/schedules/deleteSchedule.js'
import { getSchedule } from '../../src/runtime/schedules/getSchedule.js'
import { listSchedules } from '../../src/runtime/schedules/listSchedules.js'
import { pauseSchedule } from '../../src/runtime/schedules/pauseSchedule.js'
import { resumeSchedule } from '../../src/runtime/schedules/resumeSchedule.js'
import { legClientOrderId } from '../../src/runtime/schedules/run/legClientOrderId.js'
import { updateSchedule } from '../../src/runtime/schedules/updateSchedule.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import type { ScheduleRunRow } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { contextOf, observedWeights, runsOf, specOf, waitForFills, waitForRun } from './support.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const ASSETS = ['BTC', 'ETH', 'USD'] as const
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const traded = (run: ScheduleRunRow) => run.status === 'completed' && run.legs.length > 0

function expectWithinBand(weights: Record<string, number>, targets: Record<string, string>, band: number): void {
  for (const asset of ASSETS) expect(Math.abs(weights[asset]! - Number(targets[asset] ?? '0'))).toBeLessThanOrEqual(band)
}

describe('a rebalancing schedule on a 2-second cron, against the sandbox', () => {
  it('moves an all-USD wallet to 50% ETH / 30% BTC / 20% USD within the band, then stays put', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const targets = { ETH: '0.5', BTC: '0.3', USD: '0.2' }
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf(targets) })
    expect(await worker.controlQueue.getJobScheduler(schedule.id)).toMatchObject({ pattern: '*/2 * * * * *', tz: 'UTC' })

    const run = await waitForRun(worker, schedule.id, traded)
    // The slot is the scheduler's own time for the job: a 2-second boundary, not when it ran.
    expect(run.slotAt.getTime() % 2000).toBe(0)
    // On time it is 'due'; a loaded machine (CI runs test files in parallel) may start the job after
    // the next 2-second slot has come too, and the run is then 'coalesced' (the trades are the same).
    expect(['due', 'coalesced']).toContain(run.reason)
    expect(run.legs.map((leg) => `${leg.side} ${leg.market}`).sort()).toEqual(['buy BTC-USD', 'buy ETH-USD'])
    for (const leg of run.legs) expect(leg.clientOrderId).toBe(legClientOrderId(schedule.id, run.slotAt, leg.leg))
    await waitForFills(worker, run)

    const after = await observedWeights(worker, wallet.id, ASSETS)
    expectWithinBand(after, targets, 0.02)
    const table = ASSETS.map((asset) => ({
      asset,
      before: Number(run.before!.find((row) => row.asset === asset)!.weight).toFixed(4),
      target: targets[asset],
      after: after[asset]!.toFixed(4),
    }))
    console.log(`rebalance of slot ${run.slotAt.toISOString()}:\n${table.map((r) => `| ${r.asset} | ${r.before} | ${r.target} | ${r.after} |`).join('\n')}`)

    // The next slot finds the portfolio inside the band: it runs, and trades nothing.
    const next = await waitForRun(worker, schedule.id, (r) => r.slotAt > run.slotAt && r.status === 'completed')
    expect(next.legs).toEqual([])
    await pauseSchedule(contextOf(worker), schedule.id)
  })

  it('an edit changes the targets from the next slot on (sells first, then the buys they fund)', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const ctx = contextOf(worker)
    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.3', USD: '0.2' }) })
    await waitForFills(worker, await waitForRun(worker, schedule.id, traded))

    const targets = { ETH: '0.2', BTC: '0.6', USD: '0.2' }
    const edited = await updateSchedule(ctx, schedule.id, { targets })
    expect(edited.version).toBe(schedule.version + 1)
    const run = await waitForRun(worker, schedule.id, (r) => r.scheduleVersion === edited.version && traded(r))
    expect(run.legs.map((leg) => `${leg.side} ${leg.market}`).sort()).toEqual(['buy BTC-USD', 'sell ETH-USD'])
    // The BTC buy costs more than the USD on hand, so it waited for the ETH sale.
    expect(run.notes.join(' ')).toContain('sells placed first')
    await waitForFills(worker, run)
    expectWithinBand(await observedWeights(worker, wallet.id, ASSETS), targets, 0.02)
    await pauseSchedule(ctx, schedule.id)
  })

  it('pause stops it firing; resume restarts it from the next slot without coalescing the paused ones', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const ctx = contextOf(worker)
    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }) })
    await waitForRun(worker, schedule.id, traded)

    const { schedule: paused } = await pauseSchedule(ctx, schedule.id)
    const pausedAt = Date.now()
    expect(paused.status).toBe('paused')
    expect(await worker.controlQueue.getJobScheduler(schedule.id)).toBeUndefined()
    expect(await pauseSchedule(ctx, schedule.id)).toMatchObject({ schedule: { status: 'paused', version: paused.version } })
    await sleep(5_000) // two slots pass
    // A job already due when the pause landed may still run, as a skip; no later slot fires at all.
    const runs = await runsOf(worker, schedule.id)
    expect(runs.filter((r) => r.slotAt.getTime() > pausedAt)).toEqual([])
    expect(runs.filter((r) => r.status === 'skipped').map((r) => r.reason)).toEqual(runs.some((r) => r.status === 'skipped') ? ['paused'] : [])

    const resumed = await resumeSchedule(ctx, schedule.id)
    expect(resumed.status).toBe('active')
    expect(await worker.controlQueue.getJobScheduler(schedule.id)).toBeDefined()
    const run = await waitForRun(worker, schedule.id, (r) => r.slotAt > resumed.activeSince && r.status === 'completed')
    // None of the slots that passed while it was paused is counted. (A loaded machine may start the
    // first job after the next slot has come too: that slot, after the resume, may be coalesced.)
    expect(run.coalescedSlots.filter((slot) => new Date(slot).getTime() < resumed.activeSince.getTime())).toEqual([])
    expect(run.coalesced).toBe(run.coalescedSlots.length)
    expect(run.reason).toBe(run.coalesced === 0 ? 'due' : 'coalesced')
    await deleteSchedule(ctx, schedule.id)
  })

  it('delete removes the scheduler and keeps the row and its runs for the record', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '1000' })
    const ctx = contextOf(worker)
    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ BTC: '0.5', USD: '0.5' }) })
    expect(await worker.controlQueue.getJobScheduler(schedule.id)).toBeDefined()
    const { schedule: deleted } = await deleteSchedule(ctx, schedule.id)
    expect(deleted).toMatchObject({ status: 'deleted' })
    expect(deleted.deletedAt).toBeInstanceOf(Date)
    expect(await worker.controlQueue.getJobScheduler(schedule.id)).toBeUndefined()
    expect(await getSchedule(h.db, schedule.id)).toMatchObject({ status: 'deleted' })
    expect((await listSchedules(h.db, { walletId: wallet.id })).map((s) => s.id)).toEqual([])
    expect((await listSchedules(h.db, { walletId: wallet.id, statuses: ['deleted'] })).map((s) => s.id)).toEqual([schedule.id])
    await expect(resumeSchedule(ctx, schedule.id)).rejects.toMatchObject({ field: 'scheduleId', code: 'CORE.VALIDATION' })
    await expect(updateSchedule(ctx, schedule.id, { toleranceBand: '0.05' })).rejects.toMatchObject({ field: 'scheduleId' })
  })

  it('a wallet without an active session records its runs as awaiting_delegation and trades nothing', async () => {
    const ctx = contextOf(worker)
    const wallet = await ensureWallet(h.db, privateKeyToAddress(generatePrivateKey()))
    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', USD: '0.5' }) })
    const run = await waitForRun(worker, schedule.id, (r) => r.status !== 'running')
    expect(run).toMatchObject({ status: 'awaiting_delegation', reason: 'noSession', legs: [] })
    await deleteSchedule(ctx, schedule.id)
  })

  it('slots missed while no worker ran coalesce into one run that says so', async () => {
    const { wallet } = await h.wallet(undefined, { USD: '100000' })
    const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.4', BTC: '0.4', USD: '0.2' }) })
    const first = await waitForRun(worker, schedule.id, traded)
    await waitForFills(worker, first)

    await worker.close(5_000)
    const downAt = Date.now()
    await sleep(7_000) // three or four slots fall due with no worker
    worker = await h.startWorker()

    const run = await waitForRun(worker, schedule.id, (r) => r.reason === 'coalesced' && r.status !== 'running')
    expect(run.status).toBe('completed')
    expect(run.coalesced).toBeGreaterThanOrEqual(2)
    expect(run.coalescedSlots).toHaveLength(run.coalesced)
    expect(run.detail).toContain(`${run.coalesced} missed`)
    console.log(`after ${Date.now() - downAt} ms down: ${run.reason}: ${run.detail}`)
    // One run stands for the whole outage: no other run has a slot inside it.
    const during = (await runsOf(worker, schedule.id)).filter((r) => r.slotAt.getTime() > downAt && r.slotAt < run.slotAt)
    expect(during).toEqual([])
    for (const slot of run.coalescedSlots) expect(new Date(slot).getTime()).toBeGreaterThan(first.slotAt.getTime())
    await eventually(async () => (await deleteSchedule(contextOf(worker), schedule.id)).schedule.status === 'deleted')
  })
})
