/**
 * An operator whose `maxDeadlineMs` (GET /v1/info) is shorter than the worker's preferred
 * deadlines: authenticated reads, revocations and the live probe stay inside it, as submissions do.
 */
/**
 * An operator that publishes a shorter `maxDeadlineMs` than the default (PROTOCOL.md §2: the
 * operator chooses it; the worker reads it at start-up and keeps request deadlines inside it).
 * Reads, revocations and the live probe must stay inside it too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toMarketRules } from '../../src/runtime/intake/marketRules.js'
import { createLiveProbe } from '../../src/runtime/sessions/createLiveProbe.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { operatorDelegation } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness({ sandbox: { maxDeadlineMs: 15_000 } })
  worker = await h.startWorker({ streams: false, maintenanceIntervalMs: 3_600_000 })
})
afterAll(async () => { await h?.close() })

describe('an operator whose maxDeadlineMs is 15 s', () => {
  it('authenticated reads (event stream, reconcile) are accepted', async () => {
    const { wallet } = await h.wallet()
    const session = (await worker.deps.sessions.active(wallet.id))!
    const balances = await worker.deps.venue.balances(worker.deps.sessions.readAuth(session)).catch((error: unknown) => error)
    expect(balances).toBeInstanceOf(Array)
  })

  it('a compromise revokes the session at the operator', async () => {
    const { wallet, session } = await h.wallet()
    const outcome = await worker.compromise(wallet.id, 'key in a log').catch((error: unknown) => error)
    expect(outcome).toEqual({ revoked: 1 })
    expect(operatorDelegation(h.sandbox, session.delegationHash)?.revoked).toBe(true)
  })

  it('the live probe passes for a funded wallet', async () => {
    const { session } = await h.wallet()
    const venue = createVenueClient({ baseUrl: h.sandbox.url })
    const probe = createLiveProbe({ venue, keyring: h.keyring, domain: h.sandbox.domain, markets: toMarketRules(await venue.markets()), operatorNow: () => h.sandbox.now(), maxDeadlineMs: 15_000 })
    expect(await probe(session)).toEqual([])
  })
})
