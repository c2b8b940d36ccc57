/**
 * A run whose sells go out late in the run (its first stage retried, slow, or held up by a session's
 * rotation) must still wait for them, for as long after their placement as a run placing them at once
 * would: the buys they fund are sized from their proceeds, not from the quote on hand.
 */
import { DelayedError } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchedule } from '../../jobs/runSchedule.js'
import { SETTLE_TIMEOUT_MS } from '../../src/core/rebalance/runWaits.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { claimRun } from '../../src/runtime/schedules/run/claimRun.js'
import type { RunningWorker } from '../../src/worker.js'
import { type GateProxy, startGateProxy } from '../lifecycle/support/gateProxy.js'
import { fromWallet } from '../lifecycle/support/lifecycle.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { allSettled, contextOf, delayThrows, runsOf, specOf, YEARLY } from './support.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  gate = await startGateProxy(h.sandbox.url)
  worker = await h.startWorker({ operatorUrl: gate.url })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

const control = delayThrows

/**
 * A schedule holding all in ETH, half to go to BTC (the BTC buy needs the ETH sale's proceeds, so the
 * sells go first), whose run started longer ago than the whole wait and only now gets through its
 * first stage: the sells are placed now, and held on the wire until the test lets them through.
 */
async function sellsPlacedLate() {
  const { wallet } = await h.wallet(undefined, { USD: '1', ETH: '50' })
  const schedule = await createSchedule(contextOf(worker), { walletId: wallet.id, ...specOf({ ETH: '0.5', BTC: '0.5' }, { cron: YEARLY }) })
  const slot = Date.now()
  // Claimed (on the operator's clock, as a job claims) SETTLE_TIMEOUT_MS + 5 s ago: its attempts since failed and were retried.
  const startedAt = worker.deps.operatorNow() - SETTLE_TIMEOUT_MS - 5_000
  expect(await claimRun(h.db, { scheduleId: schedule.id, jobSlot: slot, jobId: 'late', now: slot, startedAt, staleRunMs: 60_000 })).toMatchObject({ kind: 'start' })
  const held = gate.hold((request) => request.family === 'Order' && fromWallet(wallet.address)(request))
  const deliver = (deps = worker.deps) => runSchedule(deps, { scheduleId: schedule.id, jobSlot: slot, jobId: 'late', queue: worker.controlQueue, control })
  await expect(deliver()).rejects.toBeInstanceOf(DelayedError)
  const [selling] = await runsOf(worker, schedule.id)
  expect(selling).toMatchObject({ status: 'running', stage: 'selling', legs: [{ side: 'sell', market: 'ETH-USD' }] })
  await held.arrived
  return { wallet, schedule, deliver, release: () => held.release() }
}

describe('the wait for a run\'s own sells', () => {
  it('counts from when the sells were placed, not from the run\'s start: sells placed late are still waited for, and the buys spend their proceeds', async () => {
    const { wallet, schedule, deliver, release } = await sellsPlacedLate()
    // The job comes back while the sells are still on the wire. Before: the wait, counted from the
    // run's start, was already over, and the run ended sizing the BTC buy from the 1 USD on hand.
    await expect(deliver()).rejects.toBeInstanceOf(DelayedError)
    expect((await runsOf(worker, schedule.id))[0]).toMatchObject({ status: 'running', stage: 'selling', legs: [{ side: 'sell' }] })

    release()
    await allSettled(h.db, wallet.id)
    expect(await deliver()).toMatchObject({ outcome: 'completed' })
    const [run] = await runsOf(worker, schedule.id)
    expect(run).toMatchObject({ status: 'completed', stage: null })
    expect(run!.legs.map((leg) => `${leg.side} ${leg.market}`)).toEqual(['sell ETH-USD', 'buy BTC-USD'])
    // The buy spends the sale's proceeds (about half of 50 ETH at 2000), not the 1 USD on hand.
    expect(Number(run!.legs[1]!.notional)).toBeGreaterThan(10_000)
    expect(run!.notes.join(' ')).not.toContain('still working')
  })

  it('still ends that long after the sells were placed, on the clock every worker shares: the buys are then sized from the quote on hand', async () => {
    const { wallet, schedule, deliver, release } = await sellsPlacedLate()
    // Delivered on a worker whose operator clock reads the wait as over since the sells' placement.
    const later = { ...worker.deps, operatorNow: () => worker.deps.operatorNow() + SETTLE_TIMEOUT_MS + 1_000 }
    expect(await deliver(later)).toMatchObject({ outcome: 'completed' })
    const [run] = await runsOf(worker, schedule.id)
    expect(run).toMatchObject({ status: 'completed', stage: null })
    expect(run!.notes.join(' ')).toContain(`1 sell(s) of this run were still working ${SETTLE_TIMEOUT_MS} ms after they were placed; the buys were sized from available quote`)
    release()
    await allSettled(h.db, wallet.id)
  })
})
