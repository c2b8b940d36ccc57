import { eq } from 'drizzle-orm'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toMarketRules } from '../../src/runtime/intake/marketRules.js'
import { createLiveProbe } from '../../src/runtime/sessions/createLiveProbe.js'
import { PreLiveCheckError, grantSession } from '../../src/runtime/sessions/grantSession.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import { sessions } from '../../src/store/schema/index.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import { createOperatorClock } from '../../src/runtime/operatorClock.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOpenOrders, place } from './support/lifecycle.js'
import { startGateProxy } from './support/gateProxy.js'

let h: Harness
let probe: ReturnType<typeof createLiveProbe>

beforeAll(async () => {
  h = await createHarness()
  const venue = createVenueClient({ baseUrl: h.sandbox.url })
  probe = createLiveProbe({ venue, keyring: h.keyring, domain: h.sandbox.domain, markets: toMarketRules(await venue.markets()), operatorNow: () => h.sandbox.now() })
})
afterAll(async () => { await h?.close() })

async function grantWithProbe(families: ('Order' | 'ModifyOrder' | 'CancelOrder' | 'CancelAll')[], funds?: string) {
  const signer = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
  const wallet = await ensureWallet(h.db, signer.address)
  if (funds) h.sandbox.fund(signer.address, 'USD', funds)
  const grant = grantSession({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: signer, walletId: wallet.id, families, lifetimeSeconds: 24 * 3600, nowMs: Date.now(), probe })
  return { signer, wallet, grant }
}

describe('the operator guide\'s live probe', () => {
  it('goes live after a low-risk request is accepted and an out-of-scope one is refused as SessionAclViolation', async () => {
    const { signer, grant } = await grantWithProbe(['Order', 'CancelOrder'], '10')
    const { session } = await grant
    expect(session.status).toBe('active')
    // The low-risk probe: an IOC buy of one lot at one tick, accepted and cancelled unfilled.
    const orders = [...(h.sandbox.state.wallets.get(signer.address.toLowerCase())?.orders.values() ?? [])]
    expect(orders).toHaveLength(1)
    expect(orders[0]).toMatchObject({ status: 'cancelled', filled: 0n })
  })

  it('refuses to go live when the low-risk request is refused, reporting why, and nothing stays active', async () => {
    const { wallet, grant } = await grantWithProbe(['Order', 'CancelOrder'])
    const error = await grant.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreLiveCheckError)
    expect((error as PreLiveCheckError).problems).toEqual(['live probe: a low-risk request was refused (InsufficientBalance)'])
    const rows = await h.db.select().from(sessions).where(eq(sessions.walletId, wallet.id))
    expect(rows.map((r) => r.status)).toEqual(['revoked'])
  })

  it('a cancel-only session probes with a cancel of an absent order, and an Order out of scope', async () => {
    const { grant } = await grantWithProbe(['CancelOrder'])
    const { session } = await grant
    expect(session.aclScope).toEqual(['CancelOrder'])
    expect(session.status).toBe('active')
  })

  it('a kill-switch-only session (CancelAll, the API\'s needs: { killSwitch: true }) goes live', async () => {
    const { grant } = await grantWithProbe(['CancelAll'])
    const { session } = await grant
    expect([session.aclScope, session.status]).toEqual([['CancelAll'], 'active'])
  })

  it('the out-of-scope request that could take effect (a CancelAll, an Order) carries a deadline already past: refused for its scope by an operator that enforces it, as expired by one that does not', async () => {
    const gate = await startGateProxy(h.sandbox.url)
    try {
      const venue = createVenueClient({ baseUrl: gate.url })
      const throughGate = createLiveProbe({ venue, keyring: h.keyring, domain: h.sandbox.domain, markets: toMarketRules(await venue.markets()), operatorNow: () => h.sandbox.now() })
      const cases = [[['Order', 'ModifyOrder', 'CancelOrder'], 'CancelAll'], [['ModifyOrder', 'CancelOrder', 'CancelAll'], 'Order']] as const
      for (const [families, outside] of cases) {
        const signer = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
        const wallet = await ensureWallet(h.db, signer.address)
        h.sandbox.fund(signer.address, 'USD', '10')
        const grantThroughGate = () => grantSession({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: signer, walletId: wallet.id, families: [...families], lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now(), probe: throughGate })

        // An operator that enforces the scope refuses it SessionAclViolation (PROTOCOL.md §5: 403 before 410), and the session goes live.
        const held = gate.hold((request) => request.family === outside)
        const granted = grantThroughGate()
        const request = await held.arrived
        const operatorNow = h.sandbox.now()
        held.release()
        expect((await granted).session.status).toBe('active')
        // Past at the operator when it arrived: a CancelAll wrongly accepted would cancel the wallet's orders in that market.
        expect(BigInt(request.message.deadline as string)).toBeLessThan(BigInt(operatorNow))

        // One that does not enforce it reaches the deadline check and refuses it as expired: the scope is reported not enforced.
        const unenforced = gate.hold((r) => r.family === outside)
        const refused = grantThroughGate().catch((e: unknown) => e)
        await unenforced.arrived
        unenforced.refuse({ status: 410, body: { error: { code: 'DeadlineExpired', message: 'the deadline is in the past' } } })
        const error = await refused
        expect(error).toBeInstanceOf(PreLiveCheckError)
        expect((error as PreLiveCheckError).problems).toEqual([`live probe: an out-of-scope ${outside} was not refused as SessionAclViolation (DeadlineExpired)`])
      }
    } finally {
      await gate.close()
    }
  }, 30_000)

  it("a kill-switch-only session's probe cancels nothing, even with this host's clock stepped forward since the operator's was measured", async () => {
    const worker = await h.startWorker({ streams: false, maintenanceIntervalMs: 3_600_000 })
    const markets = toMarketRules(await createVenueClient({ baseUrl: h.sandbox.url }).markets())
    const w = await activeWallet(h)
    // A resting buy in the market the probe's CancelAll names (the operator's first).
    expect([...markets.keys()][0]).toBe('ETH-USD')
    const order = await place(h, worker, w.wallet.id)
    await eventually(async () => operatorOpenOrders(h.sandbox, w.signer.address).length === 1)

    // Measured, then stepped 90 s forward: a deadline meant to be 60 s past is 30 s ahead at the operator.
    let stepMs = 0
    const venue = createVenueClient({ baseUrl: h.sandbox.url })
    const clock = createOperatorClock(venue, () => Date.now() + stepMs, 0, h.log)
    const stepped = createLiveProbe({ venue, keyring: h.keyring, domain: h.sandbox.domain, markets, operatorNow: clock.now, resyncOperatorClock: clock.resync, maxDeadlineMs: h.sandbox.maxDeadlineMs })
    stepMs = 90_000
    const { session } = await grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id, families: ['CancelAll'],
      lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now(), probe: stepped,
    })
    expect(session.status).toBe('active')
    // The wallet's resting order, placed under its previous session, is still open at the operator.
    expect(operatorOpenOrders(h.sandbox, w.signer.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
  }, 30_000)
})
