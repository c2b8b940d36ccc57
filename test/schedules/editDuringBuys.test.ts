/**
 * An edit that lands while a run whose sells went out reads the portfolio for its buys (after its
 * stage read the schedule, before it writes): the sells' proceeds must still be spent in this run,
 * under the spec as edited, rather than sit in USD until the next slot (which may be days away).
 */
import { DelayedError } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { updateSchedule } from '../../src/runtime/schedules/updateSchedule.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { allSettled, contextOf, delayThrows, runsOf, specOf, YEARLY } from './support.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const control = delayThrows

describe('an edit that lands while a run reads the portfolio for its buys', () => {
  it('dropping the asset the run sold: the run reads again under the spec as edited and spends the proceeds now', async () => {
    const ctx = contextOf(worker)
    // All in ETH, half to go to BTC: the BTC buy needs the ETH sale's proceeds, so the sells go first.
    const { wallet } = await h.wallet(undefined, { USD: '1', ETH: '50' })
    const schedule = await createSchedule(ctx, { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY }) })
    const slot = Date.now()
    const deliver = (deps = worker.deps) => runSchedule(deps, { scheduleId: schedule.id, jobSlot: slot, jobId: 'edited', queue: worker.controlQueue, control })
    await expect(deliver()).rejects.toBeInstanceOf(DelayedError)
    expect((await runsOf(worker, schedule.id))[0]).toMatchObject({ stage: 'selling', legs: [{ side: 'sell', asset: 'ETH' }] })
    await allSettled(h.db, wallet.id)

    // The job comes back for the buys; its balance read is held until the edit has committed.
    let letRead!: () => void
    const readHeld = new Promise<void>((resolve) => { letRead = resolve })
    let reading!: () => void
    const atRead = new Promise<void>((resolve) => { reading = resolve })
    const { venue } = worker.deps
    const slowVenue = { ...venue, balances: async (auth: Parameters<typeof venue.balances>[0]) => { reading(); await readHeld; return venue.balances(auth) } }
    const buys = deliver({ ...worker.deps, venue: slowVenue })
    buys.catch(() => undefined)
    await atRead
    // The user drops ETH, the asset the run just sold: all in BTC from now on.
    const edited = await updateSchedule(ctx, schedule.id, { targets: { BTC: '1' } })
    letRead()
    // Before: the stage's plan, read under the old version, ended the run "edited while in flight" with
    // no buys, and the proceeds (about 50,000 USD) sat in USD until the next slot. Now it reads again.
    await expect(buys).rejects.toBeInstanceOf(DelayedError)
    expect(await deliver()).toMatchObject({ outcome: 'completed' })
    const [run] = await runsOf(worker, schedule.id)
    expect(run).toMatchObject({ status: 'completed', stage: null })
    expect(run!.legs.map((leg) => `${leg.side} ${leg.market}`)).toEqual(['sell ETH-USD', 'buy BTC-USD'])
    // The buy spends the sale's proceeds, the whole managed portfolio now (BTC 1, USD 0), less the fee reserve.
    expect(Number(run!.legs[1]!.notional)).toBeGreaterThan(0.99 * Number(run!.legs[0]!.notional))
    expect(run!.notes.join(' ')).toContain(`edited (version ${schedule.version} → ${edited.version}) after its sells were placed: the buys follow the spec as edited`)
  })
})
